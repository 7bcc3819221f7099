// Table rows are tuples on purpose: one line per case reads better than a struct per table.
#![allow(clippy::type_complexity)]

use super::*;
use crate::model::IssueState;
use crate::rally_types::{RallyArtifact, RallyPost};

const WEB: &str = "https://rally1.rallydev.com";

fn fixture(name: &str) -> serde_json::Value {
    let path = format!("{}/../../fixtures/wsapi/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn results(v: &serde_json::Value) -> Vec<RallyArtifact> {
    serde_json::from_value(v["QueryResult"]["Results"].clone()).unwrap()
}

fn normalise(a: &RallyArtifact) -> Issue {
    let orders = StateOrders::default();
    issue_from_rally(a, &NormalizeCtx { web_base: WEB, orders: &orders }).unwrap()
}

#[test]
fn story_with_fetch_true() {
    let arts = results(&fixture("query-hierarchicalrequirement-fetch-true.json"));
    assert_eq!(arts.len(), 1);
    let i = normalise(&arts[0]);
    assert_eq!(i.id, "75419335752");
    assert_eq!(i.reference, "US451560");
    assert_eq!(i.title, "Setup Nexus 3.1 OSS version in sandbox");
    assert!(i.description.starts_with("Person A requested that I setup Nexus 3 OSS version so"), "{}", i.description);
    assert_eq!(i.state, IssueState::Closed);
    assert_eq!(i.rally_state.as_deref(), Some("Accepted"));
    assert_eq!(i.url, "https://rally1.rallydev.com/#/detail/userstory/75419335752");
    assert_eq!(i.assignee.as_deref(), Some("User.One"));
    assert!(i.labels.is_empty());
    // Parent ref without a nested ObjectID: the id comes from its _ref.
    assert_eq!(i.parent_id.as_deref(), Some("74170175696"));
    assert_eq!(i.parent_ref, None);
    assert_eq!(i.priority, None);
    assert_eq!(i.due_date, None);
    assert_eq!(i.created_at, "2016-11-15T15:58:19.045Z");
    assert_eq!(i.updated_at, "2017-03-16T17:23:06.674Z");
    assert_eq!(i.artifact_type, ArtifactType::UserStory);
    let js = serde_json::to_value(&i).unwrap();
    assert!(js["labels"].as_array().unwrap().iter().all(|l| l.is_string()));
}

#[test]
fn tasks_with_nested_fetch() {
    let arts = results(&fixture("query-task-nested-fetch.json"));
    let got: Vec<(String, String, IssueState, Option<String>, Option<String>, Option<String>)> = arts
        .iter()
        .map(normalise)
        .map(|i| (i.reference, i.id, i.state, i.assignee, i.parent_id, i.parent_ref))
        .collect();
    let s = |x: &str| Some(x.to_string());
    assert_eq!(
        got,
        vec![
            (
                "TA41951".into(),
                "54671199301".into(),
                IssueState::InProgress,
                s("User One"),
                s("53771486697"),
                s("US36766")
            ),
            (
                "TA42056".into(),
                "54673426291".into(),
                IssueState::Closed,
                s("User Three"),
                s("53771486697"),
                s("US36766")
            ),
            (
                "TA42057".into(),
                "54673426983".into(),
                IssueState::Closed,
                s("User Three"),
                s("53771486697"),
                s("US36766")
            ),
        ]
    );
    let first = normalise(&arts[0]);
    assert_eq!(first.url, "https://rally1.rallydev.com/#/detail/task/54671199301");
    assert_eq!(first.title, "QA"); // no Name fetched: _refObjectName stands in
    assert_eq!(first.rally_state.as_deref(), Some("In-Progress"));
    assert_eq!(first.created_at, ""); // CreationDate was not in this fetch
}

#[test]
fn defect_from_update_result() {
    let v = fixture("update-defect-operationresult-warnings.json");
    let a: RallyArtifact = serde_json::from_value(v["OperationResult"]["Object"].clone()).unwrap();
    let i = normalise(&a);
    assert_eq!(i.id, "838568308171");
    assert_eq!(i.reference, "DE201");
    assert_eq!(i.description, "This is a UI - Automation config issue");
    assert_eq!(i.state, IssueState::Open);
    assert_eq!(i.rally_state.as_deref(), Some("Defined"));
    assert_eq!(i.priority, None); // "None"
    assert_eq!(i.due_date, None);
    assert_eq!(i.assignee, None);
    assert_eq!(i.parent_id, None);
    assert_eq!(i.url, "https://rally1.rallydev.com/#/detail/defect/838568308171");
    assert_eq!(i.created_at, "2025-12-04T08:13:23.201Z");
    assert_eq!(i.artifact_type, ArtifactType::Defect);
}

#[test]
fn synthetic_shapes() {
    // Shapes the recorded fixtures lack: tag names, a Feature's State object, a closed defect.
    let feature: RallyArtifact = serde_json::from_str(
        r#"{
        "_ref": "http://127.0.0.1:9/slm/webservice/v2.0/portfolioitem/feature/5",
        "_type": "PortfolioItem/Feature", "FormattedID": "F5", "Name": "Big",
        "Description": "<div>one</div><div><b>two</b></div>",
        "State": {"_ref": "/state/1", "_refObjectName": "Developing", "_type": "State"},
        "PlannedEndDate": "2026-03-01T00:00:00.000Z",
        "Parent": {"_ref": "/portfolioitem/initiative/9", "FormattedID": "I9", "_type": "PortfolioItem/Initiative"},
        "Tags": {"_tagsNameArray": [{"Name": "a & b", "_ref": "/tag/1"}, {"Name": "x", "_ref": "/tag/2"}], "Count": 0},
        "Unknown": {"deep": [1, 2]}, "c_Custom": null
    }"#,
    )
    .unwrap();
    let i = normalise(&feature);
    assert_eq!(i.id, "5");
    assert_eq!(i.state, IssueState::InProgress);
    assert_eq!(i.rally_state.as_deref(), Some("Developing"));
    assert_eq!(i.labels, vec!["a & b".to_string(), "x".to_string()]);
    assert_eq!(i.due_date.as_deref(), Some("2026-03-01T00:00:00.000Z"));
    assert_eq!((i.parent_id.as_deref(), i.parent_ref.as_deref()), (Some("9"), Some("I9")));
    assert_eq!(i.description, "one\n\n**two**");
    assert_eq!(i.url, "https://rally1.rallydev.com/#/detail/portfolioitem/feature/5");

    let defect: RallyArtifact = serde_json::from_str(
        r#"{
        "_type": "Defect", "ObjectID": 7, "FormattedID": "DE7", "ScheduleState": "Defined", "State": "Closed",
        "Priority": "High Attention", "TargetDate": "2026-01-02T00:00:00.000Z",
        "Requirement": {"_ref": "/hierarchicalrequirement/3", "ObjectID": 3, "FormattedID": "US3"}
    }"#,
    )
    .unwrap();
    let i = normalise(&defect);
    assert_eq!((i.state, i.rally_state.as_deref(), i.priority), (IssueState::Closed, Some("Closed"), Some(2)));
    assert_eq!((i.parent_id.as_deref(), i.parent_ref.as_deref()), (Some("3"), Some("US3")));

    let story: RallyArtifact = serde_json::from_str(
        r#"{
        "_type": "HierarchicalRequirement", "ObjectID": 8, "FormattedID": "US8", "Parent": null,
        "PortfolioItem": {"_ref": "https://h/slm/webservice/v2.0/portfolioitem/feature/4", "FormattedID": "F4"},
        "Priority": "High", "State": 12
    }"#,
    )
    .unwrap();
    let i = normalise(&story);
    assert_eq!((i.parent_id.as_deref(), i.parent_ref.as_deref()), (Some("4"), Some("F4")));
    assert_eq!(i.priority, None); // only defects carry a priority
}

