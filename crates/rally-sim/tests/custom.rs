//! Custom fields (`--custom-field`) and the PullRequest type, over HTTP.

mod common;
use common::*;
use rally_sim::SimConfig;
use serde_json::{json, Value};

fn errors(v: &Value, key: &str) -> Vec<String> {
    v[key]["Errors"].as_array().unwrap().iter().map(|e| e.as_str().unwrap().to_string()).collect()
}

async fn custom_sim() -> T {
    sim_with(SimConfig {
        api_key: KEY.into(),
        custom_fields: vec![
            "HierarchicalRequirement:c_Team:string:required:allowed=Red,Blue".into(),
            "HierarchicalRequirement:c_MICSCategory:string:display=MICS Category:max=8".into(),
            "Defect:c_Points:integer".into(),
        ],
        ..Default::default()
    })
    .await
}

#[tokio::test]
async fn a_required_custom_field_is_named_by_its_display_name_on_create() {
    let t = custom_sim().await;
    let ws = &t.sim.workspace_ref;
    let v = t
        .post("/hierarchicalrequirement/create", json!({"HierarchicalRequirement": {"Name": "x", "Workspace": ws}}))
        .await;
    assert_eq!(errors(&v, "CreateResult"), ["Validation error: HierarchicalRequirement.Team should not be null"]);
    assert!(v["CreateResult"].get("Object").is_none());
    let v = t
        .post(
            "/hierarchicalrequirement/create?fetch=FormattedID,c_Team,c_MICSCategory",
            json!({"HierarchicalRequirement": {"Name": "x", "c_Team": "Green"}}),
        )
        .await;
    assert_eq!(
        errors(&v, "CreateResult"),
        ["Validation error: HierarchicalRequirement.c_Team contains an invalid value: \"Green\""]
    );
    let v = t
        .post(
            "/hierarchicalrequirement/create?fetch=FormattedID,c_Team,c_MICSCategory",
            json!({"HierarchicalRequirement": {"Name": "x", "c_Team": "Red", "c_MICSCategory": "toolongvalue"}}),
        )
        .await;
    assert!(errors(&v, "CreateResult")[0].contains("exceeds the maximum length of 8"), "{v}");
    let v = t
        .post(
            "/hierarchicalrequirement/create?fetch=FormattedID,c_Team,c_MICSCategory",
            json!({"HierarchicalRequirement": {"Name": "x", "c_Team": "Red", "c_MICSCategory": "Ops"}}),
        )
        .await;
    let o = &v["CreateResult"]["Object"];
    assert_eq!((o["c_Team"].as_str(), o["c_MICSCategory"].as_str()), (Some("Red"), Some("Ops")), "{v}");
    let r = o["_ref"].as_str().unwrap().to_string();
    // Updates of items never given the field are not refused; a value is still checked.
    let seeded = t.query("/hierarchicalrequirement?fetch=ObjectID&pagesize=1").await;
    let oid = seeded["Results"][0]["ObjectID"].as_i64().unwrap();
    let v = t
        .post(&format!("/hierarchicalrequirement/{oid}"), json!({"HierarchicalRequirement": {"Name": "renamed"}}))
        .await;
    assert_eq!(errors(&v, "OperationResult"), Vec::<String>::new());
    let v = t.post(&r, json!({"HierarchicalRequirement": {"c_Team": "Blue"}})).await;
    assert_eq!(errors(&v, "OperationResult"), Vec::<String>::new());
    let full = t.get(&r).await;
    assert_eq!(full["HierarchicalRequirement"]["c_Team"], "Blue");
    assert_eq!(full["HierarchicalRequirement"]["c_MICSCategory"], "Ops");
    // A defect has its own custom fields; the story's are unknown there (a warning).
    let v = t
        .post("/defect/create?fetch=c_Points", json!({"Defect": {"Name": "d", "c_Points": "5", "c_Team": "Red"}}))
        .await;
    assert_eq!(v["CreateResult"]["Object"]["c_Points"], 5);
    assert!(v["CreateResult"]["Warnings"][0].as_str().unwrap().contains("Ignored JSON element Defect.c_Team"), "{v}");
}

