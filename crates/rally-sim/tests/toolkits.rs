//! What Rally's toolkits (pyral 1.7.0 above all) read at connect and rely on afterwards, over
//! HTTP: the user's profile, the schema service, element-name envelopes, collection reads,
//! collection edits in pyral's shape, `/user?query=`, negative ObjectIDs of built-in attribute
//! definitions, and HTTPS with `tls`.

mod common;
use common::*;
use rally_sim::SimConfig;
use serde_json::{json, Value};

fn oid_of(r: &Value) -> String {
    rel(&r["_ref"]).rsplit('/').next().unwrap().to_string()
}

#[tokio::test]
async fn user_carries_a_profile_with_the_default_workspace_and_project() {
    let t = sim_with(SimConfig {
        api_key: KEY.into(),
        extra_keys: vec![("_second".into(), "sam.lee@acme.example".into())],
        ..Default::default()
    })
    .await;
    // pyral's connect with an API key: no query, its own fetch list.
    let u = t
        .get("/User?fetch=ObjectID,UserName,DisplayName,FirstName,LastName,Disabled,UserProfile&pagesize=1000&start=1")
        .await;
    let user = &u["User"];
    assert_eq!(user["UserName"], t.sim.owner_user_name.as_str());
    assert_eq!(user["UserProfile"]["_type"], "UserProfile");
    let profile_ref = rel(&user["UserProfile"]["_ref"]);
    assert!(profile_ref.starts_with("/userprofile/"), "{profile_ref}");
    // pyral reads it as `UserProfile/<oid>` and looks under the "UserProfile" key.
    let p = t.get(&format!("/UserProfile/{}", oid_of(&user["UserProfile"]))).await;
    let profile = &p["UserProfile"];
    assert_eq!(profile["Errors"], json!([]));
    assert_eq!(rel(&profile["DefaultWorkspace"]["_ref"]), t.sim.workspace_ref);
    assert_eq!(profile["DefaultWorkspace"]["_refObjectName"], "Acme Store");
    assert_eq!(rel(&profile["DefaultProject"]["_ref"]), t.sim.project_ref);
    assert_eq!(profile["DefaultProject"]["_refObjectName"], "Online Store");
    assert_eq!(profile["ObjectID"].as_i64().unwrap().to_string(), oid_of(&user["UserProfile"]));
    // Each user has a profile of their own.
    let other = get_json(&t.http, t.url("/user?fetch=UserName,UserProfile"), "_second").await;
    assert_eq!(other["User"]["UserName"], "sam.lee@acme.example");
    assert_ne!(other["User"]["UserProfile"]["_ref"], user["UserProfile"]["_ref"]);
    let profiles = t.query("/userprofile?fetch=DefaultWorkspace&pagesize=100").await;
    assert!(profiles["TotalResultCount"].as_u64().unwrap() >= 5, "{profiles}");
}

#[tokio::test]
async fn user_with_a_query_answers_the_query_not_the_caller() {
    let t = sim().await;
    let q = t.query("/user?fetch=UserName,DisplayName&query=(UserName%20=%20%22priya.shah@acme.example%22)").await;
    assert_eq!(q["TotalResultCount"], 1);
    assert_eq!(q["Results"][0]["UserName"], "priya.shah@acme.example");
    assert_eq!(q["Results"][0]["_type"], "User");
    let none = t.query("/user?fetch=UserName&query=(UserName%20=%20%22nobody@acme.example%22)").await;
    assert_eq!(none["TotalResultCount"], 0);
    // The caller's own name through the query, as pyral's basic-auth connect asks.
    let me = t.query(&format!("/user?fetch=UserName&query=(UserName%20=%20%22{}%22)", t.sim.owner_user_name)).await;
    assert_eq!(field(&me["Results"], "UserName"), vec![t.sim.owner_user_name.clone()]);
    // Without a query, still the caller as a single object, whatever else is asked.
    let single = t.get("/user?fetch=true&pagesize=1000&start=1").await;
    assert_eq!(single["User"]["UserName"], t.sim.owner_user_name.as_str());
    assert!(single.get("QueryResult").is_none());
    let bad = t.query_errors("/user?query=(Nickname%20=%20x)").await;
    assert_eq!(bad, vec!["Could not parse: Unknown attribute \"Nickname\" on type User".to_string()]);
}

