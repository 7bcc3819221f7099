//! Custom state orders against a simulator whose workspace has them: ScheduleState values
//! before `Defined` and after `Accepted`, and the Feature states by `OrderIndex`. The orders
//! are discovered once per tracker, only when needed, with the requests counted at the
//! simulator; a failed discovery falls back to the defaults without failing the read.

mod common;

use common::{env_with, Env, KEY};
use rally_core::{ArtifactType, IssueFilters, IssueState, IssueUpdate, NewIssue, Tracker, TrackerConfig};
use rally_sim::SimConfig;
use serde_json::{json, Value};

const CUSTOM: [&str; 6] = ["Idea", "Defined", "In-Progress", "Completed", "Accepted", "Released"];

async fn custom_env() -> Env {
    env_with(SimConfig {
        api_key: KEY.into(),
        seed: 11,
        schedule_states: Some(CUSTOM.iter().map(|s| s.to_string()).collect()),
        ..Default::default()
    })
    .await
}

/// Requests whose route ends with `tail` (case-insensitive), as counted by the simulator.
async fn count(e: &Env, tail: &str) -> u64 {
    let tail = tail.to_ascii_lowercase();
    e.routes().await.iter().filter(|(r, _)| r.to_ascii_lowercase().ends_with(&tail)).map(|(_, n)| n).sum()
}

/// The three requests of a ScheduleState discovery each hit one of these routes.
async fn schedule_discovery(e: &Env) -> u64 {
    count(e, "/typedefinition").await + count(e, "/attributes").await + count(e, "/allowedvalues").await
}

/// A raw WSAPI update, straight to the simulator (sets states the tracker never writes).
async fn raw_update(e: &Env, type_path: &str, oid: &str, fields: Value) {
    let type_name = if type_path == "hierarchicalrequirement" { "HierarchicalRequirement" } else { "Feature" };
    let v: Value = e
        .http
        .post(format!("{}/{type_path}/{oid}", e.sim.base))
        .header("ZSESSIONID", &e.sim.api_key)
        .json(&json!({ type_name: fields }))
        .send()
        .await
        .expect("raw update")
        .json()
        .await
        .expect("raw update JSON");
    assert_eq!(v["OperationResult"]["Errors"], json!([]), "{v}");
}

async fn story_in(e: &Env, t: &Tracker, title: &str, schedule_state: &str) -> rally_core::Issue {
    let created = t.create_issue(NewIssue { title: title.into(), ..Default::default() }).await.unwrap();
    raw_update(e, "hierarchicalrequirement", &created.id, json!({ "ScheduleState": schedule_state })).await;
    created
}

