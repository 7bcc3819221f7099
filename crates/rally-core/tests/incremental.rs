//! Shared caches and incremental lists, over HTTP against the simulator, with request counts
//! taken at the simulator: a second tracker with one configuration lists like a warm one; an
//! unchanged, edited or deleted poll costs what changed; and after random edits, closes,
//! deletes, creates and project moves, an incremental list equals a full read.

mod common;

use common::{env_with, Env, KEY};
use rally_core::{IssueFilters, IssueUpdate};
use rally_core::{Tracker, TrackerConfig};
use rally_sim::SimConfig;
use serde_json::{json, Value};

const ORACLE_KEY: &str = "_oracleKey000002";

async fn sim() -> Env {
    env_with(SimConfig {
        api_key: KEY.into(),
        seed: 113,
        extra_keys: vec![(ORACLE_KEY.into(), "oracle@example.com".into())],
        ..Default::default()
    })
    .await
}

/// A tracker of another key: its own shared state, and it forgets its lists before each one,
/// so every list it makes is a full read.
fn oracle(cfg: &TrackerConfig) -> Tracker {
    Tracker::new(TrackerConfig { api_key: ORACLE_KEY.into(), logger: None, ..cfg.clone() }).expect("oracle")
}

async fn full(o: &Tracker, f: &IssueFilters) -> Vec<rally_core::Issue> {
    o.forget_lists();
    o.list_issues(f.clone()).await.expect("full read")
}

fn routes_of(v: &[(String, u64)], suffix: &str) -> u64 {
    v.iter().filter(|(r, _)| r.starts_with("GET ") && r.ends_with(suffix)).map(|(_, n)| n).sum()
}

async fn story_oids(e: &Env, project: Option<&str>) -> Vec<u64> {
    let scope = match project {
        Some(p) => format!("&project={p}&projectScopeDown=false"),
        None => "&project=null".into(),
    };
    let v = e
        .raw_get(&format!(
            "hierarchicalrequirement?fetch=ObjectID&pagesize=2000&order=ObjectID&workspace={}{scope}",
            e.sim.workspace_ref
        ))
        .await;
    v["QueryResult"]["Results"].as_array().expect("results").iter().filter_map(|r| r["ObjectID"].as_u64()).collect()
}

/// Whether any artifact links to story `oid` (as parent, work product or requirement).
async fn linked_to(e: &Env, oid: u64) -> bool {
    let r = format!("/hierarchicalrequirement/{oid}");
    for (ty, attr) in [("hierarchicalrequirement", "Parent"), ("task", "WorkProduct"), ("defect", "Requirement")] {
        let q = format!("{ty}?fetch=ObjectID&pagesize=1&query=({attr}%20%3D%20{r})&workspace={}", e.sim.workspace_ref);
        if e.raw_get(&q).await["QueryResult"]["TotalResultCount"].as_u64().expect("count") > 0 {
            return true;
        }
    }
    false
}

async fn raw_update(e: &Env, oid: u64, fields: Value) {
    let r = e
        .http
        .post(format!("{}/hierarchicalrequirement/{oid}", e.sim.base))
        .header("ZSESSIONID", &e.sim.api_key)
        .json(&json!({ "HierarchicalRequirement": fields }))
        .send()
        .await
        .expect("update");
    let v: Value = r.json().await.expect("update JSON");
    assert_eq!(v["OperationResult"]["Errors"], json!([]), "{v}");
}

async fn raw_delete(e: &Env, oid: u64) {
    let r = e
        .http
        .delete(format!("{}/hierarchicalrequirement/{oid}", e.sim.base))
        .header("ZSESSIONID", &e.sim.api_key)
        .send()
        .await
        .expect("delete");
    assert!(r.status().is_success());
}

