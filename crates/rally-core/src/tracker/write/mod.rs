//! Writes: create, update, transition, comment, link a PR, delete. Each returns what Rally
//! stored (`fetch=` on the write), and a create whose outcome is unknown is reconciled before
//! it is ever sent again.
//!
//! Here: update, transition, delete. `create`: new issues; `comments`: posts and `linkPR` as a
//! post; `reconcile`: sending a create until its outcome is known.

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

mod comments;
mod create;
mod named;
mod reconcile;

pub(super) use reconcile::Found;
use reconcile::*;

fn to_body(type_name: &str, fields: Map<String, Value>) -> Vec<u8> {
    let mut outer = Map::new();
    outer.insert(type_name.to_string(), Value::Object(fields));
    // Serialising a Value tree cannot fail.
    serde_json::to_vec(&Value::Object(outer)).unwrap_or_default()
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

    pub(in crate::tracker) async fn update_issue_once(&self, id: &str, u: IssueUpdate) -> Result<Issue, RallyError> {
        let parsed = parse_issue_id(id, "id")?;
        let shown = Self::shown(&parsed, id);
        let op = Op::new("updateIssue", Some(&shown));
        // Everything that needs no request is checked first.
        let title = u.title.as_deref().map(validate::title).transpose()?;
        let description = u.description.as_deref().map(validate::description).transpose()?;
        let priority = u.priority.map(validate::priority).transpose()?;
        let due = u.due_date.as_deref().map(validate::due_date).transpose()?;
        let labels = u.labels.as_deref().map(validate::labels).transpose()?;
        let work = validate::WorkInput {
            blocked: u.blocked,
            blocked_reason: u.blocked_reason.as_deref(),
            estimate: u.estimate,
            to_do: u.to_do,
            actuals: u.actuals,
        };
        validate::work_fields(parsed.artifact_type(), &work)?;
        let add = u.add_labels.as_deref().map(|v| validate::labels_named(v, "addLabels")).transpose()?;
        let remove = u.remove_labels.as_deref().map(|v| validate::labels_named(v, "removeLabels")).transpose()?;
        if labels.is_some() && (add.is_some() || remove.is_some()) {
            let arg = if add.is_some() { "addLabels" } else { "removeLabels" };
            return Err(RallyError::invalid(arg, "cannot be given with labels (the complete tag set)"));
        }
        let rally_state = match u.rally_state.as_deref().map(str::trim) {
            Some("") => return Err(RallyError::invalid("rallyState", "must not be empty")),
            Some(_) if u.state.is_some() => {
                return Err(RallyError::invalid("rallyState", "cannot be given with state"));
            }
            other => other,
        };
        if let Some(t) = parsed.artifact_type() {
            validate::fields_for_type(t, priority.is_some(), due.is_some())?;
        }
        // The state must be fresh when it decides the write and nothing in the cache says it.
        // A named state on a defect depends on its State (Closed or not): read it fresh then.
        let l = self.locate(&op, &parsed, &shown, rally_state.is_some()).await?;
        validate::fields_for_type(l.artifact_type, priority.is_some(), due.is_some())?;
        let work = validate::work_fields(Some(l.artifact_type), &work)?;
        let custom = self.custom_write_fields(&op, l.artifact_type, u.custom_fields.as_ref(), false).await?;
        let named = match rally_state {
            Some(name) => self.named_state_fields(&op, &l, name).await?,
            None => Map::new(),
        };
        // The tag edits go first: the field write (or the read) after them returns the set.
        self.edit_tags(&op, &l, add.as_deref().unwrap_or_default(), remove.as_deref().unwrap_or_default()).await?;

        let mut body = custom;
        body.extend(work);
        body.extend(named);
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

    pub(in crate::tracker) async fn transition_issue_once(
        &self,
        id: &str,
        state: IssueState,
    ) -> Result<(), RallyError> {
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
}