/// Keys pyral 1.7.0's SchemaItem and SchemaItemAttribute read without a default (a missing one
/// is a KeyError at connect).
const TYPE_KEYS: [&str; 17] = [
    "_ref",
    "_refObjectName",
    "ElementName",
    "Name",
    "DisplayName",
    "TypePath",
    "IDPrefix",
    "Abstract",
    "Parent",
    "Creatable",
    "Queryable",
    "ReadOnly",
    "Deletable",
    "Restorable",
    "Ordinal",
    "RevisionHistory",
    "Attributes",
];
const ATTRIBUTE_KEYS: [&str; 16] = [
    "_ref",
    "_refObjectName",
    "ElementName",
    "Name",
    "AttributeType",
    "Custom",
    "Required",
    "ReadOnly",
    "Filterable",
    "Hidden",
    "SchemaType",
    "Constrained",
    "AllowedValueType",
    "AllowedValues",
    "MaxLength",
    "MaxFractionalDigits",
];

#[tokio::test]
async fn schema_service_lists_type_definitions_with_their_attributes_inline() {
    let t = sim().await;
    let url = format!("{}/slm/schema/v2.0{}", t.sim.url, t.sim.workspace_ref);
    let v: Value = get_json(&t.http, &url, KEY).await;
    let q = &v["QueryResult"];
    assert_eq!(q["Errors"], json!([]));
    let types = q["Results"].as_array().unwrap();
    assert_eq!(q["TotalResultCount"], types.len() as u64);
    for td in types {
        for k in TYPE_KEYS {
            assert!(td.get(k).is_some(), "{} lacks {k}", td["ElementName"]);
        }
        assert_eq!(td["_type"], "TypeDefinition");
        for a in td["Attributes"].as_array().expect("attributes inline") {
            for k in ATTRIBUTE_KEYS {
                assert!(a.get(k).is_some(), "{}.{} lacks {k}", td["ElementName"], a["ElementName"]);
            }
        }
    }
    let by = |name: &str| types.iter().find(|t| t["ElementName"] == name).unwrap_or_else(|| panic!("{name}"));
    let story = by("HierarchicalRequirement");
    assert_eq!((story["IDPrefix"].as_str(), story["Creatable"].as_bool()), (Some("US"), Some(true)));
    let feature = by("Feature");
    assert_eq!(feature["TypePath"], "PortfolioItem/Feature");
    assert_eq!(feature["IDPrefix"], "F");
    assert_eq!(by("Subscription")["Creatable"], false);
    let defect = by("Defect");
    let attr = |name: &str| -> Value {
        defect["Attributes"].as_array().unwrap().iter().find(|a| a["ElementName"] == name).cloned().unwrap()
    };
    let name = attr("Name");
    assert_eq!((name["Required"].as_bool(), name["AttributeType"].as_str()), (Some(true), Some("STRING")));
    assert_eq!(attr("FormattedID")["ReadOnly"], true);
    assert_eq!(attr("Description")["MaxLength"], 32768);
    let prio = attr("Priority");
    assert_eq!(prio["AttributeType"], "RATING");
    assert_eq!(prio["Constrained"], true);
    assert_eq!(prio["Custom"], false);
    assert_eq!(prio["AllowedValueType"]["_type"], "TypeDefinition");
    assert_eq!(prio["AllowedValues"]["Count"], 5);
    // Built-in attributes have negative ObjectIDs; the allowed values are a collection to follow.
    assert!(prio["ObjectID"].as_i64().unwrap() < 0, "{}", prio["ObjectID"]);
    let values_ref = prio["AllowedValues"]["_ref"].as_str().unwrap();
    assert!(values_ref.ends_with(&format!("/AttributeDefinition/{}/AllowedValues", prio["ObjectID"])), "{values_ref}");
    let values = t.query(&format!("{values_ref}?pagesize=1000&start=1")).await;
    assert_eq!(
        field(&values["Results"], "StringValue"),
        ["None", "Resolve Immediately", "High Attention", "Normal", "Low"]
    );
    // The attribute order is the type's own.
    let names: Vec<String> = field(&defect["Attributes"], "ElementName");
    assert_eq!(&names[..3], ["ObjectID", "ObjectUUID", "VersionId"]);
    // Another workspace is an error; the schema service needs the key like the rest.
    let other: Value = get_json(&t.http, format!("{}/slm/schema/v2.0/workspace/123", t.sim.url), KEY).await;
    assert_eq!(strings(&other["QueryResult"]["Errors"]), ["Could not read referenced object /workspace/123"]);
    let anon = t.http.get(&url).send().await.unwrap();
    assert_eq!(anon.status(), 401);
}

