//! Reads over HTTP: paging, fetch, order, single objects, collections, metadata endpoints.

mod common;
use common::*;
use serde_json::{json, Value};
use std::collections::HashSet;

#[tokio::test]
async fn paging_walks_three_pages_without_gap_or_overlap() {
    let t = sim().await;
    let all = t.query("/hierarchicalrequirement?pagesize=2000&fetch=FormattedID").await;
    let total = all["TotalResultCount"].as_u64().unwrap() as usize;
    assert!(total >= 35, "seed has ~40 stories, got {total}");
    let mut seen = Vec::new();
    let mut start = 1;
    let mut pages = 0;
    while start <= total {
        let q = t.query(&format!("/hierarchicalrequirement?fetch=FormattedID&start={start}&pagesize=15")).await;
        assert_eq!(q["StartIndex"], start as u64);
        assert_eq!(q["PageSize"], 15);
        assert_eq!(q["TotalResultCount"], total as u64);
        let rows = field(&q["Results"], "FormattedID");
        assert!(rows.len() <= 15 && !rows.is_empty());
        seen.extend(rows);
        start += 15;
        pages += 1;
    }
    assert!(pages >= 3);
    assert_eq!(seen, field(&all["Results"], "FormattedID"), "pages concatenate to the full list");
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), total);
    let past = t.query(&format!("/hierarchicalrequirement?start={}", total + 1)).await;
    assert_eq!(past["Results"], json!([]));
    assert_eq!(past["TotalResultCount"], total as u64);
}

#[tokio::test]
async fn page_size_defaults_to_20_and_clamps_at_2000() {
    let t = sim().await;
    let q = t.query("/hierarchicalrequirement").await;
    assert_eq!(q["PageSize"], 20);
    assert_eq!(q["StartIndex"], 1);
    assert_eq!(q["Results"].as_array().unwrap().len(), 20);
    let big = t.query("/hierarchicalrequirement?pagesize=5000").await;
    assert_eq!(big["PageSize"], 2000);
    assert_eq!(big["Results"].as_array().unwrap().len() as u64, big["TotalResultCount"].as_u64().unwrap());
    for bad in ["pagesize=0", "pagesize=abc", "start=0", "start=-3"] {
        let e = t.query_errors(&format!("/defect?{bad}")).await;
        assert_eq!(e.len(), 1, "{bad}");
    }
}

#[tokio::test]
async fn query_without_fetch_returns_ref_keys_only() {
    let t = sim().await;
    let q = t.query("/defect?pagesize=1").await;
    let row = q["Results"][0].as_object().unwrap();
    let keys: HashSet<&str> = row.keys().map(String::as_str).collect();
    let expected: HashSet<&str> =
        ["_rallyAPIMajor", "_rallyAPIMinor", "_ref", "_refObjectUUID", "_objectVersion", "_refObjectName", "_type"]
            .into();
    assert_eq!(keys, expected);
    assert_eq!(row["_type"], "Defect");
    assert!(row["_ref"].as_str().unwrap().starts_with(&format!("{}/defect/", t.sim.base)));
}

#[tokio::test]
async fn fetch_true_fills_scalars_refs_and_summaries() {
    let t = sim().await;
    let q = t.query("/hierarchicalrequirement?fetch=true&pagesize=50").await;
    let rows = q["Results"].as_array().unwrap();
    let row = &rows[0];
    for k in [
        "ObjectID",
        "ObjectUUID",
        "FormattedID",
        "Name",
        "ScheduleState",
        "CreationDate",
        "LastUpdateDate",
        "Description",
        "VersionId",
    ] {
        assert!(row.get(k).is_some(), "missing {k}");
    }
    assert!(row["ObjectID"].as_u64().unwrap() >= 100_000_000_000, "12-digit ObjectID");
    assert!(row["CreationDate"].as_str().unwrap().ends_with('Z'));
    let project = &row["Project"];
    assert_eq!(project["_type"], "Project");
    assert!(project.get("Name").is_none(), "nested refs carry ref keys only under fetch=true");
    let tags = &row["Tags"];
    assert!(tags["_ref"].as_str().unwrap().ends_with("/Tags"));
    assert!(tags["_ref"].as_str().unwrap().contains("/HierarchicalRequirement/"), "CamelCase collection ref");
    assert_eq!(tags["_type"], "Tag");
    assert!(tags["_tagsNameArray"].is_array());
    assert!(row["Tasks"].get("_tagsNameArray").is_none());
    assert_eq!(row["Tasks"]["_type"], "Task");
    // Some story has tags; its _tagsNameArray entries are {Name, relative _ref}.
    let tagged = rows.iter().find(|r| r["Tags"]["Count"].as_u64().unwrap_or(0) > 0).expect("a tagged story");
    let first = &tagged["Tags"]["_tagsNameArray"][0];
    assert!(first["Name"].is_string());
    assert!(first["_ref"].as_str().unwrap().starts_with("/tag/"));
}

