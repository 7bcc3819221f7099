//! The workspace schema (custom fields), read once per tracker, and the artifact fetch list
//! with the custom fields the `customFields` option asks for.

use super::{QuerySpec, Scope, Tracker};
use crate::custom::{RallyAttribute, RallyTypeDef, WorkspaceSchema};
use crate::error::RallyError;
use crate::http::{Http, Request};
use crate::model::ArtifactType;
use crate::query::Query;
use crate::rally_types::{RallyRef, ARTIFACT_FETCH};
use crate::retry::OpKind;
use crate::wsapi::{classify_lookup_errors, Op, QueryEnvelope, QueryResult};
use reqwest::Method;
use serde::Deserialize;
use std::borrow::Cow;
use std::sync::atomic::Ordering;
use std::sync::Arc;

#[derive(Deserialize)]
struct WithWorkspace {
    #[serde(rename = "Workspace")]
    workspace: Option<RallyRef>,
}

#[derive(Deserialize)]
struct StringValue {
    #[serde(rename = "StringValue")]
    string_value: Option<String>,
}

impl Tracker {
    /// `/workspace/<oid>`: the configured one, else the key owner's default (the workspace a
    /// type definition of an unscoped query belongs to), one request.
    async fn workspace_ref(&self, op: &Op) -> Result<String, RallyError> {
        if let Some(w) = &self.settings.workspace {
            return Ok(w.clone());
        }
        let spec = QuerySpec {
            type_path: "typedefinition",
            query: Some(Query::eq("ElementName", "HierarchicalRequirement").render()),
            fetch: "ObjectID,Workspace",
            order: None,
            scope: Scope::Configured,
            types: None,
        };
        let r: QueryResult<WithWorkspace> = self.query_page(op, &spec, 1, 1).await?;
        r.results
            .into_iter()
            .find_map(|t| t.workspace.and_then(|w| w.r#ref))
            .and_then(|r| crate::config::parse_container_ref("workspace", "workspace", &r).ok())
            .ok_or_else(|| RallyError::Protocol {
                operation: op.label(),
                excerpt: "no workspace found for the schema read".into(),
            })
    }

    /// The custom fields of the four types (`read_schema`), cached for the tracker's life; a
    /// failed read is not cached.
    pub(crate) async fn schema(&self, op: &Op) -> Result<Arc<WorkspaceSchema>, RallyError> {
        self.schema
            .get_or_try_init(|| async {
                let ws = self.workspace_ref(op).await?;
                read_schema(&self.http, op, &ws, true).await.map(Arc::new)
            })
            .await
            .cloned()
    }

    /// The artifact fetch list: `ARTIFACT_FETCH` as is without `customFields` (no request);
    /// with it, plus the custom fields asked for (the schema read once, then cached). A name
    /// no type has is refused, listing the workspace's custom fields.
    pub(crate) async fn artifact_fetch(&self, op: &Op) -> Result<Cow<'static, str>, RallyError> {
        if self.settings.custom_fields.is_none() {
            return Ok(Cow::Borrowed(ARTIFACT_FETCH));
        }
        let fetch = self
            .custom_fetch
            .get_or_try_init(|| async {
                let schema = self.schema(op).await?;
                let unknown = schema.unknown_names(&self.settings.custom_fields);
                if !unknown.is_empty() {
                    return Err(RallyError::invalid(
                        "customFields",
                        format!(
                            "no type in this workspace has the custom field {}; the custom fields are: {}",
                            unknown.join(", "),
                            match schema.all_names() {
                                v if v.is_empty() => "(none)".to_string(),
                                v => v.join(", "),
                            }
                        ),
                    ));
                }
                let mut f = ARTIFACT_FETCH.to_string();
                for e in schema.elements(&self.settings.custom_fields) {
                    f.push(',');
                    f.push_str(&e);
                }
                Ok(f)
            })
            .await?;
        Ok(Cow::Owned(fetch.clone()))
    }

    /// The custom field values of a write, checked against the schema before any write
    /// request. No schema read when the write has none and nothing is required of it (an
    /// update without `customFields`). A create always checks the workspace's required custom
    /// fields: a tracker told nothing about custom fields (no `customFields` option, none on
    /// the call, no `createDefaults`) reads the schema once, following the allowed values of
    /// required fields only. If Rally does not answer that read, or refuses the key, the create
    /// fails with that error; if the schema service answers something else (a proxy's page, a
    /// server without it), one warning and Rally's own validation answers.
    pub(crate) async fn custom_write_fields(
        &self,
        op: &Op,
        t: ArtifactType,
        given: Option<&serde_json::Map<String, serde_json::Value>>,
        creating: bool,
    ) -> Result<serde_json::Map<String, serde_json::Value>, RallyError> {
        let defaults = if creating { self.settings.create_defaults.get(&t) } else { None };
        let configured = !self.settings.custom_fields.is_none() || !self.settings.create_defaults.is_empty();
        let given_any = given.is_some_and(|g| !g.is_empty());
        if given_any || (creating && configured) {
            let schema = self.schema(op).await?;
            return schema.check_write(t, given, defaults, creating, "customFields");
        }
        if !creating {
            return Ok(serde_json::Map::new());
        }
        if let Some(full) = self.schema.get() {
            return full.check_write(t, None, None, true, "customFields");
        }
        if self.schema_skipped.load(Ordering::Relaxed) {
            return Ok(serde_json::Map::new());
        }
        let light = self
            .required_schema
            .get_or_try_init(|| async {
                let ws = self.workspace_ref(op).await?;
                read_schema(&self.http, op, &ws, false).await.map(Arc::new)
            })
            .await;
        match light {
            Ok(schema) => schema.check_write(t, None, None, true, "customFields"),
            // Rally not answering, or refusing the key, would refuse the create too: say so
            // now, before any write.
            Err(e @ (RallyError::Auth { .. } | RallyError::Unavailable { .. } | RallyError::Timeout { .. })) => Err(e),
            Err(e) => {
                if !self.schema_skipped.swap(true, Ordering::Relaxed) {
                    self.settings.log.emit(
                        "warn",
                        format!(
                            "{}: the workspace schema could not be read ({e}); required custom fields are \
                             left to Rally to check",
                            op.label()
                        ),
                    );
                }
                Ok(serde_json::Map::new())
            }
        }
    }
}

/// The custom fields of the four types of workspace `ws` (`/workspace/<oid>`): one read of the
/// schema service, plus one read of the allowed values of each constrained custom field
/// (Rally gives them as a collection to follow), all at once; with `every_allowed` false, of
/// the required ones only (the others keep `allowed: None`).
pub(crate) async fn read_schema(
    http: &Http,
    op: &Op,
    ws: &str,
    every_allowed: bool,
) -> Result<WorkspaceSchema, RallyError> {
    let oid = ws.rsplit('/').next().unwrap_or_default();
    let path = format!("/slm/schema/v2.0/workspace/{oid}");
    let req = Request { method: Method::GET, path: &path, params: vec![], body: None, kind: OpKind::Read };
    let env: QueryEnvelope<RallyTypeDef> = http.call(op, req).await?;
    let r = env.query_result;
    if !r.errors.is_empty() {
        return Err(classify_lookup_errors(op, &r.errors));
    }
    let mut schema = WorkspaceSchema::default();
    for td in &r.results {
        let Some(t) = crate::custom::artifact_type_of(td) else { continue };
        let customs: Vec<&RallyAttribute> = td.attributes.iter().filter(|a| a.to_custom(None).is_some()).collect();
        let follow = customs.iter().map(|a| async move {
            match (a.inline_allowed(), a.allowed_ref()) {
                (Some(v), _) => Ok(Some(v)),
                (None, Some(r)) if every_allowed || a.required == Some(true) => {
                    allowed_values(http, op, r).await.map(Some)
                }
                _ => Ok(None),
            }
        });
        let allowed = futures_util::future::try_join_all(follow).await?;
        let attrs = customs.iter().zip(allowed).filter_map(|(a, allowed)| a.to_custom(allowed)).collect();
        schema.types.insert(t.as_str(), attrs);
    }
    Ok(schema)
}

/// The values of a drop-down, from its `AllowedValues` collection ref (the empty "null" value
/// left out).
async fn allowed_values(http: &Http, op: &Op, r: &str) -> Result<Vec<String>, RallyError> {
    let lower = r.to_ascii_lowercase();
    let at = lower.find("/slm/webservice/v2.0/").map_or(0, |i| i + "/slm/webservice/v2.0/".len());
    let req = Request {
        method: Method::GET,
        path: &r[at..],
        params: vec![("fetch", "StringValue".into()), ("pagesize", "2000".into())],
        body: None,
        kind: OpKind::Read,
    };
    let env: QueryEnvelope<StringValue> = http.call(op, req).await?;
    if !env.query_result.errors.is_empty() {
        return Err(classify_lookup_errors(op, &env.query_result.errors));
    }
    Ok(env.query_result.results.into_iter().filter_map(|v| v.string_value).filter(|s| !s.is_empty()).collect())
}