#[tokio::test]
async fn built_in_attribute_definitions_have_negative_object_ids() {
    let t = sim().await;
    let q = t
        .query("/attributedefinition?query=(ElementName%20=%20Severity)&fetch=ObjectID,ElementName,AllowedValues")
        .await;
    assert!(q["TotalResultCount"].as_u64().unwrap() >= 1);
    let a = &q["Results"][0];
    let oid = a["ObjectID"].as_i64().unwrap();
    assert!(oid < 0, "{oid}");
    assert!(a["_ref"].as_str().unwrap().ends_with(&format!("/attributedefinition/{oid}")));
    let one = t.get(&format!("/attributedefinition/{oid}")).await;
    assert_eq!(one["AttributeDefinition"]["ElementName"], "Severity");
    assert_eq!(one["AttributeDefinition"]["ObjectID"], oid);
    let values = t.query(&format!("/AttributeDefinition/{oid}/AllowedValues?fetch=StringValue")).await;
    assert_eq!(values["TotalResultCount"], 5);
    let by_id = t.query(&format!("/attributedefinition?query=(ObjectID%20=%20{oid})&fetch=ElementName")).await;
    assert_eq!(field(&by_id["Results"], "ElementName"), ["Severity"]);
    // Request statistics group them like any ObjectID.
    let stats = t.control(reqwest::Method::GET, "/__sim/stats").await;
    let routes = stats["byRoute"].as_object().unwrap();
    assert!(routes.contains_key("GET /slm/webservice/v2.0/attributedefinition/{oid}"), "{routes:?}");
    assert!(routes.contains_key("GET /slm/webservice/v2.0/AttributeDefinition/{oid}/AllowedValues"), "{routes:?}");
    // Everything else keeps positive ObjectIDs.
    let td = t.query("/typedefinition?fetch=ObjectID&pagesize=100").await;
    assert!(td["Results"].as_array().unwrap().iter().all(|r| r["ObjectID"].as_i64().unwrap() > 0));
}

#[tokio::test]
async fn portfolio_item_single_get_is_wrapped_by_its_element_name() {
    let t = sim().await;
    for (path, key, type_name) in [
        ("/portfolioitem/feature", "Feature", "PortfolioItem/Feature"),
        ("/portfolioitem/initiative", "Initiative", "PortfolioItem/Initiative"),
        ("/hierarchicalrequirement", "HierarchicalRequirement", "HierarchicalRequirement"),
    ] {
        let q = t.query(&format!("{path}?pagesize=1")).await;
        assert_eq!(q["Results"][0]["_type"], type_name);
        let r = rel(&q["Results"][0]["_ref"]);
        let v = t.get(&r).await;
        let obj = v.get(key).unwrap_or_else(|| panic!("{r}: {v}"));
        assert_eq!(v.as_object().unwrap().len(), 1, "{v}");
        assert_eq!(obj["Errors"], json!([]));
        assert_eq!(rel(&obj["_ref"]), r);
        // As in the recorded single GETs, the key names the type; no `_type` inside.
        assert!(obj.get("_type").is_none());
        // pyral's create/update re-read uses the TypePath in CamelCase.
        let camel = r.replace("/portfolioitem/feature/", "/PortfolioItem/Feature/");
        assert!(t.get(&camel).await.get(key).is_some());
    }
    let missing = t.get("/portfolioitem/feature/1").await;
    assert_eq!(strings(&missing["OperationResult"]["Errors"]), ["Cannot find object to read"]);
    // Writes keep their envelopes and `_type` in Object.
    let f = t.put("/portfolioitem/feature/create", json!({"Feature": {"Name": "F wrapped"}})).await;
    assert_eq!(f["CreateResult"]["Object"]["_type"], "PortfolioItem/Feature");
}

