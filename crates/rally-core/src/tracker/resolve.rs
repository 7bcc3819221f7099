//! One-time lookups, cached per tracker: the key's owner, users, tags, projects, Feature
//! states and FormattedID prefixes.

use super::write::Found;
use super::{QuerySpec, Scope, Tracker};
use crate::config::parse_container_ref;
use crate::error::RallyError;
use crate::http::{CallError, Request};
use crate::query::Query;
use crate::rally_types::{RallyTag, RallyUser};
use crate::retry::OpKind;
use crate::wsapi::{classify_errors, CreateEnvelope, GetEnvelope, Op, QueryResult};
use reqwest::Method;
use serde::Deserialize;
use tokio::sync::OnceCell;

#[derive(Default)]
pub(super) struct Resolved {
    me: OnceCell<String>,
    /// Feature states `(name, /state/<oid>)` in order (see `states.rs`).
    /// Swapped for an empty cell when Rally refuses one of the refs (`stale.rs`).
    pub(super) feature_states: std::sync::Mutex<std::sync::Arc<FeatureStates>>,
    /// ScheduleState values in order (see `states.rs`).
    pub(super) schedule_states: OnceCell<super::states::Discovered<String>>,
    /// Custom ScheduleState values placed by Rally's comparisons when the order could not be
    /// read (see `states.rs`, `classify`).
    pub(super) classified: std::sync::Mutex<std::collections::HashMap<String, crate::model::IssueState>>,
    /// Serialises tag creation so two concurrent writes with a new label make one tag.
    tag_creation: tokio::sync::Mutex<()>,
    /// Allowed values of a type's state attribute, by `"<TypePath>.<Attribute>"` (`rallyState`).
    pub(super) allowed_states: std::sync::Mutex<std::collections::HashMap<&'static str, Vec<String>>>,
}

pub(super) type FeatureStates = OnceCell<super::states::Discovered<(String, String)>>;

#[derive(Deserialize)]
struct TypeDef {
    #[serde(rename = "TypePath")]
    type_path: Option<String>,
}

#[derive(Deserialize)]
struct Named {
    #[serde(rename = "_ref")]
    r#ref: Option<String>,
    #[serde(rename = "ObjectID", default, deserialize_with = "crate::rally_types::any_oid")]
    object_id: Option<i64>,
}

/// A ref from a fetched object: relative, as requests prefer. Any integer ObjectID is taken
/// (Rally's built-in objects have negative ones).
pub(super) fn relative_ref(r: Option<&str>, kind: &str, oid: Option<i64>) -> Option<String> {
    if let Some(oid) = oid {
        return Some(format!("/{kind}/{oid}"));
    }
    let (path, oid) = crate::ids::parse_object_ref(r?)?;
    Some(format!("/{path}/{oid}"))
}

impl Tracker {
    pub(super) async fn lookup_prefix(&self, op: &Op, prefix: &str) -> Result<Option<String>, RallyError> {
        if let Some(hit) = self.cache.prefix(prefix) {
            return Ok(hit);
        }
        let spec = QuerySpec {
            type_path: "typedefinition",
            query: Some(Query::eq("IDPrefix", prefix).render()),
            fetch: "TypePath,IDPrefix,Name",
            order: None,
            scope: Scope::Configured,
            types: None,
        };
        let r: QueryResult<TypeDef> = self.query_page(op, &spec, 1, 20).await?;
        let path = r.results.into_iter().find_map(|t| t.type_path).map(|p| p.to_ascii_lowercase());
        self.cache.put_prefix(prefix, path.clone());
        Ok(path)
    }

