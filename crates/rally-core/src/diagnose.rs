//! `rally-doctor`: checks a tracker configuration against the server, in the order a user
//! would fix things, and stops where later checks cannot run: config → connection/TLS → key →
//! workspace → project → open items in scope → the `[trackers.rally]` TOML block.
//!
//! Every request goes through the tracker's own `Http` (same TLS roots, proxy, CA and retry
//! code), so what the doctor sees is what the tracker will see.

mod custom;
mod items;
mod net;
mod scope;

pub use net::Network;

use crate::config::{Settings, TrackerConfig};
use crate::error::RallyError;
use crate::http::{Http, Request};
use crate::retry::OpKind;
use crate::wsapi::{GetEnvelope, Op, QueryEnvelope};
use reqwest::Method;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// What ended a diagnosis, one kind per way a user fixes it (the CLI maps each to an exit code).
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum Problem {
    /// The options are invalid (no I/O was done).
    Config,
    /// No connection, TLS failure, or something other than Rally answered.
    Unreachable,
    /// The key was refused.
    Auth,
    /// The workspace or project does not exist for this key.
    NotFound,
    /// Everything works, but no open items are in scope.
    EmptyScope,
    /// Everything works, but creates will be refused: a required custom field has no
    /// `createDefaults` value.
    CreatesFail,
    Other,
}

/// The doctor answers sooner than a tracker would wait: a user is looking at the terminal.
const DOCTOR_TIMEOUT: Duration = Duration::from_secs(15);
const DOCTOR_RETRIES: u32 = 1;
/// How many workspaces/projects to list when the configured one is missing.
const LIST_MAX: usize = 25;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Check {
    /// `config`, `connection`, `auth`, `workspace`, `project`, `items`.
    pub name: &'static str,
    pub ok: bool,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct UserInfo {
    pub display_name: Option<String>,
    pub user_name: Option<String>,
}

/// A workspace or project: `/workspace/123` and its name.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Named {
    #[serde(rename = "ref")]
    pub reference: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub ok: bool,
    /// What ended the diagnosis; none when all is well.
    pub problem: Option<Problem>,
    /// One line saying what is wrong, or that all is well.
    pub summary: String,
    /// The server origin the tracker talks to (`https://rally1.rallydev.com`).
    pub server: Option<String>,
    pub network: Option<Network>,
    pub checks: Vec<Check>,
    pub user: Option<UserInfo>,
    pub workspace: Option<Named>,
    pub project: Option<Named>,
    /// Workspaces the key can see (listed when none is configured or the configured one is missing).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub workspaces: Vec<Named>,
    /// Some projects of the workspace (listed when none is configured or the configured one is missing).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub projects: Vec<Named>,
    /// Open items per type in scope, by JS type name (`UserStory`, `Defect`, `Task`, `Feature`).
    pub counts: BTreeMap<&'static str, u64>,
    /// The block for `~/.panopticon/config.toml`.
    pub toml: Option<String>,
    /// Per type, the custom fields the workspace requires on create.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub required_custom_fields: BTreeMap<&'static str, Vec<custom::RequiredField>>,
    /// The `createDefaults` option to pass (configured values kept, missing ones filled with
    /// an allowed value to pick from).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub create_defaults: Option<Value>,
    /// The same as `[trackers.rally.create_defaults.<Type>]` tables for config.toml.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub create_defaults_toml: Option<String>,
}

impl Report {
    fn pass(&mut self, name: &'static str, detail: String) {
        self.checks.push(Check { name, ok: true, detail, hint: None });
    }
    /// Records a failed check and ends the diagnosis with `problem`.
    fn fail(mut self, name: &'static str, problem: Problem, detail: String, hint: Option<String>) -> Report {
        self.summary = format!("{name} check failed: {detail}");
        self.checks.push(Check { name, ok: false, detail, hint });
        self.problem = Some(problem);
        self.ok = false;
        self
    }
}

/// The report of a configuration refused before any check could run: what `diagnose` says of
/// an option it cannot use (the binding's own refusals, of numbers, end here too).
pub fn config_report(e: &RallyError) -> Report {
    Report::default().fail("config", Problem::Config, e.to_string(), Some(config_hint(e)))
}

