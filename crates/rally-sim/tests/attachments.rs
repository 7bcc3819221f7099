//! Attachments (Attachment + AttachmentContent), Blocked/BlockedReason and task hours over
//! HTTP, as Rally serves them (README, "Attachments, Blocked, task hours").

mod common;
use common::*;
use serde_json::{json, Value};

fn errors(v: &Value, key: &str) -> Vec<String> {
    strings(&v[key]["Errors"])
}

async fn first_defect(t: &T) -> Value {
    let q = t.query("/defect?query=(FormattedID%20=%20DE1)&fetch=ObjectID,FormattedID,Attachments").await;
    q["Results"][0].clone()
}

#[tokio::test]
async fn the_first_defect_carries_a_log_and_a_screenshot() {
    let t = sim().await;
    let de1 = first_defect(&t).await;
    assert_eq!(de1["Attachments"]["Count"], 2, "{de1}");
    let oid = de1["ObjectID"].as_u64().unwrap();
    let by_collection =
        t.query(&format!("/defect/{oid}/Attachments?fetch=Name,ContentType,Size,Content,Description&order=Name")).await;
    let by_query = t
        .query(&format!(
            "/attachment?query=(Artifact%20=%20/defect/{oid})&fetch=Name,ContentType,Size,Content&order=Name"
        ))
        .await;
    for q in [&by_collection, &by_query] {
        let rows = q["Results"].as_array().unwrap();
        let names: Vec<&str> = rows.iter().map(|r| r["Name"].as_str().unwrap()).collect();
        assert_eq!(names, ["checkout-error.log", "screenshot.png"]);
        assert_eq!(rows[1]["ContentType"], "image/png");
    }
    let png = &by_collection["Results"][1];
    let content_ref = png["Content"]["_ref"].as_str().unwrap();
    let content_oid = content_ref.rsplit('/').next().unwrap();
    let got = t.get(&format!("/attachmentcontent/{content_oid}")).await;
    let b64 = got["AttachmentContent"]["Content"].as_str().unwrap();
    assert!(b64.starts_with("iVBORw0KGgo"), "a PNG in base64: {b64}");
    // Size is the byte count before base64.
    assert_eq!(png["Size"].as_u64().unwrap() as usize, b64.len() / 4 * 3 - b64.matches('=').count());
    // A query on AttachmentContent comes back empty (read it by ObjectID).
    let q = t.query(&format!("/attachmentcontent?query=(ObjectID%20=%20{content_oid})")).await;
    assert_eq!(q["TotalResultCount"], 0);
}

#[tokio::test]
async fn attachments_are_created_read_and_deleted() {
    let t = sim().await;
    let oid = first_defect(&t).await["ObjectID"].as_u64().unwrap();
    let bad = t.post("/attachmentcontent/create", json!({"AttachmentContent": {"Content": "not base64!"}})).await;
    assert_eq!(errors(&bad, "CreateResult"), ["Validation error: AttachmentContent.Content must be base64 encoded"]);
    let c =
        t.post("/attachmentcontent/create?fetch=ObjectID", json!({"AttachmentContent": {"Content": "aGVsbG8="}})).await;
    let content = c["CreateResult"]["Object"]["ObjectID"].as_u64().unwrap();
    let missing = t
        .post(
            "/attachment/create",
            json!({"Attachment": {"Name": "x.txt", "Content": format!("/attachmentcontent/{content}")}}),
        )
        .await;
    let e = errors(&missing, "CreateResult");
    assert!(e.contains(&"Validation error: Attachment.Artifact should not be null".to_string()), "{e:?}");
    assert!(e.contains(&"Validation error: Attachment.Size should not be null".to_string()), "{e:?}");
    let big = t
        .post(
            "/attachment/create",
            json!({"Attachment": {"Name": "x.txt", "Content": format!("/attachmentcontent/{content}"),
                "ContentType": "text/plain", "Size": 60 * 1024 * 1024, "Artifact": format!("/defect/{oid}")}}),
        )
        .await;
    assert_eq!(
        errors(&big, "CreateResult"),
        ["Validation error: Attachment.Size exceeds the maximum of 52428800 bytes"]
    );
    let a = t
        .post(
            "/attachment/create?fetch=ObjectID,Name,Size,User,Artifact",
            json!({"Attachment": {"Name": "hello.txt", "Content": format!("/attachmentcontent/{content}"),
                "ContentType": "text/plain", "Size": 5, "Artifact": format!("/defect/{oid}")}}),
        )
        .await;
    assert_eq!(errors(&a, "CreateResult"), Vec::<String>::new());
    let att = &a["CreateResult"]["Object"];
    assert!(att["User"]["_ref"].as_str().unwrap().ends_with(&t.sim.owner_ref), "the caller by default");
    assert_eq!(first_defect(&t).await["Attachments"]["Count"], 3);
    let aid = att["ObjectID"].as_u64().unwrap();
    let d = t.delete(&format!("/attachment/{aid}")).await;
    assert_eq!(errors(&d, "OperationResult"), Vec::<String>::new());
    assert_eq!(first_defect(&t).await["Attachments"]["Count"], 2);
}

