//! An item's children and tasks, its attachments, the Blocked flag and task hours, over HTTP
//! against the simulator (which serves them as README "Attachments, Blocked, task hours" says).

mod common;

use common::env;
use rally_core::{ArtifactType, IssueFilters, IssueUpdate, NewIssue};

fn task(title: &str, parent: &str) -> NewIssue {
    NewIssue {
        title: title.into(),
        artifact_type: Some(ArtifactType::Task),
        parent: Some(parent.into()),
        ..NewIssue::default()
    }
}

#[tokio::test]
async fn children_are_a_storys_child_stories_defects_and_tasks() {
    let e = env().await;
    let t = e.tracker();
    let story = t.create_issue(NewIssue { title: "Parent story".into(), ..NewIssue::default() }).await.unwrap();
    assert_eq!(t.get_children(&story.reference).await.unwrap(), vec![], "none yet");
    let child = t
        .create_issue(NewIssue {
            title: "Child story".into(),
            parent: Some(story.reference.clone()),
            ..NewIssue::default()
        })
        .await
        .unwrap();
    let defect = t
        .create_issue(NewIssue {
            title: "Found while testing".into(),
            artifact_type: Some(ArtifactType::Defect),
            parent: Some(story.reference.clone()),
            ..NewIssue::default()
        })
        .await
        .unwrap();
    let t1 = t.create_issue(task("First task", &story.reference)).await.unwrap();
    let t2 = t.create_issue(task("Second task", &story.reference)).await.unwrap();
    let defect_task = t.create_issue(task("Defect task", &defect.reference)).await.unwrap();
    let got = t.get_children(&story.reference).await.unwrap();
    let refs: Vec<&str> = got.iter().map(|i| i.reference.as_str()).collect();
    assert_eq!(refs, [&child.reference, &defect.reference, &t1.reference, &t2.reference]);
    assert!(got.iter().all(|i| i.parent_ref.as_deref() == Some(story.reference.as_str())));
    // Another tracker (nothing cached) sees the same; a defect's children are its tasks.
    let cold = e.cold_tracker();
    assert_eq!(cold.get_children(&story.id).await.unwrap(), got);
    let of_defect = cold.get_children(&defect.reference).await.unwrap();
    assert_eq!(of_defect.iter().map(|i| i.reference.as_str()).collect::<Vec<_>>(), [defect_task.reference.as_str()]);
    assert_eq!(cold.get_children(&t1.reference).await.unwrap(), vec![]);
    let e404 = cold.get_children("US999999").await.unwrap_err();
    assert_eq!(e404.code(), "RALLY_NOT_FOUND");
}

