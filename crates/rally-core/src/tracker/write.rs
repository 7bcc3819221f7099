//! Writes: create, update, transition, comment, link a PR, delete. Each returns what Rally
//! stored (`fetch=` on the write), and a create whose outcome is unknown is reconciled before
//! it is ever sent again.

use super::states::Need;
use super::{located_of, QuerySpec, Scope, Tracker};
use crate::cache::Located;
use crate::error::RallyError;
use crate::http::{CallError, Request};
use crate::ids::{parse_issue_id, IssueId};
use crate::mapping::{fields, priority_to_rally, write_state, RawState, StateOrders};
use crate::model::{ArtifactType, Comment, Issue, IssueState, IssueUpdate, NewIssue};
use crate::normalize::comment_from_rally;
use crate::query::{QValue, Query};
use crate::rally_types::{RallyArtifact, RallyPost, ARTIFACT_FETCH, POST_FETCH};
use crate::retry::OpKind;
use crate::validate;
use crate::wsapi::{classify_errors, classify_lookup_errors, CreateEnvelope, Op, OperationEnvelope, QueryResult};
use reqwest::Method;
use serde_json::{json, Map, Value};
use std::future::Future;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How far back a reconciliation looks for a create that may have happened when Rally's clock
/// is not known yet (no response so far carried a `Date`): allows for clock skew.
const RECONCILE_WINDOW: Duration = Duration::from_secs(300);

/// Slack on the estimate of Rally's clock: `Date` has whole seconds, and one more for luck.
const CLOCK_MARGIN: Duration = Duration::from_secs(2);

/// The fields a create may set a parent through.
const PARENT_FIELDS: [&str; 4] = ["Parent", "PortfolioItem", "WorkProduct", "Requirement"];

/// What a reconciliation lookup found.
pub(super) enum Found<T> {
    Nothing,
    One(T),
    /// More than one candidate, named by FormattedID or ref: the lookup cannot tell which.
    Many(Vec<String>),
}

impl<T> Found<T> {
    fn of(mut items: Vec<T>, name: impl Fn(&T) -> String) -> Found<T> {
        match items.len() {
            0 => Found::Nothing,
            1 => Found::One(items.remove(0)),
            _ => Found::Many(items.iter().map(name).collect()),
        }
    }
}

impl<T> From<Option<T>> for Found<T> {
    fn from(o: Option<T>) -> Self {
        o.map_or(Found::Nothing, Found::One)
    }
}

/// How a reconciliation ended without finding the object.
enum Settled {
    NotFound,
    Ambiguous(Vec<String>),
    LookupFailed(RallyError),
}

/// A short account of a failure, for a longer message, without its operation prefix.
fn what_happened(e: &RallyError) -> String {
    match e {
        RallyError::Unavailable { last_status: Some(s), detail, .. } => format!("HTTP {s} ({detail})"),
        RallyError::Unavailable { detail, .. } => detail.clone(),
        RallyError::Timeout { timeout_ms, .. } => format!("no answer within {timeout_ms} ms"),
        RallyError::Protocol { excerpt, .. } => excerpt.clone(),
        other => other.to_string(),
    }
}

/// `/conversationpost/123` out of a full ref URL (short enough for a message).
fn short_ref(r: &str) -> String {
    crate::ids::parse_object_ref(r).map_or_else(|| r.to_string(), |(path, oid)| format!("/{path}/{oid}"))
}

/// The ObjectID a ref (relative or full URL) names.
fn ref_oid(r: &str) -> Option<u64> {
    crate::ids::parse_object_ref(r).map(|(_, oid)| oid)
}