    /// `/user/<oid>` of the key's owner (`GET /user`), once per tracker.
    pub(super) async fn me(&self, op: &Op) -> Result<String, RallyError> {
        self.resolved
            .me
            .get_or_try_init(|| async {
                let req = Request {
                    method: Method::GET,
                    path: "user",
                    params: vec![("fetch", "ObjectID,UserName,DisplayName,EmailAddress".into())],
                    body: None,
                    kind: OpKind::Read,
                };
                let lookup = Op::new(op.name, None);
                match self.http.call::<GetEnvelope<RallyUser>>(&lookup, req).await? {
                    GetEnvelope::Object { object, errors, warnings, .. } if errors.is_empty() => {
                        self.log_warnings(&lookup, &warnings);
                        relative_ref(object.r#ref.as_deref(), "user", object.object_id).ok_or_else(|| {
                            RallyError::Protocol {
                                operation: "GET /user".into(),
                                excerpt: "the user has no ObjectID".into(),
                            }
                        })
                    }
                    GetEnvelope::Object { errors, .. } => Err(classify_errors(&lookup, &errors)),
                    GetEnvelope::Failed(r) => Err(classify_errors(&lookup, &r.errors)),
                }
            })
            .await
            .cloned()
    }

    /// A user by `me`, UserName, EmailAddress or DisplayName → `/user/<oid>`.
    pub(super) async fn resolve_user(&self, op: &Op, who: &str, argument: &str) -> Result<String, RallyError> {
        let who = who.trim();
        if who.eq_ignore_ascii_case("me") {
            return self.me(op).await;
        }
        if let Some(r) = self.cache.get_ref("user", who) {
            return Ok(r);
        }
        let q = Query::eq("UserName", who).or(Query::eq("EmailAddress", who)).or(Query::eq("DisplayName", who));
        let spec = QuerySpec {
            type_path: "users",
            query: Some(q.render()),
            fetch: "ObjectID,UserName,DisplayName,EmailAddress",
            order: Some("ObjectID"),
            scope: Scope::Configured,
            types: None,
        };
        let r: QueryResult<RallyUser> = self.query_page(&Op::new(op.name, None), &spec, 1, 20).await?;
        let mut refs: Vec<String> =
            r.results.iter().filter_map(|u| relative_ref(u.r#ref.as_deref(), "user", u.object_id)).collect();
        refs.dedup();
        match refs.len() {
            0 => Err(RallyError::invalid(
                argument,
                format!("no Rally user has the user name, e-mail or display name {who:?}"),
            )),
            1 => {
                let r = refs.remove(0);
                self.cache.put_ref("user", who, r.clone());
                Ok(r)
            }
            n => Err(RallyError::invalid(
                argument,
                format!("{who:?} matches {n} Rally users; use the user name or e-mail address"),
            )),
        }
    }

    /// `team`: a project ref or ObjectID as is, else a project name looked up once.
    pub(super) async fn resolve_project(&self, op: &Op, team: &str) -> Result<String, RallyError> {
        if let Ok(r) = parse_container_ref("team", "project", team) {
            if team.starts_with('/') || team.contains("://") || team.bytes().all(|b| b.is_ascii_digit()) {
                return Ok(r);
            }
        }
        if let Some(r) = self.cache.get_ref("project", team) {
            return Ok(r);
        }
        let spec = QuerySpec {
            type_path: "project",
            query: Some(Query::eq("Name", team).render()),
            fetch: "ObjectID,Name",
            order: Some("ObjectID"),
            scope: Scope::Workspace,
            types: None,
        };
        let r: QueryResult<Named> = self.query_page(&Op::new(op.name, None), &spec, 1, 20).await?;
        let refs: Vec<String> =
            r.results.iter().filter_map(|p| relative_ref(p.r#ref.as_deref(), "project", p.object_id)).collect();
        match refs.as_slice() {
            [one] => {
                self.cache.put_ref("project", team, one.clone());
                Ok(one.clone())
            }
            [] => Err(RallyError::invalid("team", format!("no Rally project is named {team:?}"))),
            _ => Err(RallyError::invalid(
                "team",
                format!("{} projects are named {team:?}; pass its ObjectID", refs.len()),
            )),
        }
    }

    /// Looks up the uncached tags among `names` (one query) and caches those that exist;
    /// creates nothing, and a failed lookup is left for `resolve_tags` to repeat and report.
    pub(super) async fn find_tags(&self, op: &Op, names: &[String]) {
        let missing: Vec<&String> = names.iter().filter(|n| self.cache.get_ref("tag", n).is_none()).collect();
        let _ = self.lookup_tags(op, &missing).await;
    }

    /// One query for these tags, by the names Rally stores (`R&amp;D` for `R&D`); caches those
    /// that exist under the names as typed.
    async fn lookup_tags(&self, op: &Op, names: &[&String]) -> Result<(), RallyError> {
        let Some(q) =
            Query::any(names.iter().map(|n| Query::eq("Name", crate::normalize::tag_names::stored(n))).collect())
        else {
            return Ok(());
        };
        let spec = QuerySpec {
            type_path: "tag",
            query: Some(q.render()),
            fetch: "ObjectID,Name",
            order: Some("ObjectID"),
            scope: Scope::Configured,
            types: None,
        };
        let found = self.query_all::<RallyTag>(&Op::new(op.name, None), &spec, 2000).await?;
        self.cache_tags(&found.items);
        Ok(())
    }

    fn cache_tags(&self, tags: &[RallyTag]) {
        for t in tags {
            if let (Some(stored), Some(r)) = (t.name.as_deref(), relative_ref(t.r#ref.as_deref(), "tag", t.object_id)) {
                let name = crate::normalize::tag_names::shown(stored);
                if self.cache.get_ref("tag", &name).is_none() {
                    self.cache.put_ref("tag", &name, r);
                }
            }
        }
    }

    /// Tag refs for exactly these names: cached ones free, the rest in one query, missing ones
    /// created (`POST /tag/create`).
    pub(super) async fn resolve_tags(&self, op: &Op, names: &[String]) -> Result<Vec<String>, RallyError> {
        let uncached = |n: &&String| self.cache.get_ref("tag", n).is_none();
        if names.iter().any(|n| uncached(&n)) {
            let _one_at_a_time = self.resolved.tag_creation.lock().await;
            let missing: Vec<&String> = names.iter().filter(uncached).collect();
            self.lookup_tags(op, &missing).await?;
            let lookup = Op::new(op.name, None);
            for name in missing {
                if self.cache.get_ref("tag", name).is_none() {
                    let r = self.create_tag(&lookup, name).await?;
                    self.cache.put_ref("tag", name, r);
                }
            }
        }
        self.tag_refs(op, names)
    }

    /// The refs of the tags of these names that exist; none is created.
    pub(super) async fn existing_tags(&self, op: &Op, names: &[String]) -> Result<Vec<String>, RallyError> {
        let uncached: Vec<&String> = names.iter().filter(|n| self.cache.get_ref("tag", n).is_none()).collect();
        self.lookup_tags(op, &uncached).await?;
        Ok(names.iter().filter_map(|n| self.cache.get_ref("tag", n)).collect())
    }

    fn tag_refs(&self, op: &Op, names: &[String]) -> Result<Vec<String>, RallyError> {
        names
            .iter()
            .map(|n| {
                self.cache.get_ref("tag", n).ok_or_else(|| RallyError::Protocol {
                    operation: op.label(),
                    excerpt: format!("tag {n:?} could not be resolved"),
                })
            })
            .collect()
    }

    /// `POST /tag/create`. Tags are unique by name, so an unknown outcome (or Rally saying the
    /// name is taken) is settled by looking the name up; the create is repeated only when the
    /// lookup shows nothing. Callers hold `tag_creation`, so one tracker never races itself.
    async fn create_tag(&self, op: &Op, name: &str) -> Result<String, RallyError> {
        let body = serde_json::to_vec(&serde_json::json!({ "Tag": { "Name": name } }))
            .map_err(|e| RallyError::invalid("labels", e.to_string()))?;
        let mut params = vec![("fetch", "ObjectID,Name".to_string())];
        if let Some(w) = &self.settings.workspace {
            params.push(("workspace", w.clone()));
        }
        let send = || async {
            let req = Request {
                method: Method::POST,
                path: "tag/create",
                params: params.clone(),
                body: Some(body.clone()),
                kind: OpKind::Create,
            };
            let (env, attempts) = self.http.call_counted::<CreateEnvelope<RallyTag>>(op, req).await?;
            let r = env.create_result;
            let fail = |error| CallError { error, maybe_applied: false, attempts };
            if !r.errors.is_empty() {
                return Err(fail(classify_errors(op, &r.errors)));
            }
            r.object.and_then(|t| relative_ref(t.r#ref.as_deref(), "tag", t.object_id)).ok_or_else(|| {
                fail(RallyError::Protocol { operation: op.label(), excerpt: "tag create returned no object".into() })
            })
        };
        let what = format!("the tag {name:?}");
        let find = || async { self.find_tag(op, name).await.map(Found::from) };
        match self.create_reconciled(op, &what, send, find).await {
            Err(RallyError::Rejected { operation, errors })
                if errors.iter().any(|e| e.to_ascii_lowercase().contains("already exist")) =>
            {
                match self.find_tag(op, name).await {
                    Ok(Some(r)) => Ok(r),
                    _ => Err(RallyError::Rejected { operation, errors }),
                }
            }
            other => other,
        }
    }

    /// `/tag/<oid>` of the tag with exactly this name, if there is one.
    async fn find_tag(&self, op: &Op, name: &str) -> Result<Option<String>, RallyError> {
        let spec = QuerySpec {
            type_path: "tag",
            query: Some(Query::eq("Name", name).render()),
            fetch: "ObjectID,Name",
            order: Some("ObjectID"),
            scope: Scope::Configured,
            types: None,
        };
        let r: QueryResult<RallyTag> = self.query_page(op, &spec, 1, 20).await?;
        // The oldest of any same-named tags, as the first lookup in `resolve_tags` picks it.
        Ok(r.results.iter().find_map(|t| relative_ref(t.r#ref.as_deref(), "tag", t.object_id)))
    }

    /// `/state/<oid>` of a Feature state by name (the states are read once, in order).
    pub(super) async fn feature_state_ref(&self, op: &Op, name: &str) -> Result<String, RallyError> {
        let states = self.feature_states_or_err(op).await?;
        states.iter().find(|(n, _)| n == name).map(|(_, r)| r.clone()).ok_or_else(|| RallyError::Rejected {
            operation: op.label(),
            errors: vec![format!("the workspace has no Feature state named {name:?}")],
        })
    }
}