#[tokio::test]
async fn custom_schedule_states_read_by_the_workspace_order_discovered_once() {
    let e = custom_env().await;
    let setup = e.tracker();
    let idea = story_in(&e, &setup, "An idea", "Idea").await;
    let released = story_in(&e, &setup, "Shipped long ago", "Released").await;
    let defined = story_in(&e, &setup, "Plain story", "Defined").await;

    // Standard values need no discovery at all.
    let t = e.tracker();
    e.reset_stats().await;
    let got = t.get_issue(&defined.reference).await.unwrap();
    assert_eq!(got.state, IssueState::Open);
    assert_eq!(e.total().await, 1, "{:?}", e.routes().await);

    // The first custom value costs the three discovery requests, once.
    e.reset_stats().await;
    let got = t.get_issue(&idea.reference).await.unwrap();
    assert_eq!((got.state, got.rally_state.as_deref()), (IssueState::Open, Some("Idea")));
    assert_eq!(schedule_discovery(&e).await, 3, "{:?}", e.routes().await);
    assert_eq!(e.total().await, 4, "{:?}", e.routes().await);
    e.reset_stats().await;
    let got = t.get_issue(&released.reference).await.unwrap();
    assert_eq!((got.state, got.rally_state.as_deref()), (IssueState::Closed, Some("Released")));
    assert_eq!(e.total().await, 1, "{:?}", e.routes().await);

    // Lists: the filters use Rally's value order; reading uses the discovered one.
    let stories = || TrackerConfig { artifact_types: Some(vec![ArtifactType::UserStory]), ..e.config() };
    let t = Tracker::new_unshared(stories()).unwrap();
    e.reset_stats().await;
    let refs = |list: &[rally_core::Issue]| list.iter().map(|i| i.reference.clone()).collect::<Vec<_>>();
    let open = t.list_issues(IssueFilters { state: Some(IssueState::Open), ..Default::default() }).await.unwrap();
    assert!(refs(&open).contains(&idea.reference), "{:?}", refs(&open));
    assert!(!refs(&open).contains(&released.reference));
    assert!(open.iter().all(|i| i.state == IssueState::Open));
    let default = t.list_issues(IssueFilters::default()).await.unwrap();
    assert!(refs(&default).contains(&idea.reference) && !refs(&default).contains(&released.reference));
    let closed = t.list_issues(IssueFilters { state: Some(IssueState::Closed), ..Default::default() }).await.unwrap();
    assert!(refs(&closed).contains(&released.reference), "{:?}", refs(&closed));
    assert!(closed.iter().all(|i| i.state == IssueState::Closed));
    let all = t.list_issues(IssueFilters { include_closed: Some(true), ..Default::default() }).await.unwrap();
    for i in &all {
        let expected = match i.rally_state.as_deref() {
            Some("Idea" | "Defined") => IssueState::Open,
            Some("In-Progress") => IssueState::InProgress,
            _ => IssueState::Closed,
        };
        assert_eq!(i.state, expected, "{} {:?}", i.reference, i.rally_state);
    }
    assert_eq!(schedule_discovery(&e).await, 3, "four lists, one discovery: {:?}", e.routes().await);
    assert_eq!(e.total().await, 4 + 3);

    // Writes decide "already there" by the same order: a Released story is closed already.
    e.reset_stats().await;
    t.transition_issue(&released.reference, IssueState::Closed).await.unwrap();
    assert!(e.routes().await.iter().all(|(r, _)| !r.starts_with("POST")), "{:?}", e.routes().await);
    t.transition_issue(&idea.reference, IssueState::InProgress).await.unwrap();
    let v = e.raw_get(&format!("hierarchicalrequirement/{}?fetch=ScheduleState", idea.id)).await;
    assert_eq!(v["HierarchicalRequirement"]["ScheduleState"], "In-Progress", "{v}");

    // Concurrent first reads share one discovery.
    let t = e.cold_tracker();
    e.reset_stats().await;
    let reads = (0..12).map(|_| t.get_issue(&idea.reference));
    for r in futures_util::future::join_all(reads).await {
        assert_eq!(r.unwrap().state, IssueState::InProgress);
    }
    let reads = (0..12).map(|_| t.get_issue(&released.reference));
    for r in futures_util::future::join_all(reads).await {
        assert_eq!(r.unwrap().state, IssueState::Closed);
    }
    assert_eq!(schedule_discovery(&e).await, 3, "{:?}", e.routes().await);
    assert_eq!(e.total().await, 24 + 3);
}

