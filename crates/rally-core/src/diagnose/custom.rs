//! The custom-fields check: which custom fields the workspace requires on each type, whether
//! creates pass with the configured `createDefaults`, and the block to paste.

use super::{Doctor, Problem, Report};
use crate::custom::{describe, CustomAttr};
use crate::model::ArtifactType;
use crate::wsapi::Op;
use serde::Serialize;
use serde_json::{Map, Value};

/// A custom field a type requires on create.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RequiredField {
    /// The display name (the key in `customFields` / `createDefaults`).
    pub name: String,
    /// `c_Team`.
    pub element_name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allowed_values: Vec<String>,
    /// Whether the configured `createDefaults` gives it a value.
    pub covered: bool,
}

/// A placeholder value for a field the configuration does not cover yet: the first allowed
/// value, or a type-shaped example.
fn example(a: &CustomAttr) -> Value {
    match (&a.allowed, a.attribute_type.as_str()) {
        (Some(v), _) if !v.is_empty() => Value::String(v[0].clone()),
        (_, "INTEGER" | "QUANTITY") => Value::from(0),
        (_, "BOOLEAN") => Value::Bool(false),
        (_, "DATE") => Value::String("2026-01-01".into()),
        _ => Value::String(format!("<{}>", a.name)),
    }
}

impl Doctor {
    /// Never ends the diagnosis by itself; a create that would fail is `Problem::CreatesFail` when
    /// everything else passed.
    pub(super) async fn custom_fields(&self, report: &mut Report) {
        let Some(ws) = report.workspace.as_ref().map(|w| w.reference.clone()) else { return };
        let op = Op::new("reading the workspace schema", None);
        let schema = match crate::tracker::custom::read_schema(&self.http, &op, &ws, true).await {
            Ok(s) => s,
            Err(e) => {
                report.checks.push(super::Check {
                    name: "customFields",
                    ok: true,
                    detail: format!("the workspace schema could not be read ({e}); custom fields not checked"),
                    hint: None,
                });
                return;
            }
        };
        let mut block = Map::new();
        let mut missing = Vec::new();
        let mut lines = Vec::new();
        for t in ArtifactType::ALL {
            let defaults = self.settings.create_defaults.get(&t);
            let required: Vec<&CustomAttr> = schema.of(t).iter().filter(|a| a.required).collect();
            if required.is_empty() {
                continue;
            }
            let mut fields = Vec::new();
            let mut type_block = Map::new();
            for a in required {
                let given = defaults.and_then(|d| {
                    d.iter().find(|(k, _)| {
                        let k = k.trim();
                        k.eq_ignore_ascii_case(&a.name)
                            || k.eq_ignore_ascii_case(&a.element)
                            || k.eq_ignore_ascii_case(a.element.strip_prefix("c_").unwrap_or(&a.element))
                    })
                });
                let covered = given.is_some_and(|(_, v)| !v.is_null() && v != "");
                if !covered {
                    missing.push(format!("{}.{}", t.as_str(), a.name));
                }
                type_block.insert(a.name.clone(), given.map_or_else(|| example(a), |(_, v)| v.clone()));
                lines.push(format!("{} requires {}", t.as_str(), describe(a)));
                fields.push(RequiredField {
                    name: a.name.clone(),
                    element_name: a.element.clone(),
                    allowed_values: a.allowed.clone().unwrap_or_default(),
                    covered,
                });
            }
            block.insert(t.as_str().to_string(), Value::Object(type_block));
            report.required_custom_fields.insert(t.as_str(), fields);
        }
        if block.is_empty() {
            report.checks.push(super::Check {
                name: "customFields",
                ok: true,
                detail: "the workspace requires no custom field on create".into(),
                hint: None,
            });
            return;
        }
        report.create_defaults = Some(Value::Object(block.clone()));
        report.create_defaults_toml = Some(toml_block(&block));
        if missing.is_empty() {
            report.checks.push(super::Check {
                name: "customFields",
                ok: true,
                detail: format!("{}; createDefaults covers them, creates will pass", lines.join("; ")),
                hint: None,
            });
        } else {
            report.checks.push(super::Check {
                name: "customFields",
                ok: false,
                detail: format!("{}; creates will be refused: no value for {}", lines.join("; "), missing.join(", ")),
                hint: Some("set createDefaults (the block below) so every create carries them".into()),
            });
            if report.problem.is_none() {
                report.ok = false;
                report.problem = Some(Problem::CreatesFail);
                report.summary = format!("creates will be refused: the workspace requires {}", missing.join(", "));
            }
        }
    }
}

/// The `[trackers.rally.create_defaults.<Type>]` tables for Panopticon's config.toml.
fn toml_block(block: &Map<String, Value>) -> String {
    let mut out = String::new();
    for (t, fields) in block {
        out.push_str(&format!("[trackers.rally.create_defaults.{t}]\n"));
        for (k, v) in fields.as_object().into_iter().flatten() {
            let key = if k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                k.clone()
            } else {
                Value::String(k.clone()).to_string()
            };
            let val = match v {
                Value::String(s) => Value::String(s.clone()).to_string(),
                other => other.to_string(),
            };
            out.push_str(&format!("{key} = {val}\n"));
        }
    }
    out
}