#[tokio::test]
async fn a_second_tracker_with_one_config_lists_like_a_warm_one() {
    let e = sim().await;
    let mine = IssueFilters { assignee: Some("me".into()), include_closed: Some(true), ..Default::default() };
    let all = IssueFilters::default();
    let first = e.tracker();
    let cold_all = first.list_issues(all.clone()).await.unwrap();
    first.list_issues(mine.clone()).await.unwrap();
    e.reset_stats().await;
    let warm_all = first.list_issues(all.clone()).await.unwrap();
    let warm = e.routes().await;
    e.reset_stats().await;
    let second = e.tracker();
    let second_all = second.list_issues(all.clone()).await.unwrap();
    assert_eq!(e.routes().await, warm, "a new tracker with the same config lists like a warm one");
    // Nothing changed: one request per type queried (the default four), the versions only.
    assert_eq!(warm.iter().map(|(_, n)| n).sum::<u64>(), 4, "{warm:?}");
    assert_eq!(cold_all, warm_all);
    assert_eq!(second_all, warm_all);
    // The key owner and the Feature states are shared too: no lookup.
    e.reset_stats().await;
    drop((first, second));
    let third = e.tracker();
    third.list_issues(mine).await.unwrap();
    let r = e.routes().await;
    assert_eq!(routes_of(&r, "/user") + routes_of(&r, "/state"), 0, "{r:?}");
    assert_eq!(r.iter().map(|(_, n)| n).sum::<u64>(), 4, "{r:?}");
}

