//! Names users type that Rally stores otherwise: renamed custom fields (a display name equal to
//! another field's ElementName), display names in any case beyond ASCII, and tag names Rally
//! keeps HTML-escaped. Against the simulator over HTTP.

mod common;
use common::*;
use rally_core::{IssueFilters, IssueUpdate, NewIssue, Tracker, TrackerConfig};
use rally_sim::SimConfig;
use serde_json::{json, Map, Value};

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

/// `c_Category` shown as "Product Area" and `c_ProductArea` shown as "Category": what two
/// renamed fields look like.
async fn renamed() -> Env {
    env_with(SimConfig {
        api_key: KEY.into(),
        custom_fields: vec![
            "HierarchicalRequirement:c_Category:string:display=Product Area".into(),
            "HierarchicalRequirement:c_ProductArea:string:display=Category".into(),
            "HierarchicalRequirement:c_Equipe:string:display=Équipe Été".into(),
        ],
        ..Default::default()
    })
    .await
}

async fn stored(e: &Env, oid: &str) -> Value {
    let v = e.raw_get(&format!("hierarchicalrequirement/{oid}?fetch=c_Category,c_ProductArea,c_Equipe")).await;
    v["HierarchicalRequirement"].clone()
}

#[tokio::test]
async fn a_display_name_wins_over_another_fields_element_name_on_write_and_read() {
    let e = renamed().await;
    let t = Tracker::new(TrackerConfig { custom_fields: Some(json!(["Category"])), ..e.config() }).unwrap();
    let made = t
        .create_issue(NewIssue {
            title: "renamed fields".into(),
            custom_fields: Some(obj(json!({"Category": "shown as Category"}))),
            ..Default::default()
        })
        .await
        .unwrap();
    let s = stored(&e, &made.id).await;
    assert_eq!(s["c_ProductArea"], "shown as Category", "{s}");
    assert_eq!(s["c_Category"], Value::Null, "{s}");
    // Reading "Category" reads the one field of that display name.
    assert_eq!(Value::Object(made.custom_fields.unwrap()), json!({"Category": "shown as Category"}));
    let got = t.get_issue(&made.reference).await.unwrap();
    assert_eq!(Value::Object(got.custom_fields.unwrap()), json!({"Category": "shown as Category"}));
    // The ElementName still names its own field when no display name is equal to it.
    let by_element = t
        .create_issue(NewIssue {
            title: "by element".into(),
            custom_fields: Some(obj(json!({"c_Category": "by element"}))),
            ..Default::default()
        })
        .await
        .unwrap();
    let s = stored(&e, &by_element.id).await;
    assert_eq!((s["c_Category"].clone(), s["c_ProductArea"].clone()), (json!("by element"), Value::Null), "{s}");
}

#[tokio::test]
async fn display_names_match_in_any_case_beyond_ascii() {
    let e = renamed().await;
    let t = Tracker::new(TrackerConfig { custom_fields: Some(json!(["équipe été"])), ..e.config() }).unwrap();
    let made = t
        .create_issue(NewIssue {
            title: "accented".into(),
            custom_fields: Some(obj(json!({"ÉQUIPE ÉTÉ": "Lyon"}))),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(stored(&e, &made.id).await["c_Equipe"], "Lyon");
    assert_eq!(Value::Object(made.custom_fields.unwrap()), json!({"Équipe Été": "Lyon"}));
}

#[tokio::test]
async fn labels_with_ampersand_or_angle_bracket_read_back_as_typed_and_filter_lists() {
    let e = env().await;
    let t = e.tracker();
    let labels = vec!["R&D".to_string(), "a>b".to_string()];
    let made = t
        .create_issue(NewIssue { title: "escaped tags".into(), labels: Some(labels.clone()), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(made.labels, labels);
    // Rally keeps the names escaped: the tags were made once each, under those names.
    let tags = e.raw_get("tag?query=(Name%20%3D%20%22R%26amp%3BD%22)&fetch=Name").await;
    assert_eq!(tags["QueryResult"]["TotalResultCount"], 1, "{tags}");
    assert_eq!(t.get_issue(&made.reference).await.unwrap().labels, labels);
    let cold = e.cold_tracker();
    assert_eq!(cold.get_issue(&made.reference).await.unwrap().labels, labels);
    let listed =
        cold.list_issues(IssueFilters { labels: Some(vec!["R&D".into()]), ..Default::default() }).await.unwrap();
    assert_eq!(listed.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), vec![made.id.as_str()]);
    assert_eq!(listed[0].labels, labels);
    // A cold tracker writing the same label finds the existing tag rather than making another.
    let again = cold
        .create_issue(NewIssue { title: "same tag".into(), labels: Some(vec!["R&D".into()]), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(again.labels, vec!["R&D".to_string()]);
    let tags = e.raw_get("tag?query=(Name%20contains%20%22R%26%22)&fetch=Name").await;
    assert_eq!(tags["QueryResult"]["TotalResultCount"], 1, "{tags}");
}

#[tokio::test]
async fn a_cold_tracker_removes_a_label_with_an_ampersand() {
    let e = env().await;
    let t = e.tracker();
    let made = t
        .create_issue(NewIssue {
            title: "remove escaped".into(),
            labels: Some(vec!["R&D".into(), "keep".into()]),
            ..Default::default()
        })
        .await
        .unwrap();
    // A tracker that never saw the tag looks it up under the name Rally stores (`R&amp;D`).
    let cold = e.cold_tracker();
    let update = IssueUpdate { remove_labels: Some(vec!["R&D".into()]), ..Default::default() };
    let got = cold.update_issue(&made.reference, update).await.unwrap();
    assert_eq!(got.labels, vec!["keep".to_string()]);
    assert_eq!(t.get_issue(&made.reference).await.unwrap().labels, vec!["keep".to_string()]);
}
