//! Every operation against the simulator, with the requests each one costs counted at the
//! server: these are the round-trip regression tests.

mod common;

use common::env;
use rally_core::{ArtifactType, Issue, IssueFilters, IssueState, IssueUpdate, NewIssue};

#[tokio::test]
async fn get_issue_costs_one_request_for_every_id_form() {
    let e = env().await;
    let t = e.tracker();
    let all = t.list_issues(IssueFilters { include_closed: Some(true), ..Default::default() }).await.unwrap();
    assert!(all.len() >= 8, "seed data too small: {}", all.len());
    for ty in ArtifactType::ALL {
        let Some(issue) = all.iter().find(|i| i.artifact_type == ty) else { panic!("no {ty:?} in seed data") };
        let lower = format!("  {}  ", issue.reference.to_lowercase());
        let api_ref = format!("/{}/{}", ty.type_path(), issue.id);
        let full_ref = format!("{}/slm/webservice/v2.0{}", e.sim.url, api_ref);
        for id in [lower.as_str(), issue.id.as_str(), api_ref.as_str(), full_ref.as_str(), issue.url.as_str()] {
            let fresh = e.cold_tracker();
            e.reset_stats().await;
            let got = fresh.get_issue(id).await.unwrap_or_else(|err| panic!("{id}: {err}"));
            // getIssue adds the linked pull requests (none here, known at no cost); lists don't.
            assert_eq!(got.pull_requests.as_deref(), Some(&[][..]), "{id}");
            assert_eq!(Issue { pull_requests: None, ..got }, *issue, "{id}");
            if ty == ArtifactType::Feature {
                // A feature's state is read against the type's state order, looked up once per
                // tracker (alongside the read when the id names the type).
                let routes = e.routes().await;
                assert_eq!(e.total().await, 2, "getIssue({id}) requests: {routes:?}");
                assert!(routes.contains(&("GET /slm/webservice/v2.0/state".to_string(), 1)), "{routes:?}");
                e.reset_stats().await;
                assert_eq!(Issue { pull_requests: None, ..fresh.get_issue(id).await.unwrap() }, *issue, "{id}");
            }
            assert_eq!(e.total().await, 1, "getIssue({id}) requests: {:?}", e.routes().await);
        }
    }
}