/// The simulator's request log since the last reset: (path, response bytes).
async fn requests(e: &Env) -> Vec<(String, u64)> {
    let log: Value = e.http.get(format!("{}/__sim/log", e.sim.url)).send().await.unwrap().json().await.unwrap();
    log["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["path"].as_str().unwrap().to_string(), r["bytes"].as_u64().unwrap_or(0)))
        .collect()
}

/// A poll's probe or count: the list's order, one item, ObjectID and date only.
fn is_probe(path: &str) -> bool {
    path.contains("fetch=ObjectID%2CLastUpdateDate&") && path.ends_with("&pagesize=1")
}

fn is_versions(path: &str) -> bool {
    path.contains("fetch=ObjectID%2CLastUpdateDate%2CParent")
}

#[tokio::test]
async fn a_poll_costs_what_changed() {
    let e = sim().await;
    let t = e.tracker();
    let o = oracle(&e.config());
    let f = IssueFilters::default();
    t.list_issues(f.clone()).await.unwrap();
    // Unchanged: one probe per type (the default four), nothing else.
    e.reset_stats().await;
    let got = t.list_issues(f.clone()).await.unwrap();
    assert_eq!(e.total().await, 4);
    let log = requests(&e).await;
    assert_eq!(log.len(), 4, "{log:?}");
    for (path, _) in &log {
        assert!(is_probe(path), "not a probe: {path}");
    }
    assert_eq!(got, full(&o, &f).await);
    // Ten stories edited: the probes, then for the stories the changed bodies and one count.
    let open: Vec<String> =
        got.iter().filter(|i| i.reference.starts_with("US")).take(10).map(|i| i.reference.clone()).collect();
    assert_eq!(open.len(), 10);
    for (n, id) in open.iter().enumerate() {
        let up = IssueUpdate { title: Some(format!("edited {n}")), ..Default::default() };
        t.update_issue(id, up).await.unwrap();
    }
    e.reset_stats().await;
    let got = t.list_issues(f.clone()).await.unwrap();
    let r = e.routes().await;
    assert_eq!(e.total().await, 6, "{r:?}");
    assert_eq!(routes_of(&r, "/hierarchicalrequirement"), 3, "{r:?}");
    let log = requests(&e).await;
    assert_eq!(log.iter().filter(|(p, _)| is_probe(p)).count(), 5, "{log:?}");
    assert!(!log.iter().any(|(p, _)| is_versions(p)), "no versions read: {log:?}");
    let bodies: Vec<_> = log.iter().filter(|(p, _)| !is_probe(p)).collect();
    assert_eq!(bodies.len(), 1, "{log:?}");
    assert!(bodies[0].0.contains("/hierarchicalrequirement?"), "{bodies:?}");
    assert_eq!(got, full(&o, &f).await);
    assert_eq!(got.iter().filter(|i| i.title.starts_with("edited ")).count(), 10);
    // One deleted: the probes, an empty changed read, then the stories' versions read.
    t.delete_issue(&open[3]).await.unwrap();
    e.reset_stats().await;
    let got = t.list_issues(f.clone()).await.unwrap();
    let log = requests(&e).await;
    assert_eq!(log.len(), 6, "{log:?}");
    assert_eq!(log.iter().filter(|(p, _)| is_versions(p)).count(), 1, "{log:?}");
    assert_eq!(got, full(&o, &f).await);
    assert!(!got.iter().any(|i| i.reference == open[3]));
}

/// The bytes of an unchanged poll do not grow with the list: a page of stories or more than one, the same.
#[tokio::test]
async fn an_unchanged_poll_costs_the_same_bytes_for_any_backlog() {
    let e = sim().await;
    let cfg = TrackerConfig { artifact_types: Some(vec![rally_core::ArtifactType::UserStory]), ..e.config() };
    let f = IssueFilters { include_closed: Some(true), ..Default::default() };
    let mut costs = Vec::new();
    for extra in [0, 2100] {
        e.bulk("hierarchicalrequirement", extra).await;
        let t = Tracker::new(cfg.clone()).unwrap();
        let listed = t.list_issues(f.clone()).await.unwrap().len();
        e.reset_stats().await;
        let again = Tracker::new(cfg.clone()).unwrap().list_issues(f.clone()).await.unwrap();
        assert_eq!(again.len(), listed);
        let log = requests(&e).await;
        assert_eq!(log.len(), 1, "one probe: {log:?}");
        assert!(is_probe(&log[0].0), "{log:?}");
        costs.push((listed, log[0].1));
    }
    assert!(costs[1].0 >= costs[0].0 + 2100, "{costs:?}");
    // The count's digits may differ; nothing else does.
    assert!(costs[1].1.abs_diff(costs[0].1) <= 8, "poll bytes grew with the list: {costs:?}");
}

/// Under a `limit`: a delete past the limit is settled by the count, edits that fill the limit by
/// the changed read alone, a delete within the limit by the versions read.
#[tokio::test]
async fn limited_polls_cost_what_changed() {
    let e = sim().await;
    let cfg = TrackerConfig { artifact_types: Some(vec![rally_core::ArtifactType::UserStory]), ..e.config() };
    let o = oracle(&cfg);
    let f = IssueFilters { include_closed: Some(true), limit: Some(5), ..Default::default() };
    let poll = || async { Tracker::new(cfg.clone()).unwrap().list_issues(f.clone()).await.unwrap() };
    let first = poll().await;
    assert_eq!(first.len(), 5);
    let shown: Vec<u64> = first.iter().map(|i| i.id.parse().unwrap()).collect();
    // The stories by date, oldest first: one past the limit that nothing links to.
    let v = e
        .raw_get(&format!(
            "hierarchicalrequirement?fetch=ObjectID&pagesize=2000&order=LastUpdateDate,ObjectID&workspace={}",
            e.sim.workspace_ref
        ))
        .await;
    let by_date: Vec<u64> =
        v["QueryResult"]["Results"].as_array().unwrap().iter().filter_map(|r| r["ObjectID"].as_u64()).collect();
    let mut past = None;
    for &oid in &by_date {
        if !shown.contains(&oid) && !linked_to(&e, oid).await {
            past = Some(oid);
            break;
        }
    }
    raw_delete(&e, past.expect("a story past the limit nothing links to")).await;
    e.reset_stats().await;
    let got = poll().await;
    let log = requests(&e).await;
    assert_eq!(log.len(), 3, "probe, changed read, count: {log:?}");
    assert!(!log.iter().any(|(p, _)| is_versions(p)), "{log:?}");
    assert_eq!(got, full(&o, &f).await);
    // Six edited: the newest five of them are the list.
    for &oid in by_date.iter().filter(|o| Some(**o) != past).take(6) {
        raw_update(&e, oid, json!({ "Name": format!("limit edit {oid}") })).await;
    }
    e.reset_stats().await;
    let got = poll().await;
    let log = requests(&e).await;
    assert_eq!(log.len(), 2, "probe, changed read: {log:?}");
    assert_eq!(got, full(&o, &f).await);
    assert!(got.iter().all(|i| i.title.starts_with("limit edit ")));
    // One of the five deleted (they were edited: nothing links to them any more than before).
    let gone: u64 = got[2].id.parse().unwrap();
    raw_delete(&e, gone).await;
    e.reset_stats().await;
    let got = poll().await;
    let log = requests(&e).await;
    assert_eq!(log.iter().filter(|(p, _)| is_versions(p)).count(), 1, "{log:?}");
    assert_eq!(log.len(), 5, "probe, changed read, count, versions, the body entering the limit: {log:?}");
    assert_eq!(got, full(&o, &f).await);
    assert!(!got.iter().any(|i| i.id == gone.to_string()));
}

/// The first difference between two lists, briefly.
fn diff(got: &[rally_core::Issue], want: &[rally_core::Issue]) -> String {
    let ids = |v: &[rally_core::Issue]| v.iter().map(|i| i.reference.clone()).collect::<Vec<_>>();
    if ids(got) != ids(want) {
        return format!("ids {:?} vs full read {:?}", ids(got), ids(want));
    }
    let (g, w) = got.iter().zip(want).find(|(g, w)| g != w).expect("a difference");
    format!("{g:?} vs full read {w:?}")
}

/// xorshift64: the property test's edits, seeded so a failure repeats.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[tokio::test]
async fn incremental_lists_equal_full_reads_after_random_changes() {
    let e = sim().await;
    let team = e.sim.child_project_refs[0].clone();
    let projects =
        [e.sim.project_ref.clone(), e.sim.child_project_refs[0].clone(), e.sim.child_project_refs[1].clone()];
    // A team-scoped tracker (moves take items out of its scope and into it) and a root one.
    let team_cfg = TrackerConfig { project: Some(team.clone()), ..e.config() };
    let root_cfg = e.config();
    let cases: Vec<(TrackerConfig, IssueFilters)> = vec![
        (team_cfg.clone(), IssueFilters::default()),
        (team_cfg.clone(), IssueFilters { include_closed: Some(true), ..Default::default() }),
        (root_cfg.clone(), IssueFilters { limit: Some(5), ..Default::default() }),
        (root_cfg.clone(), IssueFilters { state: Some(rally_core::IssueState::Closed), ..Default::default() }),
        (root_cfg.clone(), IssueFilters { include_closed: Some(true), limit: Some(40), ..Default::default() }),
    ];
    // The seed links stories to tasks and defects: those stay, the others may be deleted.
    let seeded = story_oids(&e, None).await;
    let mut linked = 0;
    for &oid in &seeded {
        linked += usize::from(linked_to(&e, oid).await);
    }
    assert!(linked > 0 && linked < seeded.len(), "{linked} of {} stories linked", seeded.len());
    let mut rng = Rng(0x5EED_0011);
    let mut incremental_polls = 0;
    for round in 0..12 {
        for (cfg, f) in &cases {
            let t = Tracker::new(cfg.clone()).unwrap();
            let o = oracle(cfg);
            e.reset_stats().await;
            let got = t.list_issues(f.clone()).await.unwrap();
            let asked = e.total().await;
            let want = full(&o, f).await;
            assert!(got == want, "round {round}, filters {f:?}: {}", diff(&got, &want));
            let log = requests(&e).await;
            let probes = log.iter().filter(|(p, _)| is_probe(p)).count();
            if round > 0 && probes > 0 {
                incremental_polls += 1;
            }
            assert!(asked <= 16, "round {round}: {asked} requests");
        }
        // Random changes between lists.
        let mut oids = story_oids(&e, None).await;
        for _ in 0..rng.below(6) {
            let oid = oids[rng.below(oids.len())];
            match rng.below(6) {
                0 => raw_update(&e, oid, json!({ "Name": format!("renamed {}", rng.next() % 1000) })).await,
                // A kept item holds its description's Markdown only: an edit must be read.
                4 => {
                    let html = format!("<div><b>Edited</b> {}</div><ul><li>one &amp; two</li></ul>", rng.next() % 1000);
                    raw_update(&e, oid, json!({ "Description": html })).await
                }
                1 => {
                    let state = ["Defined", "In-Progress", "Accepted"][rng.below(3)];
                    raw_update(&e, oid, json!({ "ScheduleState": state })).await
                }
                2 => raw_update(&e, oid, json!({ "Project": projects[rng.below(3)] })).await,
                // A story nothing links to (a probe cannot see a link cleared by a delete of
                // another item: docs/reliability.md, "Polls").
                3 if !linked_to(&e, oid).await => {
                    raw_delete(&e, oid).await;
                    oids.retain(|&o| o != oid);
                }
                3 => raw_update(&e, oid, json!({ "ScheduleState": "Completed" })).await,
                _ => e.bulk("hierarchicalrequirement", 1 + rng.below(2)).await,
            }
        }
        // Edits to the team's newest items, which every list holds.
        if round % 3 == 1 {
            if let Some(&oid) = story_oids(&e, Some(&team)).await.last() {
                raw_update(&e, oid, json!({ "Project": projects[0] })).await;
            }
        }
    }
    assert!(incremental_polls >= 50, "most polls were incremental ({incremental_polls} of 55)");
}

/// Trackers of one configuration polling one kept list at once, after its descriptions were
/// edited: each kept item is normalised by several lists at a time while each list keeps the
/// answer (and lets go of converted HTML). Every answer equals a full read.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_polls_of_one_kept_list_equal_a_full_read() {
    let e = sim().await;
    let cfg = TrackerConfig { artifact_types: Some(vec![rally_core::ArtifactType::UserStory]), ..e.config() };
    let f = IssueFilters { include_closed: Some(true), ..Default::default() };
    Tracker::new(cfg.clone()).unwrap().list_issues(f.clone()).await.unwrap();
    let oids = story_oids(&e, None).await;
    for (n, oid) in oids.iter().step_by(5).enumerate() {
        let html = format!("<div><b>Edited {n}</b> while kept</div><ol><li>one</li><li>two</li></ol>");
        raw_update(&e, *oid, json!({ "Description": html })).await;
    }
    for _ in 0..3 {
        // One task each, on four threads: the lists run in parallel, not interleaved.
        let tasks: Vec<_> = (0..6)
            .map(|_| {
                let (cfg, f) = (cfg.clone(), f.clone());
                tokio::spawn(async move { Tracker::new(cfg).unwrap().list_issues(f).await })
            })
            .collect();
        let mut lists = Vec::new();
        for t in tasks {
            lists.push(t.await.expect("no panic").expect("list"));
        }
        let want = full(&oracle(&cfg), &f).await;
        assert!(want.iter().any(|i| i.description.contains("**Edited 0** while kept")));
        // And each description is the conversion of the HTML stored now (read here, not
        // through the code under test, whose full read shares any misreading).
        let html = e.stored_html().await;
        for got in lists {
            assert!(got == want, "{}", diff(&got, &want));
            for i in &got {
                let stored = html.get(&i.id).map(String::as_str).unwrap_or("");
                assert_eq!(i.description, rally_core::html_to_markdown(stored), "{}", i.reference);
            }
        }
    }
}