#[tokio::test]
async fn fetch_list_applies_to_nested_refs() {
    let t = sim().await;
    let q = t.query("/task?fetch=FormattedID,WorkProduct,Owner,UserName,Name&pagesize=40").await;
    let row = q["Results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["WorkProduct"]["Owner"].is_object())
        .expect("task with owned work product");
    assert!(row.get("ObjectID").is_none(), "ObjectID only when fetched");
    assert!(row.get("State").is_none());
    let wp = &row["WorkProduct"];
    assert!(
        wp["FormattedID"].as_str().unwrap().starts_with("US") || wp["FormattedID"].as_str().unwrap().starts_with("DE")
    );
    assert!(wp["_objectVersion"].is_string());
    assert!(wp["Owner"]["UserName"].as_str().unwrap().contains('@'), "two levels deep: {wp}");
    assert!(wp.get("ScheduleState").is_none());
}

#[tokio::test]
async fn order_by_several_fields_and_directions() {
    let t = sim().await;
    let q = t.query("/defect?fetch=Priority,FormattedID,ObjectID&order=Priority%20desc,ObjectID&pagesize=100").await;
    let rows = q["Results"].as_array().unwrap();
    let order = ["None", "Resolve Immediately", "High Attention", "Normal", "Low"];
    let keys: Vec<(usize, u64)> = rows
        .iter()
        .map(|r| (order.iter().position(|p| *p == r["Priority"]).unwrap(), r["ObjectID"].as_u64().unwrap()))
        .collect();
    for w in keys.windows(2) {
        assert!(w[0].0 > w[1].0 || (w[0].0 == w[1].0 && w[0].1 < w[1].1), "{keys:?}");
    }
    let q = t.query("/hierarchicalrequirement?fetch=Name&order=Name%20asc&pagesize=100").await;
    let names = field(&q["Results"], "Name");
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    let q = t.query("/hierarchicalrequirement?fetch=FormattedID&order=FormattedID%20DESC&pagesize=3").await;
    assert_eq!(field(&q["Results"], "FormattedID"), vec!["US40", "US39", "US38"], "FormattedID sorts by number");
    let e = t.query_errors("/defect?order=Bogus").await;
    assert_eq!(e, vec!["Cannot sort using unknown attribute Bogus"]);
    let e = t.query_errors("/task?order=ScheduleState").await;
    assert_eq!(e, vec!["Cannot sort using unknown attribute ScheduleState"]);
}

#[tokio::test]
async fn single_object_get_and_missing_object() {
    let t = sim().await;
    let q = t.query("/defect?fetch=ObjectID&pagesize=1").await;
    let oid = q["Results"][0]["ObjectID"].as_u64().unwrap();
    let v = t.get(&format!("/defect/{oid}")).await;
    let d = &v["Defect"];
    assert_eq!(d["ObjectID"], oid);
    assert_eq!(d["Errors"], json!([]));
    assert_eq!(d["Warnings"], json!([]));
    for k in ["State", "Priority", "Severity", "ScheduleState", "TargetDate", "Requirement", "Discussion"] {
        assert!(d.get(k).is_some(), "{k}");
    }
    // UUID refs and case-insensitive type segments work too.
    let uuid = d["ObjectUUID"].as_str().unwrap();
    let v2 = t.get(&format!("/Defect/{uuid}?fetch=FormattedID")).await;
    assert_eq!(v2["Defect"]["FormattedID"], d["FormattedID"]);
    let v = t.get("/defect/123456789012").await;
    assert_eq!(v["OperationResult"]["Errors"], json!(["Cannot find object to read"]));
    // A story's oid is not a defect.
    let s = t.query("/hierarchicalrequirement?fetch=ObjectID&pagesize=1").await;
    let v = t.get(&format!("/defect/{}", s["Results"][0]["ObjectID"])).await;
    assert_eq!(v["OperationResult"]["Errors"], json!(["Cannot find object to read"]));
}

#[tokio::test]
async fn js_suffix_works_with_a_warning_and_unknown_type_errors() {
    let t = sim().await;
    let q = t.get("/defect.js?pagesize=1").await;
    assert_eq!(
        q["QueryResult"]["Warnings"],
        json!(["It is no longer necessary to append \".js\" to WSAPI resources."])
    );
    assert_eq!(q["QueryResult"]["Results"].as_array().unwrap().len(), 1);
    let e = t.query_errors("/portfolioitem/epic").await;
    assert_eq!(e, vec!["Requested type name \"portfolioitem/epic\" is unknown."]);
    let e = t.query_errors("/widget").await;
    assert_eq!(e, vec!["Requested type name \"widget\" is unknown."]);
}

#[tokio::test]
async fn collections_are_summaries_and_queryable() {
    let t = sim().await;
    let q = t.query("/hierarchicalrequirement?fetch=Tasks,Children,Discussion,FormattedID&pagesize=100").await;
    let rows = q["Results"].as_array().unwrap();
    let with_tasks = rows.iter().find(|r| r["Tasks"]["Count"].as_u64().unwrap() >= 2).expect("story with tasks");
    let tasks_ref = with_tasks["Tasks"]["_ref"].as_str().unwrap();
    let members = t.query(&format!("{tasks_ref}?fetch=WorkProduct,FormattedID&pagesize=1")).await;
    assert_eq!(members["TotalResultCount"], with_tasks["Tasks"]["Count"]);
    assert_eq!(members["Results"][0]["WorkProduct"]["FormattedID"], with_tasks["FormattedID"]);
    let parent = rows.iter().find(|r| r["Children"]["Count"].as_u64().unwrap() > 0).expect("story with children");
    let kids = t.query(&format!("{}?fetch=Parent", parent["Children"]["_ref"].as_str().unwrap())).await;
    for k in kids["Results"].as_array().unwrap() {
        assert_eq!(k["Parent"]["_ref"], parent["_ref"]);
    }
    let talk = rows.iter().find(|r| r["Discussion"]["Count"].as_u64().unwrap() > 0).expect("discussed story");
    let posts = t.query(&format!("{}?fetch=Text,User,PostNumber", talk["Discussion"]["_ref"].as_str().unwrap())).await;
    assert_eq!(posts["Results"][0]["PostNumber"], 1);
    assert!(posts["Results"][0]["Text"].as_str().unwrap().starts_with("<p>"));
    assert_eq!(posts["Results"][0]["_type"], "ConversationPost");
    // Feature → UserStories, Initiative → Children.
    let f = t
        .query("/portfolioitem/feature?fetch=UserStories,State,Parent,PlannedEndDate,DirectChildrenCount&pagesize=10")
        .await;
    let feat =
        f["Results"].as_array().unwrap().iter().find(|r| r["UserStories"]["Count"].as_u64().unwrap() > 0).unwrap();
    assert_eq!(feat["DirectChildrenCount"], feat["UserStories"]["Count"]);
    assert!(feat["UserStories"]["_ref"].as_str().unwrap().contains("/PortfolioItem/Feature/"));
    assert_eq!(feat["Parent"]["_type"], "PortfolioItem/Initiative");
}

#[tokio::test]
async fn user_is_the_caller_and_users_is_a_query() {
    let t = sim().await;
    let u = t.get("/user?fetch=UserName,EmailAddress,DisplayName").await;
    assert_eq!(u["User"]["UserName"], t.sim.owner_user_name.as_str());
    assert!(u["User"]["_ref"].as_str().unwrap().ends_with(&t.sim.owner_ref));
    let all = t.query("/users?fetch=UserName").await;
    assert!(all["TotalResultCount"].as_u64().unwrap() >= 5);
    let sub = t.get("/subscription").await;
    assert!(sub["Subscription"]["Workspaces"]["_ref"].as_str().unwrap().contains("/Subscription/"));
    let ws = t.query("/workspace?fetch=Name,Projects").await;
    assert_eq!(ws["TotalResultCount"], 1);
    assert!(ws["Results"][0]["_ref"].as_str().unwrap().ends_with(&t.sim.workspace_ref));
    let projects = t.query("/project?fetch=Name,Parent").await;
    assert!(projects["TotalResultCount"].as_u64().unwrap() >= 3);
}

#[tokio::test]
async fn metadata_reveals_allowed_values_and_pi_states() {
    let t = sim().await;
    let td =
        t.query("/typedefinition?query=(Name%20=%20Defect)&fetch=Name,TypePath,IDPrefix,ElementName,Attributes").await;
    assert_eq!(td["TotalResultCount"], 1);
    let d = &td["Results"][0];
    assert_eq!(d["IDPrefix"], "DE");
    let attrs = t
        .query(&format!("{}?fetch=ElementName,AllowedValues&pagesize=200", d["Attributes"]["_ref"].as_str().unwrap()))
        .await;
    let rows = attrs["Results"].as_array().unwrap();
    let values = |name: &str| -> String {
        let a = rows.iter().find(|r| r["ElementName"] == name).unwrap_or_else(|| panic!("{name}"));
        a["AllowedValues"]["_ref"].as_str().unwrap().to_string()
    };
    let mut found = Vec::new();
    for (attr, expect) in [
        ("Priority", vec!["None", "Resolve Immediately", "High Attention", "Normal", "Low"]),
        ("State", vec!["Submitted", "Open", "Fixed", "Closed"]),
        ("ScheduleState", vec!["Defined", "In-Progress", "Completed", "Accepted"]),
        ("Severity", vec!["None", "Crash/Data Loss", "Major Problem", "Minor Problem", "Cosmetic"]),
    ] {
        let r = values(attr);
        let v = t.query(&format!("{r}?fetch=StringValue")).await;
        assert_eq!(field(&v["Results"], "StringValue"), expect, "{attr}");
        found.push(attr);
    }
    let states =
        t.query("/state?query=(TypeDef.Name%20=%20%22Feature%22)&order=OrderIndex&fetch=Name,OrderIndex,TypeDef").await;
    assert_eq!(field(&states["Results"], "Name"), vec!["Discovering", "Developing", "Measuring", "Done"]);
    let av = t.query("/allowedattributevalue?query=(StringValue%20=%20%22High%20Attention%22)&fetch=StringValue").await;
    assert_eq!(av["TotalResultCount"], 1);
}

#[tokio::test]
async fn artifact_endpoint_mixes_types_and_honours_types_param() {
    let t = sim().await;
    let all = t.query("/artifact?fetch=FormattedID&pagesize=2000").await;
    let ids = field(&all["Results"], "FormattedID");
    for p in ["US", "DE", "TA", "F", "I"] {
        assert!(ids.iter().any(|i| i.starts_with(p) && i[p.len()..].chars().all(|c| c.is_ascii_digit())), "{p}");
    }
    let two = t.query("/artifact?types=hierarchicalrequirement,Defect&fetch=FormattedID&pagesize=2000").await;
    let ids = field(&two["Results"], "FormattedID");
    assert!(ids.iter().all(|i| i.starts_with("US") || i.starts_with("DE")));
    let e = t.query_errors("/artifact?types=bogus").await;
    assert_eq!(e, vec!["Requested type name \"bogus\" is unknown."]);
    let row: &Value = &two["Results"][0];
    assert!(row["_type"] == "HierarchicalRequirement" || row["_type"] == "Defect");
}
