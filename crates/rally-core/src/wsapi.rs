//! WSAPI response envelopes and the classification of the `Errors` Rally returns with HTTP 200.
//!
//! Shapes: `{"QueryResult": {...}}`, `{"CreateResult": {...}}`, `{"OperationResult": {...}}`,
//! and the single-object GET `{"<TypeName>": {..., "Errors": [], "Warnings": []}}` whose failure
//! form is an `OperationResult`.

use crate::error::RallyError;
use serde::de::{DeserializeOwned, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use std::fmt;
use std::marker::PhantomData;

#[derive(Debug, Deserialize)]
pub struct QueryEnvelope<T> {
    #[serde(rename = "QueryResult")]
    pub query_result: QueryResult<T>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct QueryResult<T> {
    #[serde(default)]
    pub errors: Vec<String>,
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Floats occur in recorded responses; read as f64 and converted.
    pub total_result_count: Option<f64>,
    pub start_index: Option<f64>,
    pub page_size: Option<f64>,
    #[serde(default = "Vec::new")]
    pub results: Vec<T>,
}

impl<T> QueryResult<T> {
    pub fn total(&self) -> usize {
        self.total_result_count.filter(|n| n.is_finite() && *n > 0.0).map_or(0, |n| n as usize)
    }
}

#[derive(Debug, Deserialize)]
pub struct CreateEnvelope<T> {
    #[serde(rename = "CreateResult")]
    pub create_result: CreateResult<T>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateResult<T> {
    #[serde(default)]
    pub errors: Vec<String>,
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Absent when the create failed.
    pub object: Option<T>,
}

#[derive(Debug, Deserialize)]
pub struct OperationEnvelope<T> {
    #[serde(rename = "OperationResult")]
    pub operation_result: OperationResult<T>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OperationResult<T> {
    #[serde(default)]
    pub errors: Vec<String>,
    #[serde(default)]
    pub warnings: Vec<String>,
    /// The updated object (update), absent on delete and on failure.
    pub object: Option<T>,
}

/// A single-object GET: the object (with its inner Errors/Warnings), or the failure form.
#[derive(Debug)]
pub enum GetEnvelope<T> {
    Object { type_name: String, object: T, errors: Vec<String>, warnings: Vec<String> },
    Failed(OperationResult<serde::de::IgnoredAny>),
}

#[derive(Deserialize)]
struct WithErrors<T> {
    #[serde(flatten)]
    object: T,
    #[serde(rename = "Errors", default)]
    errors: Vec<String>,
    #[serde(rename = "Warnings", default)]
    warnings: Vec<String>,
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for GetEnvelope<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: DeserializeOwned> Visitor<'de> for V<T> {
            type Value = GetEnvelope<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object with one key: the type name or OperationResult")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let key: String = map.next_key()?.ok_or_else(|| serde::de::Error::custom("empty envelope"))?;
                let out = if key == "OperationResult" {
                    GetEnvelope::Failed(map.next_value()?)
                } else {
                    let w: WithErrors<T> = map.next_value()?;
                    GetEnvelope::Object { type_name: key, object: w.object, errors: w.errors, warnings: w.warnings }
                };
                // Tolerate (and skip) anything after the one key.
                while map.next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?.is_some() {}
                Ok(out)
            }
        }
        d.deserialize_map(V(PhantomData))
    }
}

/// Who asked: the operation (`updateIssue`) and, when there is one, the issue as the user
/// named it. Used to word errors.
#[derive(Debug, Clone)]
pub struct Op {
    pub name: &'static str,
    pub issue: Option<String>,
}

impl Op {
    pub fn new(name: &'static str, issue: Option<&str>) -> Self {
        Op { name, issue: issue.map(str::to_string) }
    }
    pub fn label(&self) -> String {
        match &self.issue {
            Some(i) => format!("{} {}", self.name, i),
            None => self.name.to_string(),
        }
    }
}

/// Texts meaning "that object does not exist (for you)".
pub fn is_not_found_text(e: &str) -> bool {
    e.contains("Cannot find object to read") || (e.starts_with("Could not read:") && !e.contains("referenced object"))
}

/// `Errors` from a 200 response → the error a user sees. Not-found wins when every error says
/// so; a permission text means the key cannot do this; anything else is Rally rejecting it.
pub fn classify_errors(op: &Op, errors: &[String]) -> RallyError {
    // Only a key Rally does not accept is an auth failure. "Not authorized to perform action:
    // Create PullRequest" refuses one action to a key that works: Rally's answer about the
    // request, RALLY_REJECTED with its text.
    if errors.iter().any(|e| e.to_ascii_lowercase().contains("invalid key")) {
        let first = errors.iter().find(|e| e.to_ascii_lowercase().contains("invalid key")).cloned().unwrap_or_default();
        return RallyError::Auth {
            detail: format!(
                "{} was refused: {first} (the key may be read-only or revoked; check RALLY_API_KEY)",
                op.label()
            ),
        };
    }
    if !errors.is_empty() && errors.iter().all(|e| is_not_found_text(e)) {
        if let Some(id) = &op.issue {
            return RallyError::NotFound { id: id.clone() };
        }
    }
    RallyError::Rejected {
        operation: op.label(),
        errors: errors.iter().map(|e| crate::error::excerpt(e.as_bytes())).collect(),
    }
}

/// `classify_errors` for requests that do not address the issue itself (queries, lookups,
/// creates): an empty query is not "issue not found", so a not-found text is a rejection.
pub fn classify_lookup_errors(op: &Op, errors: &[String]) -> RallyError {
    match classify_errors(op, errors) {
        RallyError::NotFound { .. } => RallyError::Rejected {
            operation: op.label(),
            errors: errors.iter().map(|e| crate::error::excerpt(e.as_bytes())).collect(),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests;
