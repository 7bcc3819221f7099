//! Every envelope and error shape, compared key by key with the recorded Rally responses in
//! `fixtures/wsapi` at the repository root.

mod common;
use common::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;

fn fixture(name: &str) -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/wsapi");
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

fn fixture_json(name: &str) -> Value {
    serde_json::from_str(&fixture(name)).expect("fixture JSON")
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().expect("object").keys().cloned().collect()
}

#[tokio::test]
async fn query_result_envelope_matches_the_recording() {
    let t = sim().await;
    let ours = t.get(&format!("/defect?query={}", enc("(Name = \"no such defect\")"))).await;
    let rec = fixture_json("query-defect-empty.json");
    assert_eq!(keys(&ours), keys(&rec));
    assert_eq!(keys(&ours["QueryResult"]), keys(&rec["QueryResult"]));
    assert_eq!(ours["QueryResult"]["TotalResultCount"], 0);
    assert_eq!(ours["QueryResult"]["_rallyAPIMajor"], "2");
    // An erroring query has the same envelope.
    let bad = t.get("/defect?query=(Name").await;
    assert_eq!(keys(&bad["QueryResult"]), keys(&rec["QueryResult"]));
}

#[tokio::test]
async fn nested_fetch_matches_the_recorded_task_query() {
    let t = sim().await;
    let rec = fixture_json("query-task-nested-fetch.json");
    let rec_row = &rec["QueryResult"]["Results"][0];
    let fetch = "ObjectID,FormattedID,Owner,Blocked,Estimate,State,TimeSpent,ToDo,WorkProduct,DirectChildrenCount";
    let q = t.query(&format!("/task?fetch={fetch}&pagesize=200")).await;
    let row = q["Results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| {
            r["Owner"].is_object()
                && r["WorkProduct"]["_type"] == "HierarchicalRequirement"
                && r["WorkProduct"]["Owner"].is_object()
        })
        .expect("a task shaped like the recording");
    assert_eq!(keys(row), keys(rec_row));
    assert_eq!(keys(&row["Owner"]), keys(&rec_row["Owner"]));
    assert_eq!(keys(&row["WorkProduct"]), keys(&rec_row["WorkProduct"]));
    assert_eq!(keys(&row["WorkProduct"]["Owner"]), keys(&rec_row["WorkProduct"]["Owner"]));
    assert_eq!(keys(&q), keys(&rec["QueryResult"]));
}

#[tokio::test]
async fn fetch_list_row_has_ref_keys_without_object_id() {
    let t = sim().await;
    let rec = fixture_json("query-hierarchicalrequirement-fetch-list.json");
    let rec_row = &rec["QueryResult"]["Results"][0];
    let fields: Vec<String> = keys(rec_row).into_iter().filter(|k| !k.starts_with('_')).collect();
    let q = t.query(&format!("/hierarchicalrequirement?fetch={}", fields.join(","))).await;
    let ours = keys(&q["Results"][0]);
    let ref_keys: BTreeSet<String> = keys(rec_row).into_iter().filter(|k| k.starts_with('_')).collect();
    assert!(ref_keys.is_subset(&ours), "{ref_keys:?} ⊄ {ours:?}");
    assert!(!ours.contains("ObjectID"));
    for f in ["FormattedID", "DirectChildrenCount", "ScheduleState", "Blocked", "PlanEstimate"] {
        assert!(fields.contains(&f.to_string()) && ours.contains(f), "{f}");
    }
}

#[tokio::test]
async fn single_get_envelope_and_full_object_keys() {
    let t = sim().await;
    let rec = fixture_json("get-testcase.json");
    let rec_obj = &rec["TestCase"];
    let q = t.query("/defect?fetch=ObjectID&pagesize=1").await;
    let oid = q["Results"][0]["ObjectID"].as_u64().unwrap();
    let v = t.get(&format!("/defect/{oid}")).await;
    assert_eq!(keys(&v), BTreeSet::from(["Defect".to_string()]));
    let ours = keys(&v["Defect"]);
    // The attributes every artifact shares, as the recording names them.
    for k in [
        "_rallyAPIMajor",
        "_rallyAPIMinor",
        "_ref",
        "_refObjectUUID",
        "_objectVersion",
        "_refObjectName",
        "CreationDate",
        "_CreatedAt",
        "ObjectID",
        "ObjectUUID",
        "VersionId",
        "Subscription",
        "Workspace",
        "Description",
        "Discussion",
        "DisplayColor",
        "Expedite",
        "FormattedID",
        "LastUpdateDate",
        "Name",
        "Notes",
        "Owner",
        "Project",
        "Ready",
        "Tags",
        "Errors",
        "Warnings",
    ] {
        assert!(rec_obj.get(k).is_some(), "fixture has {k}");
        assert!(ours.contains(k), "ours lacks {k}");
    }
    assert!(!ours.contains("_type"), "the envelope key names the type, as recorded");
    assert_eq!(keys(&v["Defect"]["Tags"]), keys(&rec_obj["Tags"]));
    assert_eq!(keys(&v["Defect"]["Discussion"]), keys(&rec_obj["Discussion"]));
    assert_eq!(keys(&v["Defect"]["Project"]), keys(&rec_obj["Project"]), "nested ref under full fetch");
    // HTML in text fields is escaped as \u003C…\u003E in the raw JSON, as recorded.
    let raw = t
        .http
        .get(format!("{}/defect/{oid}?fetch=Description", t.sim.base))
        .header("ZSESSIONID", KEY)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(raw.contains("\\u003C") && !raw.contains('<'), "{raw}");
    assert!(fixture("update-defect-operationresult-warnings.json").contains("\\u003Cp\\u003E"));
    let sub = t.get("/subscription").await;
    let rec_sub = fixture_json("get-subscription.json");
    assert_eq!(keys(&sub), keys(&rec_sub));
    assert_eq!(keys(&sub["Subscription"]["Workspaces"]), keys(&rec_sub["Subscription"]["Workspaces"]));
}