#[test]
fn normalisation_failures() {
    let orders = StateOrders::default();
    let ctx = NormalizeCtx { web_base: WEB, orders: &orders };
    let cases = [
        (r#"{"_type": "TestCase", "ObjectID": 1, "FormattedID": "TC1"}"#, "unsupported artifact type TestCase"),
        (r#"{"ObjectID": 1, "FormattedID": "US1"}"#, "neither _type"),
        (r#"{"_type": "Defect", "FormattedID": "DE1"}"#, "no ObjectID"),
        (r#"{"_type": "Defect", "ObjectID": 1}"#, "no FormattedID"),
    ];
    for (json, needle) in cases {
        let a: RallyArtifact = serde_json::from_str(json).unwrap();
        let e = issue_from_rally(&a, &ctx).unwrap_err();
        assert!(e.contains(needle), "{json}: {e}");
    }
    // The type can come from the _ref when _type was not fetched.
    let a: RallyArtifact = serde_json::from_str(r#"{"_ref": "/defect/3", "FormattedID": "DE3"}"#).unwrap();
    assert_eq!(issue_from_rally(&a, &ctx).unwrap().artifact_type, ArtifactType::Defect);
}

#[test]
fn comments() {
    let p: RallyPost = serde_json::from_str(
        r#"{
        "_ref": "https://h/slm/webservice/v2.0/conversationpost/11", "ObjectID": 11,
        "Text": "<p>Looks <b>good</b> &amp; done</p>", "PostNumber": 2,
        "User": {"_ref": "/user/1", "_refObjectName": "User One"},
        "Artifact": {"_ref": "/defect/7", "FormattedID": "DE7"},
        "CreationDate": "2026-01-01T10:00:00.000Z"
    }"#,
    )
    .unwrap();
    let c = comment_from_rally(&p, "DE7").unwrap();
    assert_eq!(c.id, "11");
    assert_eq!(c.issue_id, "DE7");
    assert_eq!(c.body, "Looks **good** & done");
    assert_eq!(c.author, "User One");
    assert_eq!(c.created_at, "2026-01-01T10:00:00.000Z");
    assert_eq!(c.updated_at, c.created_at);

    let no_id: RallyPost = serde_json::from_str(r#"{"Text": "x"}"#).unwrap();
    assert!(comment_from_rally(&no_id, "DE7").is_err());
    let by_ref: RallyPost = serde_json::from_str(r#"{"_ref": "/conversationpost/5", "LastUpdateDate": "b"}"#).unwrap();
    let c = comment_from_rally(&by_ref, "US1").unwrap();
    assert_eq!((c.id.as_str(), c.body.as_str(), c.author.as_str(), c.updated_at.as_str()), ("5", "", "", "b"));
}