/// Rich text compared by what it says: tags dropped, common entities decoded, whitespace
/// collapsed (Rally may re-serialise the HTML it stores).
fn text_key(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let decoded = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&");
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether a stored artifact has every field a create set, as it set it. Fields Rally fills
/// in itself (state, rank, defaults) are not in `fields` and not compared.
fn matches_create(a: &RallyArtifact, fields: &Map<String, Value>) -> bool {
    let oid_of = |r: Option<&crate::rally_types::RallyRef>| r.and_then(|r| r.r#ref.as_deref()).and_then(ref_oid);
    fields.iter().all(|(k, v)| match (k.as_str(), v) {
        ("Name", Value::String(n)) => a.name.as_deref() == Some(n.as_str()),
        ("Description", Value::String(d)) => text_key(a.description.as_deref().unwrap_or_default()) == text_key(d),
        ("Priority", Value::String(p)) => a.priority.as_deref() == Some(p.as_str()),
        ("TargetDate" | "PlannedEndDate", Value::String(d)) => {
            let stored = if k == "TargetDate" { &a.target_date } else { &a.planned_end_date };
            stored.as_deref().and_then(|s| validate::due_date(s).ok()).as_deref() == Some(d.as_str())
        }
        ("Owner", Value::String(r)) => oid_of(a.owner.as_ref()).is_some_and(|o| ref_oid(r) == Some(o)),
        ("Parent", Value::String(r)) => oid_of(a.parent.as_ref()) == ref_oid(r),
        ("PortfolioItem", Value::String(r)) => oid_of(a.portfolio_item.as_ref()) == ref_oid(r),
        ("WorkProduct", Value::String(r)) => oid_of(a.work_product.as_ref()) == ref_oid(r),
        ("Requirement", Value::String(r)) => oid_of(a.requirement.as_ref()) == ref_oid(r),
        ("Tags", Value::Array(tags)) => {
            let want: std::collections::BTreeSet<Option<u64>> =
                tags.iter().map(|t| t.get("_ref").and_then(Value::as_str).and_then(ref_oid)).collect();
            let have: std::collections::BTreeSet<Option<u64>> = a
                .tags
                .as_ref()
                .map(|t| t.names.iter().map(|n| n.r#ref.as_deref().and_then(ref_oid)).collect())
                .unwrap_or_default();
            want == have
        }
        // In the query (Project), or the same for every candidate (Workspace).
        ("Project" | "Workspace", _) => true,
        (c, v) if c.starts_with("c_") => a.custom.0.get(c).is_some_and(|stored| same_custom(stored, v)),
        // A field this function does not know cannot be checked: never a match, so a field
        // added to `create_issue` shows up in the reconciliation tests instead of matching
        // too much.
        _ => false,
    })
}

/// A stored custom value against the one a create sent: numbers by value, dates by day and
/// time as `validate::due_date` writes them, anything else as sent.
fn same_custom(stored: &Value, sent: &Value) -> bool {
    match (stored, sent) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::String(a), Value::String(b)) => {
            a == b || validate::due_date(a).ok().is_some_and(|x| validate::due_date(b).ok() == Some(x))
        }
        _ => stored == sent,
    }
}

/// `2025-12-04T08:13:23.201Z` for a point in time (no date crate needed for one format).
pub(crate) fn iso_utc(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = crate::validate::civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

fn to_body(type_name: &str, fields: Map<String, Value>) -> Vec<u8> {
    let mut outer = Map::new();
    outer.insert(type_name.to_string(), Value::Object(fields));
    // Serialising a Value tree cannot fail.
    serde_json::to_vec(&Value::Object(outer)).unwrap_or_default()
}

/// `e` with its attempt count replaced by the requests actually sent.
pub(super) fn with_attempts(e: RallyError, sent: u32) -> RallyError {
    match e {
        RallyError::Unavailable { operation, last_status, detail, .. } => {
            RallyError::Unavailable { operation, attempts: sent, last_status, detail }
        }
        RallyError::Timeout { operation, timeout_ms, detail, .. } => {
            RallyError::Timeout { operation, attempts: sent, timeout_ms, detail }
        }
        other => other,
    }
}

fn html_escape_attr(s: &str) -> String {
    s.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;")
}

impl Tracker {
    pub(super) fn workspace_params(&self, fetch: &str) -> Vec<(&'static str, String)> {
        let mut p = vec![("fetch", fetch.to_string())];
        if let Some(w) = &self.settings.workspace {
            p.push(("workspace", w.clone()));
        }
        p
    }

    /// POST `<type>/<oid>` with `fetch`, returning the stored artifact.
    async fn post_update(&self, op: &Op, l: &Located, fields: Map<String, Value>) -> Result<RallyArtifact, RallyError> {
        let path = format!("{}/{}", l.artifact_type.type_path(), l.object_id);
        let fetch = self.artifact_fetch(op).await?;
        let req = Request {
            method: Method::POST,
            path: &path,
            params: self.workspace_params(&fetch),
            body: Some(to_body(l.artifact_type.type_name(), fields)),
            kind: OpKind::Update,
        };
        let env: OperationEnvelope<RallyArtifact> = self.http.call(op, req).await?;
        let r = env.operation_result;
        if !r.errors.is_empty() {
            let e = classify_errors(op, &r.errors);
            if e.code() == "RALLY_NOT_FOUND" {
                self.cache.forget(l.object_id);
            }
            return Err(e);
        }
        self.log_warnings(op, &r.warnings);
        r.object.ok_or_else(|| RallyError::Protocol {
            operation: op.label(),
            excerpt: "the update returned no Object".into(),
        })
    }

    /// The WSAPI fields of a state transition from `raw`; empty when already there.
    async fn state_fields(&self, op: &Op, l: &Located, target: IssueState) -> Result<Map<String, Value>, RallyError> {
        let raw = RawState { schedule_state: l.schedule_state.as_deref(), state: l.state.as_deref() };
        let mut out = Map::new();
        let orders = self.orders(op, Need::of_located(l)).await;
        let Some(writes) = write_state(l.artifact_type, target, &raw, &orders) else {
            return Ok(out);
        };
        for (field, value) in fields(&writes) {
            let v = if l.artifact_type == ArtifactType::Feature && field == "State" {
                self.feature_state_ref(op, &value).await?
            } else {
                value
            };
            out.insert(field.to_string(), Value::String(v));
        }
        Ok(out)
    }

    /// Writes `fields` plus whatever moves the issue to `target`. If the cached state was
    /// stale the stored object shows it; one more write from the fresh state then finishes.
    async fn write_with_state(
        &self,
        op: &Op,
        l: &Located,
        mut body: Map<String, Value>,
        target: Option<IssueState>,
    ) -> Result<Option<RallyArtifact>, RallyError> {
        if let Some(t) = target {
            body.extend(self.state_fields(op, l, t).await?);
        }
        if body.is_empty() {
            return Ok(None);
        }
        let stored = self.post_update(op, l, body).await?;
        let Some(target) = target else { return Ok(Some(stored)) };
        let Some(fresh) = located_of(&stored) else { return Ok(Some(stored)) };
        self.cache.remember(fresh.clone());
        let again = self.state_fields(op, &fresh, target).await?;
        if again.is_empty() {
            return Ok(Some(stored));
        }
        let stored = self.post_update(op, &fresh, again).await?;
        if let Some(l) = located_of(&stored) {
            self.cache.remember(l);
        }
        Ok(Some(stored))
    }

    pub async fn update_issue(&self, id: &str, u: IssueUpdate) -> Result<Issue, RallyError> {
        let parsed = parse_issue_id(id, "id")?;
        let shown = Self::shown(&parsed, id);
        let op = Op::new("updateIssue", Some(&shown));
        // Everything that needs no request is checked first.
        let title = u.title.as_deref().map(validate::title).transpose()?;
        let description = u.description.as_deref().map(validate::description).transpose()?;
        let priority = u.priority.map(validate::priority).transpose()?;
        let due = u.due_date.as_deref().map(validate::due_date).transpose()?;
        let labels = u.labels.as_deref().map(validate::labels).transpose()?;
        if let Some(t) = parsed.artifact_type() {
            validate::fields_for_type(t, priority.is_some(), due.is_some())?;
        }
        // The state must be fresh when it decides the write and nothing in the cache says it.
        let l = self.locate(&op, &parsed, &shown, false).await?;
        validate::fields_for_type(l.artifact_type, priority.is_some(), due.is_some())?;
        let custom = self.custom_write_fields(&op, l.artifact_type, u.custom_fields.as_ref(), false).await?;

        let mut body = custom;
        if let Some(t) = title {
            body.insert("Name".into(), Value::String(t));
        }
        if let Some(d) = description {
            body.insert("Description".into(), Value::String(d));
        }
        if let Some(p) = priority {
            body.insert("Priority".into(), Value::String(priority_to_rally(p).into()));
        }
        if let Some(d) = due {
            let field = if l.artifact_type == ArtifactType::Feature { "PlannedEndDate" } else { "TargetDate" };
            body.insert(field.into(), Value::String(d));
        }
        if let Some(a) = u.assignee.as_deref() {
            let owner = if a.trim().is_empty() {
                Value::Null
            } else {
                Value::String(self.resolve_user(&op, a, "assignee").await?)
            };
            body.insert("Owner".into(), owner);
        }
        if let Some(names) = labels {
            let refs = self.resolve_tags(&op, &names).await?;
            body.insert("Tags".into(), Value::Array(refs.into_iter().map(|r| json!({ "_ref": r })).collect()));
        }
        // An updated feature is read against the Feature order: look it up meanwhile.
        let (written, ()) = futures_util::future::join(
            self.write_with_state(&op, &l, body, u.state),
            self.warm_orders(&op, Some(l.artifact_type)),
        )
        .await;
        match written? {
            Some(stored) => self.normalize(&op, &stored).await,
            // Nothing to write as far as the cache knows: read it, and if the read shows the
            // cached state was stale, move it after all.
            None => {
                let a = self.fetch_artifact(&op, &parsed, &shown).await?;
                if let (Some(target), Some(fresh)) = (u.state, located_of(&a)) {
                    self.cache.remember(fresh.clone());
                    if let Some(stored) = self.write_with_state(&op, &fresh, Map::new(), Some(target)).await? {
                        return self.normalize(&op, &stored).await;
                    }
                }
                self.normalize(&op, &a).await
            }
        }
    }

    pub async fn transition_issue(&self, id: &str, state: IssueState) -> Result<(), RallyError> {
        let parsed = parse_issue_id(id, "id")?;
        let shown = Self::shown(&parsed, id);
        let op = Op::new("transitionIssue", Some(&shown));
        let at_target = |l: &Located, orders: &StateOrders| {
            let raw = RawState { schedule_state: l.schedule_state.as_deref(), state: l.state.as_deref() };
            write_state(l.artifact_type, state, &raw, orders).is_none()
        };
        // A cached state that differs from the target is written over directly; one that says
        // "already there" could be stale, so a read decides before a no-op.
        let cached = match self.cached(&parsed, &shown) {
            Some(l) => {
                let orders = self.orders(&op, Need::of_located(&l)).await;
                Some(l).filter(|l| !at_target(l, &orders))
            }
            None => None,
        };
        let l = match cached {
            Some(l) => l,
            None => self.locate(&op, &parsed, &shown, true).await?,
        };
        self.write_with_state(&op, &l, Map::new(), Some(state)).await?;
        Ok(())
    }

    pub async fn delete_issue(&self, id: &str) -> Result<(), RallyError> {
        let parsed = parse_issue_id(id, "id")?;
        let shown = Self::shown(&parsed, id);
        let op = Op::new("deleteIssue", Some(&shown));
        let l = self.locate(&op, &parsed, &shown, false).await?;
        let path = format!("{}/{}", l.artifact_type.type_path(), l.object_id);
        let req = Request {
            method: Method::DELETE,
            path: &path,
            params: self.workspace_params("ObjectID"),
            body: None,
            kind: OpKind::Delete,
        };
        let r = self.http.call_counted::<OperationEnvelope<serde::de::IgnoredAny>>(&op, req).await;
        self.cache.forget(l.object_id);
        let (env, attempts) = r?;
        let errors = env.operation_result.errors;
        if errors.is_empty() {
            return Ok(());
        }
        let e = classify_errors(&op, &errors);
        // A retried delete finding nothing means an earlier attempt did the work.
        if e.code() == "RALLY_NOT_FOUND" && attempts > 1 {
            return Ok(());
        }
        Err(e)
    }

    pub async fn add_comment(&self, id: &str, body: &str) -> Result<Comment, RallyError> {
        let parsed = parse_issue_id(id, "issueId")?;
        let html = validate::comment_body(body)?;
        let shown = Self::shown(&parsed, id);
        let op = Op::new("addComment", Some(&shown));
        let l = self.locate(&op, &parsed, &shown, false).await?;
        self.create_post(&op, &l, html).await
    }

    async fn create_post(&self, op: &Op, l: &Located, html: String) -> Result<Comment, RallyError> {
        let mut fields = Map::new();
        fields.insert("Artifact".into(), Value::String(l.ref_path()));
        fields.insert("Text".into(), Value::String(html.clone()));
        let body = to_body("ConversationPost", fields);
        let started = SystemTime::now();
        let post = self
            .create_reconciled(
                op,
                "the comment",
                || self.create_once::<RallyPost>(op, "conversationpost/create", POST_FETCH, &body),
                || self.find_recent_post(op, l, &html, started),
            )
            .await?;
        if let Some(oid) = post.object_id {
            // A later identical comment is a new one, never "the lost one" of this call.
            self.cache.mark_created(oid);
        }
        comment_from_rally(&post, &l.formatted_id)
            .map_err(|m| RallyError::Protocol { operation: op.label(), excerpt: m })
    }

    /// The post a lost create would have made: on this artifact, by this key's user, created
    /// after the create was first sent, with this text, and not one this tracker made.
    async fn find_recent_post(
        &self,
        op: &Op,
        l: &Located,
        html: &str,
        started: SystemTime,
    ) -> Result<Found<RallyPost>, RallyError> {
        let me = self.me(op).await?;
        let since = self.reconcile_since(started);
        let q = Query::eq("Artifact", QValue::Ref(l.ref_path()))
            .and(Query::eq("User", QValue::Ref(me)))
            .and(Query::ge("CreationDate", since.as_str()));
        let spec = QuerySpec {
            type_path: "conversationpost",
            query: Some(q.render()),
            fetch: POST_FETCH,
            order: Some("CreationDate desc,ObjectID desc"),
            scope: Scope::Workspace,
            types: None,
        };
        let r: QueryResult<RallyPost> = self.query_page(op, &spec, 1, 200).await?;
        let want = text_key(html);
        Ok(Found::of(
            r.results
                .into_iter()
                .filter(|p| p.object_id.is_none_or(|oid| !self.cache.was_created_here(oid)))
                .filter(|p| p.text.as_deref().is_some_and(|t| text_key(t) == want))
                .collect(),
            |p| p.r#ref.as_deref().map_or_else(|| format!("post {:?}", p.object_id), short_ref),
        ))
    }

    /// The earliest `CreationDate` a lost create started at `started` can have, on Rally's
    /// clock: the first send less a margin for the clock estimate (`Date` has whole seconds);
    /// before any response told Rally's clock, `RECONCILE_WINDOW` earlier instead.
    fn reconcile_since(&self, started: SystemTime) -> String {
        let on_server = match self.http.on_server_clock(started) {
            Some(t) => t.checked_sub(CLOCK_MARGIN),
            None => started.checked_sub(RECONCILE_WINDOW),
        };
        iso_utc(on_server.unwrap_or(UNIX_EPOCH))
    }

    /// One create request; errors in the envelope are final (Rally answered).
    pub(super) async fn create_once<T: serde::de::DeserializeOwned>(
        &self,
        op: &Op,
        path: &str,
        fetch: &str,
        body: &[u8],
    ) -> Result<T, CallError> {
        let req = Request {
            method: Method::POST,
            path,
            params: self.workspace_params(fetch),
            body: Some(body.to_vec()),
            kind: OpKind::Create,
        };
        let (env, attempts): (CreateEnvelope<T>, u32) = self.http.call_counted(op, req).await?;
        let r = env.create_result;
        if !r.errors.is_empty() {
            return Err(CallError { error: classify_lookup_errors(op, &r.errors), maybe_applied: false, attempts });
        }
        self.log_warnings(op, &r.warnings);
        r.object.ok_or_else(|| CallError {
            error: RallyError::Protocol { operation: op.label(), excerpt: "the create returned no Object".into() },
            maybe_applied: false,
            attempts,
        })
    }

    /// Sends a create until its outcome is known. After every failure that may have reached
    /// Rally (any 5xx, 503 included; a dropped connection; a timeout; a cut-off reply) `find`
    /// looks for what it would have made, after the policy's backoff so a late write has time
    /// to show. One match is the result; several are reported, never guessed between; none
    /// lets the create be sent again, within the policy's retry count. So at most one send can
    /// have landed.
    ///
    /// Time is bounded: each send may take `timeoutMs`, each lookup (with its own retries) gets
    /// one `timeoutMs` in all, and a lookup that gets no answer ends the create. So a Rally that
    /// stops answering costs two timeouts (the create, one lookup), and the worst case is
    /// `(maxRetries + 2) × timeoutMs` plus backoff. The error says what is known: refused every
    /// time and found nothing → not created; otherwise it MAY have been, with RALLY_TIMEOUT when
    /// what happened last was no answer in time.
    pub(super) async fn create_reconciled<T, S, SF, F, FF>(
        &self,
        op: &Op,
        what: &str,
        send: S,
        find: F,
    ) -> Result<T, RallyError>
    where
        S: Fn() -> SF,
        SF: Future<Output = Result<T, CallError>>,
        F: Fn() -> FF,
        FF: Future<Output = Result<Found<T>, RallyError>>,
    {
        let first = Instant::now();
        let timeout = self.http.settings().timeout;
        let mut sent = 0u32;
        // Every failure so far was Rally answering 503, and the lookup after it found nothing.
        let mut refused_only = true;
        loop {
            let e = match send().await {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            sent = sent.saturating_add(e.attempts.max(1));
            if !e.maybe_applied {
                return Err(with_attempts(e.error, sent));
            }
            refused_only &= matches!(e.error, RallyError::Unavailable { last_status: Some(503), .. });
            let delay = self.http.resend_delay(sent, first.elapsed());
            if let Some(d) = delay {
                tokio::time::sleep(d).await;
            }
            let looked = match tokio::time::timeout(timeout, find()).await {
                Ok(found) => found,
                Err(_) => Err(RallyError::Timeout {
                    operation: op.label(),
                    attempts: 1,
                    timeout_ms: timeout.as_millis() as u64,
                    detail: String::new(),
                }),
            };
            let settled = match looked {
                Ok(Found::One(v)) => return Ok(v),
                Ok(Found::Many(refs)) => Settled::Ambiguous(refs),
                Ok(Found::Nothing) if delay.is_some() => continue,
                Ok(Found::Nothing) => Settled::NotFound,
                Err(lookup) => Settled::LookupFailed(lookup),
            };
            return Err(self.unsettled(op, what, e.error, sent, refused_only, settled));
        }
    }

    /// The error of a create that did not come back, true to what happened. `attempts`: every
    /// create request sent, over all rounds of reconciliation.
    fn unsettled(
        &self,
        op: &Op,
        what: &str,
        cause: RallyError,
        attempts: u32,
        refused_only: bool,
        settled: Settled,
    ) -> RallyError {
        let cause = with_attempts(cause, attempts);
        let last_status = match &cause {
            RallyError::Unavailable { last_status, .. } => *last_status,
            _ => None,
        };
        let happened = match &cause {
            RallyError::Timeout { .. } => "no answer in time".to_string(),
            other => what_happened(other),
        };
        // A timeout's own message already says "no answer in time"; other causes lead the detail.
        let lead = if matches!(cause, RallyError::Timeout { .. }) { String::new() } else { format!("{happened}; ") };
        let timed_out = matches!(cause, RallyError::Timeout { .. })
            || matches!(&settled, Settled::LookupFailed(RallyError::Timeout { .. }));
        let operation = op.label();
        let detail = match settled {
            Settled::Ambiguous(refs) => {
                let detail = format!(
                    "{happened}; {} items match everything the create set ({}), so which one it made, if any, \
                     cannot be told; check them in Rally before retrying",
                    refs.len(),
                    refs.join(", ")
                );
                return RallyError::Unavailable { operation, attempts, last_status, detail };
            }
            Settled::NotFound if refused_only => {
                let detail = format!(
                    "Rally answered 503 (service unavailable) to each of the {attempts} create request(s), and a \
                     lookup after each did not find {what}: it was not created; try again later"
                );
                return RallyError::Unavailable { operation, attempts, last_status, detail };
            }
            Settled::NotFound => format!(
                "{lead}the request had been sent, so {what} MAY have been created although a lookup did not \
                 find it; check Rally before retrying"
            ),
            Settled::LookupFailed(lookup) => format!(
                "{lead}the request had been sent, so {what} MAY have been created, and the lookup that would \
                 tell failed ({}); check Rally before retrying",
                what_happened(&lookup)
            ),
        };
        if timed_out {
            let timeout_ms = self.http.settings().timeout.as_millis() as u64;
            RallyError::Timeout { operation, attempts, timeout_ms, detail }
        } else {
            RallyError::Unavailable { operation, attempts, last_status, detail }
        }
    }

    pub async fn create_issue(&self, n: NewIssue) -> Result<Issue, RallyError> {
        let t = n.artifact_type.unwrap_or(ArtifactType::UserStory);
        let title = validate::title(&n.title)?;
        let op = Op::new("createIssue", Some(&title));
        let description = n.description.as_deref().map(validate::description).transpose()?;
        let priority = n.priority.map(validate::priority).transpose()?;
        let due = n.due_date.as_deref().map(validate::due_date).transpose()?;
        validate::fields_for_type(t, priority.is_some(), due.is_some())?;
        let labels = n.labels.as_deref().map(validate::labels).transpose()?;
        let team = n.team.as_deref().map(validate::team).transpose()?;
        let parent = n.parent.as_deref().map(|p| parse_issue_id(p, "parent")).transpose()?;
        if t == ArtifactType::Task && parent.is_none() {
            return Err(RallyError::invalid(
                "parent",
                "a Task needs a parent (its WorkProduct): a user story or defect",
            ));
        }
        if team.is_none() && self.settings.project.is_none() {
            return Err(RallyError::invalid(
                "team",
                "no team given and no project configured; pass team or set project",
            ));
        }
        // The custom fields (and the workspace's required ones) are checked, and the lookups
        // (project, owner, parent, existing tags) made, at once: one round when cold. Errors
        // are reported in this order; tags are only created, and the item written, once every
        // check passed.
        let assignee = n.assignee.as_deref().filter(|a| !a.trim().is_empty());
        let wanted_tags = labels.as_deref().filter(|l| !l.is_empty());
        let (custom, project, owner, parent_field, ()) = futures_util::future::join5(
            self.custom_write_fields(&op, t, n.custom_fields.as_ref(), true),
            async {
                match (&team, &self.settings.project) {
                    (Some(team), _) => self.resolve_project(&op, team).await,
                    (_, p) => Ok(p.clone().unwrap_or_default()),
                }
            },
            async {
                match assignee {
                    Some(a) => self.resolve_user(&op, a, "assignee").await.map(Some),
                    None => Ok(None),
                }
            },
            async {
                match &parent {
                    Some(p) => self.parent_field(&op, t, p, n.parent.as_deref().unwrap_or_default()).await.map(Some),
                    None => Ok(None),
                }
            },
            async {
                if let Some(names) = wanted_tags {
                    self.find_tags(&op, names).await;
                }
            },
        )
        .await;
        let (custom, project, owner, parent_field) = (custom?, project?, owner?, parent_field?);
        let mut fields = custom;
        fields.insert("Name".into(), Value::String(title.clone()));
        fields.insert("Project".into(), Value::String(project.clone()));
        if let Some(w) = &self.settings.workspace {
            fields.insert("Workspace".into(), Value::String(w.clone()));
        }
        if let Some(d) = description {
            fields.insert("Description".into(), Value::String(d));
        }
        if let Some(p) = priority {
            fields.insert("Priority".into(), Value::String(priority_to_rally(p).into()));
        }
        if let Some(d) = due {
            let field = if t == ArtifactType::Feature { "PlannedEndDate" } else { "TargetDate" };
            fields.insert(field.into(), Value::String(d));
        }
        if let Some(o) = owner {
            fields.insert("Owner".into(), Value::String(o));
        }
        if let Some(names) = wanted_tags {
            let refs = self.resolve_tags(&op, names).await?;
            fields.insert("Tags".into(), Value::Array(refs.into_iter().map(|r| json!({ "_ref": r })).collect()));
        }
        if let Some((field, r)) = parent_field {
            fields.insert(field.into(), Value::String(r));
        }
        let body = to_body(t.type_name(), fields.clone());
        let path = format!("{}/create", t.type_path());
        let fetch = self.artifact_fetch(&op).await?;
        let started = SystemTime::now();
        let what = format!("{title:?}");
        let create = self.create_reconciled(
            &op,
            &what,
            || self.create_once::<RallyArtifact>(&op, &path, &fetch, &body),
            || self.find_recent_artifact(&op, t, &fields, started),
        );
        // A new feature's state is read against the Feature order: look it up meanwhile.
        let (stored, ()) = futures_util::future::join(create, self.warm_orders(&op, Some(t))).await;
        let stored = stored?;
        if let Some(oid) = stored.object_id {
            self.cache.mark_created(oid);
        }
        self.normalize(&op, &stored).await
    }

    /// The artifact a lost create would have made: same type, created by this key's owner after
    /// the create was first sent, with every field the create set (`fields`, the create's own
    /// body) as it set it, and not one this tracker already created.
    async fn find_recent_artifact(
        &self,
        op: &Op,
        t: ArtifactType,
        fields: &Map<String, Value>,
        started: SystemTime,
    ) -> Result<Found<RallyArtifact>, RallyError> {
        let me = self.me(op).await?;
        let since = self.reconcile_since(started);
        let text = |k: &str| fields.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
        let mut q = Query::eq("Name", text("Name").as_str())
            .and(Query::eq("Project", QValue::Ref(text("Project"))))
            .and(Query::eq("CreatedBy", QValue::Ref(me)))
            .and(Query::ge("CreationDate", since.as_str()));
        for parent in PARENT_FIELDS {
            if let Some(r) = fields.get(parent).and_then(Value::as_str) {
                q = q.and(Query::eq(parent, QValue::Ref(r.to_string())));
            }
        }
        // The custom fields the create set are compared too, so they are fetched.
        let mut fetch = ARTIFACT_FETCH.to_string();
        for k in fields.keys().filter(|k| k.starts_with("c_")) {
            fetch.push(',');
            fetch.push_str(k);
        }
        let spec = QuerySpec {
            type_path: t.type_path(),
            query: Some(q.render()),
            fetch: &fetch,
            order: Some("CreationDate desc,ObjectID desc"),
            scope: Scope::Workspace,
            types: None,
        };
        let r: QueryResult<RallyArtifact> = self.query_page(op, &spec, 1, 200).await?;
        Ok(Found::of(
            r.results
                .into_iter()
                .filter(|a| a.object_id.is_some_and(|oid| !self.cache.was_created_here(oid)))
                .filter(|a| matches_create(a, fields))
                .collect(),
            |a| a.formatted_id.clone().unwrap_or_else(|| format!("ObjectID {:?}", a.object_id)),
        ))
    }

    /// The parent field for a new artifact of type `t` and the parent's ref.
    async fn parent_field(
        &self,
        op: &Op,
        t: ArtifactType,
        p: &IssueId,
        input: &str,
    ) -> Result<(&'static str, String), RallyError> {
        let shown = Self::shown(p, input);
        let (path, oid) = match p {
            IssueId::Ref { type_path: Some(path), object_id } => (path.clone(), *object_id),
            _ => match self.locate(op, p, &shown, false).await {
                Ok(l) => (l.artifact_type.type_path().to_string(), l.object_id),
                // Not one of our four (an initiative above a feature): any artifact will do here.
                Err(RallyError::InvalidInput { .. }) => {
                    let a = self.fetch_artifact(op, p, &shown).await?;
                    let (path, oid) = a.r#ref.as_deref().and_then(crate::ids::parse_object_ref).ok_or_else(|| {
                        RallyError::Protocol { operation: op.label(), excerpt: "the parent has no ref".into() }
                    })?;
                    (path, oid)
                }
                Err(RallyError::NotFound { id }) => {
                    return Err(RallyError::invalid("parent", format!("no such issue: {id}")))
                }
                Err(e) => return Err(e),
            },
        };
        let pt = ArtifactType::from_type_name(&path);
        let field = match (t, pt) {
            (ArtifactType::Task, Some(ArtifactType::UserStory | ArtifactType::Defect)) => "WorkProduct",
            (ArtifactType::UserStory, Some(ArtifactType::UserStory)) => "Parent",
            (ArtifactType::UserStory, Some(ArtifactType::Feature)) => "PortfolioItem",
            (ArtifactType::Defect, Some(ArtifactType::UserStory)) => "Requirement",
            (ArtifactType::Feature, None) if path.starts_with("portfolioitem/") => "Parent",
            _ => {
                return Err(RallyError::invalid(
                    "parent",
                    format!(
                        "{shown} ({path}) cannot be the parent of a {}: a Task takes a story or defect, a story a \
                         story or feature, a defect a story, a feature a higher portfolio item",
                        t.js_name()
                    ),
                ))
            }
        };
        Ok((field, format!("/{path}/{oid}")))
    }

    /// `linkPR` as a discussion post holding the URL, posted once per exact URL.
    pub(super) async fn link_by_post(&self, id: &str, pr_url: &str) -> Result<(), RallyError> {
        let super::pull_requests::LinkInput { parsed, url, shown, op, target } = Self::link_input(id, pr_url)?;
        let stored_url = html_escape_attr(&url);
        // Posts that may hold the link: each is then checked for the exact URL.
        let needle = html_escape_attr(&crate::pr_links::needle(&url));
        let by_artifact = |l: Option<&Located>| match (l, &parsed) {
            (Some(l), _) => Query::eq("Artifact", QValue::Ref(l.ref_path())),
            (None, IssueId::Formatted { .. }) => Query::eq("Artifact.FormattedID", shown.as_str()),
            (None, _) => Query::eq(
                "Artifact.ObjectID",
                QValue::Int(i64::try_from(parsed.object_id().unwrap_or(0)).unwrap_or(i64::MAX)),
            ),
        };
        let spec_for = |l: Option<&Located>| {
            let q = by_artifact(l);
            let q = if needle.is_empty() { q } else { q.and(Query::contains("Text", needle.as_str())) };
            QuerySpec {
                type_path: "conversationpost",
                query: Some(q.render()),
                fetch: POST_FETCH,
                order: Some("PostNumber,ObjectID"),
                scope: Scope::Workspace,
                types: None,
            }
        };
        let linked = |posts: &[RallyPost], l: &Located| {
            posts.iter().any(|p| {
                let a = p.artifact.as_ref();
                let on_issue =
                    a.and_then(|a| a.formatted_id.as_deref()).is_some_and(|f| f.eq_ignore_ascii_case(&l.formatted_id))
                        || a.and_then(|a| a.object_id) == Some(l.object_id);
                on_issue && p.text.as_deref().is_some_and(|t| crate::pr_links::urls_in(t).contains(&target))
            })
        };
        // The existing-link lookup and the artifact lookup do not depend on each other.
        let posted_before = crate::pr_links::posts_so_far(&self.settings.origin);
        let cached = self.cached(&parsed, &shown);
        let first_spec = spec_for(cached.as_ref());
        let (existing, located) = futures_util::future::join(
            self.query_all::<RallyPost>(&op, &first_spec, self.settings.max_results),
            self.locate(&op, &parsed, &shown, false),
        )
        .await;
        let l = located?;
        // One linkPR per issue at a time in this process, whichever tracker makes it: the
        // second one looks again once the first has posted, and finds its link.
        let _one_at_a_time = crate::pr_links::lock_issue(&format!("{}|{}", self.settings.origin, l.object_id)).await;
        let posts = if crate::pr_links::posts_so_far(&self.settings.origin) == posted_before {
            existing?.items
        } else {
            self.query_all::<RallyPost>(&op, &spec_for(Some(&l)), self.settings.max_results).await?.items
        };
        if linked(&posts, &l) {
            return Ok(());
        }
        let html = format!("<p>Pull request: <a href=\"{stored_url}\">{stored_url}</a></p>");
        let made = self.create_post(&op, &l, html).await;
        crate::pr_links::note_post(&self.settings.origin);
        made.map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates() {
        assert_eq!(iso_utc(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_utc(UNIX_EPOCH + Duration::from_millis(1_764_836_003_201)), "2025-12-04T08:13:23.201Z");
        assert_eq!(iso_utc(UNIX_EPOCH + Duration::from_secs(951_782_400)), "2000-02-29T00:00:00.000Z");
    }
}
