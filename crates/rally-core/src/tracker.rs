//! `Tracker`: every IssueTracker operation over WSAPI, at the round-trip floor.
//!
//! Reads cost one request. Writes on an issue this tracker has seen cost one request (the
//! FormattedID → type/ObjectID/state cache); on first touch, one lookup more. Writes send
//! `fetch=` so the response is the stored object — no re-read.
//!
//! Where one request cannot decide, a second one is made, and only then:
//! - `getComments` with no posts on an issue this tracker has never seen: an empty answer
//!   cannot tell "no comments" from "no such issue", so one read settles it.
//! - `linkPR` must look for an existing link before posting (idempotence): cold, that lookup
//!   and the artifact lookup run concurrently, then the post (3 requests, 2 round trips);
//!   warm, lookup + post; already linked, the lookup alone.
//! - `transitionIssue` when the cache says the issue is already in the target state: the cache
//!   may be stale, so it reads first and writes only if the state really differs.
//! - A write whose stored result shows the cached state was stale writes once more from the
//!   fresh state (a Closed defect must also get `State = Open` to reopen).
//! - State orders, once per tracker (`states.rs`): the Feature states (`GET /state`) when a
//!   feature is first read, listed, filtered or written, sent alongside the read when the id
//!   already names a feature; the ScheduleState values (three requests) only when a story or
//!   defect carries a value outside the standard four.

pub(crate) mod custom;
mod incremental;
mod items;
mod poll;
mod pull_requests;
mod read;
pub use read::Listed;
mod resolve;
mod shared;
mod snapshot;
mod stale;
mod states;
mod write;

use crate::cache::{Caches, Located};
use crate::config::{Settings, TrackerConfig};
use crate::error::RallyError;
use crate::http::{Http, Request};
use crate::ids::{parse_issue_id, prefix_type, IssueId};
use crate::mapping::{open_filter, state_filter, StateOrders};
use crate::markdown_cache::MarkdownCache;
use crate::model::{ArtifactType, Comment, Issue, IssueFilters};
use crate::normalize::{comment_from_rally, issue_from_rally_with, NormalizeCtx};
use crate::paging::{fetch_all, Fetched, PagePlan};
use crate::query::{QValue, Query};
use crate::rally_types::{RallyArtifact, RallyPost, POST_FETCH};
use crate::retry::OpKind;
use crate::validate;
use crate::wsapi::{classify_errors, classify_lookup_errors, GetEnvelope, Op, QueryEnvelope, QueryResult};
use futures_util::future::{join_all, try_join};
use reqwest::Method;
use serde::de::DeserializeOwned;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Where a query looks: the configured scope, one project (a `team`), or the whole workspace
/// (id lookups: a FormattedID is unique per workspace, whatever the project).
#[derive(Debug, Clone, Copy)]
enum Scope<'a> {
    Configured,
    Project(&'a str),
    Workspace,
}

struct QuerySpec<'a> {
    type_path: &'a str,
    query: Option<String>,
    fetch: &'a str,
    order: Option<&'a str>,
    scope: Scope<'a>,
    /// `types=` on the abstract `artifact` endpoint.
    types: Option<String>,
}

pub struct Tracker {
    http: Http,
    settings: Arc<Settings>,
    /// Shared by every tracker of this server, key and scope in the process (`shared.rs`).
    shared: Arc<shared::Shared>,
    cache: Caches,
    resolved: Arc<resolve::Resolved>,
    /// The workspace's custom fields, read once (`custom.rs`).
    schema: tokio::sync::OnceCell<Arc<crate::custom::WorkspaceSchema>>,
    /// The required custom fields only, for creates of a tracker told nothing about custom
    /// fields (`custom.rs`).
    required_schema: tokio::sync::OnceCell<Arc<crate::custom::WorkspaceSchema>>,
    /// Set once that read failed: Rally's own validation answers from then on.
    schema_skipped: std::sync::atomic::AtomicBool,
    /// The artifact fetch list with the `customFields` asked for.
    custom_fetch: tokio::sync::OnceCell<String>,
    /// Set once the workspace refused the PullRequest type: links go to posts from then on.
    no_pull_requests: std::sync::atomic::AtomicBool,
}

fn all_type_paths() -> String {
    ArtifactType::ALL.iter().map(|t| t.type_path()).collect::<Vec<_>>().join(",")
}

