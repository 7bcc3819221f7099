//! `diagnose` against an in-process simulator: each diagnosis and its exit code, the request
//! budget of a full run, and the key absent from every report.

mod common;

use common::{env, KEY};
use rally_core::{diagnose, Problem, Report};
use rally_core::{ArtifactType, TrackerConfig};

fn names(r: &Report) -> Vec<(&'static str, bool)> {
    r.checks.iter().map(|c| (c.name, c.ok)).collect()
}

fn keyless(r: &Report) -> String {
    let json = serde_json::to_string(r).expect("report serialises");
    assert!(!json.contains(KEY), "the key is in the report: {json}");
    json
}

#[tokio::test]
async fn a_good_config_passes_every_check_within_a_few_requests() {
    let e = env().await;
    let r = diagnose(e.config()).await;
    keyless(&r);
    assert_eq!(r.problem, None, "{:?}", r.checks);
    assert!(r.ok);
    let all = ["config", "connection", "auth", "workspace", "project", "items", "customFields"];
    assert_eq!(names(&r), all.iter().map(|n| (*n, true)).collect::<Vec<_>>());
    assert_eq!(r.user.as_ref().and_then(|u| u.user_name.clone()).as_deref(), Some(e.sim.owner_user_name.as_str()));
    assert_eq!(r.workspace.as_ref().map(|w| w.reference.as_str()), Some(e.sim.workspace_ref.as_str()));
    assert_eq!(r.counts.len(), 4);
    assert!(r.counts.values().sum::<u64>() > 0);
    let toml = r.toml.expect("toml");
    assert!(toml.starts_with("[trackers.rally]\ntype = \"rally\"\napi_key_env = \"RALLY_API_KEY\"\n"), "{toml}");
    assert!(toml.contains(&format!("workspace = \"{}\"\n", e.sim.workspace_ref)), "{toml}");
    assert!(toml.contains(&format!("project = \"{}\"\n", e.sim.project_ref)), "{toml}");
    // user, workspace, project, Feature states, four counts, the workspace schema.
    assert!(e.total().await <= 9, "{:?}", e.routes().await);
}

#[tokio::test]
async fn a_wrong_key_is_exit_4_after_a_good_connection() {
    let e = env().await;
    let r = diagnose(TrackerConfig { api_key: "_notTheKey123".into(), ..e.config() }).await;
    let json = keyless(&r);
    assert!(!json.contains("_notTheKey123"));
    assert_eq!(r.problem, Some(Problem::Auth));
    assert_eq!(names(&r), vec![("config", true), ("connection", true), ("auth", false)]);
    assert!(r.toml.is_none());
}

#[tokio::test]
async fn unknown_workspace_and_project_are_exit_5_with_what_the_key_sees() {
    let e = env().await;
    let r = diagnose(TrackerConfig { workspace: Some("/workspace/999999".into()), ..e.config() }).await;
    keyless(&r);
    assert_eq!(r.problem, Some(Problem::NotFound));
    assert_eq!(r.checks.last().map(|c| (c.name, c.ok)), Some(("workspace", false)));
    assert!(r.workspaces.iter().any(|w| w.reference == e.sim.workspace_ref), "{:?}", r.workspaces);

    let r = diagnose(TrackerConfig { project: Some("999999".into()), ..e.config() }).await;
    keyless(&r);
    assert_eq!(r.problem, Some(Problem::NotFound));
    assert_eq!(r.checks.last().map(|c| (c.name, c.ok)), Some(("project", false)));
    let listed: Vec<&str> = r.projects.iter().map(|p| p.reference.as_str()).collect();
    assert!(listed.contains(&e.sim.project_ref.as_str()), "{listed:?}");
    for child in &e.sim.child_project_refs {
        assert!(listed.contains(&child.as_str()), "{listed:?}");
    }
}

#[tokio::test]
async fn a_closed_port_is_exit_3() {
    let e = env().await;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let r = diagnose(TrackerConfig { server: Some(format!("http://127.0.0.1:{port}")), ..e.config() }).await;
    keyless(&r);
    assert_eq!(r.problem, Some(Problem::Unreachable));
    let c = r.checks.last().expect("a check");
    assert_eq!((c.name, c.ok), ("connection", false));
    assert!(c.detail.contains("refused"), "{}", c.detail);
}

#[tokio::test]
async fn an_empty_scope_is_exit_6_and_names_the_usual_causes() {
    let e = env().await;
    // Make the root project alone hold no Feature (whatever the seed made), then check that
    // with the simulator itself.
    let url = format!(
        "{}/portfolioitem/feature?project={}&projectScopeDown=false&pagesize=200&fetch=ObjectID",
        e.sim.base, e.sim.project_ref
    );
    let get = |url: String| async {
        let r = e.http.get(url).header("ZSESSIONID", KEY).send().await.expect("get");
        r.json::<serde_json::Value>().await.expect("json")
    };
    let found = get(url.clone()).await;
    for f in found["QueryResult"]["Results"].as_array().cloned().unwrap_or_default() {
        let r = f["_ref"].as_str().expect("_ref").to_string();
        e.http.delete(r).header("ZSESSIONID", KEY).send().await.expect("delete");
    }
    assert_eq!(get(url).await["QueryResult"]["TotalResultCount"], 0);

    let config = TrackerConfig {
        project_scope_down: Some(false),
        artifact_types: Some(vec![ArtifactType::Feature]),
        ..e.config()
    };
    let r = diagnose(config).await;
    keyless(&r);
    assert_eq!(r.problem, Some(Problem::EmptyScope), "{:?}", r.checks);
    assert_eq!(r.counts.get("Feature"), Some(&0));
    let items = r.checks.last().expect("items check");
    let hint = items.hint.clone().unwrap_or_default();
    assert!(hint.contains("scope down is off") && hint.contains("artifactTypes"), "{hint}");
    assert!(r.toml.is_some(), "the block is valid even when the scope is empty");
}

#[tokio::test]
async fn the_doctor_logs_its_requests_without_the_key() {
    let e = env().await;
    let r = diagnose(e.config()).await;
    assert_eq!(r.problem, None);
    let logs = e.logs.lock().expect("logs").clone();
    assert!(logs.iter().any(|l| l.message.starts_with("GET /slm/webservice/v2.0/user ")), "{logs:?}");
    assert!(logs.iter().all(|l| !l.message.contains(KEY)));
}
