use super::*;
use crate::rally_types::{RallyArtifact, RallyRef};
use serde::de::IgnoredAny;

macro_rules! fixture {
    ($name:literal) => {
        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/wsapi/", $name))
    };
}

#[derive(Debug, serde::Deserialize)]
struct Named {
    #[serde(rename = "_ref")]
    r#ref: Option<String>,
    #[serde(rename = "ObjectID")]
    object_id: Option<u64>,
    #[serde(rename = "Name")]
    name: Option<String>,
}

#[test]
fn query_results_parse_with_float_totals_and_fetch_lists() {
    let q: QueryEnvelope<RallyArtifact> =
        serde_json::from_slice(fixture!("query-hierarchicalrequirement-fetch-true.json")).unwrap();
    let r = q.query_result;
    assert!(r.errors.is_empty());
    assert_eq!(r.total(), 1);
    assert_eq!(r.results[0].formatted_id.as_deref(), Some("US451560"));
    assert_eq!(r.results[0].object_id, Some(75419335752));

    let q: QueryEnvelope<RallyArtifact> =
        serde_json::from_slice(fixture!("query-hierarchicalrequirement-fetch-list.json")).unwrap();
    assert_eq!(q.query_result.total(), 8);
    assert_eq!(q.query_result.start_index, Some(1.0));
    assert!(q.query_result.results.iter().all(|a| a.object_id.is_none() && a.r#ref.is_some()));

    let q: QueryEnvelope<RallyArtifact> = serde_json::from_slice(fixture!("query-task-nested-fetch.json")).unwrap();
    let wp: &RallyRef = q.query_result.results[0].work_product.as_ref().unwrap();
    assert!(wp.formatted_id.is_some() && wp.object_id.is_some());

    let q: QueryEnvelope<IgnoredAny> = serde_json::from_slice(fixture!("query-defect-empty.json")).unwrap();
    assert_eq!((q.query_result.total(), q.query_result.results.len()), (0, 0));
    let q: QueryEnvelope<Named> =
        serde_json::from_slice(fixture!("query-subscription-workspaces-collection.json")).unwrap();
    assert!(!q.query_result.results.is_empty());
    assert!(q.query_result.results.iter().all(|w| w.name.is_some()));
    let q: QueryEnvelope<Named> = serde_json::from_slice(fixture!("query-iteration-current.json")).unwrap();
    assert_eq!(q.query_result.results.len(), 1);
}

#[test]
fn single_object_gets_pick_the_only_key() {
    match serde_json::from_slice::<GetEnvelope<Named>>(fixture!("get-testcase.json")).unwrap() {
        GetEnvelope::Object { type_name, object, errors, warnings } => {
            assert_eq!(type_name, "TestCase");
            assert_eq!(object.object_id, Some(99091370752));
            assert!(errors.is_empty() && warnings.is_empty());
        }
        other => panic!("{other:?}"),
    }
    match serde_json::from_slice::<GetEnvelope<Named>>(fixture!("get-subscription.json")).unwrap() {
        GetEnvelope::Object { type_name, object, .. } => {
            assert_eq!(type_name, "Subscription");
            assert!(object.r#ref.unwrap().ends_with("/subscription/15647602362"));
        }
        other => panic!("{other:?}"),
    }
    match serde_json::from_slice::<GetEnvelope<Named>>(fixture!("error-could-not-read-operationresult.json")).unwrap() {
        GetEnvelope::Failed(r) => assert!(is_not_found_text(&r.errors[0])),
        other => panic!("{other:?}"),
    }
}

#[test]
fn create_and_operation_results() {
    let c: CreateEnvelope<Named> = serde_json::from_slice(fixture!("create-milestone-createresult.json")).unwrap();
    assert!(c.create_result.errors.is_empty());
    assert_eq!(c.create_result.object.unwrap().object_id, Some(113445510236));
    let c: CreateEnvelope<Named> =
        serde_json::from_slice(fixture!("create-builddefinition-createresult.json")).unwrap();
    assert!(c.create_result.object.unwrap().object_id.is_some());

    let c: CreateEnvelope<Named> =
        serde_json::from_slice(fixture!("create-error-parse-date-with-warning.json")).unwrap();
    let r = c.create_result;
    assert!(r.object.is_none());
    assert_eq!(r.warnings.len(), 1);
    let e = classify_errors(&Op::new("createIssue", None), &r.errors);
    assert_eq!(e.code(), "RALLY_REJECTED");
    assert!(e.to_string().contains("Cannot convert"), "{e}");

    let c: CreateEnvelope<Named> = serde_json::from_slice(fixture!("create-error-validation.json")).unwrap();
    let e = classify_errors(&Op::new("createIssue", None), &c.create_result.errors);
    match &e {
        RallyError::Rejected { errors, .. } => assert_eq!(errors.len(), 3),
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("MICS Category should not be null"));

    // Warnings on success are not failures.
    let u: OperationEnvelope<RallyArtifact> =
        serde_json::from_slice(fixture!("update-defect-operationresult-warnings.json")).unwrap();
    let r = u.operation_result;
    assert!(r.errors.is_empty());
    assert_eq!(r.warnings.len(), 1);
    assert_eq!(r.object.unwrap().formatted_id.as_deref(), Some("DE201"));
}

#[test]
fn error_texts_are_classified() {
    let op = Op::new("updateIssue", Some("DE7"));
    let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(classify_errors(&op, &v(&["Cannot find object to read"])), RallyError::NotFound { id: "DE7".into() });
    assert_eq!(
        classify_errors(&op, &v(&["Could not read: Could not read Defect 5 to update."])).code(),
        "RALLY_NOT_FOUND"
    );
    assert_eq!(classify_errors(&op, &v(&["Could not read referenced object /user/9"])).code(), "RALLY_REJECTED");
    assert_eq!(classify_errors(&op, &v(&["Not authorized to perform action: Invalid key"])).code(), "RALLY_AUTH");
    assert_eq!(
        classify_errors(&op, &v(&["Not authorized to perform action: Create PullRequest"])).code(),
        "RALLY_REJECTED"
    );
    assert_eq!(
        classify_errors(&op, &v(&["Validation error: Defect.Name should not be null"])).code(),
        "RALLY_REJECTED"
    );
    // No issue to name: a missing lookup object is a rejection, not "issue not found".
    assert_eq!(classify_errors(&Op::new("lookup", None), &v(&["Cannot find object to read"])).code(), "RALLY_REJECTED");
    let e = classify_lookup_errors(&op, &v(&["Cannot find object to read"]));
    assert_eq!(e.code(), "RALLY_REJECTED");
    assert!(e.to_string().contains("updateIssue DE7"), "{e}");
    assert_eq!(
        classify_lookup_errors(&op, &v(&["Not authorized to perform action: Invalid key"])).code(),
        "RALLY_AUTH"
    );
}