/// Where an artifact lives, from a fetched object (`None` for types outside our four).
fn located_of(a: &RallyArtifact) -> Option<Located> {
    // The `_ref` is parsed only when `_type` or `ObjectID` is missing (a list has both).
    let from_ref = || a.r#ref.as_deref().and_then(crate::ids::parse_object_ref);
    let t = match a.r#type.as_deref() {
        Some(name) => ArtifactType::from_type_name(name)?,
        None => ArtifactType::from_type_name(&from_ref()?.0)?,
    };
    let oid = a.object_id.or_else(|| from_ref().map(|(_, o)| o))?;
    Some(Located {
        artifact_type: t,
        object_id: oid,
        formatted_id: a.formatted_id.clone()?,
        schedule_state: a.schedule_state.clone(),
        state: a.state.as_ref().and_then(|s| s.name()).map(str::to_string),
    })
}

impl Tracker {
    /// Validates the configuration and builds the HTTP client. No request is made.
    pub fn new(config: TrackerConfig) -> Result<Tracker, RallyError> {
        Self::build(config, true)
    }

    /// A tracker with caches of its own, shared with no other (tests of first-touch costs,
    /// tools). `new` is what the binding uses.
    #[doc(hidden)]
    pub fn new_unshared(config: TrackerConfig) -> Result<Tracker, RallyError> {
        Self::build(config, false)
    }

