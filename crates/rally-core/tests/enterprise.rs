//! Custom fields (schema discovery, read, write, required on create) and native PullRequest
//! links, against the simulator over HTTP.

mod common;
use common::*;
use rally_core::{IssueFilters, IssueUpdate, NewIssue, Tracker, TrackerConfig};
use rally_sim::SimConfig;
use serde_json::{json, Map, Value};

const TEAM: &str = "HierarchicalRequirement:c_Team:string:required:allowed=Red,Blue";
const MICS: &str = "HierarchicalRequirement:c_MICSCategory:string:display=MICS Category:max=12";
const POINTS: &str = "Defect:c_Points:integer";

async fn enterprise() -> Env {
    env_with(SimConfig {
        api_key: KEY.into(),
        custom_fields: vec![TEAM.into(), MICS.into(), POINTS.into()],
        ..Default::default()
    })
    .await
}

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

fn posts_routes(routes: &[(String, u64)], needle: &str) -> u64 {
    routes.iter().filter(|(r, _)| r.contains(needle)).map(|(_, n)| n).sum()
}

#[tokio::test]
async fn a_create_missing_a_required_custom_field_is_refused_before_any_write_and_passes_with_create_defaults() {
    let e = enterprise().await;
    let t = Tracker::new(TrackerConfig { custom_fields: Some(json!("all")), ..e.config() }).unwrap();
    e.reset_stats().await;
    let err = t.create_issue(NewIssue { title: "needs a team".into(), ..Default::default() }).await.unwrap_err();
    assert_eq!(err.code(), "RALLY_INVALID_INPUT", "{err}");
    assert_eq!(err.details()["argument"], "customFields.Team");
    assert!(err.to_string().contains("Red, Blue"), "{err}");
    let routes = e.routes().await;
    assert_eq!(posts_routes(&routes, "POST"), 0, "no write: {routes:?}");
    // The schema is cached: refusing again costs nothing at all.
    e.reset_stats().await;
    let err = t
        .create_issue(NewIssue {
            title: "x".into(),
            custom_fields: Some(obj(json!({"Team": "Green"}))),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("\"Green\" is not an allowed value") && err.to_string().contains("Red, Blue"),
        "{err}"
    );
    let err = t
        .create_issue(NewIssue {
            title: "x".into(),
            custom_fields: Some(obj(json!({"Colour": "x"}))),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Colour") && err.to_string().contains("MICS Category"), "{err}");
    assert_eq!(e.total().await, 0);
    assert_eq!(e.count_named("hierarchicalrequirement", "needs a team").await, 0);

    let with_defaults =
        Tracker::new(TrackerConfig { create_defaults: Some(json!({"UserStory": {"Team": "Blue"}})), ..e.config() })
            .unwrap();
    let made = with_defaults.create_issue(NewIssue { title: "has a team".into(), ..Default::default() }).await.unwrap();
    let stored = e.raw_get(&format!("hierarchicalrequirement/{}?fetch=c_Team", made.id)).await;
    assert_eq!(stored["HierarchicalRequirement"]["c_Team"], "Blue");
    // A value passed on the call wins over the default.
    let made = with_defaults
        .create_issue(NewIssue {
            title: "red team".into(),
            custom_fields: Some(obj(json!({"c_Team": "Red", "MICSCategory": "Ops"}))),
            ..Default::default()
        })
        .await
        .unwrap();
    let stored = e.raw_get(&format!("hierarchicalrequirement/{}?fetch=c_Team,c_MICSCategory", made.id)).await;
    assert_eq!(stored["HierarchicalRequirement"]["c_Team"], "Red");
    assert_eq!(stored["HierarchicalRequirement"]["c_MICSCategory"], "Ops");
    // Other types have their own required fields (none here): a defect needs no team.
    with_defaults
        .create_issue(NewIssue {
            title: "a defect".into(),
            artifact_type: Some(rally_core::ArtifactType::Defect),
            ..Default::default()
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn a_tracker_told_nothing_of_custom_fields_still_refuses_a_create_missing_a_required_one_before_any_write() {
    let e = env_with(SimConfig {
        api_key: KEY.into(),
        custom_fields: vec![TEAM.into(), MICS.into(), POINTS.into(), "Defect:c_Region:string:allowed=EU,US".into()],
        ..Default::default()
    })
    .await;
    let t = e.tracker();
    e.reset_stats().await;
    let err = t.create_issue(NewIssue { title: "no team".into(), ..Default::default() }).await.unwrap_err();
    assert_eq!(err.code(), "RALLY_INVALID_INPUT", "{err}");
    assert_eq!(err.details()["argument"], "customFields.Team");
    let m = err.to_string();
    assert!(m.contains("Red, Blue") && m.contains("createDefaults.UserStory"), "{m}");
    // One schema read and one read of Team's allowed values; no write. Region's values (a
    // drop-down, not required) are not read.
    let routes = e.routes().await;
    assert_eq!(posts_routes(&routes, "POST"), 0, "no write: {routes:?}");
    assert_eq!(posts_routes(&routes, "/slm/schema/"), 1, "{routes:?}");
    assert_eq!(posts_routes(&routes, "/AllowedValues"), 1, "{routes:?}");
    assert_eq!(e.total().await, 2, "{routes:?}");
    assert_eq!(e.count_named("hierarchicalrequirement", "no team").await, 0);

    // The schema is kept: the next create costs its own request and nothing more, and a type
    // without required custom fields passes.
    e.reset_stats().await;
    t.create_issue(NewIssue {
        title: "a defect".into(),
        artifact_type: Some(rally_core::ArtifactType::Defect),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(e.total().await, 1, "{:?}", e.routes().await);
}

#[tokio::test]
async fn where_the_schema_cannot_be_read_a_create_warns_once_and_rally_answers() {
    let e = enterprise().await;
    // A proxy's sign-in page where the schema service should be.
    e.faults("html@GET /slm/schema/*").await;
    let t = e.tracker();
    for title in ["no team", "no team again"] {
        e.reset_stats().await;
        let err = t.create_issue(NewIssue { title: title.into(), ..Default::default() }).await.unwrap_err();
        assert_eq!(err.code(), "RALLY_REJECTED", "{err}");
        assert!(err.to_string().contains("HierarchicalRequirement.Team should not be null"), "{err}");
    }
    let warnings: Vec<String> = e.warnings().into_iter().filter(|w| w.contains("schema")).collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("left to Rally"), "{warnings:?}");
    // The read is not tried again by this tracker: the second create was one request.
    let routes = e.routes().await;
    assert_eq!(posts_routes(&routes, "/slm/schema/"), 0, "{routes:?}");
    assert_eq!(e.total().await, 1, "{routes:?}");
    e.clear_faults().await;
}

#[tokio::test]
async fn custom_fields_round_trip_by_display_name() {
    let e = enterprise().await;
    let t = Tracker::new(TrackerConfig {
        custom_fields: Some(json!(["Team", "MICS Category", "Points"])),
        create_defaults: Some(json!({"UserStory": {"Team": "Red"}})),
        ..e.config()
    })
    .unwrap();
    let made = t
        .create_issue(NewIssue {
            title: "round trip".into(),
            custom_fields: Some(obj(json!({"MICS Category": "Payments"}))),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(Value::Object(made.custom_fields.clone().unwrap()), json!({"Team": "Red", "MICS Category": "Payments"}));
    let updated = t
        .update_issue(
            &made.reference,
            IssueUpdate {
                custom_fields: Some(obj(json!({"Team": "Blue", "MICS Category": null}))),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(Value::Object(updated.custom_fields.unwrap()), json!({"Team": "Blue", "MICS Category": null}));
    let err = t
        .update_issue(
            &made.reference,
            IssueUpdate { custom_fields: Some(obj(json!({"Team": null}))), ..Default::default() },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "RALLY_INVALID_INPUT", "{err}");
    let got = t.get_issue(&made.reference).await.unwrap();
    assert_eq!(got.custom_fields.as_ref().unwrap()["Team"], "Blue");
    let listed = t.list_issues(IssueFilters { query: Some("round trip".into()), ..Default::default() }).await.unwrap();
    let mine = listed.iter().find(|i| i.id == made.id).expect("listed");
    assert_eq!(mine.custom_fields.as_ref().unwrap()["Team"], "Blue");
    // A fresh tracker with the same options reads the same values.
    let cold = Tracker::new(TrackerConfig { custom_fields: Some(json!("all")), ..e.config() }).unwrap();
    let again = cold.get_issue(&made.id).await.unwrap();
    assert_eq!(Value::Object(again.custom_fields.unwrap()), json!({"Team": "Blue", "MICS Category": null}));
    // A name no type has is refused, listing the ones there are.
    let bad = Tracker::new(TrackerConfig { custom_fields: Some(json!(["Colour"])), ..e.config() }).unwrap();
    let err = bad.get_issue(&made.id).await.unwrap_err();
    assert_eq!(err.code(), "RALLY_INVALID_INPUT");
    assert!(err.to_string().contains("Colour") && err.to_string().contains("MICS Category"), "{err}");
}

#[tokio::test]
async fn the_default_list_costs_what_it_did() {
    let e = enterprise().await;
    let t = e.tracker();
    t.list_issues(IssueFilters::default()).await.unwrap();
    e.reset_stats().await;
    let plain = t.list_issues(IssueFilters::default()).await.unwrap();
    let routes = e.routes().await;
    assert!(routes.iter().all(|(r, _)| !r.contains("schema") && !r.contains("pullrequest")), "{routes:?}");
    assert_eq!(e.total().await, 4, "{routes:?}");
    assert!(plain.iter().all(|i| i.custom_fields.is_none() && i.pull_requests.is_none()));
    // With customFields the first list reads the schema once; later lists cost the same as before.
    let c = Tracker::new(TrackerConfig { custom_fields: Some(json!("all")), ..e.config() }).unwrap();
    c.list_issues(IssueFilters::default()).await.unwrap();
    e.reset_stats().await;
    let listed = c.list_issues(IssueFilters::default()).await.unwrap();
    assert_eq!(e.total().await, 4, "{:?}", e.routes().await);
    assert!(listed.iter().all(|i| i.custom_fields.is_some()));
}

#[tokio::test]
async fn link_pr_creates_one_native_pull_request_per_url_by_default() {
    let e = env().await;
    let t = e.tracker();
    let story = t.create_issue(NewIssue { title: "native".into(), ..Default::default() }).await.unwrap();
    let url = "https://github.com/acme/shop/pull/42";
    t.link_pr(&story.reference, url).await.unwrap();
    t.link_pr(&story.reference, "HTTPS://GitHub.com/acme/shop/pull/42/").await.unwrap();
    let other = Tracker::new(TrackerConfig { pr_links: Some("pullRequest".into()), ..e.config() }).unwrap();
    other.link_pr(&story.id, url).await.unwrap();
    e.tracker().link_pr(&story.id, url).await.unwrap();
    let futs: Vec<_> = (0..6)
        .map(|_| {
            let t = Tracker::new(TrackerConfig { pr_links: Some("pullRequest".into()), ..e.config() }).unwrap();
            let r = story.reference.clone();
            tokio::spawn(async move { t.link_pr(&r, "https://github.com/acme/shop/pull/4").await })
        })
        .collect();
    for f in futs {
        f.await.unwrap().unwrap();
    }
    let prs = e.raw_get(&format!("pullrequest?query=(Artifact = /hierarchicalrequirement/{})&fetch=Url,Name,ExternalID,ExternalFormattedId&order=ObjectID", story.id)).await;
    let rows = prs["QueryResult"]["Results"].as_array().unwrap().clone();
    let urls: Vec<&str> = rows.iter().map(|r| r["Url"].as_str().unwrap()).collect();
    assert_eq!(urls, [url, "https://github.com/acme/shop/pull/4"]);
    assert_eq!(rows[0]["Name"], "acme/shop#42");
    assert_eq!(rows[0]["ExternalFormattedId"], "42");
    // pullRequest alone writes no post.
    assert!(t.get_comments(&story.reference).await.unwrap().is_empty());
    let got = t.get_issue(&story.reference).await.unwrap();
    assert_eq!(got.pull_requests.unwrap(), [url, "https://github.com/acme/shop/pull/4"]);
    // getIssue reads them in the same round trip: one request more, none for 'comment'.
    e.reset_stats().await;
    t.get_issue(&story.reference).await.unwrap();
    assert_eq!(e.total().await, 2);
    let c = Tracker::new(TrackerConfig { pr_links: Some("comment".into()), ..e.config() }).unwrap();
    e.reset_stats().await;
    assert_eq!(c.get_issue(&story.reference).await.unwrap().pull_requests, None);
    assert_eq!(e.total().await, 1);
}

#[tokio::test]
async fn both_links_natively_and_posts_once() {
    let e = env().await;
    let t = Tracker::new(TrackerConfig { pr_links: Some("both".into()), ..e.config() }).unwrap();
    let story = t.create_issue(NewIssue { title: "both".into(), ..Default::default() }).await.unwrap();
    let url = "https://github.com/acme/shop/pull/7";
    t.link_pr(&story.reference, url).await.unwrap();
    t.link_pr(&story.reference, url).await.unwrap();
    let comments = t.get_comments(&story.reference).await.unwrap();
    assert_eq!(comments.len(), 1);
    assert!(comments[0].body.contains(url));
    assert_eq!(t.get_issue(&story.reference).await.unwrap().pull_requests.unwrap(), [url]);
}

#[tokio::test]
async fn a_workspace_without_pull_requests_falls_back_to_one_post_with_a_warning() {
    let e = env_with(SimConfig { api_key: KEY.into(), pull_requests: false, ..Default::default() }).await;
    let t = e.tracker();
    let story = t.create_issue(NewIssue { title: "fallback".into(), ..Default::default() }).await.unwrap();
    let url = "https://github.com/acme/shop/pull/9";
    t.link_pr(&story.reference, url).await.unwrap();
    t.link_pr(&story.reference, url).await.unwrap();
    let comments = t.get_comments(&story.reference).await.unwrap();
    assert_eq!(comments.len(), 1, "{comments:?}");
    assert!(comments[0].body.contains(url));
    let warns = e.warnings();
    assert_eq!(warns.iter().filter(|w| w.contains("PullRequest")).count(), 1, "{warns:?}");
    // Once known, no more PullRequest requests are made.
    e.reset_stats().await;
    t.link_pr(&story.reference, "https://github.com/acme/shop/pull/10").await.unwrap();
    let routes = e.routes().await;
    assert!(routes.iter().all(|(r, _)| !r.contains("pullrequest")), "{routes:?}");
    assert_eq!(t.get_issue(&story.reference).await.unwrap().pull_requests, None);
}

#[tokio::test]
async fn a_pull_request_rally_refuses_is_recorded_as_a_post_with_a_warning() {
    let e = env().await;
    let t = e.tracker();
    let story = t.create_issue(NewIssue { title: "refused once".into(), ..Default::default() }).await.unwrap();
    e.faults("errors=You do not have permission to create a PullRequest here@POST */pullrequest/create#next=1").await;
    let url = "https://github.com/acme/shop/pull/11";
    t.link_pr(&story.reference, url).await.unwrap();
    let comments = t.get_comments(&story.reference).await.unwrap();
    assert_eq!(comments.len(), 1, "{comments:?}");
    assert!(comments[0].body.contains(url));
    let warns = e.warnings();
    assert!(
        warns.iter().any(|w| w.contains("You do not have permission") && w.contains("discussion post")),
        "{warns:?}"
    );
    // The type itself was not refused: the next link is native again.
    let next = "https://github.com/acme/shop/pull/12";
    t.link_pr(&story.reference, next).await.unwrap();
    assert_eq!(t.get_issue(&story.reference).await.unwrap().pull_requests.unwrap(), [next]);
    assert_eq!(t.get_comments(&story.reference).await.unwrap().len(), 1);
}

#[tokio::test]
async fn with_both_a_pull_request_rally_refuses_still_leaves_the_one_post() {
    let e = env().await;
    let t = Tracker::new(TrackerConfig { pr_links: Some("both".into()), ..e.config() }).unwrap();
    let story = t.create_issue(NewIssue { title: "both, refused once".into(), ..Default::default() }).await.unwrap();
    e.faults("errors=You do not have permission to create a PullRequest here@POST */pullrequest/create#next=1").await;
    let url = "https://github.com/acme/shop/pull/13";
    t.link_pr(&story.reference, url).await.unwrap();
    let comments = t.get_comments(&story.reference).await.unwrap();
    assert_eq!(comments.len(), 1, "{comments:?}");
    assert!(comments[0].body.contains(url));
    assert!(e.warnings().iter().any(|w| w.contains("You do not have permission")), "{:?}", e.warnings());
}

#[tokio::test]
async fn bad_options_are_refused_in_the_constructor() {
    let e = env().await;
    for (cfg, arg) in [
        (TrackerConfig { pr_links: Some("native".into()), ..e.config() }, "prLinks"),
        (TrackerConfig { custom_fields: Some(json!("some")), ..e.config() }, "customFields"),
        (TrackerConfig { create_defaults: Some(json!({"Epic": {"a": 1}})), ..e.config() }, "createDefaults.Epic"),
        (TrackerConfig { create_defaults: Some(json!([1])), ..e.config() }, "createDefaults"),
    ] {
        let err = Tracker::new(cfg).err().expect("refused");
        assert_eq!(err.code(), "RALLY_INVALID_INPUT");
        assert_eq!(err.details()["argument"], arg, "{err}");
    }
}

#[tokio::test]
async fn the_doctor_lists_required_custom_fields_and_the_create_defaults_to_paste() {
    let e = enterprise().await;
    let report = rally_core::diagnose(e.config()).await;
    assert_eq!(report.problem, Some(rally_core::Problem::CreatesFail), "{}", report.summary);
    assert!(report.summary.contains("UserStory.Team"), "{}", report.summary);
    let fields = &report.required_custom_fields["UserStory"];
    assert_eq!(fields.len(), 1);
    assert_eq!((fields[0].name.as_str(), fields[0].covered), ("Team", false));
    assert_eq!(fields[0].allowed_values, ["Red", "Blue"]);
    assert_eq!(report.create_defaults.clone().unwrap(), json!({"UserStory": {"Team": "Red"}}));
    assert!(report
        .create_defaults_toml
        .as_deref()
        .unwrap()
        .contains("[trackers.rally.create_defaults.UserStory]\nTeam = \"Red\""));
    let check = report.checks.iter().find(|c| c.name == "customFields").unwrap();
    assert!(!check.ok && check.detail.contains("Red, Blue"), "{check:?}");

    let covered = TrackerConfig { create_defaults: Some(json!({"UserStory": {"Team": "Blue"}})), ..e.config() };
    let report = rally_core::diagnose(covered).await;
    assert_eq!(report.problem, None, "{}", report.summary);
    assert!(report.required_custom_fields["UserStory"][0].covered);
    assert_eq!(report.create_defaults.unwrap(), json!({"UserStory": {"Team": "Blue"}}));

    let plain = env().await;
    let report = rally_core::diagnose(plain.config()).await;
    assert_eq!(report.problem, None, "{}", report.summary);
    assert!(report.required_custom_fields.is_empty() && report.create_defaults.is_none());
}

#[tokio::test]
async fn a_lost_create_with_custom_fields_is_found_by_them_and_not_repeated() {
    let e = enterprise().await;
    let t = Tracker::new(TrackerConfig { create_defaults: Some(json!({"UserStory": {"Team": "Blue"}})), ..e.config() })
        .unwrap();
    e.faults("drop-after@POST */create#next=1").await;
    let made = t.create_issue(NewIssue { title: "lost once, custom".into(), ..Default::default() }).await.unwrap();
    assert_eq!(made.title, "lost once, custom");
    assert_eq!(e.count_named("hierarchicalrequirement", "lost once, custom").await, 1);
    e.clear_faults().await;
    // The lookup compares the custom values too: a look-alike with another Team is not it.
    let other =
        Tracker::new(TrackerConfig { create_defaults: Some(json!({"UserStory": {"Team": "Red"}})), ..e.config() })
            .unwrap();
    e.faults("drop-after@POST */create#next=1").await;
    let again = other.create_issue(NewIssue { title: "lost once, custom".into(), ..Default::default() }).await.unwrap();
    assert_ne!(again.id, made.id);
    let stored = e.raw_get(&format!("hierarchicalrequirement/{}?fetch=c_Team", again.id)).await;
    assert_eq!(stored["HierarchicalRequirement"]["c_Team"], "Red");
}
