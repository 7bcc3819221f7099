//! `updateIssue`'s Rally-specific moves: to a Rally state by name (`rallyState`) and tag edits
//! that leave the rest of the set alone (`addLabels`, `removeLabels`, through the Tags
//! collection's `add` and `remove`).

use super::{Located, Method, Op, OperationEnvelope, RallyError, Request, Tracker};
use crate::model::ArtifactType;
use crate::retry::OpKind;
use crate::wsapi::classify_errors;
use serde_json::{json, Map, Value};

/// Where a type keeps the state `rallyState` names: (type definition path, attribute).
fn state_attribute(t: ArtifactType) -> (&'static str, &'static str, &'static str) {
    match t {
        ArtifactType::UserStory => {
            ("HierarchicalRequirement.ScheduleState", "HierarchicalRequirement", "ScheduleState")
        }
        ArtifactType::Defect => ("Defect.ScheduleState", "Defect", "ScheduleState"),
        ArtifactType::Task => ("Task.State", "Task", "State"),
        ArtifactType::Feature => ("PortfolioItem/Feature.State", "PortfolioItem/Feature", "State"),
    }
}

impl Tracker {
    /// The state names the type allows, in Rally's order: a story's or defect's ScheduleState
    /// values, a task's State values, the Feature states. Read once per tracker and type.
    async fn allowed_states(&self, op: &Op, t: ArtifactType) -> Result<Vec<String>, RallyError> {
        if t == ArtifactType::Feature {
            let states = self.feature_states_or_err(op).await?;
            return Ok(states.iter().map(|(name, _)| name.clone()).collect());
        }
        let (key, type_path, attribute) = state_attribute(t);
        let cached = self.resolved.allowed_states.lock().unwrap_or_else(|p| p.into_inner()).get(key).cloned();
        if let Some(v) = cached {
            return Ok(v);
        }
        let v = self.read_allowed_values(op, type_path, attribute).await?;
        if v.is_empty() {
            return Err(RallyError::Protocol {
                operation: op.label(),
                excerpt: format!("no allowed values of {type_path}.{attribute}"),
            });
        }
        self.resolved.allowed_states.lock().unwrap_or_else(|p| p.into_inner()).insert(key, v.clone());
        Ok(v)
    }

    /// The fields that put the item in the Rally state `name` (matched without regard to case;
    /// written as Rally spells it). A name the type does not allow is refused before any write,
    /// listing the valid ones. A Closed defect moved to a state before Completed also gets
    /// State Open, as `transitionIssue` reopens one.
    pub(super) async fn named_state_fields(
        &self,
        op: &Op,
        l: &Located,
        name: &str,
    ) -> Result<Map<String, Value>, RallyError> {
        let allowed = self.allowed_states(op, l.artifact_type).await?;
        let wanted = name.trim();
        let Some(found) = allowed.iter().position(|s| s.eq_ignore_ascii_case(wanted)) else {
            return Err(RallyError::invalid(
                "rallyState",
                format!(
                    "{wanted:?} is not a state of a {}; valid states are {}",
                    l.artifact_type.as_str(),
                    allowed.join(", ")
                ),
            ));
        };
        let state = allowed[found].clone();
        let mut out = Map::new();
        match l.artifact_type {
            ArtifactType::UserStory => {
                out.insert("ScheduleState".into(), Value::String(state));
            }
            ArtifactType::Defect => {
                let completed = allowed.iter().position(|s| s == "Completed").unwrap_or(allowed.len());
                if l.state.as_deref() == Some("Closed") && found < completed {
                    out.insert("State".into(), Value::String("Open".into()));
                }
                out.insert("ScheduleState".into(), Value::String(state));
            }
            ArtifactType::Task => {
                out.insert("State".into(), Value::String(state));
            }
            ArtifactType::Feature => {
                let r = self.feature_state_ref(op, &state).await?;
                out.insert("State".into(), Value::String(r));
            }
        }
        Ok(out)
    }

    /// `POST <item>/Tags/add|remove` with `CollectionItems`: the named tags join or leave the
    /// item's set, the others stay. Added tags that do not exist are created; removing a tag
    /// that does not exist (or is not on the item) changes nothing.
    pub(super) async fn edit_tags(
        &self,
        op: &Op,
        l: &Located,
        add: &[String],
        remove: &[String],
    ) -> Result<(), RallyError> {
        if !add.is_empty() {
            let refs = self.resolve_tags(op, add).await?;
            self.post_collection(op, l, "add", &refs).await?;
        }
        if !remove.is_empty() {
            let refs = self.existing_tags(op, remove).await?;
            if !refs.is_empty() {
                self.post_collection(op, l, "remove", &refs).await?;
            }
        }
        Ok(())
    }

    async fn post_collection(&self, op: &Op, l: &Located, verb: &str, refs: &[String]) -> Result<(), RallyError> {
        let path = format!("{}/{}/Tags/{verb}", l.artifact_type.type_path(), l.object_id);
        let items: Vec<Value> = refs.iter().map(|r| json!({ "_ref": r })).collect();
        // Serialising a Value tree cannot fail.
        let body = serde_json::to_vec(&json!({ "CollectionItems": items })).unwrap_or_default();
        let req = Request {
            method: Method::POST,
            path: &path,
            params: self.workspace_params("ObjectID,Name"),
            body: Some(body),
            // Adding or removing the same members twice leaves the same set: safe to repeat.
            kind: OpKind::Update,
        };
        let env: OperationEnvelope<serde::de::IgnoredAny> = self.http.call(op, req).await?;
        let errors = env.operation_result.errors;
        if errors.is_empty() {
            self.log_warnings(op, &env.operation_result.warnings);
            return Ok(());
        }
        let e = classify_errors(op, &errors);
        if e.code() == "RALLY_NOT_FOUND" {
            self.cache.forget(l.object_id);
        }
        Err(e)
    }
}
