//! `updateIssue` with `rallyState` (a Rally state by name) and `addLabels` / `removeLabels`
//! (tag edits through the Tags collection), against the in-process simulator; every outcome
//! is read back from the simulator with a raw WSAPI GET, not from what the tracker returned.

mod common;

use common::{env, env_with, Env, KEY};
use rally_core::{ArtifactType, IssueUpdate, NewIssue, Tracker};
use rally_sim::SimConfig;
use serde_json::Value;

async fn raw(e: &Env, type_path: &str, oid: &str) -> Value {
    let v = e.raw_get(&format!("{type_path}/{oid}?fetch=ScheduleState,State,Tags,Name")).await;
    v.as_object().and_then(|m| m.values().next().cloned()).expect("object")
}

async fn raw_tags(e: &Env, type_path: &str, oid: &str) -> Vec<String> {
    let o = raw(e, type_path, oid).await;
    let mut names: Vec<String> = o["Tags"]["_tagsNameArray"]
        .as_array()
        .map(|a| a.iter().filter_map(|t| t["Name"].as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    names.sort();
    names
}

fn state_name(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string).or_else(|| v["_refObjectName"].as_str().map(str::to_string))
}

async fn make(t: &Tracker, title: &str, artifact_type: ArtifactType, parent: Option<String>) -> rally_core::Issue {
    t.create_issue(NewIssue { title: title.into(), artifact_type: Some(artifact_type), parent, ..Default::default() })
        .await
        .expect("create")
}

fn named(state: &str) -> IssueUpdate {
    IssueUpdate { rally_state: Some(state.into()), ..Default::default() }
}

#[tokio::test]
async fn a_story_moves_to_accepted_and_back_by_name() {
    let e = env().await;
    let t = e.tracker();
    let s = make(&t, "named story", ArtifactType::UserStory, None).await;
    let got = t.update_issue(&s.reference, named("Accepted")).await.unwrap();
    assert_eq!(raw(&e, "hierarchicalrequirement", &s.id).await["ScheduleState"], "Accepted");
    assert_eq!(got.rally_state.as_deref(), Some("Accepted"));
    // Case is Rally's, whatever the caller typed.
    t.update_issue(&s.reference, named("completed")).await.unwrap();
    assert_eq!(raw(&e, "hierarchicalrequirement", &s.id).await["ScheduleState"], "Completed");
    t.update_issue(&s.reference, named("Defined")).await.unwrap();
    assert_eq!(raw(&e, "hierarchicalrequirement", &s.id).await["ScheduleState"], "Defined");
}

#[tokio::test]
async fn an_unknown_state_is_refused_with_the_valid_names_before_any_write() {
    let e = env().await;
    let t = e.tracker();
    let s = make(&t, "refused story", ArtifactType::UserStory, None).await;
    let task = make(&t, "refused task", ArtifactType::Task, Some(s.reference.clone())).await;
    e.reset_stats().await;
    let err = t.update_issue(&s.reference, named("Shipped")).await.unwrap_err();
    assert_eq!(err.code(), "RALLY_INVALID_INPUT");
    let msg = err.to_string();
    assert!(msg.contains("rallyState") && msg.contains("Defined, In-Progress, Completed, Accepted"), "{msg}");
    // Tasks have no Accepted.
    let err = t.update_issue(&task.reference, named("Accepted")).await.unwrap_err();
    assert!(err.to_string().contains("Defined, In-Progress, Completed"), "{err}");
    let writes: u64 = e.routes().await.iter().filter(|(r, _)| r.starts_with("POST")).map(|(_, n)| n).sum();
    assert_eq!(writes, 0, "{:?}", e.routes().await);
    // With `state`, or empty: refused by name before any request.
    let both = IssueUpdate { state: Some(rally_core::IssueState::Closed), ..named("Accepted") };
    let err = t.update_issue(&s.reference, both).await.unwrap_err();
    assert!(err.to_string().contains("rallyState"), "{err}");
    assert!(t.update_issue(&s.reference, named(" ")).await.unwrap_err().to_string().contains("rallyState"));
}

#[tokio::test]
async fn tasks_features_and_closed_defects_by_their_own_state_fields() {
    let e = env().await;
    let t = e.tracker();
    let s = make(&t, "parent story", ArtifactType::UserStory, None).await;
    let task = make(&t, "a task", ArtifactType::Task, Some(s.reference.clone())).await;
    t.update_issue(&task.reference, named("Completed")).await.unwrap();
    assert_eq!(raw(&e, "task", &task.id).await["State"], "Completed");

    let f = make(&t, "a feature", ArtifactType::Feature, None).await;
    t.update_issue(&f.reference, named("Measuring")).await.unwrap();
    assert_eq!(state_name(&raw(&e, "portfolioitem/feature", &f.id).await["State"]).as_deref(), Some("Measuring"));

    let d = make(&t, "a defect", ArtifactType::Defect, None).await;
    t.update_issue(&d.reference, IssueUpdate { state: Some(rally_core::IssueState::Closed), ..Default::default() })
        .await
        .unwrap();
    // Closed by its State, as a defect can be in Rally.
    let closed = e
        .http
        .post(format!("{}/defect/{}", e.sim.base, d.id))
        .header("ZSESSIONID", &e.sim.api_key)
        .json(&serde_json::json!({ "Defect": { "State": "Closed" } }))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(closed["OperationResult"]["Errors"], serde_json::json!([]));
    t.update_issue(&d.reference, named("Accepted")).await.unwrap();
    let o = raw(&e, "defect", &d.id).await;
    assert_eq!((o["ScheduleState"].as_str(), o["State"].as_str()), (Some("Accepted"), Some("Closed")));
    t.update_issue(&d.reference, named("Defined")).await.unwrap();
    let o = raw(&e, "defect", &d.id).await;
    assert_eq!((o["ScheduleState"].as_str(), o["State"].as_str()), (Some("Defined"), Some("Open")));
}

#[tokio::test]
async fn custom_schedule_states_are_named_by_the_workspace_order() {
    let custom = ["Idea", "Defined", "In-Progress", "Completed", "Accepted", "Released"];
    let e = env_with(SimConfig {
        api_key: KEY.into(),
        seed: 11,
        schedule_states: Some(custom.iter().map(|s| s.to_string()).collect()),
        ..Default::default()
    })
    .await;
    let t = e.tracker();
    let s = make(&t, "custom story", ArtifactType::UserStory, None).await;
    let got = t.update_issue(&s.reference, named("Released")).await.unwrap();
    assert_eq!(raw(&e, "hierarchicalrequirement", &s.id).await["ScheduleState"], "Released");
    assert_eq!(got.state, rally_core::IssueState::Closed);
    let err = t.update_issue(&s.reference, named("Shipped")).await.unwrap_err();
    assert!(err.to_string().contains("Idea, Defined, In-Progress, Completed, Accepted, Released"), "{err}");
}

#[tokio::test]
async fn tags_are_added_and_removed_without_replacing_the_set() {
    let e = env().await;
    let t = e.tracker();
    let created = t
        .create_issue(NewIssue { title: "tagged".into(), labels: Some(vec!["keep".into()]), ..Default::default() })
        .await
        .unwrap();
    let add = IssueUpdate { add_labels: Some(vec!["planning".into(), "fresh-tag-18".into()]), ..Default::default() };
    e.reset_stats().await;
    let got = t.update_issue(&created.reference, add).await.unwrap();
    assert_eq!(raw_tags(&e, "hierarchicalrequirement", &created.id).await, ["fresh-tag-18", "keep", "planning"]);
    let mut labels = got.labels.clone();
    labels.sort();
    assert_eq!(labels, ["fresh-tag-18", "keep", "planning"]);
    // Through the collection, not by rewriting the item's Tags.
    let routes = e.routes().await;
    assert!(routes.iter().any(|(r, _)| r.to_ascii_lowercase().ends_with("/tags/add")), "{routes:?}");
    assert_eq!(e.count_named("tag", "fresh-tag-18").await, 1);

    let remove =
        IssueUpdate { remove_labels: Some(vec!["planning".into(), "never-made-18".into()]), ..Default::default() };
    t.update_issue(&created.reference, remove).await.unwrap();
    assert_eq!(raw_tags(&e, "hierarchicalrequirement", &created.id).await, ["fresh-tag-18", "keep"]);
    assert_eq!(e.count_named("tag", "never-made-18").await, 0, "removing a missing tag creates none");

    // Together with a named state, in one call.
    let both = IssueUpdate { remove_labels: Some(vec!["fresh-tag-18".into()]), ..named("In-Progress") };
    t.update_issue(&created.reference, both).await.unwrap();
    assert_eq!(raw_tags(&e, "hierarchicalrequirement", &created.id).await, ["keep"]);
    assert_eq!(raw(&e, "hierarchicalrequirement", &created.id).await["ScheduleState"], "In-Progress");

    let clash =
        IssueUpdate { labels: Some(vec!["x".into()]), add_labels: Some(vec!["y".into()]), ..Default::default() };
    let err = t.update_issue(&created.reference, clash).await.unwrap_err();
    assert_eq!(err.code(), "RALLY_INVALID_INPUT");
    assert!(err.to_string().contains("addLabels"), "{err}");
    let empty = IssueUpdate { remove_labels: Some(vec![" ".into()]), ..Default::default() };
    assert!(t.update_issue(&created.reference, empty).await.unwrap_err().to_string().contains("removeLabels[0]"));
}

#[tokio::test]
async fn issues_carry_their_project() {
    let e = env().await;
    let t = e.tracker();
    let s = make(&t, "project story", ArtifactType::UserStory, None).await;
    let got = t.get_issue(&s.reference).await.unwrap();
    let raw_project = e.raw_get(&format!("hierarchicalrequirement/{}?fetch=Project", s.id)).await;
    let want = raw_project["HierarchicalRequirement"]["Project"]["_refObjectName"].as_str().map(str::to_string);
    assert_eq!(got.project.as_deref(), Some(e.sim.project_ref.as_str()));
    assert_eq!(got.project_name, want);
    assert!(got.project_name.is_some());
}