#[tokio::test]
async fn crud_round_trip_with_request_counts() {
    let e = env().await;
    let t = e.tracker();

    e.reset_stats().await;
    let created = t
        .create_issue(NewIssue {
            title: "Checkout fails on \"Pay\" button".into(),
            description: Some("Steps:\n\n1. open **cart**\n2. click `Pay`".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    // The create, and the tracker's one read of the workspace schema (required custom fields).
    assert_eq!(e.total().await, 2, "createIssue: {:?}", e.routes().await);
    e.reset_stats().await;
    let second = t.create_issue(NewIssue { title: "Second".into(), ..Default::default() }).await.unwrap();
    assert_eq!(e.total().await, 1, "createIssue, schema known: {:?}", e.routes().await);
    t.delete_issue(&second.reference).await.unwrap();
    assert_eq!(created.artifact_type, ArtifactType::UserStory);
    assert!(created.reference.starts_with("US"));
    assert_eq!(created.title, "Checkout fails on \"Pay\" button");
    assert!(created.description.contains("**cart**"), "{}", created.description);
    assert_eq!(created.state, IssueState::Open);
    assert!(!created.created_at.is_empty());

    // A fresh tracker has never seen it: first touch costs a lookup, then one request each.
    let cold = e.cold_tracker();
    e.reset_stats().await;
    let got = cold.get_issue(&created.reference).await.unwrap();
    assert_eq!(Issue { pull_requests: None, ..got }, created);
    assert_eq!(e.total().await, 1);

    let t2 = e.cold_tracker();
    e.reset_stats().await;
    let upd = t2
        .update_issue(&created.reference, IssueUpdate { title: Some("Renamed".into()), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(upd.title, "Renamed");
    assert_eq!(e.total().await, 2, "updateIssue cold: {:?}", e.routes().await);
    e.reset_stats().await;
    let upd = t2
        .update_issue(
            &created.reference,
            IssueUpdate {
                description: Some("new *body*".into()),
                state: Some(IssueState::InProgress),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(e.total().await, 1, "updateIssue warm: {:?}", e.routes().await);
    assert_eq!(upd.state, IssueState::InProgress);
    assert_eq!(upd.rally_state.as_deref(), Some("In-Progress"));
    assert_eq!(upd.description.trim(), "new *body*");

    // Every write returned what Rally stored: a plain read agrees.
    assert_eq!(Issue { pull_requests: None, ..t.get_issue(&created.id).await.unwrap() }, upd);

    // Transitions: warm change = 1 write; warm no-op = 1 read, no write.
    e.reset_stats().await;
    t2.transition_issue(&created.reference, IssueState::Closed).await.unwrap();
    assert_eq!(e.total().await, 1, "transition warm: {:?}", e.routes().await);
    e.reset_stats().await;
    t2.transition_issue(&created.reference, IssueState::Closed).await.unwrap();
    let routes = e.routes().await;
    assert_eq!(e.total().await, 1, "no-op transition: {routes:?}");
    assert!(routes.iter().all(|(r, _)| r.starts_with("GET")), "a no-op wrote: {routes:?}");
    // Cold no-op: one read, zero writes.
    let t3 = e.cold_tracker();
    e.reset_stats().await;
    t3.transition_issue(&created.reference, IssueState::Closed).await.unwrap();
    assert_eq!(e.total().await, 1);
    assert_eq!(t3.get_issue(&created.reference).await.unwrap().state, IssueState::Closed);

    // Comments: cold add = lookup + create, warm = 1; get = 1.
    let t4 = e.cold_tracker();
    e.reset_stats().await;
    let c1 = t4.add_comment(&created.reference, "First **note**").await.unwrap();
    assert_eq!(e.total().await, 2, "addComment cold: {:?}", e.routes().await);
    e.reset_stats().await;
    let c2 = t4.add_comment(&created.reference, "Second").await.unwrap();
    assert_eq!(e.total().await, 1, "addComment warm");
    assert_eq!(c1.issue_id, created.reference);
    assert!(!c1.author.is_empty() && !c1.created_at.is_empty());
    let t5 = e.tracker();
    e.reset_stats().await;
    let comments = t5.get_comments(&created.reference.to_lowercase()).await.unwrap();
    assert_eq!(e.total().await, 1, "getComments: {:?}", e.routes().await);
    assert_eq!(comments, vec![c1.clone(), c2.clone()]);
    assert_eq!(comments[0].body.trim(), "First **note**");

    // linkPR: idempotent, one native PullRequest per URL (the default).
    let pr = "https://github.com/acme/shop/pull/42?x=1&y=2";
    let t6 = e.cold_tracker();
    e.reset_stats().await;
    t6.link_pr(&created.reference, pr).await.unwrap();
    // Cold: the existing-link lookup and the artifact lookup run concurrently, then the create.
    assert_eq!(e.total().await, 3, "linkPR cold: {:?}", e.routes().await);
    e.reset_stats().await;
    t6.link_pr(&created.reference, pr).await.unwrap();
    assert_eq!(e.total().await, 1, "linkPR again: {:?}", e.routes().await);
    assert_eq!(t.get_issue(&created.reference).await.unwrap().pull_requests.unwrap(), [pr]);
    e.tracker().link_pr(&created.id, pr).await.unwrap();
    assert_eq!(t.get_issue(&created.reference).await.unwrap().pull_requests.unwrap(), [pr]);
    // No post: the comments are the two added above.
    assert_eq!(t.get_comments(&created.reference).await.unwrap().len(), 2);
    // Warm, a new URL: the lookup and the create.
    e.reset_stats().await;
    t6.link_pr(&created.reference, "https://github.com/acme/shop/pull/43").await.unwrap();
    assert_eq!(e.total().await, 2, "linkPR warm: {:?}", e.routes().await);
    assert_eq!(
        t.get_issue(&created.reference).await.unwrap().pull_requests.unwrap(),
        [pr, "https://github.com/acme/shop/pull/43"]
    );

    // Delete: cold = lookup + delete; then it is gone.
    let t7 = e.cold_tracker();
    e.reset_stats().await;
    t7.delete_issue(&created.reference).await.unwrap();
    assert_eq!(e.total().await, 2, "deleteIssue cold: {:?}", e.routes().await);
    let err = t.get_issue(&created.reference).await.unwrap_err();
    assert_eq!(err.code(), "RALLY_NOT_FOUND");
    assert_eq!(err.to_string(), format!("Issue not found: {} (tracker: rally)", created.reference));
    let err = t.update_issue(&created.reference, IssueUpdate { title: Some("x".into()), ..Default::default() }).await;
    assert_eq!(err.unwrap_err().code(), "RALLY_NOT_FOUND");
}

#[tokio::test]
async fn warm_writes_cost_one_request() {
    let e = env().await;
    let t = e.tracker();
    let a = t.create_issue(NewIssue { title: "warm".into(), ..Default::default() }).await.unwrap();
    e.reset_stats().await;
    t.add_comment(&a.reference, "hi").await.unwrap();
    t.transition_issue(&a.reference, IssueState::InProgress).await.unwrap();
    t.update_issue(&a.reference, IssueUpdate { title: Some("warm 2".into()), ..Default::default() }).await.unwrap();
    t.delete_issue(&a.reference).await.unwrap();
    assert_eq!(e.total().await, 4, "{:?}", e.routes().await);
}

#[tokio::test]
async fn every_type_is_created_transitioned_and_parented() {
    let e = env().await;
    let t = e.tracker();
    let story = t.create_issue(NewIssue { title: "parent story".into(), ..Default::default() }).await.unwrap();
    let feature = t
        .create_issue(NewIssue {
            title: "a feature".into(),
            artifact_type: Some(ArtifactType::Feature),
            due_date: Some("2030-01-31".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(feature.artifact_type, ArtifactType::Feature);
    assert!(feature.reference.starts_with('F'), "{}", feature.reference);
    assert!(feature.due_date.as_deref().unwrap_or_default().starts_with("2030-01-31"), "{:?}", feature.due_date);
    let defect = t
        .create_issue(NewIssue {
            title: "a defect".into(),
            artifact_type: Some(ArtifactType::Defect),
            priority: Some(2),
            parent: Some(story.reference.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(defect.priority, Some(2));
    assert_eq!(defect.parent_ref.as_deref(), Some(story.reference.as_str()));
    let task = t
        .create_issue(NewIssue {
            title: "a task".into(),
            artifact_type: Some(ArtifactType::Task),
            parent: Some(format!("/hierarchicalrequirement/{}", story.id)),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(task.parent_id.as_deref(), Some(story.id.as_str()));
    let child = t
        .create_issue(NewIssue { title: "child".into(), parent: Some(feature.reference.clone()), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(child.parent_ref.as_deref(), Some(feature.reference.as_str()));

    for issue in [&story, &feature, &defect, &task] {
        for s in [IssueState::InProgress, IssueState::Closed, IssueState::Open, IssueState::Closed] {
            t.transition_issue(&issue.reference, s).await.unwrap();
            let now = e.tracker().get_issue(&issue.reference).await.unwrap();
            assert_eq!(now.state, s, "{} → {s:?}: {:?}", issue.reference, now.rally_state);
        }
    }
    let d = e.tracker().get_issue(&defect.reference).await.unwrap();
    assert!(matches!(d.rally_state.as_deref(), Some("Completed" | "Accepted" | "Closed")), "{:?}", d.rally_state);

    // Type-specific fields are refused where the type has none, before any request.
    e.reset_stats().await;
    let err =
        t.update_issue(&story.reference, IssueUpdate { priority: Some(1), ..Default::default() }).await.unwrap_err();
    assert_eq!(err.code(), "RALLY_INVALID_INPUT");
    assert!(err.to_string().contains("priority"));
    let err = t
        .create_issue(NewIssue { title: "t".into(), artifact_type: Some(ArtifactType::Task), ..Default::default() })
        .await
        .unwrap_err();
    assert!(err.to_string().contains("parent"), "{err}");
    assert_eq!(e.total().await, 0);
}

#[tokio::test]
async fn labels_and_assignee_are_set_exactly() {
    let e = env().await;
    let t = e.tracker();
    let a = t
        .create_issue(NewIssue {
            title: "tagged".into(),
            labels: Some(vec!["core-new-a".into(), "core-new-b".into()]),
            assignee: Some("me".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut labels = a.labels.clone();
    labels.sort();
    assert_eq!(labels, vec!["core-new-a", "core-new-b"]);
    assert!(a.assignee.is_some());
    // The tags exist once; a second tracker re-uses them.
    let b = e
        .tracker()
        .update_issue(
            &a.reference,
            IssueUpdate {
                labels: Some(vec!["core-new-b".into()]),
                assignee: Some(String::new()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(b.labels, vec!["core-new-b"]);
    assert_eq!(b.assignee, None);
    assert_eq!(e.count_named("tag", "core-new-b").await, 1);
    assert_eq!(e.count_named("tag", "core-new-a").await, 1);

    // Cached lookups: the second create with the same labels and assignee costs one request.
    let t2 = e.cold_tracker();
    t2.create_issue(NewIssue {
        title: "x".into(),
        labels: Some(vec!["core-new-a".into()]),
        assignee: Some("me".into()),
        ..Default::default()
    })
    .await
    .unwrap();
    e.reset_stats().await;
    t2.create_issue(NewIssue {
        title: "y".into(),
        labels: Some(vec!["core-new-a".into()]),
        assignee: Some("me".into()),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(e.total().await, 1, "{:?}", e.routes().await);

    let err = t
        .create_issue(NewIssue { title: "z".into(), assignee: Some("nobody-such-user".into()), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(err.code(), "RALLY_INVALID_INPUT");
    assert!(err.to_string().contains("assignee"), "{err}");
}

#[tokio::test]
async fn comments_by_every_id_form_and_closed_defect_reopens() {
    let e = env().await;
    let t = e.tracker();
    let d = t
        .create_issue(NewIssue {
            title: "reopen me".into(),
            artifact_type: Some(ArtifactType::Defect),
            ..Default::default()
        })
        .await
        .unwrap();
    t.add_comment(&d.reference, "one").await.unwrap();
    let by_fid = t.get_comments(&d.reference).await.unwrap();
    for id in [d.id.clone(), format!("/defect/{}", d.id), d.url.clone()] {
        let fresh = e.tracker();
        e.reset_stats().await;
        assert_eq!(fresh.get_comments(&id).await.unwrap(), by_fid, "{id}");
        assert_eq!(e.total().await, 1, "getComments({id})");
    }
    // No comments on a known issue: an empty list, not an error; on an unknown one: not found.
    let quiet = t.create_issue(NewIssue { title: "quiet".into(), ..Default::default() }).await.unwrap();
    assert_eq!(e.tracker().get_comments(&quiet.reference).await.unwrap(), vec![]);

    // A defect whose State is Closed reads closed whatever its ScheduleState; reopening it
    // also sets State back to Open.
    let r = e
        .http
        .post(format!("{}/defect/{}", e.sim.base, d.id))
        .header("ZSESSIONID", &e.sim.api_key)
        .json(&serde_json::json!({"Defect": {"State": "Closed", "ScheduleState": "Defined"}}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let fresh = e.tracker();
    assert_eq!(fresh.get_issue(&d.reference).await.unwrap().state, IssueState::Closed);
    fresh.transition_issue(&d.reference, IssueState::Open).await.unwrap();
    let v = e.raw_get(&format!("defect/{}?fetch=State,ScheduleState", d.id)).await;
    assert_eq!(v["Defect"]["State"], "Open", "{v}");
    assert_eq!(fresh.get_issue(&d.reference).await.unwrap().state, IssueState::Open);
    // The stale cache of the first tracker (it saw the defect open) still lands on the target.
    t.transition_issue(&d.reference, IssueState::Closed).await.unwrap();
    assert_eq!(e.tracker().get_issue(&d.reference).await.unwrap().state, IssueState::Closed);
    // updateIssue with only a state, while the cache (Closed) is stale: it still lands.
    let r = e
        .http
        .post(format!("{}/defect/{}", e.sim.base, d.id))
        .header("ZSESSIONID", &e.sim.api_key)
        .json(&serde_json::json!({"Defect": {"ScheduleState": "In-Progress"}}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let u = t
        .update_issue(&d.reference, IssueUpdate { state: Some(IssueState::Closed), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(u.state, IssueState::Closed);
    assert_eq!(e.tracker().get_issue(&d.reference).await.unwrap().state, IssueState::Closed);
}

#[tokio::test]
async fn concurrent_writes_with_a_new_label_create_one_tag() {
    let e = env().await;
    let t = std::sync::Arc::new(e.tracker());
    let calls = (0..6).map(|i| {
        let t = t.clone();
        tokio::spawn(async move {
            t.create_issue(NewIssue {
                title: format!("c{i}"),
                labels: Some(vec!["brand-new-label".into()]),
                ..Default::default()
            })
            .await
        })
    });
    for r in futures_util::future::join_all(calls).await {
        assert_eq!(r.unwrap().unwrap().labels, vec!["brand-new-label"]);
    }
    assert_eq!(e.count_named("tag", "brand-new-label").await, 1);
}