/// Runs every check it can; never fails (a failure is a check in the report).
pub async fn diagnose(mut config: TrackerConfig) -> Report {
    config.timeout = config.timeout.or(Some(DOCTOR_TIMEOUT));
    config.max_retries = config.max_retries.or(Some(DOCTOR_RETRIES));
    let mut report = Report::default();
    let settings = match Settings::from_config(&config) {
        Ok(s) => Arc::new(s),
        Err(e) => return config_report(&e),
    };
    report.server = Some(settings.origin.clone());
    report.network = Some(Network::describe(&settings, &config));
    let http = match Http::new(settings.clone()) {
        Ok(h) => h,
        Err(e) => return report.fail("config", Problem::Config, e.to_string(), Some(config_hint(&e))),
    };
    report.pass("config", config_detail(&settings));
    let d = Doctor { http, settings };
    d.run(report).await
}

fn config_hint(e: &RallyError) -> String {
    match e {
        RallyError::Auth { .. } => "set RALLY_API_KEY to a key from Rally → your profile → API Keys".into(),
        RallyError::InvalidInput { argument, .. } => match argument.as_str() {
            "server" => "use a host name (rally1.rallydev.com) or an https:// URL (RALLY_SERVER / --server)".into(),
            "workspace" | "project" => {
                format!(
                    "use /{argument}/<ObjectID> or just the ObjectID (RALLY_{} / --{argument})",
                    argument.to_uppercase()
                )
            }
            other => format!("fix the {other} option"),
        },
        _ => "check the configuration".into(),
    }
}

fn config_detail(s: &Settings) -> String {
    let scope = match &s.project {
        Some(p) => format!("project {p} (scope down {}, up {})", yes_no(s.scope_down), yes_no(s.scope_up)),
        None => "no project (the whole workspace)".into(),
    };
    let ws = s.workspace.as_deref().unwrap_or("the key owner's default workspace");
    format!("server {}, workspace {ws}, {scope}", s.origin)
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}

struct Doctor {
    http: Http,
    settings: Arc<Settings>,
}

impl Doctor {
    async fn run(&self, mut report: Report) -> Report {
        // Connection and key in one request: any HTTP answer proves the connection.
        let user = match self.get_one("user", "UserName,DisplayName,ObjectID").await {
            Ok(Some(u)) => u,
            Ok(None) => return report.fail("auth", Problem::Auth, "GET /user found no user for this key".into(), None),
            Err(e) => return self.connection_or_auth_failure(report, e).await,
        };
        report.pass("connection", report.network.as_ref().map(|n| n.summary(&self.settings)).unwrap_or_default());
        let info = UserInfo {
            display_name: str_field(&user, "DisplayName").or_else(|| str_field(&user, "_refObjectName")),
            user_name: str_field(&user, "UserName"),
        };
        let who = match (&info.display_name, &info.user_name) {
            (Some(d), Some(u)) => format!("{d} ({u})"),
            (Some(x), None) | (None, Some(x)) => x.clone(),
            (None, None) => "an unnamed user".into(),
        };
        report.pass("auth", format!("the API key is valid and belongs to {who}"));
        report.user = Some(info);

        let report = match self.check_workspace(report).await {
            Ok(r) => r,
            Err(r) => return r,
        };
        let report = match self.check_project(report).await {
            Ok(r) => r,
            Err(r) => return r,
        };
        self.count_items(report).await
    }

    async fn connection_or_auth_failure(&self, report: Report, e: RallyError) -> Report {
        match e {
            RallyError::Auth { detail } => {
                let mut report = report;
                let reached = report.network.as_ref().map(|n| n.summary(&self.settings)).unwrap_or_default();
                report.pass("connection", reached);
                report.fail(
                    "auth",
                    Problem::Auth,
                    detail,
                    Some("create a new key in Rally (profile → API Keys), put it in RALLY_API_KEY, and check it is not read-only or revoked".into()),
                )
            }
            RallyError::Unavailable { last_status: None, .. } | RallyError::Timeout { .. } => {
                let probe = net::probe(&self.settings).await;
                let (detail, hint) = net::explain_connect_failure(&self.settings, &e, probe.as_deref());
                report.fail("connection", Problem::Unreachable, detail, Some(hint))
            }
            RallyError::Unavailable { .. } => report.fail(
                "connection",
                Problem::Unreachable,
                e.to_string(),
                Some("the server (or a gateway in front of it) answers with errors; try again later or check the proxy".into()),
            ),
            RallyError::Protocol { .. } => report.fail(
                "connection",
                Problem::Unreachable,
                e.to_string(),
                Some("something other than Rally's API answered: check the server name, and whether a proxy or SSO page is in the way".into()),
            ),
            other => report.fail("auth", Problem::Other, other.to_string(), None),
        }
    }