#[tokio::test]
async fn attachments_list_and_read_with_a_cap_checked_before_the_content() {
    let e = env().await;
    let t = e.tracker();
    let list = t.list_attachments("de1").await.unwrap();
    let names: Vec<(&str, &str)> = list.iter().map(|a| (a.name.as_str(), a.content_type.as_str())).collect();
    assert_eq!(names, [("checkout-error.log", "text/plain"), ("screenshot.png", "image/png")]);
    assert!(list.iter().all(|a| a.issue_id == "DE1" && a.author.is_some() && !a.created_at.is_empty()));
    assert_eq!(list[0].description.as_deref(), Some("Server log of the failed checkout"));

    let log = t.get_attachment(&list[0].id, None).await.unwrap();
    let text = String::from_utf8(log.content).unwrap();
    assert!(text.contains("payment gateway timed out"), "{text}");
    assert_eq!(text.len() as u64, list[0].size);
    let png = t.get_attachment(&format!("/attachment/{}", list[1].id), None).await.unwrap();
    assert_eq!(&png.content[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(png.content.len() as u64, png.attachment.size);

    e.reset_stats().await;
    let over = t.get_attachment(&list[1].id, Some(10)).await.unwrap_err();
    assert_eq!(over.code(), "RALLY_INVALID_INPUT");
    assert!(over.to_string().contains("maxBytes") && over.to_string().contains("screenshot.png"), "{over}");
    let routes = e.routes().await;
    assert!(routes.iter().all(|(r, _)| !r.to_ascii_lowercase().contains("attachmentcontent")), "{routes:?}");
    assert_eq!(t.get_attachment("US1", None).await.unwrap_err().code(), "RALLY_INVALID_INPUT");
    assert_eq!(t.get_attachment("1", None).await.unwrap_err().code(), "RALLY_NOT_FOUND");
    assert_eq!(t.list_attachments("US1").await.unwrap(), vec![], "an item without attachments");
}

#[tokio::test]
async fn blocked_with_a_reason_and_unblocked() {
    let e = env().await;
    let t = e.tracker();
    let story = t.create_issue(NewIssue { title: "Blockable".into(), ..NewIssue::default() }).await.unwrap();
    assert_eq!((story.blocked, story.blocked_reason.as_deref()), (Some(false), None));
    let reason = IssueUpdate { blocked_reason: Some("Waiting on the vendor".into()), ..IssueUpdate::default() };
    let b = t.update_issue(&story.reference, reason).await.unwrap();
    assert_eq!((b.blocked, b.blocked_reason.as_deref()), (Some(true), Some("Waiting on the vendor")));
    let raw = e.raw_get(&format!("hierarchicalrequirement/{}?fetch=Blocked,BlockedReason", story.id)).await;
    assert_eq!(raw["HierarchicalRequirement"]["BlockedReason"], "Waiting on the vendor", "stored in Rally");
    let read = e.cold_tracker().get_issue(&story.reference).await.unwrap();
    assert_eq!((read.blocked, read.blocked_reason.as_deref()), (Some(true), Some("Waiting on the vendor")));
    let u =
        t.update_issue(&story.reference, IssueUpdate { blocked: Some(false), ..IssueUpdate::default() }).await.unwrap();
    assert_eq!((u.blocked, u.blocked_reason), (Some(false), None));

    e.reset_stats().await;
    let f = t.update_issue("F1", IssueUpdate { blocked: Some(true), ..IssueUpdate::default() }).await.unwrap_err();
    assert_eq!(f.code(), "RALLY_INVALID_INPUT");
    assert!(f.to_string().contains("blocked"), "{f}");
    let both = IssueUpdate { blocked: Some(false), blocked_reason: Some("x".into()), ..IssueUpdate::default() };
    assert!(t.update_issue("US1", both).await.unwrap_err().to_string().contains("blockedReason"));
    assert_eq!(e.total().await, 0, "refused before any request");
    let features = t.list_issues(IssueFilters { include_closed: Some(true), ..IssueFilters::default() }).await.unwrap();
    assert!(features.iter().filter(|i| i.artifact_type == ArtifactType::Feature).all(|i| i.blocked.is_none()));
}

#[tokio::test]
async fn task_hours_are_set_on_create_and_update_and_read_back() {
    let e = env().await;
    let t = e.tracker();
    let story = t.create_issue(NewIssue { title: "Has tasks".into(), ..NewIssue::default() }).await.unwrap();
    assert_eq!((story.estimate, story.to_do, story.actuals), (None, None, None), "a story has no task hours");
    let created =
        t.create_issue(NewIssue { estimate: Some(6.0), ..task("Estimated", &story.reference) }).await.unwrap();
    assert_eq!((created.estimate, created.to_do, created.actuals), (Some(6.0), Some(6.0), Some(0.0)));
    let hours = IssueUpdate { to_do: Some(2.5), actuals: Some(4.0), ..IssueUpdate::default() };
    let u = t.update_issue(&created.reference, hours).await.unwrap();
    assert_eq!((u.estimate, u.to_do, u.actuals), (Some(6.0), Some(2.5), Some(4.0)));
    let listed =
        t.list_issues(IssueFilters { query: Some("Estimated".into()), ..IssueFilters::default() }).await.unwrap();
    let mine = listed.iter().find(|i| i.reference == created.reference).expect("listed");
    assert_eq!((mine.estimate, mine.to_do, mine.actuals), (Some(6.0), Some(2.5), Some(4.0)));

    e.reset_stats().await;
    let on_story = IssueUpdate { estimate: Some(1.0), ..IssueUpdate::default() };
    let err = t.update_issue(&story.reference, on_story).await.unwrap_err();
    assert!(err.to_string().starts_with("Invalid estimate: a UserStory has no task hours"), "{err}");
    let negative = IssueUpdate { to_do: Some(-1.0), ..IssueUpdate::default() };
    assert!(t.update_issue(&created.reference, negative).await.unwrap_err().to_string().contains("toDo"));
    assert_eq!(e.total().await, 0, "refused before any request");
}
