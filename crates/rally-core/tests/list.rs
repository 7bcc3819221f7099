//! listIssues: every filter pushed into WSAPI, ordering, paging past 2000, the maxResults cap
//! and the concurrency cap, checked at the simulator.

mod common;

use common::{env, env_with, KEY};
use rally_core::{ArtifactType, Issue, IssueFilters, IssueState, NewIssue, Tracker, TrackerConfig};
use rally_sim::SimConfig;

fn all_states() -> IssueFilters {
    IssueFilters { include_closed: Some(true), ..Default::default() }
}

fn assert_newest_first(list: &[Issue]) {
    for w in list.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        let ok = a.updated_at > b.updated_at
            || (a.updated_at == b.updated_at && a.id.parse::<u64>().unwrap() < b.id.parse::<u64>().unwrap());
        assert!(ok, "out of order: {} {} / {} {}", a.reference, a.updated_at, b.reference, b.updated_at);
    }
}

#[tokio::test]
async fn default_list_is_open_items_of_all_types_newest_first_one_query_per_type() {
    let e = env().await;
    let t = e.tracker();
    e.reset_stats().await;
    let open = t.list_issues(IssueFilters::default()).await.unwrap();
    // One query per type, plus the Feature state order the feature filter names (once per
    // tracker): a second list costs the four queries alone.
    let routes = e.routes().await;
    assert_eq!(e.total().await, 5, "{routes:?}");
    assert!(routes.contains(&("GET /slm/webservice/v2.0/state".to_string(), 1)), "{routes:?}");
    e.reset_stats().await;
    assert_eq!(t.list_issues(IssueFilters::default()).await.unwrap(), open);
    assert_eq!(e.total().await, 4, "{:?}", e.routes().await);
    assert!(!open.is_empty());
    assert!(open.iter().all(|i| i.state != IssueState::Closed), "closed item in default list");
    assert_newest_first(&open);
    let all = t.list_issues(all_states()).await.unwrap();
    assert_newest_first(&all);
    assert!(all.len() > open.len(), "seed data has no closed items");
    for ty in ArtifactType::ALL {
        assert!(all.iter().any(|i| i.artifact_type == ty), "no {ty:?}");
    }
    // Explicit state wins over includeClosed.
    for s in IssueState::ALL {
        let got = t
            .list_issues(IssueFilters { state: Some(s), include_closed: Some(false), ..Default::default() })
            .await
            .unwrap();
        let want: Vec<&Issue> = all.iter().filter(|i| i.state == s).collect();
        assert_eq!(got.iter().collect::<Vec<_>>(), want, "state {s:?}");
    }
    // limit keeps the newest.
    let three =
        t.list_issues(IssueFilters { limit: Some(3), include_closed: Some(true), ..Default::default() }).await.unwrap();
    assert_eq!(three, all[..3].to_vec());
    let err = t.list_issues(IssueFilters { limit: Some(0), ..Default::default() }).await.unwrap_err();
    assert_eq!(err.code(), "RALLY_INVALID_INPUT");
}

#[tokio::test]
async fn artifact_types_option_limits_the_queries() {
    let e = env().await;
    let t = Tracker::new(TrackerConfig { artifact_types: Some(vec![ArtifactType::Defect]), ..e.config() }).unwrap();
    e.reset_stats().await;
    let list = t.list_issues(all_states()).await.unwrap();
    assert_eq!(e.total().await, 1);
    assert!(!list.is_empty() && list.iter().all(|i| i.artifact_type == ArtifactType::Defect));
}

