//! Creates whose outcome is unknown: reconciled before they are ever sent again, matched on
//! everything the create set and on creation after the first attempt, never guessed between
//! two candidates, bounded in time, and reported truthfully when they do not settle.

mod common;

use common::{env, Env};
use rally_core::{ArtifactType, Issue, NewIssue, RallyError, Tracker, TrackerConfig};
use std::time::{Duration, Instant};

fn titled(title: &str) -> NewIssue {
    NewIssue { title: title.into(), ..Default::default() }
}

fn type_path(t: ArtifactType) -> &'static str {
    match t {
        ArtifactType::UserStory => "hierarchicalrequirement",
        ArtifactType::Defect => "defect",
        ArtifactType::Task => "task",
        ArtifactType::Feature => "portfolioitem/feature",
    }
}

async fn count(e: &Env, t: ArtifactType, name: &str) -> u64 {
    e.count_named(type_path(t), name).await
}

/// FormattedIDs of the stories with this name, read over raw WSAPI.
async fn story_ids(e: &Env, name: &str) -> Vec<String> {
    let v = e
        .http
        .get(format!("{}/hierarchicalrequirement", e.sim.base))
        .query(&[
            ("query", format!("(Name = \"{name}\")").as_str()),
            ("fetch", "FormattedID"),
            ("workspace", e.sim.workspace_ref.as_str()),
            ("project", "null"),
        ])
        .header("ZSESSIONID", &e.sim.api_key)
        .send()
        .await
        .expect("query")
        .json::<serde_json::Value>()
        .await
        .expect("JSON");
    let results = v["QueryResult"]["Results"].as_array().cloned().unwrap_or_default();
    results.iter().filter_map(|r| r["FormattedID"].as_str().map(String::from)).collect()
}

/// A create whose connection is lost before Rally handles it (the artifact create itself, not
/// a tag create before it), from a tracker that did not make the earlier item.
async fn lost_create(e: &Env, n: NewIssue) -> Result<Issue, RallyError> {
    let t = e.tracker();
    let path = type_path(n.artifact_type.unwrap_or(ArtifactType::UserStory));
    e.faults(&format!("drop-before@POST */{path}/create#next=1")).await;
    let got = t.create_issue(n).await;
    e.clear_faults().await;
    got
}

