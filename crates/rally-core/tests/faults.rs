//! Reliability against the simulator's fault injection: retries where safe, no duplicate
//! creates, the right error code otherwise — and the simulator's state checked afterwards.

mod common;

use common::{env, env_with, Env, KEY};
use rally_core::{IssueFilters, IssueUpdate, NewIssue, RallyError, Tracker, TrackerConfig};
use rally_sim::SimConfig;
use std::time::{Duration, Instant};

async fn some_story(e: &Env) -> String {
    let t = e.tracker();
    t.create_issue(NewIssue { title: "fault target".into(), ..Default::default() }).await.unwrap().reference
}

fn assert_no_key(e: &RallyError) {
    let text = format!("{e} {e:?} {}", e.details());
    assert!(!text.contains(KEY), "key leaked: {text}");
}

#[tokio::test]
async fn transient_read_failures_are_retried() {
    let e = env().await;
    let id = some_story(&e).await;
    for spec in [
        "503@GET *#next=2",
        "502@GET *#next=1",
        "504@GET *#next=1",
        "524@GET *#next=1",
        "drop-before@GET *#next=1",
        "truncate@GET *#next=1",
        "empty@GET *#next=1",
        "text@GET *#next=1",
        "text=[1,@GET *#next=1",
    ] {
        let t = e.tracker();
        e.faults(spec).await;
        e.reset_stats().await;
        let got = t.get_issue(&id).await.unwrap_or_else(|err| panic!("{spec}: {err}"));
        assert_eq!(got.reference, id);
        let retries = if spec.contains("next=2") { 2 } else { 1 };
        assert_eq!(e.total().await, 1 + retries, "{spec}");
        e.clear_faults().await;
    }
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let e = env().await;
    let id = some_story(&e).await;
    let t = e.tracker();
    e.faults("429=1@GET *#next=1").await;
    let started = Instant::now();
    t.get_issue(&id).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(900), "retried before Retry-After: {:?}", started.elapsed());
}

