//! The tracker options as a JSON object (JS names), for callers that cannot build a
//! `TrackerConfig` themselves. Wrong types are reported naming the option, like the tracker does.

use crate::config::TrackerConfig;
use crate::error::RallyError;
use crate::model::ArtifactType;
use serde_json::{Map, Value};

fn text(m: &Map<String, Value>, key: &str) -> Result<Option<String>, RallyError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(RallyError::invalid(key, "must be a string")),
    }
}

fn flag(m: &Map<String, Value>, key: &str) -> Result<Option<bool>, RallyError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(RallyError::invalid(key, "must be true or false")),
    }
}

fn number(m: &Map<String, Value>, key: &str) -> Result<Option<f64>, RallyError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_f64().map(Some).ok_or_else(|| RallyError::invalid(key, "must be a number")),
        Some(_) => Err(RallyError::invalid(key, "must be a number")),
    }
}

fn strings(m: &Map<String, Value>, key: &str) -> Result<Option<Vec<String>>, RallyError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str().map(str::to_string).ok_or_else(|| RallyError::invalid(key, "must be an array of strings"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(RallyError::invalid(key, "must be an array of strings")),
    }
}

/// `{"apiKey": "...", "server": "...", "workspace": "...", "project": "...", ...}` → config.
pub fn config_from_json(json: &str) -> Result<TrackerConfig, RallyError> {
    let v: Value = serde_json::from_str(json).map_err(|_| RallyError::invalid("config", "must be a JSON object"))?;
    let Value::Object(m) = v else {
        return Err(RallyError::invalid("config", "must be a JSON object"));
    };
    let artifact_types = match strings(&m, "artifactTypes")? {
        None => None,
        Some(names) => Some(
            names
                .iter()
                .map(|n| {
                    ArtifactType::from_type_name(n).ok_or_else(|| {
                        RallyError::invalid("artifactTypes", "must list 'UserStory', 'Defect', 'Task' or 'Feature'")
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    Ok(TrackerConfig {
        api_key: text(&m, "apiKey")?.unwrap_or_default(),
        server: text(&m, "server")?,
        workspace: text(&m, "workspace")?,
        project: text(&m, "project")?,
        project_scope_down: flag(&m, "projectScopeDown")?,
        project_scope_up: flag(&m, "projectScopeUp")?,
        artifact_types,
        timeout_ms: number(&m, "timeoutMs")?,
        max_concurrency: number(&m, "maxConcurrency")?,
        max_retries: number(&m, "maxRetries")?,
        max_results: number(&m, "maxResults")?,
        proxy: text(&m, "proxy")?,
        ca_certs: strings(&m, "caCerts")?,
        allow_insecure_http: flag(&m, "allowInsecureHttp")?,
        logger: None,
        custom_fields: m.get("customFields").filter(|v| !v.is_null()).cloned(),
        create_defaults: m.get("createDefaults").filter(|v| !v.is_null()).cloned(),
        pr_links: text(&m, "prLinks")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_js_names_and_rejects_wrong_types() {
        let c = config_from_json(
            r#"{"apiKey":"k","server":"h","projectScopeDown":false,"artifactTypes":["Defect"],"timeoutMs":5}"#,
        )
        .unwrap();
        assert_eq!(c.api_key, "k");
        assert_eq!(c.project_scope_down, Some(false));
        assert_eq!(c.artifact_types, Some(vec![ArtifactType::Defect]));
        assert_eq!(c.timeout_ms, Some(5.0));
        let arg = |j: &str| match config_from_json(j) {
            Err(RallyError::InvalidInput { argument, .. }) => argument,
            other => panic!("{other:?}"),
        };
        assert_eq!(arg(r#"{"server": 1}"#), "server");
        assert_eq!(arg(r#"{"caCerts": "pem"}"#), "caCerts");
        assert_eq!(arg(r#"{"artifactTypes": ["Epic"]}"#), "artifactTypes");
        assert_eq!(arg("[]"), "config");
        assert_eq!(arg("not json"), "config");
    }
}