/// Rally gives built-in attribute definitions negative ObjectIDs
/// (`/attributedefinition/-12345`); the discovery must read them (issue 10, item 12).
#[tokio::test]
async fn schedule_state_discovery_reads_negative_attribute_object_ids() {
    let e = custom_env().await;
    let released = story_in(&e, &e.tracker(), "Shipped", "Released").await;
    // The simulator answers as Rally does: the built-in ScheduleState attribute is negative.
    let td = e.raw_get("typedefinition?query=(TypePath%20%3D%20%22HierarchicalRequirement%22)&fetch=ObjectID").await;
    let td_oid = td["QueryResult"]["Results"][0]["ObjectID"].as_i64().expect("typedef oid");
    let attrs =
        e.raw_get(&format!("typedefinition/{td_oid}/Attributes?fetch=ObjectID,ElementName&pagesize=2000")).await;
    let schedule = attrs["QueryResult"]["Results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["ElementName"] == "ScheduleState")
        .cloned()
        .expect("ScheduleState attribute");
    let attr_oid = schedule["ObjectID"].as_i64().unwrap();
    assert!(attr_oid < 0, "built-in attribute with a positive ObjectID: {schedule}");
    assert!(schedule["_ref"].as_str().unwrap().ends_with(&format!("/attributedefinition/{attr_oid}")), "{schedule}");

    let t = e.tracker();
    let got = t.get_issue(&released.reference).await.unwrap();
    assert_eq!((got.state, got.rally_state.as_deref()), (IssueState::Closed, Some("Released")));
    let warnings = e.warnings();
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[tokio::test]
async fn failed_schedule_state_discovery_falls_back_to_the_defaults() {
    let e = custom_env().await;
    let released = story_in(&e, &e.tracker(), "Shipped", "Released").await;

    // Rally answers with Errors: the answer will not change, so the fallback is kept.
    let t = e.tracker();
    e.faults("errors@GET /slm/webservice/v2.0/typedefinition*").await;
    e.reset_stats().await;
    let got = t.get_issue(&released.reference).await.unwrap();
    // The order is unknown, so Rally's own comparisons place the value (the ones the state
    // filters send): Released is after Completed, so closed, as `state: 'closed'` finds it.
    assert_eq!((got.state, got.rally_state.as_deref()), (IssueState::Closed, Some("Released")));
    assert_eq!(e.total().await, 1 + 1 + 2, "read, lookup, two comparisons: {:?}", e.routes().await);
    let warned = |logs: &[rally_core::LogEvent]| {
        logs.iter().filter(|l| l.level == "warn" && l.message.contains("ScheduleState values")).count()
    };
    assert_eq!(warned(&e.logs.lock().unwrap()), 1);
    t.get_issue(&released.reference).await.unwrap();
    assert_eq!(count(&e, "/typedefinition").await, 1, "{:?}", e.routes().await);
    assert_eq!(warned(&e.logs.lock().unwrap()), 1);

    // A transient failure is not kept: once Rally is back, the next read discovers.
    let t = Tracker::new(TrackerConfig { max_retries: Some(0), ..e.config() }).unwrap();
    e.faults("503@GET /slm/webservice/v2.0/typedefinition*").await;
    assert_eq!(t.get_issue(&released.reference).await.unwrap().state, IssueState::Closed);
    e.clear_faults().await;
    assert_eq!(t.get_issue(&released.reference).await.unwrap().state, IssueState::Closed);
}

/// Issue 10, item 8: with the ScheduleState lookup failing, `state: 'closed'` returned items
/// labelled `open` (`rallyState` `Released`). Every state filter must return exactly the items
/// labelled with that state, and every item exactly one of them.
#[tokio::test]
async fn filter_and_label_agree_when_the_order_lookup_fails() {
    let e = custom_env().await;
    let setup = e.tracker();
    let idea = story_in(&e, &setup, "An idea", "Idea").await;
    let released = story_in(&e, &setup, "Shipped", "Released").await;
    for fault in ["errors", "html", "503"] {
        e.faults(&format!("{fault}@GET /slm/webservice/v2.0/typedefinition*")).await;
        let t = Tracker::new(TrackerConfig {
            artifact_types: Some(vec![ArtifactType::UserStory, ArtifactType::Defect]),
            max_retries: Some(0),
            ..e.config()
        })
        .unwrap();
        let mut by_filter: Vec<(String, IssueState)> = Vec::new();
        for s in [IssueState::Open, IssueState::InProgress, IssueState::Closed] {
            let list = t.list_issues(IssueFilters { state: Some(s), ..Default::default() }).await.unwrap();
            for i in &list {
                assert_eq!(
                    i.state, s,
                    "{fault}: filter {s:?} returned {} labelled {:?} ({:?})",
                    i.reference, i.state, i.rally_state
                );
                by_filter.push((i.reference.clone(), s));
            }
        }
        let all = t.list_issues(IssueFilters { include_closed: Some(true), ..Default::default() }).await.unwrap();
        let mut labels: Vec<(String, IssueState)> = all.iter().map(|i| (i.reference.clone(), i.state)).collect();
        labels.sort_by(|a, b| a.0.cmp(&b.0));
        by_filter.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(labels, by_filter, "{fault}: every item in exactly the filter of its label");
        let open = t.list_issues(IssueFilters::default()).await.unwrap();
        assert!(open.iter().all(|i| i.state != IssueState::Closed), "{fault}");
        assert!(open.iter().any(|i| i.reference == idea.reference), "{fault}");
        assert_eq!(t.get_issue(&released.reference).await.unwrap().state, IssueState::Closed, "{fault}");
        assert_eq!(t.get_issue(&idea.reference).await.unwrap().state, IssueState::Open, "{fault}");
        e.clear_faults().await;
    }
}

#[tokio::test]
async fn feature_states_read_and_written_by_the_type_order_looked_up_once() {
    let e = custom_env().await;
    let states = e.raw_get("state?query=(TypeDef.Name%20%3D%20%22Feature%22)&fetch=Name&order=OrderIndex").await;
    let measuring = states["QueryResult"]["Results"]
        .as_array()
        .and_then(|r| r.iter().find(|s| s["Name"] == "Measuring"))
        .and_then(|s| s["_ref"].as_str())
        .expect("Measuring state")
        .to_string();
    let t = e.tracker();
    e.reset_stats().await;
    let f = t
        .create_issue(NewIssue {
            title: "Gift cards".into(),
            artifact_type: Some(ArtifactType::Feature),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!((f.state, f.rally_state.as_deref()), (IssueState::Open, None));
    let state_name = |v: &Value| v["Feature"]["State"]["Name"].as_str().map(str::to_string);
    let stored = || async {
        let v = e.raw_get(&format!("portfolioitem/feature/{}?fetch=State,Name", f.id)).await;
        state_name(&v)
    };
    // The seeded order: Discovering, Developing, Measuring, Done → first / second / last.
    for (target, name) in
        [(IssueState::InProgress, "Developing"), (IssueState::Closed, "Done"), (IssueState::Open, "Discovering")]
    {
        t.transition_issue(&f.reference, target).await.unwrap();
        assert_eq!(stored().await.as_deref(), Some(name), "{target:?}");
        assert_eq!(t.get_issue(&f.reference).await.unwrap().state, target);
    }
    let updated = t.update_issue(&f.reference, IssueUpdate { state: Some(IssueState::Closed), ..Default::default() });
    assert_eq!(updated.await.unwrap().rally_state.as_deref(), Some("Done"));
    // A state in the middle of the order, set outside the tracker, reads in_progress.
    raw_update(&e, "portfolioitem/feature", &f.id, json!({ "State": measuring })).await;
    let got = t.get_issue(&f.reference).await.unwrap();
    assert_eq!((got.state, got.rally_state.as_deref()), (IssueState::InProgress, Some("Measuring")));
    let listed =
        t.list_issues(IssueFilters { state: Some(IssueState::InProgress), ..Default::default() }).await.unwrap();
    assert!(listed.iter().any(|i| i.reference == f.reference));
    assert_eq!(count(&e, "/state").await, 1, "one lookup for reads, writes and filters: {:?}", e.routes().await);

    // No state order at all: reads fall back to the defaults, a write says why it cannot.
    let t = e.cold_tracker();
    e.faults("errors@GET /slm/webservice/v2.0/state*").await;
    assert_eq!(t.get_issue(&f.reference).await.unwrap().state, IssueState::InProgress);
    let err = t.transition_issue(&f.reference, IssueState::Closed).await.unwrap_err();
    assert_eq!(err.code(), "RALLY_REJECTED", "{err}");
    assert!(err.to_string().contains("Feature states"), "{err}");
}
