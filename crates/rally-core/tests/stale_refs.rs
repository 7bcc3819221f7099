//! A ref Rally refuses is forgotten: a tag, user, project or issue deleted by another client
//! after this process cached it is looked up again (once), so the outcome never depends on
//! what the process saw before. Against the simulator over HTTP.

mod common;
use common::*;
use rally_core::{NewIssue, Tracker, TrackerConfig};
use rally_sim::SimConfig;

#[tokio::test]
async fn a_tag_deleted_elsewhere_does_not_poison_later_writes_of_any_tracker_of_the_config() {
    let e = env().await;
    let first = e.tracker();
    let label = vec!["doomed".to_string()];
    first
        .create_issue(NewIssue { title: "tags it".into(), labels: Some(label.clone()), ..Default::default() })
        .await
        .unwrap();
    let old = e.oid_named("tag", "doomed").await;
    e.delete_elsewhere("tag", &old).await;
    // Another tracker of the same config shares the cache that still holds the deleted tag.
    let second = e.tracker();
    let made = second
        .create_issue(NewIssue { title: "tags it again".into(), labels: Some(label.clone()), ..Default::default() })
        .await
        .unwrap_or_else(|err| panic!("{}: {err}", err.code()));
    assert_eq!(made.labels, label);
    assert_ne!(e.oid_named("tag", "doomed").await, old, "a new tag");
    // The update path too.
    let old = e.oid_named("tag", "doomed").await;
    e.delete_elsewhere("tag", &old).await;
    let updated = first
        .update_issue(
            &made.reference,
            rally_core::IssueUpdate { labels: Some(vec!["doomed".into(), "other".into()]), ..Default::default() },
        )
        .await
        .unwrap_or_else(|err| panic!("{}: {err}", err.code()));
    assert_eq!(updated.labels, vec!["doomed".to_string(), "other".to_string()]);
    // And the Tags collection's add (Panopticon's planning tag goes this way).
    let old = e.oid_named("tag", "doomed").await;
    e.delete_elsewhere("tag", &old).await;
    let plain = first.create_issue(NewIssue { title: "tagged by add".into(), ..Default::default() }).await.unwrap();
    let added = second
        .update_issue(
            &plain.reference,
            rally_core::IssueUpdate { add_labels: Some(label.clone()), ..Default::default() },
        )
        .await
        .unwrap_or_else(|err| panic!("{}: {err}", err.code()));
    assert_eq!(added.labels, label);
    assert_ne!(e.oid_named("tag", "doomed").await, old, "a new tag");
}

#[tokio::test]
async fn a_user_or_project_deleted_elsewhere_is_looked_up_again_and_reported_as_missing() {
    let e = env_with(SimConfig {
        api_key: KEY.into(),
        extra_keys: vec![("_otherKey0000001".into(), "leaver@example.com".into())],
        ..Default::default()
    })
    .await;
    let t = e.tracker();
    let made = t
        .create_issue(NewIssue {
            title: "owned".into(),
            assignee: Some("leaver@example.com".into()),
            team: Some("Search Team".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(made.assignee.is_some());
    let user = e.raw_get("user?query=(UserName%20%3D%20%22leaver%40example.com%22)&fetch=ObjectID").await;
    let user = user["QueryResult"]["Results"][0]["ObjectID"].to_string();
    e.delete_elsewhere("user", &user).await;
    let err = e
        .tracker()
        .create_issue(NewIssue {
            title: "owned again".into(),
            assignee: Some("leaver@example.com".into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!((err.code(), err.details()["argument"].as_str()), ("RALLY_INVALID_INPUT", Some("assignee")), "{err}");
    let project = e.oid_named("project", "Search Team").await;
    e.delete_elsewhere("project", &project).await;
    let err = t
        .create_issue(NewIssue { title: "in a team".into(), team: Some("Search Team".into()), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!((err.code(), err.details()["argument"].as_str()), ("RALLY_INVALID_INPUT", Some("team")), "{err}");
}

/// The codes each call gives for a deleted issue.
async fn codes_for_deleted(t: &Tracker, reference: &str) -> Vec<String> {
    let c = t.add_comment(reference, "hello").await.map(drop);
    let p = t.link_pr(reference, "https://github.com/acme/shop/pull/9").await;
    let g = t.get_comments(reference).await.map(drop);
    [c, p, g].into_iter().map(|r| r.map_or_else(|e| e.code().to_string(), |()| "ok".into())).collect()
}

#[tokio::test]
async fn a_deleted_issue_is_not_found_whether_or_not_the_process_saw_it_before() {
    let e = env().await;
    for prs in ["pullRequest", "comment", "both"] {
        let config = TrackerConfig { pr_links: Some(prs.into()), ..e.config() };
        let warm = Tracker::new(config.clone()).unwrap();
        let made =
            warm.create_issue(NewIssue { title: format!("to delete {prs}"), ..Default::default() }).await.unwrap();
        warm.get_issue(&made.reference).await.unwrap();
        warm.get_comments(&made.reference).await.unwrap();
        e.delete_elsewhere("hierarchicalrequirement", &made.id).await;
        let cold = Tracker::new_unshared(config).unwrap();
        let want = vec!["RALLY_NOT_FOUND".to_string(); 3];
        assert_eq!(codes_for_deleted(&cold, &made.reference).await, want, "cold, prLinks {prs}");
        assert_eq!(codes_for_deleted(&warm, &made.reference).await, want, "warm, prLinks {prs}");
    }
}

#[tokio::test]
async fn a_feature_state_deleted_elsewhere_is_looked_up_again() {
    let e = env().await;
    let t = e.tracker();
    let f = t
        .create_issue(NewIssue {
            title: "state goes".into(),
            artifact_type: Some(rally_core::ArtifactType::Feature),
            ..Default::default()
        })
        .await
        .unwrap();
    // The states are read (and cached) by the first transition.
    t.transition_issue(&f.reference, rally_core::IssueState::InProgress).await.unwrap();
    let states =
        e.raw_get("state?query=(TypeDef.Name%20%3D%20%22Feature%22)&fetch=Name,ObjectID&order=OrderIndex").await;
    let rows = states["QueryResult"]["Results"].as_array().cloned().unwrap();
    let last = rows.last().unwrap().clone();
    e.delete_elsewhere("state", &last["ObjectID"].to_string()).await;
    // Closed is the last state of the order as it is now.
    t.transition_issue(&f.reference, rally_core::IssueState::Closed)
        .await
        .unwrap_or_else(|err| panic!("{}: {err}", err.code()));
    let v = e.raw_get(&format!("portfolioitem/feature/{}?fetch=State", f.id)).await;
    assert_eq!(v["Feature"]["State"]["_refObjectName"], rows[rows.len() - 2]["Name"], "{v}");
}
