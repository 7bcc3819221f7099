//! Writes over HTTP: create/update/delete, validation texts, warnings, refs, tags, posts.

mod common;
use common::*;
use serde_json::{json, Value};

fn errors(v: &Value, key: &str) -> Vec<String> {
    strings(&v[key]["Errors"])
}

#[tokio::test]
async fn create_read_update_delete_round_trip() {
    let t = sim().await;
    let before = t.query("/hierarchicalrequirement?order=ObjectID%20desc&fetch=FormattedID,ObjectID&pagesize=1").await;
    let last_num: u64 = before["Results"][0]["FormattedID"].as_str().unwrap()[2..].parse().unwrap();
    let c = t
        .post(
            "/hierarchicalrequirement/create",
            json!({"HierarchicalRequirement": {"Name": "New story", "Description": "<p>x</p>"}}),
        )
        .await;
    let r = &c["CreateResult"];
    assert_eq!(r["Errors"], json!([]));
    let obj = &r["Object"];
    assert_eq!(obj["FormattedID"], format!("US{}", last_num + 1), "per-type counter");
    let oid = obj["ObjectID"].as_u64().unwrap();
    assert_eq!(oid.to_string().len(), 12);
    assert!(obj["CreationDate"].is_string());
    assert_eq!(obj["_objectVersion"], "1");
    assert!(obj.get("Description").is_none(), "no fetch: a short Object");

    let got = t.get(&format!("/hierarchicalrequirement/{oid}")).await;
    let s = &got["HierarchicalRequirement"];
    assert_eq!(s["Name"], "New story");
    assert_eq!(s["ScheduleState"], "Defined");
    assert_eq!(s["Owner"], Value::Null);
    assert!(s["Project"]["_ref"].as_str().unwrap().ends_with(&t.sim.project_ref), "default project");
    assert!(s["CreatedBy"]["_ref"].as_str().unwrap().ends_with(&t.sim.owner_ref));
    let uuid = s["ObjectUUID"].as_str().unwrap();
    assert_eq!(uuid.len(), 36);

    let u = t.post(&format!("/hierarchicalrequirement/{oid}?fetch=Name,ScheduleState,AcceptedDate,Owner,LastUpdateDate"),
        json!({"HierarchicalRequirement": {"Name": "Renamed", "ScheduleState": "Accepted", "Owner": t.sim.owner_ref}})).await;
    let o = &u["OperationResult"];
    assert_eq!(o["Errors"], json!([]));
    assert_eq!(o["Object"]["Name"], "Renamed");
    assert_eq!(o["Object"]["_objectVersion"], "2");
    assert!(o["Object"]["AcceptedDate"].is_string(), "Rally stamps AcceptedDate");
    assert!(o["Object"]["Owner"]["_ref"].as_str().unwrap().ends_with(&t.sim.owner_ref));
    // PUT works for update too, and {"_ref": ...} / null for refs.
    let u = t
        .put(
            &format!("/hierarchicalrequirement/{oid}?fetch=Owner"),
            json!({"hierarchicalrequirement": {"Owner": null}}),
        )
        .await;
    assert_eq!(u["OperationResult"]["Object"]["Owner"], Value::Null);
    assert_eq!(u["OperationResult"]["Object"]["_objectVersion"], "3");

    let d = t.delete(&format!("/hierarchicalrequirement/{oid}")).await;
    assert_eq!(d["OperationResult"]["Errors"], json!([]));
    let gone = t.get(&format!("/hierarchicalrequirement/{oid}")).await;
    assert_eq!(errors(&gone, "OperationResult"), vec!["Cannot find object to read"]);
    let again = t.delete(&format!("/hierarchicalrequirement/{oid}")).await;
    assert_eq!(
        errors(&again, "OperationResult"),
        vec![format!("Could not read: Could not read HierarchicalRequirement {oid} to delete.")]
    );
    let upd =
        t.post(&format!("/hierarchicalrequirement/{oid}"), json!({"HierarchicalRequirement": {"Name": "x"}})).await;
    assert_eq!(
        errors(&upd, "OperationResult"),
        vec![format!("Could not read: Could not read HierarchicalRequirement {oid} to update.")]
    );
    assert!(upd["OperationResult"].get("Object").is_none());
}