    fn build(config: TrackerConfig, share: bool) -> Result<Tracker, RallyError> {
        let settings = Arc::new(Settings::from_config(&config)?);
        let shared = if share { shared::shared_for(&settings) } else { Arc::default() };
        Ok(Tracker {
            http: Http::new(settings.clone())?,
            settings,
            cache: Caches::with_shared(shared.cache.clone()),
            resolved: shared.resolved.clone(),
            shared,
            schema: tokio::sync::OnceCell::new(),
            required_schema: tokio::sync::OnceCell::new(),
            schema_skipped: std::sync::atomic::AtomicBool::new(false),
            custom_fetch: tokio::sync::OnceCell::new(),
            no_pull_requests: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Drops the lists kept for incremental refresh by every tracker of this server, key and
    /// scope in the process: the next list of each filter set reads everything.
    #[doc(hidden)]
    pub fn forget_lists(&self) {
        self.shared.lists.clear();
    }

    /// The HTML → Markdown conversions kept for this tracker's server, key and scope
    /// (`markdown_cache.rs`).
    #[doc(hidden)]
    pub fn markdown_cache(&self) -> Arc<MarkdownCache> {
        self.shared.extension::<MarkdownCache>()
    }

    fn scope_params(&self, scope: Scope<'_>, params: &mut Vec<(&'static str, String)>) {
        if let Some(w) = &self.settings.workspace {
            params.push(("workspace", w.clone()));
        }
        let (project, down, up) = match scope {
            Scope::Workspace => {
                params.push(("project", "null".into()));
                return;
            }
            Scope::Project(p) => (Some(p), true, false),
            Scope::Configured => (self.settings.project.as_deref(), self.settings.scope_down, self.settings.scope_up),
        };
        if let Some(p) = project {
            params.push(("project", p.to_string()));
            params.push(("projectScopeDown", down.to_string()));
            params.push(("projectScopeUp", up.to_string()));
        }
    }

    async fn query_page<T: DeserializeOwned>(
        &self,
        op: &Op,
        spec: &QuerySpec<'_>,
        start: usize,
        pagesize: usize,
    ) -> Result<QueryResult<T>, RallyError> {
        let mut params: Vec<(&'static str, String)> = Vec::with_capacity(10);
        if let Some(q) = &spec.query {
            params.push(("query", q.clone()));
        }
        params.push(("fetch", spec.fetch.to_string()));
        if let Some(o) = spec.order {
            params.push(("order", o.to_string()));
        }
        if let Some(t) = &spec.types {
            params.push(("types", t.clone()));
        }
        self.scope_params(spec.scope, &mut params);
        params.push(("start", start.to_string()));
        params.push(("pagesize", pagesize.to_string()));
        let req = Request { method: Method::GET, path: spec.type_path, params, body: None, kind: OpKind::Read };
        let env: QueryEnvelope<T> = self.http.call_query(op, req).await?;
        let r = env.query_result;
        if !r.errors.is_empty() {
            return Err(classify_lookup_errors(op, &r.errors));
        }
        self.log_warnings(op, &r.warnings);
        Ok(r)
    }

    async fn query_all<T: DeserializeOwned>(
        &self,
        op: &Op,
        spec: &QuerySpec<'_>,
        limit: usize,
    ) -> Result<Fetched<T>, RallyError> {
        fetch_all(PagePlan::new(limit), |start, size| self.query_page(op, spec, start, size)).await
    }

    fn log_warnings(&self, op: &Op, warnings: &[String]) {
        if !warnings.is_empty() && self.settings.log.enabled("debug") {
            self.settings.log.emit("debug", format!("{}: Rally warnings: {}", op.label(), warnings.join("; ")));
        }
    }

    fn ctx<'a>(&'a self, orders: &'a StateOrders) -> NormalizeCtx<'a> {
        NormalizeCtx { web_base: &self.settings.origin, orders }
    }

    /// One artifact → Issue, with whatever state order its state needs (usually none).
    async fn normalize(&self, op: &Op, a: &RallyArtifact) -> Result<Issue, RallyError> {
        let orders = self.orders(op, states::Need::of([a])).await;
        self.normalize_with(op, a, &orders)
    }

    fn normalize_with(&self, op: &Op, a: &RallyArtifact, orders: &StateOrders) -> Result<Issue, RallyError> {
        if let Some(l) = located_of(a) {
            self.cache.remember(l);
        }
        let markdown = self.markdown_cache();
        let mut issue = issue_from_rally_with(a, &self.ctx(orders), |html| markdown.convert(a, html)).map_err(|m| {
            RallyError::Protocol { operation: op.label(), excerpt: crate::error::excerpt(m.as_bytes()) }
        })?;
        // The schema is loaded by then: the fetch list that brought `a` needed it.
        if let Some(schema) = self.schema.get() {
            issue.custom_fields = schema.read(issue.artifact_type, &self.settings.custom_fields, &a.custom.0);
        }
        Ok(issue)
    }

    /// Starts the Feature state lookup alongside a request when the id already says "feature",
    /// so a cold feature read still takes one round trip.
    async fn warm_orders(&self, op: &Op, t: Option<ArtifactType>) {
        if t == Some(ArtifactType::Feature) {
            self.orders(op, states::Need::FEATURE).await;
        }
    }

    /// How a user-facing message names the issue: `US12` for FormattedIDs, else as typed.
    fn shown(id: &IssueId, input: &str) -> String {
        id.formatted().unwrap_or_else(|| input.trim().chars().take(120).collect())
    }

    /// The type path a FormattedID prefix names: the defaults, else one cached
    /// `typedefinition` lookup of `IDPrefix`.
    async fn prefix_path(&self, op: &Op, prefix: &str) -> Result<Option<String>, RallyError> {
        if let Some(t) = prefix_type(prefix) {
            return Ok(Some(t.type_path().to_string()));
        }
        self.lookup_prefix(op, prefix).await
    }

    /// One request: the artifact an id names, any type (parents may be initiatives).
    async fn fetch_artifact(&self, op: &Op, id: &IssueId, shown: &str) -> Result<RallyArtifact, RallyError> {
        self.fetch_artifact_with(op, id, shown, false).await
    }

    /// The artifact, with its `PullRequests` summary too when `with_prs`.
    async fn fetch_artifact_with(
        &self,
        op: &Op,
        id: &IssueId,
        shown: &str,
        with_prs: bool,
    ) -> Result<RallyArtifact, RallyError> {
        let not_found = || RallyError::NotFound { id: shown.to_string() };
        let mut fetch = self.artifact_fetch(op).await?;
        if with_prs {
            fetch.to_mut().push_str(",PullRequests");
        }
        let (type_path, query, types) = match id {
            IssueId::Formatted { prefix, .. } => {
                let fid = id.formatted().unwrap_or_default();
                let Some(path) = self.prefix_path(op, prefix).await? else {
                    return Err(not_found());
                };
                (path, Query::eq("FormattedID", fid), None)
            }
            IssueId::Ref { type_path: Some(path), object_id } => {
                let obj_path = format!("{path}/{object_id}");
                let req = Request {
                    method: Method::GET,
                    path: &obj_path,
                    params: vec![("fetch", fetch.to_string())],
                    body: None,
                    kind: OpKind::Read,
                };
                return match self.http.call::<GetEnvelope<RallyArtifact>>(op, req).await? {
                    // The envelope key is the type name; it stands in when `_type` is absent.
                    GetEnvelope::Object { mut object, errors, type_name, warnings } if errors.is_empty() => {
                        self.log_warnings(op, &warnings);
                        object.r#type.get_or_insert(type_name);
                        Ok(object)
                    }
                    GetEnvelope::Object { errors, .. } => Err(classify_errors(op, &errors)),
                    GetEnvelope::Failed(r) => Err(classify_errors(op, &r.errors)),
                };
            }
            IssueId::ObjectId(oid) | IssueId::Ref { type_path: None, object_id: oid } => (
                "artifact".to_string(),
                Query::eq("ObjectID", QValue::Int(i64::try_from(*oid).unwrap_or(i64::MAX))),
                Some(all_type_paths()),
            ),
        };
        let spec = QuerySpec {
            type_path: &type_path,
            query: Some(query.render()),
            fetch: &fetch,
            order: None,
            scope: Scope::Workspace,
            types,
        };
        let page: QueryResult<RallyArtifact> = self.query_page(op, &spec, 1, 20).await?;
        // The abstract endpoint matches FormattedID numbers across prefixes: check exactly.
        page.results
            .into_iter()
            .find(|a| match id {
                IssueId::Formatted { .. } => a.formatted_id.as_deref().is_some_and(|f| f.eq_ignore_ascii_case(shown)),
                _ => a.object_id == id.object_id(),
            })
            .ok_or_else(not_found)
    }

    /// The objects that belong to an issue (its posts, its PullRequests): by the artifact's
    /// ref when it is located or named by a typed ref, else by its FormattedID or ObjectID
    /// (callers keep exact matches: `Artifact.FormattedID` compares numbers only).
    fn of_artifact(id: &IssueId, shown: &str, l: Option<&Located>) -> Query {
        match (l, id) {
            (Some(l), _) => Query::eq("Artifact", QValue::Ref(l.ref_path())),
            (None, IssueId::Formatted { .. }) => Query::eq("Artifact.FormattedID", shown),
            (None, IssueId::Ref { type_path: Some(p), object_id }) => {
                Query::eq("Artifact", QValue::Ref(format!("/{p}/{object_id}")))
            }
            (None, _) => Query::eq(
                "Artifact.ObjectID",
                QValue::Int(i64::try_from(id.object_id().unwrap_or(0)).unwrap_or(i64::MAX)),
            ),
        }
    }

    fn cached(&self, id: &IssueId, shown: &str) -> Option<Located> {
        match id {
            IssueId::Formatted { .. } => self.cache.located(shown),
            _ => id.object_id().and_then(|oid| self.cache.located_by_oid(oid)),
        }
    }

    /// Where an issue lives: from the cache, else one read (which also refreshes the cache).
    /// `fresh` forces the read (its state is needed).
    async fn locate(&self, op: &Op, id: &IssueId, shown: &str, fresh: bool) -> Result<Located, RallyError> {
        if !fresh {
            if let Some(l) = self.cached(id, shown) {
                return Ok(l);
            }
        }
        let a = self.fetch_artifact(op, id, shown).await?;
        let l = located_of(&a).ok_or_else(|| {
            RallyError::invalid(
                "id",
                format!(
                    "{shown} is a {}, not a UserStory, Defect, Task or Feature",
                    a.r#type.as_deref().unwrap_or("different type")
                ),
            )
        })?;
        self.cache.remember(l.clone());
        Ok(l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: T) {}

    /// The binding shares one tracker across threads and spawns its futures on tokio.
    #[test]
    fn tracker_and_its_futures_are_send() {
        let t = Tracker::new(TrackerConfig { api_key: "_k".into(), ..TrackerConfig::default() }).unwrap();
        send_sync(&t);
        send(t.get_issue("US1"));
        send(t.list_issues(IssueFilters::default()));
        send(t.create_issue(crate::model::NewIssue::default()));
        send(t.update_issue("US1", crate::model::IssueUpdate::default()));
        send(t.delete_issue("US1"));
        send(t.get_comments("US1"));
        send(t.add_comment("US1", "x"));
        send(t.transition_issue("US1", crate::model::IssueState::Closed));
        send(t.link_pr("US1", "https://x/y"));
    }
}