    /// `GET <path>` of one object: `Ok(None)` when Rally says it cannot find it.
    async fn get_one(&self, path: &str, fetch: &str) -> Result<Option<Value>, RallyError> {
        let op = Op::new("checking the configuration", None);
        let req = Request {
            method: Method::GET,
            path,
            params: vec![("fetch", fetch.to_string())],
            body: None,
            kind: OpKind::Read,
        };
        match self.http.call::<GetEnvelope<Value>>(&op, req).await? {
            GetEnvelope::Object { object, errors, .. } if errors.is_empty() => Ok(Some(object)),
            GetEnvelope::Object { errors, .. } => Err(crate::wsapi::classify_errors(&op, &errors)),
            GetEnvelope::Failed(r) if r.errors.iter().all(|e| crate::wsapi::is_not_found_text(e)) => Ok(None),
            GetEnvelope::Failed(r) => Err(crate::wsapi::classify_errors(&op, &r.errors)),
        }
    }

    async fn query_named(&self, path: &str, extra: Vec<(&'static str, String)>) -> Result<Vec<Named>, RallyError> {
        let kind = if path.eq_ignore_ascii_case("project") { "project" } else { "workspace" };
        let mut params = extra;
        params.push(("fetch", "Name,ObjectID".into()));
        params.push(("order", "Name".into()));
        params.push(("pagesize", LIST_MAX.to_string()));
        let op = Op::new("listing what the key can see", None);
        let req = Request { method: Method::GET, path, params, body: None, kind: OpKind::Read };
        let env = self.http.call::<QueryEnvelope<Value>>(&op, req).await?;
        Ok(env
            .query_result
            .results
            .iter()
            .filter_map(|o| {
                let oid = oid_of(o)?;
                Some(Named { reference: format!("/{kind}/{oid}"), name: str_field(o, "Name").unwrap_or_default() })
            })
            .collect())
    }
}

fn code_of(e: &RallyError) -> Problem {
    match e {
        RallyError::Auth { .. } => Problem::Auth,
        RallyError::Unavailable { .. } | RallyError::Timeout { .. } => Problem::Unreachable,
        RallyError::InvalidInput { .. } => Problem::Config,
        RallyError::NotFound { .. } => Problem::NotFound,
        _ => Problem::Other,
    }
}

fn describe(list: &[Named]) -> String {
    list.iter().map(|n| format!("{} \"{}\"", n.reference, n.name)).collect::<Vec<_>>().join(", ")
}

fn str_field(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string).filter(|s| !s.is_empty())
}

fn oid_of(v: &Value) -> Option<u64> {
    match v.get("ObjectID") {
        Some(Value::Number(n)) => {
            n.as_u64().or_else(|| n.as_f64().filter(|f| *f > 0.0 && f.fract() == 0.0).map(|f| f as u64))
        }
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    }
}

/// `{"_ref": ".../workspace/123"}` → `/workspace/123`.
fn ref_tail(v: &Value, kind: &str) -> Option<String> {
    let r = v.get("_ref").and_then(Value::as_str)?;
    crate::config::parse_container_ref(kind, kind, r).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_and_oids_from_json() {
        let v: Value = serde_json::json!({"_ref": "http://h/slm/webservice/v2.0/workspace/42", "ObjectID": 42.0});
        assert_eq!(ref_tail(&v, "workspace").as_deref(), Some("/workspace/42"));
        assert_eq!(oid_of(&v), Some(42));
        assert_eq!(oid_of(&serde_json::json!({"ObjectID": "7"})), Some(7));
        assert_eq!(oid_of(&serde_json::json!({"ObjectID": -1})), None);
    }

    #[tokio::test]
    async fn bad_config_is_exit_2_without_io() {
        let r =
            diagnose(TrackerConfig { api_key: "k".into(), server: Some("ftp://x".into()), ..Default::default() }).await;
        assert_eq!(r.problem, Some(Problem::Config));
        assert_eq!(r.checks.len(), 1);
        assert!(!r.checks[0].ok);
        let r = diagnose(TrackerConfig::default()).await;
        assert_eq!(r.problem, Some(Problem::Config), "{:?}", r.checks);
    }
}