#[tokio::test]
async fn persistent_failures_give_codes_with_attempts() {
    let e = env().await;
    let id = some_story(&e).await;
    let t = Tracker::new(TrackerConfig { max_retries: Some(1), ..e.config() }).unwrap();
    e.faults("504@GET *").await;
    e.reset_stats().await;
    let err = t.get_issue(&id).await.unwrap_err();
    assert_eq!(e.total().await, 2);
    match &err {
        RallyError::Unavailable { attempts, last_status, operation, .. } => {
            assert_eq!((*attempts, *last_status), (2, Some(504)));
            assert!(operation.contains(&id), "{operation}");
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("504") && err.to_string().contains(&id), "{err}");

    e.faults("html@GET *").await;
    let err = t.get_issue(&id).await.unwrap_err();
    assert_eq!(err.code(), "RALLY_PROTOCOL");
    assert!(err.to_string().len() < 400 && !err.to_string().contains('<'), "{err}");

    e.faults("truncate@GET *").await;
    assert_eq!(t.get_issue(&id).await.unwrap_err().code(), "RALLY_PROTOCOL");

    e.faults("errors=Something broke inside@POST *").await;
    let err = t.update_issue(&id, IssueUpdate { title: Some("x".into()), ..Default::default() }).await.unwrap_err();
    assert_eq!(err.code(), "RALLY_REJECTED");
    assert!(err.to_string().contains("Something broke inside"), "{err}");
    assert_eq!(err.details()["rallyErrors"][0], "Something broke inside");

    e.clear_faults().await;
    let slow = Tracker::new(TrackerConfig {
        timeout: Some(std::time::Duration::from_millis(100)),
        max_retries: Some(0),
        ..e.config()
    })
    .unwrap();
    e.faults("latency=600@GET *").await;
    let err = slow.get_issue(&id).await.unwrap_err();
    assert_eq!(err.code(), "RALLY_TIMEOUT", "{err}");
    assert!(err.to_string().contains("100 ms"), "{err}");
    assert_no_key(&err);
}

#[tokio::test]
async fn a_create_whose_response_is_lost_is_not_duplicated() {
    let e = env().await;
    let t = e.tracker();
    e.faults("drop-after@POST */create#next=1").await;
    e.reset_stats().await;
    let made = t.create_issue(NewIssue { title: "exactly once please".into(), ..Default::default() }).await.unwrap();
    assert_eq!(made.title, "exactly once please");
    // The schema (required custom fields), the lost create, the key owner, the reconciling
    // query — and no second create.
    let routes = e.routes().await;
    assert_eq!(
        routes,
        vec![
            ("GET /slm/schema/v2.0/workspace/{oid}".to_string(), 1),
            ("GET /slm/webservice/v2.0/hierarchicalrequirement".to_string(), 1),
            ("GET /slm/webservice/v2.0/user".to_string(), 1),
            ("POST /slm/webservice/v2.0/hierarchicalrequirement/create".to_string(), 1),
        ]
    );
    assert_eq!(e.count_named("hierarchicalrequirement", "exactly once please").await, 1);

    // The request never took effect: reconciliation finds nothing and one retry creates it.
    e.faults("drop-before@POST */create#next=1").await;
    let made2 = t.create_issue(NewIssue { title: "dropped before".into(), ..Default::default() }).await.unwrap();
    assert_eq!(e.count_named("hierarchicalrequirement", "dropped before").await, 1);
    assert_ne!(made.id, made2.id);

    // A second, deliberate create with the same name is a new issue, not "the lost one".
    e.faults("drop-after@POST */create#next=1").await;
    t.create_issue(NewIssue { title: "exactly once please".into(), ..Default::default() }).await.unwrap();
    assert_eq!(e.count_named("hierarchicalrequirement", "exactly once please").await, 2);

    // Comments too.
    e.faults("drop-after@POST */create#next=1").await;
    t.add_comment(&made.reference, "said once").await.unwrap();
    e.clear_faults().await;
    let comments = t.get_comments(&made.reference).await.unwrap();
    assert_eq!(comments.iter().filter(|c| c.body.trim() == "said once").count(), 1);
}

#[tokio::test]
async fn creates_are_retried_only_when_rally_cannot_have_acted() {
    let e = env().await;
    let t = e.tracker();
    e.faults("503@POST */create#next=1").await;
    t.create_issue(NewIssue { title: "after a 503".into(), ..Default::default() }).await.unwrap();
    assert_eq!(e.count_named("hierarchicalrequirement", "after a 503").await, 1);

    e.faults("503@POST */create").await;
    let err = t.create_issue(NewIssue { title: "never made".into(), ..Default::default() }).await.unwrap_err();
    assert_eq!(err.code(), "RALLY_UNAVAILABLE");
    e.clear_faults().await;
    assert_eq!(e.count_named("hierarchicalrequirement", "never made").await, 0);

    // A gateway timeout on a create: outcome unknown, reconciled, still exactly one.
    e.faults("524@POST */create#next=1").await;
    t.create_issue(NewIssue { title: "after a 524".into(), ..Default::default() }).await.unwrap();
    e.clear_faults().await;
    assert_eq!(e.count_named("hierarchicalrequirement", "after a 524").await, 1);
}

#[tokio::test]
async fn updates_and_deletes_survive_lost_responses() {
    let e = env().await;
    let id = some_story(&e).await;
    let t = e.tracker();
    t.get_issue(&id).await.unwrap();
    e.faults("drop-after@POST *#next=1").await;
    let u = t
        .update_issue(
            &id,
            IssueUpdate {
                title: Some("applied once".into()),
                labels: Some(vec!["keep-me".into()]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((u.title.as_str(), u.labels.clone()), ("applied once", vec!["keep-me".to_string()]));
    e.clear_faults().await;
    let fresh = e.tracker().get_issue(&id).await.unwrap();
    assert_eq!((fresh.title.as_str(), fresh.labels), ("applied once", vec!["keep-me".to_string()]));

    e.faults("drop-after@DELETE *#next=1").await;
    e.reset_stats().await;
    t.delete_issue(&id).await.unwrap();
    e.clear_faults().await;
    // The retry found the object already gone: that is success, not "not found".
    assert_eq!(e.total().await, 2);
    assert_eq!(e.tracker().get_issue(&id).await.unwrap_err().code(), "RALLY_NOT_FOUND");
    assert_eq!(e.count_named("hierarchicalrequirement", "applied once").await, 0);
}

#[tokio::test]
async fn bad_key_is_an_auth_error_and_the_key_never_leaks() {
    let e = env().await;
    let wrong = "_wrongKeyXYZ123";
    let t = Tracker::new(TrackerConfig { api_key: wrong.into(), ..e.config() }).unwrap();
    for err in [
        t.get_issue("US1").await.unwrap_err(),
        t.list_issues(IssueFilters::default()).await.unwrap_err(),
        t.create_issue(NewIssue { title: "x".into(), ..Default::default() }).await.unwrap_err(),
    ] {
        assert_eq!(err.code(), "RALLY_AUTH", "{err}");
        assert!(err.to_string().starts_with("Authentication failed for rally: "), "{err}");
        assert!(err.to_string().contains("RALLY_API_KEY"), "{err}");
        let text = format!("{err} {err:?} {}", err.details());
        assert!(!text.contains(wrong) && !text.contains(KEY), "{text}");
    }
    assert!(format!("{:?}", e.config()).contains("***"));
    // Debug logs name requests but never the key.
    let logs = e.logs.lock().unwrap();
    assert!(logs.iter().any(|l| l.level == "debug" && l.message.contains("-> 401")), "no request log");
    assert!(logs.iter().all(|l| !l.message.contains(wrong) && !l.message.contains(KEY)));
}

#[tokio::test]
async fn not_found_and_validation_errors() {
    let e = env().await;
    let t = e.tracker();
    for id in ["US999999", "/defect/123456789", "123456789", "https://rally1.rallydev.com/#/detail/task/123456789"] {
        let err = t.get_issue(id).await.unwrap_err();
        assert_eq!(err.code(), "RALLY_NOT_FOUND", "{id}: {err}");
        assert!(err.to_string().starts_with("Issue not found: "), "{err}");
    }
    // An unknown prefix is looked up once in the type definitions.
    e.reset_stats().await;
    assert_eq!(t.get_issue("XY5").await.unwrap_err().code(), "RALLY_NOT_FOUND");
    assert_eq!(t.get_issue("xy6").await.unwrap_err().code(), "RALLY_NOT_FOUND");
    assert_eq!(e.routes().await, vec![("GET /slm/webservice/v2.0/typedefinition".to_string(), 1)]);
    assert_eq!(t.get_comments("US999999").await.unwrap_err().code(), "RALLY_NOT_FOUND");
    assert_eq!(t.delete_issue("DE999999").await.unwrap_err().code(), "RALLY_NOT_FOUND");
    assert_eq!(t.add_comment("TA999999", "x").await.unwrap_err().code(), "RALLY_NOT_FOUND");
    e.reset_stats().await;
    for err in [
        t.get_issue("").await.unwrap_err(),
        t.get_issue("not an id").await.unwrap_err(),
        t.create_issue(NewIssue { title: "  ".into(), ..Default::default() }).await.unwrap_err(),
        t.create_issue(NewIssue { title: "x".into(), priority: Some(7), ..Default::default() }).await.unwrap_err(),
        t.create_issue(NewIssue { title: "x".into(), labels: Some(vec!["x".repeat(40)]), ..Default::default() })
            .await
            .unwrap_err(),
        t.update_issue("US1", IssueUpdate { due_date: Some("tomorrow".into()), ..Default::default() })
            .await
            .unwrap_err(),
        t.link_pr("US1", "javascript:alert(1)").await.unwrap_err(),
        t.add_comment("US1", "   ").await.unwrap_err(),
    ] {
        assert_eq!(err.code(), "RALLY_INVALID_INPUT", "{err}");
    }
    assert_eq!(e.total().await, 0, "bad input reached the server");
}

#[tokio::test]
async fn two_trackers_with_different_keys_share_nothing() {
    let other_key = "_otherUserKey0002";
    let e = env_with(SimConfig {
        api_key: KEY.into(),
        seed: 113,
        extra_keys: vec![(other_key.into(), "second.user@example.com".into())],
        ..Default::default()
    })
    .await;
    let a = e.tracker();
    let b = Tracker::new(TrackerConfig { api_key: other_key.into(), ..e.config() }).unwrap();
    let ia = a
        .create_issue(NewIssue { title: "mine".into(), assignee: Some("me".into()), ..Default::default() })
        .await
        .unwrap();
    let ib = b
        .create_issue(NewIssue { title: "theirs".into(), assignee: Some("me".into()), ..Default::default() })
        .await
        .unwrap();
    assert!(ia.assignee.is_some() && ib.assignee.is_some());
    assert_ne!(ia.assignee, ib.assignee, "'me' resolved to the same user for two keys");
    let ca = a.add_comment(&ia.reference, "by a").await.unwrap();
    let cb = b.add_comment(&ia.reference, "by b").await.unwrap();
    assert_ne!(ca.author, cb.author);
    let _ = Env::tracker; // the helper stays in use across test files
}

/// Any 5xx is Rally failing, not an answer: retried for safe operations.
#[tokio::test]
async fn http_500_is_retried_for_safe_operations() {
    let e = env().await;
    let id = some_story(&e).await;
    let t = e.tracker();
    t.get_issue(&id).await.unwrap();
    for spec in ["500@GET *#next=1", "500-json=Temporary failure, try again@GET *#next=1"] {
        e.faults(spec).await;
        e.reset_stats().await;
        let got = t.get_issue(&id).await;
        e.clear_faults().await;
        let got = got.unwrap_or_else(|err| panic!("{spec}: {} {err}", err.code()));
        assert_eq!(got.reference, id);
        assert_eq!(e.total().await, 2, "{spec}: one retry");
    }
    e.faults("500@POST *#next=1").await;
    let u = t.update_issue(&id, IssueUpdate { title: Some("updated after a 500".into()), ..Default::default() }).await;
    e.clear_faults().await;
    assert_eq!(u.unwrap_or_else(|err| panic!("update after a 500: {} {err}", err.code())).title, "updated after a 500");
}

/// A 500 whose body is a WSAPI envelope with `Errors` is still Rally failing: after the retries
/// it is RALLY_UNAVAILABLE with Rally's texts, never RALLY_REJECTED.
#[tokio::test]
async fn a_persistent_500_with_json_is_unavailable_not_rejected() {
    let e = env().await;
    let id = some_story(&e).await;
    let once = Tracker::new(TrackerConfig { max_retries: Some(1), ..e.config() }).unwrap();
    e.faults("500-json=Temporary failure, try again@GET *").await;
    e.reset_stats().await;
    let err = once.get_issue(&id).await.expect_err("every read got a 500");
    e.clear_faults().await;
    assert_eq!(err.code(), "RALLY_UNAVAILABLE", "{err}");
    assert_eq!(e.total().await, 2);
    assert!(matches!(err, RallyError::Unavailable { attempts: 2, last_status: Some(500), .. }), "{err:?}");
    assert!(err.to_string().contains("Temporary failure, try again"), "{err}");
}

/// A create that got a 500, before or after Rally made the story, is reconciled as after a
/// 502/504: exactly one story either way.
#[tokio::test]
async fn a_create_answered_500_is_reconciled() {
    let e = env().await;
    let t = e.tracker();
    for (spec, title) in [("500@POST */create#next=1", "after a 500"), ("500-after@POST */create#next=1", "500 after")]
    {
        e.faults(spec).await;
        let made = t.create_issue(NewIssue { title: title.into(), ..Default::default() }).await;
        e.clear_faults().await;
        let made = made.unwrap_or_else(|err| panic!("{spec}: {} {err}", err.code()));
        assert_eq!(made.title, title);
        assert_eq!(e.count_named("hierarchicalrequirement", title).await, 1, "{spec}");
    }
}