#[tokio::test]
async fn labels_assignee_team_and_text_filters() {
    let e = env().await;
    let t = e.tracker();
    let mk = |title: &str, labels: &[&str], assignee: Option<&str>| NewIssue {
        title: title.into(),
        labels: Some(labels.iter().map(|s| s.to_string()).collect()),
        assignee: assignee.map(str::to_string),
        ..Default::default()
    };
    let ab = t.create_issue(mk("filter ab \"quoted\" word", &["flt-a", "flt-b"], Some("me"))).await.unwrap();
    let a = t.create_issue(mk("filter a", &["flt-a"], None)).await.unwrap();

    let got = t.list_issues(IssueFilters { labels: Some(vec!["flt-a".into()]), ..Default::default() }).await.unwrap();
    let mut refs: Vec<&str> = got.iter().map(|i| i.reference.as_str()).collect();
    refs.sort();
    let mut want = vec![ab.reference.as_str(), a.reference.as_str()];
    want.sort();
    assert_eq!(refs, want);
    let got = t
        .list_issues(IssueFilters { labels: Some(vec!["flt-a".into(), "flt-b".into()]), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(got.iter().map(|i| &i.reference).collect::<Vec<_>>(), vec![&ab.reference]);

    let mine = t.list_issues(IssueFilters { assignee: Some("me".into()), ..all_states() }).await.unwrap();
    assert!(mine.iter().any(|i| i.reference == ab.reference));
    assert!(mine.iter().all(|i| i.assignee == ab.assignee), "assignee filter leaked other owners");
    let by_name =
        t.list_issues(IssueFilters { assignee: Some(e.sim.owner_user_name.clone()), ..all_states() }).await.unwrap();
    assert_eq!(by_name, mine);
    let err = t
        .list_issues(IssueFilters { assignee: Some("no-such-person".into()), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!((err.code(), err.details()["argument"].as_str()), ("RALLY_INVALID_INPUT", Some("assignee")));

    let found =
        t.list_issues(IssueFilters { query: Some("\"quoted\" word".into()), ..Default::default() }).await.unwrap();
    assert_eq!(found.iter().map(|i| &i.reference).collect::<Vec<_>>(), vec![&ab.reference]);

    // team: a child project, by ref and by name; the root project's items stay out.
    let child = e.sim.child_project_refs[0].clone();
    let in_child = t
        .create_issue(NewIssue { title: "child item".into(), team: Some(child.clone()), ..Default::default() })
        .await
        .unwrap();
    let by_ref = t.list_issues(IssueFilters { team: Some(child.clone()), ..all_states() }).await.unwrap();
    assert!(by_ref.iter().any(|i| i.reference == in_child.reference));
    assert!(!by_ref.iter().any(|i| i.reference == ab.reference));
    let oid = child.rsplit('/').next().unwrap().to_string();
    assert_eq!(t.list_issues(IssueFilters { team: Some(oid), ..all_states() }).await.unwrap(), by_ref);
    let by_name = t.list_issues(IssueFilters { team: Some("Checkout Team".into()), ..all_states() }).await;
    let by_search = t.list_issues(IssueFilters { team: Some("Search Team".into()), ..all_states() }).await;
    let (by_name, by_search) = (by_name.unwrap(), by_search.unwrap());
    assert!(by_name == by_ref || by_search == by_ref, "team by name matches neither child project");
    let err =
        t.list_issues(IssueFilters { team: Some("No Such Team".into()), ..Default::default() }).await.unwrap_err();
    assert_eq!(err.details()["argument"], "team");
}

#[tokio::test]
async fn pages_past_2000_in_order_within_the_cap() {
    let e = env().await;
    let t = Tracker::new(TrackerConfig { max_concurrency: Some(3), ..e.config() }).unwrap();
    let before = t.list_issues(all_states()).await.unwrap();
    let stories_before = before.iter().filter(|i| i.artifact_type == ArtifactType::UserStory).count();
    e.bulk("hierarchicalrequirement", 4500).await;
    // A full read (a repeated list is incremental: tests/incremental.rs).
    t.forget_lists();
    e.reset_stats().await;
    let all = t.list_issues(all_states()).await.unwrap();
    assert_eq!(all.len(), before.len() + 4500);
    assert_newest_first(&all);
    let mut ids: Vec<&str> = all.iter().map(|i| i.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), all.len(), "duplicates across pages");
    // Keyset pages, then one catch-up query for what was edited meanwhile (snapshot.rs).
    let pages = (stories_before + 4500).div_ceil(2000) as u64;
    let stats = e.stats().await;
    assert_eq!(
        stats["byRoute"]["GET /slm/webservice/v2.0/hierarchicalrequirement"].as_u64(),
        Some(pages + 1),
        "{stats}"
    );
    assert_eq!(stats["total"].as_u64(), Some(pages + 1 + 3));
    assert!(stats["maxInFlight"].as_u64().unwrap() <= 3, "{stats}");

    // maxResults cuts an unlimited list and says so.
    let capped = Tracker::new(TrackerConfig { max_results: Some(2500), ..e.config() }).unwrap();
    let cut = capped.list_issues(all_states()).await.unwrap();
    assert_eq!(cut, all[..2500].to_vec());
    assert!(e.logs.lock().unwrap().iter().any(|l| l.level == "warn" && l.message.contains("maxResults")));
    // An explicit limit is honoured exactly.
    let some = t.list_issues(IssueFilters { limit: Some(2100), ..all_states() }).await.unwrap();
    assert_eq!(some, all[..2100].to_vec());
}

#[tokio::test]
async fn never_more_than_max_concurrency_in_flight() {
    let e = env_with(SimConfig { api_key: KEY.into(), seed: 113, latency_ms: 15, ..Default::default() }).await;
    let t = std::sync::Arc::new(Tracker::new(TrackerConfig { max_concurrency: Some(4), ..e.config() }).unwrap());
    let list = t.list_issues(IssueFilters { limit: Some(10), ..Default::default() }).await.unwrap();
    e.reset_stats().await;
    let calls = (0..120).map(|i| {
        let t = t.clone();
        let id = list[i % list.len()].reference.clone();
        tokio::spawn(async move { t.get_issue(&id).await })
    });
    for r in futures_util::future::join_all(calls).await {
        r.unwrap().unwrap();
    }
    let stats = e.stats().await;
    assert_eq!(stats["total"].as_u64(), Some(120));
    let peak = stats["maxInFlight"].as_u64().unwrap();
    assert!((2..=4).contains(&peak), "maxInFlight {peak}");
}

/// All stories in the configured scope as ObjectIDs, read straight from the simulator (two
/// keyset-free pages of a quiet simulator: nothing changes while they are read).
async fn story_ids(e: &common::Env) -> std::collections::BTreeSet<u64> {
    let mut out = std::collections::BTreeSet::new();
    for start in (1..).step_by(2000) {
        let v = e
            .raw_get(&format!(
                "hierarchicalrequirement?fetch=ObjectID&order=ObjectID&pagesize=2000&start={start}&workspace={}&project={}&projectScopeDown=true",
                e.sim.workspace_ref, e.sim.project_ref
            ))
            .await;
        let q = &v["QueryResult"];
        assert_eq!(q["Errors"], serde_json::json!([]), "{v}");
        out.extend(q["Results"].as_array().unwrap().iter().map(|r| r["ObjectID"].as_u64().unwrap()));
        if start + 2000 > q["TotalResultCount"].as_u64().unwrap() as usize {
            return out;
        }
    }
    out
}

async fn churn(e: &common::Env, method: reqwest::Method, query: &str) -> serde_json::Value {
    let r = e.http.request(method, format!("{}/__sim/churn{query}", e.sim.url)).send().await.expect("churn");
    assert!(r.status().is_success());
    r.json().await.expect("churn JSON")
}

/// Issue 10, item 3: items edited while a list pages moved into a page already read and went
/// missing (6 of 9,000). With the simulator editing the oldest stories (they jump to the top),
/// deleting the newest (everything after them moves up) and creating new ones after every
/// page it serves, each story that existed before the list and still exists after it must be
/// returned exactly once.
#[tokio::test]
async fn lists_are_consistent_snapshots_under_concurrent_edits_creates_and_deletes() {
    let e = env_with(SimConfig { api_key: KEY.into(), seed: 113, extra_stories: 9000, ..Default::default() }).await;
    let t = Tracker::new(TrackerConfig { artifact_types: Some(vec![ArtifactType::UserStory]), ..e.config() }).unwrap();
    for (round, query) in
        ["?edit=7&delete=3&create=2", "?edit=40&delete=0&create=0", "?edit=0&delete=25&create=5"].iter().enumerate()
    {
        let before = story_ids(&e).await;
        churn(&e, reqwest::Method::POST, &format!("{query}&type=hierarchicalrequirement")).await;
        e.reset_stats().await;
        let list = t.list_issues(all_states()).await.unwrap();
        let done = churn(&e, reqwest::Method::DELETE, "").await;
        let log = e.http.get(format!("{}/__sim/log", e.sim.url)).send().await.unwrap().text().await.unwrap();
        let after = story_ids(&e).await;
        assert!(done["triggers"].as_u64().unwrap() >= 2, "the simulator churned between pages: {done}");
        // More deletes than creates and edits shift the overlapping pages up: the seams were
        // then read by keyset.
        let keyset = log.contains("%28LastUpdateDate+%3C+") || log.contains("(LastUpdateDate < ");
        if round == 2 {
            assert!(keyset, "round {round}: no seam was read by keyset");
        }

        let mut seen = std::collections::BTreeMap::<u64, usize>::new();
        for i in &list {
            *seen.entry(i.id.parse().unwrap()).or_default() += 1;
        }
        let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "round {round}: returned more than once: {twice:?}");
        let missing: Vec<&u64> = before.intersection(&after).filter(|oid| !seen.contains_key(oid)).collect();
        assert!(
            missing.is_empty(),
            "round {round}: {} of {} stories that matched before and after the list are missing ({done}): {missing:?}",
            missing.len(),
            before.intersection(&after).count()
        );
        // Nothing returned that never existed in the scope.
        let created: std::collections::BTreeSet<u64> =
            done["created"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
        assert!(seen.keys().all(|oid| before.contains(oid) || created.contains(oid)));
        assert_newest_first(&list);
    }
}

/// With a limit past one page the list is still the newest items: a story edited while the
/// list pages is the newest of all, so it is in the list, once.
#[tokio::test]
async fn limited_lists_keep_items_edited_while_paging() {
    let e = env_with(SimConfig { api_key: KEY.into(), seed: 113, extra_stories: 5000, ..Default::default() }).await;
    let t = Tracker::new(TrackerConfig { artifact_types: Some(vec![ArtifactType::UserStory]), ..e.config() }).unwrap();
    // Edits after the first two pages (an edit after the last query no query can see).
    churn(&e, reqwest::Method::POST, "?type=hierarchicalrequirement&edit=5&times=2").await;
    let list = t.list_issues(IssueFilters { limit: Some(3000), ..all_states() }).await.unwrap();
    let done = churn(&e, reqwest::Method::DELETE, "").await;
    assert_eq!(list.len(), 3000);
    assert_newest_first(&list);
    let ids: std::collections::BTreeSet<u64> = list.iter().map(|i| i.id.parse().unwrap()).collect();
    assert_eq!(ids.len(), 3000, "duplicates");
    let edited: Vec<u64> = done["edited"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
    assert!(!edited.is_empty(), "{done}");
    let missing: Vec<&u64> = edited.iter().filter(|oid| !ids.contains(oid)).collect();
    assert!(missing.is_empty(), "edited while listing, newest of all, yet missing: {missing:?} ({done})");
}