#[tokio::test]
async fn create_with_fetch_and_put_create() {
    let t = sim().await;
    let c = t.put("/defect/create?fetch=true", json!({"Defect": {"Name": "Broken", "Priority": "High Attention", "Severity": "Major Problem", "TargetDate": "2030-01-15"}})).await;
    let o = &c["CreateResult"]["Object"];
    assert_eq!(o["_type"], "Defect");
    assert_eq!(o["State"], "Submitted");
    assert_eq!(o["Priority"], "High Attention");
    assert_eq!(o["TargetDate"], "2030-01-15T00:00:00.000Z");
    assert!(o["FormattedID"].as_str().unwrap().starts_with("DE"));
    let c = t.post("/defect/create?fetch=Name,State", json!({"Defect": {"Name": "Listed", "State": "Open"}})).await;
    let o = c["CreateResult"]["Object"].as_object().unwrap();
    assert!(o.contains_key("Name") && o.contains_key("State") && !o.contains_key("Priority"));
}

#[tokio::test]
async fn validation_errors_use_rallys_texts() {
    let t = sim().await;
    let cases: Vec<(&str, Value, Vec<String>)> = vec![
        ("/hierarchicalrequirement/create", json!({"HierarchicalRequirement": {"Description": "x"}}),
            vec!["Validation error: HierarchicalRequirement.Name should not be null".into()]),
        ("/defect/create", json!({"Defect": {"Name": ""}}), vec!["Validation error: Defect.Name should not be null".into()]),
        ("/task/create", json!({"Task": {"Name": "t"}}), vec!["Validation error: Task.WorkProduct should not be null".into()]),
        ("/defect/create", json!({"Defect": {"Name": "d", "Priority": "Urgent"}}),
            vec!["Validation error: Defect.Priority contains an invalid value: \"Urgent\"".into()]),
        ("/defect/create", json!({"Defect": {"Name": "d", "Severity": "Bad", "State": "Done"}}),
            vec!["Validation error: Defect.Severity contains an invalid value: \"Bad\"".into(),
                 "Validation error: Defect.State contains an invalid value: \"Done\"".into()]),
        ("/hierarchicalrequirement/create", json!({"HierarchicalRequirement": {"Name": "s", "ScheduleState": "Released"}}),
            vec!["Validation error: HierarchicalRequirement.ScheduleState contains an invalid value: \"Released\"".into()]),
        ("/task/create", json!({"Task": {"Name": "t", "WorkProduct": "/hierarchicalrequirement/1", "State": "Accepted"}}),
            vec!["Could not read referenced object /hierarchicalrequirement/1".into(),
                 "Validation error: Task.State contains an invalid value: \"Accepted\"".into()]),
        ("/defect/create", json!({"Defect": {"Name": "d", "Owner": "not a ref"}}), vec!["Cannot parse object reference from \"not a ref\"".into()]),
        ("/defect/create", json!({"Defect": {"Name": "d", "TargetDate": "2017-04-29 20:23:51.188960"}}),
            vec!["Could not parse: Cannot convert \"2017-04-29 20:23:51.188960\" into a date.  You must use the ISO8601 date+time format.".into()]),
        ("/defect/create", json!({"Defect": {"Name": "d", "Description": "x".repeat(32_769)}}),
            vec!["Validation error: Defect.Description exceeds the maximum length of 32768 characters".into()]),
        ("/tag/create", json!({"Tag": {"Name": "t".repeat(33)}}), vec!["Validation error: Tag.Name exceeds the maximum length of 32 characters".into()]),
    ];
    for (path, body, expect) in cases {
        let v = t.post(path, body.clone()).await;
        let mut got = errors(&v, "CreateResult");
        got.sort();
        let mut expect = expect;
        expect.sort();
        assert_eq!(got, expect, "{path} {body}");
        assert!(v["CreateResult"].get("Object").is_none(), "failed create has no Object");
    }
    // 32768 characters exactly is fine.
    let ok = t.post("/defect/create", json!({"Defect": {"Name": "d", "Description": "x".repeat(32_768)}})).await;
    assert_eq!(ok["CreateResult"]["Errors"], json!([]));
    // A rejected update changes nothing.
    let oid = ok["CreateResult"]["Object"]["ObjectID"].as_u64().unwrap();
    let bad = t.post(&format!("/defect/{oid}"), json!({"Defect": {"Name": "changed", "Priority": "Nope"}})).await;
    assert_eq!(errors(&bad, "OperationResult").len(), 1);
    let now = t.get(&format!("/defect/{oid}?fetch=Name,VersionId")).await;
    assert_eq!(now["Defect"]["Name"], "d");
    assert_eq!(now["Defect"]["VersionId"], "1");
}

