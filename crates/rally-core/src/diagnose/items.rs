//! The last check: open items per type in scope, pushed into WSAPI with the same "not closed"
//! filter `listIssues` uses, one `pagesize=1` count each; then the TOML block for Panopticon.

use super::{code_of, str_field, Doctor, Problem, Report};
use crate::error::RallyError;
use crate::http::Request;
use crate::mapping::{open_filter, StateOrders};
use crate::model::ArtifactType;
use crate::query::Query;
use crate::retry::OpKind;
use crate::wsapi::{Op, QueryEnvelope};
use reqwest::Method;
use serde_json::Value;

impl Doctor {
    pub(super) async fn count_items(&self, mut report: Report) -> Report {
        let types = &self.settings.artifact_types;
        let orders =
            if types.contains(&ArtifactType::Feature) { self.feature_states().await } else { StateOrders::default() };
        let mut parts = Vec::new();
        for t in types {
            let mut params = self.scope_params(&report);
            params.push(("query", open_filter(*t, &orders).render()));
            params.push(("fetch", "ObjectID".into()));
            params.push(("pagesize", "1".into()));
            let op = Op::new("counting open items", None);
            let req = Request { method: Method::GET, path: t.type_path(), params, body: None, kind: OpKind::Read };
            match self.http.call::<QueryEnvelope<serde::de::IgnoredAny>>(&op, req).await {
                Ok(env) if env.query_result.errors.is_empty() => {
                    let n = env.query_result.total() as u64;
                    report.counts.insert(t.as_str(), n);
                    parts.push(format!("{} {n}", t.as_str()));
                }
                Ok(env) => {
                    let e = crate::wsapi::classify_errors(&op, &env.query_result.errors);
                    return report.fail("items", Problem::Other, e.to_string(), None);
                }
                Err(e) => {
                    let e = RallyError::from(e);
                    return report.fail("items", code_of(&e), e.to_string(), None);
                }
            }
        }
        report.toml = Some(self.toml(&report));
        let total: u64 = report.counts.values().sum();
        if total > 0 {
            report.pass("items", format!("open items in scope: {}", parts.join(", ")));
            report.ok = true;
            report.problem = None;
        }
        self.custom_fields(&mut report).await;
        if total == 0 {
            let hint = self.empty_scope_hint();
            let mut report = report.fail(
                "items",
                Problem::EmptyScope,
                "no open items in scope (every type counts 0)".into(),
                Some(hint),
            );
            // A warning, not a failure: everything is reachable and valid, it just shows nothing.
            report.summary = "the configuration works, but it shows no open items".into();
            return report;
        }
        if report.problem.is_none() {
            report.summary = format!("all checks passed: {total} open item(s) in scope");
        }
        report
    }

    fn empty_scope_hint(&self) -> String {
        let mut causes = vec![
            "the project is not the one your team works in (check RALLY_PROJECT)".to_string(),
            "the key's user has no access to the projects that hold the items".to_string(),
            "everything in scope is closed (Completed/Accepted)".to_string(),
        ];
        if self.settings.project.is_some() && !self.settings.scope_down {
            causes.insert(1, "scope down is off, so child projects are not included (projectScopeDown)".into());
        }
        if self.settings.artifact_types.len() < ArtifactType::ALL.len() {
            causes.push("artifactTypes leaves some work item types out".into());
        }
        format!("usual causes: {}", causes.join("; "))
    }

    fn scope_params(&self, report: &Report) -> Vec<(&'static str, String)> {
        let mut params = Vec::new();
        if let Some(ws) =
            report.workspace.as_ref().map(|w| w.reference.clone()).or_else(|| self.settings.workspace.clone())
        {
            params.push(("workspace", ws));
        }
        match &self.settings.project {
            Some(p) => {
                params.push(("project", p.clone()));
                params.push(("projectScopeDown", self.settings.scope_down.to_string()));
                params.push(("projectScopeUp", self.settings.scope_up.to_string()));
            }
            None => params.push(("project", "null".into())),
        }
        params
    }

    async fn feature_states(&self) -> StateOrders {
        let mut params = Vec::new();
        if let Some(ws) = &self.settings.workspace {
            params.push(("workspace", ws.clone()));
        }
        params.push(("query", Query::eq("TypeDef.Name", "Feature").render()));
        params.push(("order", "OrderIndex".into()));
        params.push(("fetch", "Name,OrderIndex".into()));
        params.push(("pagesize", "200".into()));
        let op = Op::new("reading Feature states", None);
        let req = Request { method: Method::GET, path: "state", params, body: None, kind: OpKind::Read };
        let mut orders = StateOrders::default();
        if let Ok(env) = self.http.call::<QueryEnvelope<Value>>(&op, req).await {
            let names: Vec<String> = env.query_result.results.iter().filter_map(|s| str_field(s, "Name")).collect();
            if !names.is_empty() {
                orders.feature_states = names;
            }
        }
        orders
    }

    fn toml(&self, report: &Report) -> String {
        let mut out = String::from("[trackers.rally]\ntype = \"rally\"\napi_key_env = \"RALLY_API_KEY\"\n");
        out.push_str(&format!("server = {}\n", toml_string(&self.settings.origin)));
        if let Some(w) = &report.workspace {
            out.push_str(&format!("workspace = {}\n", toml_string(&w.reference)));
        }
        if let Some(p) = &report.project {
            out.push_str(&format!("project = {}\n", toml_string(&p.reference)));
        }
        out
    }
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_strings_are_escaped() {
        assert_eq!(toml_string(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(toml_string("x\ny"), "\"x\\u000Ay\"");
    }
}