#[tokio::test]
async fn collection_read_without_fetch_returns_whole_objects() {
    let t = sim().await;
    let sub = t.get("/subscription?fetch=Workspaces").await;
    let coll = sub["Subscription"]["Workspaces"]["_ref"].as_str().unwrap().to_string();
    let q = t.query(&format!("{coll}?pagesize=200")).await;
    let ws = &q["Results"][0];
    // The recorded collection read (query-subscription-workspaces-collection.json) has these.
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/wsapi/query-subscription-workspaces-collection.json");
    let rec: Value = serde_json::from_str(&std::fs::read_to_string(fixture).expect("fixture")).unwrap();
    let rec_ws = &rec["QueryResult"]["Results"][0];
    for k in [
        "_ref",
        "_objectVersion",
        "_refObjectName",
        "CreationDate",
        "_CreatedAt",
        "ObjectID",
        "Subscription",
        "Description",
        "Name",
        "Owner",
        "Projects",
        "State",
        "_type",
    ] {
        assert!(rec_ws.get(k).is_some(), "fixture has {k}");
        assert!(ws.get(k).is_some(), "ours lacks {k}: {ws}");
    }
    assert_eq!(ws["Name"], "Acme Store");
    assert_eq!(ws["Projects"]["_type"], "Project");
    // With a fetch list, only those; a type query without fetch stays ref keys only.
    let listed = t.query(&format!("{coll}?fetch=Name")).await;
    assert!(listed["Results"][0].get("Name").is_some() && listed["Results"][0].get("Owner").is_none());
    let typed = t.query("/workspace").await;
    assert!(typed["Results"][0].get("Name").is_none());
    // A story's Discussion without fetch carries each post's Text (pyral reads it lazily so).
    let s = t.query("/hierarchicalrequirement?fetch=Discussion&pagesize=200").await;
    let talk =
        s["Results"].as_array().unwrap().iter().find(|r| r["Discussion"]["Count"].as_u64().unwrap() > 0).unwrap();
    let posts = t.query(talk["Discussion"]["_ref"].as_str().unwrap()).await;
    assert!(posts["Results"][0]["Text"].as_str().unwrap().starts_with("<p>"));
    assert_eq!(posts["Results"][0]["PostNumber"], 1);
}