#[tokio::test]
async fn the_schema_service_lists_custom_fields_with_allowed_values() {
    let t = custom_sim().await;
    let oid = t.sim.workspace_ref.rsplit('/').next().unwrap().to_string();
    let v = t.get(&format!("{}/slm/schema/v2.0/workspace/{oid}", t.sim.url)).await;
    let rows = v["QueryResult"]["Results"].as_array().unwrap();
    let story = rows.iter().find(|r| r["TypePath"] == "HierarchicalRequirement").unwrap();
    let attrs = story["Attributes"].as_array().unwrap();
    let team = attrs.iter().find(|a| a["ElementName"] == "c_Team").expect("c_Team in the schema");
    assert_eq!((team["Custom"].as_bool(), team["Required"].as_bool()), (Some(true), Some(true)));
    assert_eq!((team["Name"].as_str(), team["Constrained"].as_bool()), (Some("Team"), Some(true)));
    assert!(team["ObjectID"].as_i64().unwrap() > 0, "custom attributes have positive ObjectIDs");
    let mics = attrs.iter().find(|a| a["ElementName"] == "c_MICSCategory").unwrap();
    assert_eq!((mics["Name"].as_str(), mics["MaxLength"].as_i64()), (Some("MICS Category"), Some(8)));
    let values = t.query(team["AllowedValues"]["_ref"].as_str().unwrap()).await;
    let names: Vec<&str> =
        values["Results"].as_array().unwrap().iter().map(|v| v["StringValue"].as_str().unwrap()).collect();
    assert_eq!(names, ["", "Red", "Blue"]);
    assert!(rows.iter().any(|r| r["TypePath"] == "PullRequest"));
    let builtin = attrs.iter().find(|a| a["ElementName"] == "Name").unwrap();
    assert_eq!(builtin["Custom"], false);
}

#[tokio::test]
async fn pull_requests_are_created_listed_on_the_artifact_and_deleted() {
    let t = sim().await;
    let story = t.query("/hierarchicalrequirement?fetch=ObjectID,FormattedID&pagesize=1").await;
    let s = &story["Results"][0];
    let sref = s["_ref"].as_str().unwrap();
    let url = "https://github.com/acme/shop/pull/42";
    let v = t
        .post(
            "/pullrequest/create?fetch=Url,Name,Artifact,ExternalID",
            json!({"PullRequest": {"Artifact": sref, "Url": url, "Name": "acme/shop#42", "ExternalID": "42", "ExternalFormattedId": "acme/shop#42"}}),
        )
        .await;
    assert_eq!(errors(&v, "CreateResult"), Vec::<String>::new());
    let pr = v["CreateResult"]["Object"].clone();
    assert_eq!(pr["Url"], url);
    assert_eq!(pr["Artifact"]["_ref"].as_str(), Some(sref));
    let v = t.post("/pullrequest/create", json!({"PullRequest": {"Artifact": sref, "Name": "x"}})).await;
    let e = errors(&v, "CreateResult");
    assert!(e.iter().any(|e| e == "Validation error: PullRequest.Url should not be null"), "{e:?}");
    let q = t.query(&format!("/pullrequest?query=(Artifact = {sref})&fetch=Url")).await;
    assert_eq!(q["TotalResultCount"], 1);
    let oid = s["ObjectID"].as_i64().unwrap();
    let coll = t.query(&format!("/hierarchicalrequirement/{oid}/PullRequests?fetch=Url")).await;
    assert_eq!(coll["Results"][0]["Url"], url);
    let full = t.get(&format!("/hierarchicalrequirement/{oid}")).await;
    assert_eq!(full["HierarchicalRequirement"]["PullRequests"]["Count"], 1);
    let v = t.delete(pr["_ref"].as_str().unwrap()).await;
    assert_eq!(errors(&v, "OperationResult"), Vec::<String>::new());
    let q = t.query(&format!("/pullrequest?query=(Artifact = {sref})")).await;
    assert_eq!(q["TotalResultCount"], 0);
}

#[tokio::test]
async fn a_workspace_without_pull_requests_answers_as_for_an_unknown_type() {
    let t = sim_with(SimConfig { api_key: KEY.into(), pull_requests: false, ..Default::default() }).await;
    let v = t.get("/pullrequest?fetch=Url").await;
    assert_eq!(v["QueryResult"]["Errors"][0], "Requested type name \"pullrequest\" is unknown.");
    let v = t.post("/pullrequest/create", json!({"PullRequest": {"Name": "x"}})).await;
    assert_eq!(errors(&v, "CreateResult"), ["Requested type name \"pullrequest\" is unknown."]);
    let story = t.query("/hierarchicalrequirement?fetch=true&pagesize=1").await;
    assert!(story["Results"][0].get("PullRequests").is_none());
    let oid = t.sim.workspace_ref.rsplit('/').next().unwrap().to_string();
    let v = t.get(&format!("{}/slm/schema/v2.0/workspace/{oid}", t.sim.url)).await;
    assert!(!v["QueryResult"]["Results"].as_array().unwrap().iter().any(|r| r["TypePath"] == "PullRequest"));
}

#[tokio::test]
async fn a_bad_custom_field_spec_stops_the_start() {
    let r = rally_sim::start(SimConfig { custom_fields: vec!["Defect:c_X:colour".into()], ..Default::default() }).await;
    assert!(r.err().unwrap().contains("unknown type"));
}