#[tokio::test]
async fn the_first_list_reads_the_feature_states_alongside_the_queries() {
    let e = env_with(SimConfig {
        api_key: KEY.into(),
        seed: 113,
        latency_ms: 60,
        extra_keys: vec![(ORACLE_KEY.into(), "oracle@example.com".into())],
        ..Default::default()
    })
    .await;
    let o = oracle(&e.config());
    for f in [
        IssueFilters::default(),
        IssueFilters { state: Some(rally_core::IssueState::Closed), ..Default::default() },
        IssueFilters { state: Some(rally_core::IssueState::InProgress), limit: Some(2), ..Default::default() },
    ] {
        // A scope of its own each time, so each list is a process's first.
        let cfg = match (f.state, f.limit) {
            (None, _) => e.config(),
            (_, None) => TrackerConfig { project_scope_up: Some(true), ..e.config() },
            (_, Some(_)) => TrackerConfig { project: Some(e.sim.child_project_refs[0].clone()), ..e.config() },
        };
        e.reset_stats().await;
        let got = Tracker::new(cfg.clone()).unwrap().list_issues(f.clone()).await.unwrap();
        let log: Value = e.http.get(format!("{}/__sim/log", e.sim.url)).send().await.unwrap().json().await.unwrap();
        let reqs = log["requests"].as_array().unwrap();
        let find = |p: &str| reqs.iter().find(|r| r["path"].as_str().unwrap().contains(p)).expect(p).clone();
        let (state, feature) = (find("/state?"), find("/portfolioitem/feature?"));
        let end = |r: &Value| r["startedMs"].as_f64().unwrap() + r["durationMs"].as_f64().unwrap();
        assert!(
            feature["startedMs"].as_f64().unwrap() < end(&state) - 30.0,
            "the feature query waited for the state lookup: {state} {feature}"
        );
        assert_eq!(reqs.len(), 5, "{reqs:?}");
        let want = full(&oracle(&cfg), &f).await;
        assert!(got == want, "{f:?}: {}", diff(&got, &want));
        let features = got.iter().filter(|i| i.artifact_type == rally_core::ArtifactType::Feature).count();
        assert!(features > 0 || f.limit.is_some(), "{f:?}: no feature");
    }
    drop(o);
}