#[tokio::test]
async fn create_and_operation_results_match_the_recordings() {
    let t = sim().await;
    let ok = t.post("/defect/create?fetch=true", json!({"Defect": {"Name": "shape"}})).await;
    let rec_ok = fixture_json("create-milestone-createresult.json");
    assert_eq!(keys(&ok), keys(&rec_ok));
    assert_eq!(keys(&ok["CreateResult"]), keys(&rec_ok["CreateResult"]));
    assert_eq!(ok["CreateResult"]["Object"]["_CreatedAt"], "just now");
    let bad = t
        .post(
            "/defect/create",
            json!({"Defect": {"Name": "d", "TargetDate": "2017-04-29 20:23:51.188960", "Nane": "x"}}),
        )
        .await;
    let rec_bad = fixture_json("create-error-parse-date-with-warning.json");
    assert_eq!(keys(&bad["CreateResult"]), keys(&rec_bad["CreateResult"]));
    assert_eq!(bad["CreateResult"]["Errors"], rec_bad["CreateResult"]["Errors"]);
    let oid = ok["CreateResult"]["Object"]["ObjectID"].as_u64().unwrap();
    let upd = t.post(&format!("/defect/{oid}?fetch=true"), json!({"defect": {"c_DefectImpactedArea": "x"}})).await;
    let rec_upd = fixture_json("update-defect-operationresult-warnings.json");
    assert_eq!(keys(&upd["OperationResult"]), keys(&rec_upd["OperationResult"]));
    assert_eq!(upd["OperationResult"]["Warnings"], rec_upd["OperationResult"]["Warnings"]);
    let o = &upd["OperationResult"]["Object"];
    let r = &rec_upd["OperationResult"]["Object"];
    for k in ["Tags", "Discussion", "Project", "Workspace", "Subscription"] {
        assert_eq!(keys(&o[k]), keys(&r[k]), "{k}");
    }
    let missing = t.post("/defect/123456789012", json!({"Defect": {"Name": "x"}})).await;
    let rec_missing = fixture_json("error-could-not-read-operationresult.json");
    assert_eq!(keys(&missing), keys(&rec_missing));
    assert_eq!(keys(&missing["OperationResult"]), keys(&rec_missing["OperationResult"]));
    let expect = rec_missing["OperationResult"]["Errors"][0].as_str().unwrap().replace("<DEFECT_OID>", "123456789012");
    assert_eq!(missing["OperationResult"]["Errors"], json!([expect]));
    let del = t.delete(&format!("/defect/{oid}")).await;
    assert_eq!(
        keys(&del["OperationResult"]),
        BTreeSet::from(["_rallyAPIMajor", "_rallyAPIMinor", "Errors", "Warnings"].map(String::from))
    );
}

#[tokio::test]
async fn unauthorized_is_the_jetty_page() {
    let t = sim().await;
    let rec = fixture("401.html");
    for key in [None, Some("_wrongKey")] {
        let mut req = t.http.get(format!("{}/hierarchicalrequirement?fetch=true&query=(Name%20=%20x)", t.sim.base));
        if let Some(k) = key {
            req = req.header("ZSESSIONID", k);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 401);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let body = r.text().await.unwrap();
        assert_eq!(body.trim_end(), rec.trim_end(), "path without the query string");
    }
    // The header name is case-insensitive.
    let r = t.http.get(format!("{}/defect", t.sim.base)).header("zsessionid", KEY).send().await.unwrap();
    assert_eq!(r.status(), 200);
}