#[tokio::test]
async fn a_blocked_reason_blocks_and_unblocking_clears_it() {
    let t = sim().await;
    let q = t.query("/hierarchicalrequirement?query=(Blocked%20=%20false)&fetch=ObjectID&pagesize=1").await;
    let oid = q["Results"][0]["ObjectID"].as_u64().unwrap();
    let path = format!("/hierarchicalrequirement/{oid}?fetch=Blocked,BlockedReason");
    let r = t.post(&path, json!({"HierarchicalRequirement": {"BlockedReason": "Waiting on the vendor"}})).await;
    let o = &r["OperationResult"]["Object"];
    assert_eq!((o["Blocked"].clone(), o["BlockedReason"].clone()), (json!(true), json!("Waiting on the vendor")));
    let r = t.post(&path, json!({"HierarchicalRequirement": {"Blocked": false}})).await;
    let o = &r["OperationResult"]["Object"];
    assert_eq!((o["Blocked"].clone(), o["BlockedReason"].clone()), (json!(false), Value::Null));
    let r = t.post(&path, json!({"HierarchicalRequirement": {"Blocked": false, "BlockedReason": "x"}})).await;
    assert_eq!(r["OperationResult"]["Object"]["BlockedReason"], Value::Null, "no reason without the flag");
}

#[tokio::test]
async fn task_to_do_starts_as_the_estimate_and_hours_are_not_negative() {
    let t = sim().await;
    let q = t.query("/hierarchicalrequirement?fetch=ObjectID&pagesize=1").await;
    let story = q["Results"][0]["ObjectID"].as_u64().unwrap();
    let c = t
        .post(
            "/task/create?fetch=ObjectID,Estimate,ToDo,Actuals",
            json!({"Task": {"Name": "Hours", "WorkProduct": format!("/hierarchicalrequirement/{story}"), "Estimate": 6}}),
        )
        .await;
    let o = &c["CreateResult"]["Object"];
    assert_eq!((o["Estimate"].as_f64(), o["ToDo"].as_f64(), o["Actuals"].as_f64()), (Some(6.0), Some(6.0), Some(0.0)));
    let oid = o["ObjectID"].as_u64().unwrap();
    let r =
        t.post(&format!("/task/{oid}?fetch=Estimate,ToDo,Actuals"), json!({"Task": {"ToDo": 2.5, "Actuals": 4}})).await;
    let o = &r["OperationResult"]["Object"];
    assert_eq!((o["Estimate"].as_f64(), o["ToDo"].as_f64(), o["Actuals"].as_f64()), (Some(6.0), Some(2.5), Some(4.0)));
    let r = t.post(&format!("/task/{oid}"), json!({"Task": {"Actuals": -1}})).await;
    assert_eq!(errors(&r, "OperationResult"), ["Validation error: Task.Actuals cannot be negative"]);
}