#[tokio::test]
async fn collection_add_takes_the_collections_own_name_as_pyral_posts_it() {
    let t = sim().await;
    let s = t.query("/hierarchicalrequirement?fetch=FormattedID,Tags&pagesize=100").await;
    let story = s["Results"].as_array().unwrap().iter().find(|r| r["Tags"]["Count"] == 0).unwrap().clone();
    let oid = oid_of(&story);
    let tags = t.query("/tag?fetch=Name&order=Name&pagesize=2").await;
    let (a, b) = (oid_of(&tags["Results"][0]), oid_of(&tags["Results"][1]));
    // pyral 1.7.0: POST HierarchicalRequirement/<oid>/Tags/add?fetch=Name {"Tags": [{"_ref": "Tag/<oid>"}]}
    let r = t
        .post(
            &format!("/HierarchicalRequirement/{oid}/Tags/add?fetch=Name&key=None"),
            json!({"Tags": [{"_ref": format!("Tag/{a}")}]}),
        )
        .await;
    let op = &r["OperationResult"];
    assert_eq!(op["Errors"], json!([]));
    assert_eq!(field(&op["Results"], "Name"), [tags["Results"][0]["Name"].as_str().unwrap()]);
    let r = t
        .post(&format!("/hierarchicalrequirement/{oid}/tags/add"), json!({"tags": [{"_ref": format!("/tag/{b}")}]}))
        .await;
    assert_eq!(r["OperationResult"]["Errors"], json!([]));
    let after = t.get(&format!("/hierarchicalrequirement/{oid}?fetch=Tags")).await;
    assert_eq!(after["HierarchicalRequirement"]["Tags"]["Count"], 2);
    // pyral removes with CollectionItems.
    let r = t
        .post(
            &format!("/HierarchicalRequirement/{oid}/Tags/remove"),
            json!({"CollectionItems": [{"_ref": format!("Tag/{a}")}]}),
        )
        .await;
    assert_eq!(r["OperationResult"]["Errors"], json!([]));
    let after = t.get(&format!("/hierarchicalrequirement/{oid}?fetch=Tags")).await;
    assert_eq!(after["HierarchicalRequirement"]["Tags"]["Count"], 1);
    // Another collection's name is not an item list.
    let r = t
        .post(&format!("/hierarchicalrequirement/{oid}/Tags/add"), json!({"Tasks": [{"_ref": format!("/tag/{a}")}]}))
        .await;
    assert_eq!(
        strings(&r["OperationResult"]["Errors"]),
        ["Could not parse: the request body must hold a CollectionItems (or Tags) array"]
    );
}

#[tokio::test]
async fn tls_serves_https_with_the_ca_given_in_the_json_line() {
    let mut t = sim_with(SimConfig { api_key: KEY.into(), tls: true, ..Default::default() }).await;
    assert!(t.sim.url.starts_with("https://127.0.0.1:"), "{}", t.sim.url);
    let line: Value = serde_json::from_str(&t.sim.json_line()).unwrap();
    let pem = line["caPem"].as_str().unwrap().to_string();
    let file = line["caFile"].as_str().unwrap().to_string();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), pem);
    // A client that trusts only this CA connects, with verification on.
    let ca = reqwest::Certificate::from_pem(pem.as_bytes()).unwrap();
    let client = reqwest::Client::builder().tls_built_in_root_certs(false).add_root_certificate(ca).build().unwrap();
    for host in ["127.0.0.1", "localhost"] {
        let base = t.sim.base.replace("127.0.0.1", host);
        let v: Value = get_json(&client, format!("{base}/user?fetch=UserName"), KEY).await;
        assert_eq!(v["User"]["UserName"], t.sim.owner_user_name.as_str(), "{host}");
        assert!(v["User"]["_ref"].as_str().unwrap().starts_with("https://127.0.0.1:"));
    }
    let anon = client.get(format!("{}/defect", t.sim.base)).send().await.unwrap();
    assert_eq!(anon.status(), 401);
    // One that does not trust it is refused; plain HTTP gets no answer.
    let strict = reqwest::Client::builder().tls_built_in_root_certs(true).build().unwrap();
    assert!(strict.get(format!("{}/user", t.sim.base)).send().await.is_err());
    let plain = t.sim.base.replace("https://", "http://");
    assert!(reqwest::get(format!("{plain}/user")).await.map(|r| r.status() != 200).unwrap_or(true));
    // Without tls there is no CA in the line.
    let http = sim().await;
    let line: Value = serde_json::from_str(&http.sim.json_line()).unwrap();
    assert!(line.get("caFile").is_none() && line.get("caPem").is_none());
    // The CA file goes with the simulator.
    t.sim.shutdown();
    drop(t);
    assert!(!std::path::Path::new(&file).exists());
}