#[tokio::test]
async fn a_cold_create_runs_its_lookups_at_once() {
    let e = env_with(SimConfig { api_key: KEY.into(), seed: 113, latency_ms: 60, ..Default::default() }).await;
    let t = e.tracker();
    let who = e.sim.owner_user_name.clone();
    let issue = t
        .create_issue(rally_core::NewIssue {
            title: "cold create".into(),
            team: Some("Checkout Team".into()),
            assignee: Some(who),
            labels: Some(vec!["backend".into(), "brand-new-label".into()]),
            parent: Some("F1".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(issue.labels, vec!["backend".to_string(), "brand-new-label".to_string()]);
    assert_eq!(issue.parent_ref.as_deref(), Some("F1"));
    let log: Value = e.http.get(format!("{}/__sim/log", e.sim.url)).send().await.unwrap().json().await.unwrap();
    let reqs = log["requests"].as_array().unwrap();
    let find = |p: &str| {
        reqs.iter().find(|r| r["method"] == "GET" && r["path"].as_str().unwrap().contains(p)).expect(p).clone()
    };
    let lookups = [find("/project?"), find("/users?"), find("/tag?"), find("/portfolioitem/feature?")];
    let first_end = lookups
        .iter()
        .map(|r| r["startedMs"].as_f64().unwrap() + r["durationMs"].as_f64().unwrap())
        .fold(f64::MAX, f64::min);
    for r in &lookups {
        assert!(r["startedMs"].as_f64().unwrap() < first_end - 30.0, "a lookup waited for another: {reqs:?}");
    }
    // Then the missing tag is created and the issue posted.
    assert_eq!(reqs.iter().filter(|r| r["method"] == "POST").count(), 2, "{reqs:?}");
}