#[tokio::test]
async fn reconciliation_matches_every_field_the_create_set() {
    let e = env().await;
    let setup = e.tracker();
    let us1 = setup.create_issue(titled("parent one")).await.unwrap();
    let us2 = setup.create_issue(titled("parent two")).await.unwrap();
    let task = |title: &str, parent: &Issue| NewIssue {
        title: title.into(),
        artifact_type: Some(ArtifactType::Task),
        parent: Some(parent.reference.clone()),
        ..Default::default()
    };
    let defect =
        |title: &str| NewIssue { title: title.into(), artifact_type: Some(ArtifactType::Defect), ..titled("") };
    // (what differs, the earlier item, the create that is lost, how to check the result)
    type Check = Box<dyn Fn(&Issue) -> bool>;
    let cases: Vec<(&str, NewIssue, NewIssue, Check)> = vec![
        (
            "parent",
            task("same task", &us1),
            task("same task", &us2),
            Box::new({
                let r = us2.reference.clone();
                move |i: &Issue| i.parent_ref.as_deref() == Some(r.as_str())
            }),
        ),
        (
            "description",
            NewIssue { description: Some("first text".into()), ..titled("same story d") },
            NewIssue { description: Some("second text".into()), ..titled("same story d") },
            Box::new(|i: &Issue| i.description.contains("second text")),
        ),
        (
            "labels",
            titled("same story l"),
            NewIssue { labels: Some(vec!["needs-review".into()]), ..titled("same story l") },
            Box::new(|i: &Issue| i.labels == ["needs-review"]),
        ),
        (
            "assignee",
            titled("same story a"),
            NewIssue { assignee: Some("me".into()), ..titled("same story a") },
            Box::new(|i: &Issue| i.assignee.is_some()),
        ),
        (
            "priority",
            defect("same defect p"),
            NewIssue { priority: Some(2), ..defect("same defect p") },
            Box::new(|i: &Issue| i.priority == Some(2)),
        ),
        (
            "due date",
            defect("same defect d"),
            NewIssue { due_date: Some("2027-01-15".into()), ..defect("same defect d") },
            Box::new(|i: &Issue| i.due_date.as_deref().is_some_and(|d| d.starts_with("2027-01-15"))),
        ),
    ];
    let mut wrong = Vec::new();
    for (what, earlier, lost, check) in cases {
        let kind = earlier.artifact_type.unwrap_or(ArtifactType::UserStory);
        let title = earlier.title.clone();
        let earlier = setup.create_issue(earlier).await.unwrap();
        let got = lost_create(&e, lost).await.unwrap_or_else(|err| panic!("{what}: {} {err}", err.code()));
        if got.id == earlier.id || !check(&got) {
            wrong.push(format!("{what}: got the earlier {} back instead of a new one", earlier.reference));
        }
        let n = count(&e, kind, &title).await;
        if n != 2 {
            wrong.push(format!("{what}: {n} items named {title:?}, want 2"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[tokio::test]
async fn reconciliation_ignores_items_created_before_the_first_attempt() {
    let e = env().await;
    let earlier = e.tracker().create_issue(titled("made twice on purpose")).await.unwrap();
    // Well past the allowance for the estimate of Rally's clock.
    tokio::time::sleep(Duration::from_millis(4500)).await;
    let got = lost_create(&e, titled("made twice on purpose")).await.unwrap();
    assert_ne!(got.id, earlier.id, "the lost create came back as {}, made before it was sent", earlier.reference);
    assert_eq!(count(&e, ArtifactType::UserStory, "made twice on purpose").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_matching_candidates_are_reported_not_guessed() {
    let e = env().await;
    let t = e.tracker();
    t.get_issue("US1").await.map(drop).unwrap_or(()); // Rally's clock is known
                                                      // The lost create is held 300 ms before Rally handles it; meanwhile another client makes
                                                      // an identical story, so after the drop two stories match everything the create set.
    e.faults("latency=300@POST */create#next=1; drop-after@POST */create#next=1").await;
    let lost = tokio::spawn(async move { t.create_issue(titled("twin")).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let twin = e.tracker().create_issue(titled("twin")).await.unwrap();
    let got = lost.await.unwrap();
    e.clear_faults().await;
    assert_eq!(count(&e, ArtifactType::UserStory, "twin").await, 2);
    let err = got.expect_err("two candidates: no guess");
    assert_eq!(err.code(), "RALLY_UNAVAILABLE", "{err}");
    let msg = err.to_string();
    let both = story_ids(&e, "twin").await;
    assert_eq!(both.len(), 2);
    assert!(both.contains(&twin.reference));
    assert!(msg.contains("2 items match") && both.iter().all(|id| msg.contains(id.as_str())), "{msg}");
}

#[tokio::test]
async fn a_create_that_times_out_is_a_timeout_in_bounded_time() {
    let e = env().await;
    let t =
        Tracker::new(TrackerConfig { timeout: Some(std::time::Duration::from_millis(1000)), ..e.config() }).unwrap();
    // The tracker has made a create before (so it knows the workspace's required fields).
    t.create_issue(titled("before the outage")).await.unwrap();
    // Rally stops answering: every request waits longer than the timeout.
    e.faults("latency=20000@*").await;
    let started = Instant::now();
    let err = t.create_issue(titled("into the void")).await.expect_err("no answer");
    let took = started.elapsed();
    e.clear_faults().await;
    assert_eq!(err.code(), "RALLY_TIMEOUT", "{err}");
    assert_eq!(err.details()["timeoutMs"], 1000, "{}", err.details());
    let msg = err.to_string();
    assert!(msg.contains("MAY have been created") && msg.contains("1000 ms"), "{msg}");
    // The create and one lookup: two timeouts (and a backoff), not one per retry of each.
    assert!(took < Duration::from_millis(2 * 1000 + 1000), "took {took:?}");
    assert_eq!(count(&e, ArtifactType::UserStory, "into the void").await, 0);

    // A new tracker's first create reads the schema first: that read times out, and the create
    // says so without ever being sent (nothing "may" have been created).
    let cold = Tracker::new_unshared(TrackerConfig {
        timeout: Some(std::time::Duration::from_millis(1000)),
        max_retries: Some(0),
        ..e.config()
    })
    .unwrap();
    e.faults("latency=20000@GET /slm/schema/*").await;
    e.reset_stats().await;
    let err = cold.create_issue(titled("never sent")).await.expect_err("no answer");
    let routes = e.routes().await;
    e.clear_faults().await;
    assert_eq!(err.code(), "RALLY_TIMEOUT", "{err}");
    assert!(!err.to_string().contains("MAY have been"), "{err}");
    assert!(routes.iter().all(|(r, _)| !r.starts_with("POST")), "{routes:?}");
    assert_eq!(count(&e, ArtifactType::UserStory, "never sent").await, 0);
}

#[tokio::test]
async fn a_create_answered_too_late_is_found_not_repeated() {
    let e = env().await;
    let t = Tracker::new(TrackerConfig { timeout: Some(std::time::Duration::from_millis(800)), ..e.config() }).unwrap();
    // Rally makes the story at once but answers after the client gave up.
    e.faults("slow-reply=2000@POST */create#next=1").await;
    let made = t.create_issue(titled("late answer")).await.unwrap();
    e.clear_faults().await;
    assert_eq!(made.title, "late answer");
    assert_eq!(count(&e, ArtifactType::UserStory, "late answer").await, 1);
}

#[tokio::test]
async fn a_503_after_the_create_went_through_does_not_duplicate_it() {
    let e = env().await;
    let t = e.tracker();
    // A gateway forwards the create, Rally makes the story, the gateway still answers 503.
    e.faults("503-after@POST */create#next=1").await;
    let made = t.create_issue(titled("through a flaky gateway")).await.unwrap();
    assert_eq!(made.title, "through a flaky gateway");
    assert_eq!(count(&e, ArtifactType::UserStory, "through a flaky gateway").await, 1);
    // Comments too.
    e.faults("503-after@POST */create#next=1").await;
    t.add_comment(&made.reference, "said once through the gateway").await.unwrap();
    e.clear_faults().await;
    let said = t.get_comments(&made.reference).await.unwrap();
    assert_eq!(said.iter().filter(|c| c.body.trim() == "said once through the gateway").count(), 1);
    // A plain 503 (refused before any work): looked up, not found, sent again: one story.
    e.faults("503@POST */create#next=2").await;
    t.create_issue(titled("after two refusals")).await.unwrap();
    e.clear_faults().await;
    assert_eq!(count(&e, ArtifactType::UserStory, "after two refusals").await, 1);
}

#[tokio::test]
async fn a_create_refused_every_time_says_it_was_not_created() {
    let e = env().await;
    let t = Tracker::new(TrackerConfig { max_retries: Some(2), ..e.config() }).unwrap();
    e.faults("503@POST */create").await;
    let err = t.create_issue(titled("refused")).await.expect_err("every create got a 503");
    e.clear_faults().await;
    assert_eq!(err.code(), "RALLY_UNAVAILABLE", "{err}");
    let msg = err.to_string();
    assert!(!msg.contains("MAY have been created"), "Rally refused every request, yet: {msg}");
    assert!(msg.contains("was not created") && msg.contains("3 attempt"), "{msg}");
    assert_eq!(count(&e, ArtifactType::UserStory, "refused").await, 0);
}

/// The other side of matching every field: a lost reply to a create that set every field it
/// can is still recognised (Rally's stored form of each field matches what was sent), so the
/// create is not repeated.
#[tokio::test]
async fn a_lost_reply_to_a_create_with_every_field_is_recognised() {
    let e = env().await;
    let setup = e.tracker();
    let parent = setup.create_issue(titled("the parent story")).await.unwrap();
    let cases = vec![
        NewIssue {
            title: "full story".into(),
            description: Some("Some **bold** text\n\n- a list\n- of two & more <items>".into()),
            labels: Some(vec!["full-a".into(), "full-b".into()]),
            assignee: Some("me".into()),
            parent: Some(parent.reference.clone()),
            ..Default::default()
        },
        NewIssue {
            title: "full defect".into(),
            artifact_type: Some(ArtifactType::Defect),
            description: Some("broken".into()),
            priority: Some(1),
            due_date: Some("2027-03-04".into()),
            parent: Some(parent.reference.clone()),
            labels: Some(vec!["full-a".into()]),
            assignee: Some("me".into()),
            blocked_reason: Some("Waiting on QA".into()),
            ..Default::default()
        },
        NewIssue {
            title: "full task".into(),
            artifact_type: Some(ArtifactType::Task),
            description: Some("do it".into()),
            parent: Some(parent.reference.clone()),
            assignee: Some("me".into()),
            blocked: Some(true),
            estimate: Some(5.5),
            to_do: Some(2.0),
            actuals: Some(1.25),
            ..Default::default()
        },
    ];
    for n in cases {
        let kind = n.artifact_type.unwrap_or(ArtifactType::UserStory);
        let title = n.title.clone();
        let t = e.tracker();
        e.faults(&format!("drop-after@POST */{}/create#next=1", type_path(kind))).await;
        let made = t.create_issue(n).await;
        e.clear_faults().await;
        let made = made.unwrap_or_else(|err| panic!("{title}: {} {err}", err.code()));
        assert_eq!(made.title, title);
        assert_eq!(count(&e, kind, &title).await, 1, "{title}: the create was repeated");
    }
}

/// An identical story made moments before (within the old 2 s allowance for Rally's clock),
/// then a create Rally answers 503 without acting on it: the earlier story is not adopted.
#[tokio::test]
async fn a_503_create_never_returns_an_identical_item_made_moments_before() {
    let e = env().await;
    let earlier = e.tracker().create_issue(titled("same title moments earlier")).await.unwrap();
    // Past the one second that `Date`'s whole seconds can hide, inside the old allowance.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let t = e.tracker();
    e.faults("503@POST */hierarchicalrequirement/create#next=1").await;
    let got = t.create_issue(titled("same title moments earlier")).await;
    e.clear_faults().await;
    let got = got.unwrap();
    assert_ne!(got.id, earlier.id, "the earlier {} came back as this create's", earlier.reference);
    assert_eq!(count(&e, ArtifactType::UserStory, "same title moments earlier").await, 2);
}