#[tokio::test]
async fn unknown_fields_are_warnings_not_errors() {
    let t = sim().await;
    let v = t.post("/defect/create", json!({"defect": {"Name": "w", "c_DefectImpactedArea": "x"}})).await;
    assert_eq!(v["CreateResult"]["Errors"], json!([]));
    assert_eq!(
        strings(&v["CreateResult"]["Warnings"]),
        vec!["Ignored JSON element defect.c_DefectImpactedArea during processing of this request."]
    );
    let oid = v["CreateResult"]["Object"]["ObjectID"].as_u64().unwrap();
    let u = t.post(&format!("/defect/{oid}"), json!({"Defect": {"Nane": "typo"}})).await;
    assert_eq!(
        strings(&u["OperationResult"]["Warnings"]),
        vec!["Ignored JSON element Defect.Nane during processing of this request."]
    );
    // Errors and warnings together, and no Object.
    let both = t.post("/defect/create", json!({"Defect": {"Name": "d", "TargetDate": "soon", "Nane": "x"}})).await;
    assert_eq!(errors(&both, "CreateResult").len(), 1);
    assert_eq!(strings(&both["CreateResult"]["Warnings"]).len(), 1);
    assert!(both["CreateResult"].get("Object").is_none());
}

#[tokio::test]
async fn feature_state_is_set_by_ref() {
    let t = sim().await;
    let states = t.query("/state?query=(TypeDef.Name%20=%20%22Feature%22)&fetch=Name&order=OrderIndex").await;
    let done = rel(&states["Results"][3]["_ref"]);
    let c = t.post("/portfolioitem/feature/create?fetch=State,FormattedID", json!({"PortfolioItem/Feature": {"Name": "F new", "State": done, "PlannedEndDate": "2031-02-03T10:00:00.000Z"}})).await;
    let o = &c["CreateResult"]["Object"];
    assert_eq!(o["State"]["_refObjectName"], "Done");
    assert!(o["FormattedID"].as_str().unwrap().starts_with('F'));
    let oid = o["_ref"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
    let bad =
        t.post(&format!("/portfolioitem/feature/{oid}"), json!({"PortfolioItem/Feature": {"State": "Done"}})).await;
    assert_eq!(errors(&bad, "OperationResult"), vec!["Cannot parse object reference from \"Done\""]);
    let by_obj = t
        .post(
            &format!("/portfolioitem/feature/{oid}?fetch=State"),
            json!({"Feature": {"State": {"_ref": rel(&states["Results"][0]["_ref"])}}}),
        )
        .await;
    assert_eq!(by_obj["OperationResult"]["Object"]["State"]["_refObjectName"], "Discovering");
}

#[tokio::test]
async fn tags_replace_add_remove_and_create() {
    let t = sim().await;
    let tags = t.query("/tag?fetch=Name&order=Name").await;
    let a = rel(&tags["Results"][0]["_ref"]);
    let b = rel(&tags["Results"][1]["_ref"]);
    let c = t.post("/defect/create?fetch=Tags", json!({"Defect": {"Name": "tagged", "Tags": [{"_ref": a}, b]}})).await;
    let o = &c["CreateResult"]["Object"];
    assert_eq!(o["Tags"]["Count"], 2);
    let oid = o["_ref"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
    // Replace the whole set.
    let u = t.post(&format!("/defect/{oid}?fetch=Tags"), json!({"Defect": {"Tags": [{"_ref": b}]}})).await;
    let names = &u["OperationResult"]["Object"]["Tags"]["_tagsNameArray"];
    assert_eq!(names.as_array().unwrap().len(), 1);
    assert_eq!(names[0]["_ref"], b.as_str());
    // A new tag, then add and remove through the collection.
    let nt = t.post("/tag/create", json!({"Tag": {"Name": "fresh-tag"}})).await;
    assert_eq!(nt["CreateResult"]["Errors"], json!([]));
    let new_ref = rel(&nt["CreateResult"]["Object"]["_ref"]);
    let dup = t.post("/tag/create", json!({"Tag": {"Name": "fresh-tag"}})).await;
    assert_eq!(errors(&dup, "CreateResult").len(), 1);
    let add = t
        .post(
            &format!("/Defect/{oid}/Tags/add?fetch=Name"),
            json!({"CollectionItems": [{"_ref": new_ref}, {"_ref": a}]}),
        )
        .await;
    let res = &add["OperationResult"];
    assert_eq!(res["Errors"], json!([]));
    let added: Vec<String> = field(&res["Results"], "Name");
    assert!(added.contains(&"fresh-tag".to_string()));
    let members = t.query(&format!("/Defect/{oid}/Tags?fetch=Name")).await;
    assert_eq!(members["TotalResultCount"], 3);
    let rm = t.post(&format!("/defect/{oid}/tags/remove"), json!({"CollectionItems": [{"_ref": b}]})).await;
    assert_eq!(rm["OperationResult"]["Errors"], json!([]));
    let members = t.query(&format!("/Defect/{oid}/Tags?fetch=Name")).await;
    assert_eq!(members["TotalResultCount"], 2);
    let q = t.query(&format!("/defect?query={}&fetch=FormattedID", enc("(Tags.Name = \"fresh-tag\")"))).await;
    assert_eq!(q["TotalResultCount"], 1);
    let bad = t.post(&format!("/defect/{oid}/Tags/add"), json!({"CollectionItems": [{"_ref": "/tag/1"}]})).await;
    assert_eq!(errors(&bad, "OperationResult"), vec!["Could not read referenced object /tag/1"]);
}

#[tokio::test]
async fn conversation_posts_number_per_artifact_and_belong_to_the_caller() {
    let t = sim().await;
    let d = t.post("/defect/create", json!({"Defect": {"Name": "discussed"}})).await;
    let dref = rel(&d["CreateResult"]["Object"]["_ref"]);
    let other = t.post("/defect/create", json!({"Defect": {"Name": "other"}})).await;
    let oref = rel(&other["CreateResult"]["Object"]["_ref"]);
    for (i, target) in [&dref, &dref, &oref, &dref].iter().enumerate() {
        let p = t
            .post(
                "/conversationpost/create?fetch=PostNumber,User,Artifact,Text",
                json!({"ConversationPost": {"Artifact": target, "Text": format!("<p>post {i}</p>")}}),
            )
            .await;
        assert_eq!(p["CreateResult"]["Errors"], json!([]), "{p}");
    }
    let q = t
        .query(&format!(
            "/conversationpost?query={}&fetch=PostNumber,User,UserName,Text&order=PostNumber",
            enc(&format!("(Artifact = {dref})"))
        ))
        .await;
    assert_eq!(field(&q["Results"], "PostNumber"), vec!["1", "2", "3"]);
    assert_eq!(q["Results"][0]["User"]["UserName"], t.sim.owner_user_name.as_str());
    let missing = t.post("/conversationpost/create", json!({"ConversationPost": {"Artifact": dref}})).await;
    assert_eq!(errors(&missing, "CreateResult"), vec!["Validation error: ConversationPost.Text should not be null"]);
    let disc = t.get(&format!("{dref}?fetch=Discussion")).await;
    assert_eq!(disc["Defect"]["Discussion"]["Count"], 3);
}

#[tokio::test]
async fn task_needs_a_work_product_and_inherits_its_project() {
    let t = sim().await;
    let child = t.sim.child_project_refs[0].clone();
    let s = t
        .post(
            "/hierarchicalrequirement/create",
            json!({"HierarchicalRequirement": {"Name": "with tasks", "Project": child}}),
        )
        .await;
    let sref = rel(&s["CreateResult"]["Object"]["_ref"]);
    let task = t
        .post(
            "/task/create?fetch=Project,WorkProduct,State",
            json!({"Task": {"Name": "do it", "WorkProduct": {"_ref": sref}}}),
        )
        .await;
    let o = &task["CreateResult"]["Object"];
    assert!(o["Project"]["_ref"].as_str().unwrap().ends_with(&child));
    assert_eq!(o["State"], "Defined");
    let tasks = t.get(&format!("{sref}?fetch=Tasks")).await;
    assert_eq!(tasks["HierarchicalRequirement"]["Tasks"]["Count"], 1);
}

#[tokio::test]
async fn custom_schedule_states_are_allowed_ordered_and_listed() {
    let states: Vec<String> =
        ["Idea", "Defined", "In-Progress", "Completed", "Accepted", "Released"].map(String::from).to_vec();
    let t = sim_with(rally_sim::SimConfig {
        api_key: KEY.into(),
        schedule_states: Some(states.clone()),
        ..Default::default()
    })
    .await;
    for s in ["Idea", "Released"] {
        let c = t
            .post(
                "/hierarchicalrequirement/create",
                json!({"HierarchicalRequirement": {"Name": format!("in {s}"), "ScheduleState": s}}),
            )
            .await;
        assert_eq!(c["CreateResult"]["Errors"], json!([]), "{s}");
    }
    let q = t
        .query(&format!("/hierarchicalrequirement?query={}&fetch=ScheduleState", enc("(ScheduleState > Accepted)")))
        .await;
    assert_eq!(field(&q["Results"], "ScheduleState"), vec!["Released"]);
    let q = t
        .query(&format!("/hierarchicalrequirement?query={}&fetch=ScheduleState", enc("(ScheduleState < Defined)")))
        .await;
    assert_eq!(field(&q["Results"], "ScheduleState"), vec!["Idea"]);
    let av = t.query(&format!("/allowedattributevalue?query={}&fetch=StringValue&order=ValueIndex&pagesize=50",
        enc("((AttributeDefinition.ElementName = ScheduleState) AND (AttributeDefinition.TypeDefinition.Name = Defect))"))).await;
    assert_eq!(field(&av["Results"], "StringValue"), states);
    // Without the option, custom values are invalid.
    let plain = sim().await;
    let c = plain
        .post(
            "/hierarchicalrequirement/create",
            json!({"HierarchicalRequirement": {"Name": "x", "ScheduleState": "Released"}}),
        )
        .await;
    assert_eq!(errors(&c, "CreateResult").len(), 1);
    // Rally allows at most one extra state on each side of the standard four.
    for bad in [
        vec!["A", "B", "Defined", "In-Progress", "Completed", "Accepted"],
        vec!["Defined", "Completed", "In-Progress", "Accepted"],
    ] {
        let cfg = rally_sim::SimConfig {
            schedule_states: Some(bad.iter().map(|s| s.to_string()).collect()),
            ..Default::default()
        };
        assert!(rally_sim::start(cfg).await.is_err(), "{bad:?}");
    }
}
