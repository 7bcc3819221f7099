//! The query language end to end: strict grammar, attribute checks, dot paths, drop-down
//! ordering, dates and `today`, null, `in`, `contains`, FormattedID on `artifact`, scoping.
//! Expected sets are computed here from a full `fetch` of the data, not taken from the server.

mod common;
use common::*;
use serde_json::Value;
use std::collections::BTreeSet;

async fn ids(t: &T, ty: &str, query: &str) -> BTreeSet<String> {
    let q = t.query(&format!("/{ty}?query={}&fetch=FormattedID&pagesize=2000", enc(query))).await;
    field(&q["Results"], "FormattedID").into_iter().collect()
}

async fn all(t: &T, ty: &str, fetch: &str) -> Vec<Value> {
    let q = t.query(&format!("/{ty}?fetch={fetch}&pagesize=2000&project=null")).await;
    q["Results"].as_array().unwrap().clone()
}

fn fids(rows: &[Value], keep: impl Fn(&Value) -> bool) -> BTreeSet<String> {
    rows.iter().filter(|r| keep(r)).map(|r| r["FormattedID"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn grammar_is_strict() {
    let t = sim().await;
    for bad in [
        "(Name = \"a\") AND (Name = \"b\") AND (Name = \"c\")",
        "((Name = \"a\") AND (Name = \"b\") AND (Name = \"c\"))",
        "Name = \"a\"",
        "(Name=\"a\")",
        "((Name = \"a\")",
        "(Name = \"a\") OR",
    ] {
        let e = t.query_errors(&format!("/hierarchicalrequirement?query={}", enc(bad))).await;
        assert_eq!(e.len(), 1, "{bad}");
        assert!(e[0].starts_with("Could not parse: "), "{bad}: {e:?}");
    }
    // The nested form of the same three terms is fine.
    let ok = ids(
        &t,
        "hierarchicalrequirement",
        "(((Name contains \"a\") AND (Name contains \"e\")) AND (Name contains \"i\"))",
    )
    .await;
    let rows = all(&t, "hierarchicalrequirement", "FormattedID,Name").await;
    let expect = fids(&rows, |r| {
        let n = r["Name"].as_str().unwrap().to_lowercase();
        n.contains('a') && n.contains('e') && n.contains('i')
    });
    assert_eq!(ok, expect);
}

#[tokio::test]
async fn unknown_attributes_are_errors() {
    let t = sim().await;
    let e = t.query_errors(&format!("/task?query={}", enc("(ScheduleState = \"Defined\")"))).await;
    assert_eq!(e, vec!["Could not parse: Unknown attribute \"ScheduleState\" on type Task"]);
    let e = t.query_errors(&format!("/artifact?query={}", enc("(ScheduleState = \"Defined\")"))).await;
    assert_eq!(e, vec!["Could not parse: Unknown attribute \"ScheduleState\" on type Artifact"]);
    let e = t.query_errors(&format!("/defect?query={}", enc("(Owner.Shoe = \"x\")"))).await;
    assert_eq!(e, vec!["Could not parse: Unknown attribute \"Shoe\" on type User"]);
    let e = t.query_errors(&format!("/defect?query={}", enc("(TargetDate > \"soon\")"))).await;
    assert_eq!(
        e,
        vec!["Could not parse: Cannot convert \"soon\" into a date.  You must use the ISO8601 date+time format."]
    );
}

#[tokio::test]
async fn dot_paths_through_refs_and_collections() {
    let t = sim().await;
    let stories = all(&t, "hierarchicalrequirement", "FormattedID,Owner,UserName,Tags,Parent,PortfolioItem,Name").await;
    let owner = t.sim.owner_user_name.clone();
    let got = ids(&t, "hierarchicalrequirement", &format!("(Owner.UserName = \"{owner}\")")).await;
    let expect = fids(&stories, |r| r["Owner"]["UserName"] == owner.as_str());
    assert!(!expect.is_empty());
    assert_eq!(got, expect);

    // Tags.Name: any member matches. The expected set comes from each story's Tags collection.
    let tagged = t.query("/tag?query=(Name%20=%20backend)&fetch=Name").await;
    assert_eq!(tagged["TotalResultCount"], 1);
    let tag_ref = rel(&tagged["Results"][0]["_ref"]);
    let mut expect = BTreeSet::new();
    for s in &stories {
        let names = &s["Tags"]["_tagsNameArray"];
        if names.as_array().unwrap().iter().any(|n| n["Name"] == "backend") {
            expect.insert(s["FormattedID"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(ids(&t, "hierarchicalrequirement", "(Tags.Name = \"backend\")").await, expect);
    assert_eq!(ids(&t, "hierarchicalrequirement", &format!("(Tags = {tag_ref})")).await, expect);
    let without = ids(&t, "hierarchicalrequirement", "(Tags.Name != \"backend\")").await;
    assert!(without.is_disjoint(&expect));
    assert_eq!(without.len() + expect.len(), stories.len());

    // Parent.FormattedID and PortfolioItem refs.
    let child = stories.iter().find(|s| s["Parent"].is_object()).expect("a child story");
    let parent_fid = child["Parent"]["FormattedID"].as_str().unwrap();
    let expect = fids(&stories, |r| r["Parent"]["FormattedID"] == parent_fid);
    assert_eq!(ids(&t, "hierarchicalrequirement", &format!("(Parent.FormattedID = {parent_fid})")).await, expect);
    let parent_ref = rel(&child["Parent"]["_ref"]);
    let full_ref = child["Parent"]["_ref"].as_str().unwrap();
    assert_eq!(ids(&t, "hierarchicalrequirement", &format!("(Parent = {parent_ref})")).await, expect);
    assert_eq!(ids(&t, "hierarchicalrequirement", &format!("(Parent = {full_ref})")).await, expect);
    let no_parent = fids(&stories, |r| r["Parent"].is_null());
    assert_eq!(ids(&t, "hierarchicalrequirement", "(Parent = null)").await, no_parent);
    assert_eq!(ids(&t, "hierarchicalrequirement", "(Parent != null)").await.len(), stories.len() - no_parent.len());

    // Task → WorkProduct.FormattedID; post → Artifact.FormattedID; feature → State.Name.
    let tasks = all(&t, "task", "FormattedID,WorkProduct").await;
    let wp = tasks[0]["WorkProduct"]["FormattedID"].as_str().unwrap();
    let expect = fids(&tasks, |r| r["WorkProduct"]["FormattedID"] == wp);
    assert_eq!(ids(&t, "task", &format!("(WorkProduct.FormattedID = \"{wp}\")")).await, expect);
    let features = all(&t, "portfolioitem/feature", "FormattedID,State,Name").await;
    let expect = fids(&features, |r| r["State"]["Name"] == "Developing");
    assert!(!expect.is_empty());
    assert_eq!(ids(&t, "portfolioitem/feature", "(State.Name = \"Developing\")").await, expect);
    let e = t.query_errors(&format!("/portfolioitem/feature?query={}", enc("(State = Done)"))).await;
    assert_eq!(e, vec!["Could not parse: Cannot parse object reference from \"Done\""]);
    let q =
        t.query(&format!("/typedefinition?query={}&fetch=Name", enc("(TypePath = \"PortfolioItem/Feature\")"))).await;
    assert_eq!(q["TotalResultCount"], 1);
}

#[tokio::test]
async fn conversation_posts_by_artifact() {
    let t = sim().await;
    let posts = t.query("/conversationpost?fetch=Artifact,FormattedID,PostNumber&pagesize=2000").await;
    let first = &posts["Results"][0];
    let art_ref = rel(&first["Artifact"]["_ref"]);
    let fid = first["Artifact"]["FormattedID"].as_str().unwrap();
    let rows = posts["Results"].as_array().unwrap();
    let expect: BTreeSet<String> = rows
        .iter()
        .filter(|p| p["Artifact"]["_ref"] == first["Artifact"]["_ref"])
        .map(|p| p["_ref"].as_str().unwrap().to_string())
        .collect();
    let by_ref =
        t.query(&format!("/conversationpost?query={}&pagesize=200", enc(&format!("(Artifact = {art_ref})")))).await;
    let got: BTreeSet<String> =
        by_ref["Results"].as_array().unwrap().iter().map(|p| p["_ref"].as_str().unwrap().to_string()).collect();
    assert_eq!(got, expect);
    // Artifact.FormattedID compares the number only, so it may also match posts on other types.
    let by_fid = t
        .query(&format!(
            "/conversationpost?query={}&fetch=Artifact,FormattedID&pagesize=200",
            enc(&format!("(Artifact.FormattedID = \"{fid}\")"))
        ))
        .await;
    let num: String = fid.chars().filter(|c| c.is_ascii_digit()).collect();
    let hits = by_fid["Results"].as_array().unwrap();
    assert!(hits.len() >= expect.len());
    for p in hits {
        let f = p["Artifact"]["FormattedID"].as_str().unwrap();
        assert_eq!(f.chars().filter(|c| c.is_ascii_digit()).collect::<String>(), num);
    }
}

#[tokio::test]
async fn formatted_id_on_artifact_matches_the_number_only() {
    let t = sim().await;
    let got = ids(&t, "artifact", "(FormattedID = \"US3\")").await;
    assert!(got.contains("US3") && got.contains("DE3") && got.contains("TA3"), "{got:?}");
    assert!(got.iter().all(|f| f.ends_with('3') && !f.ends_with("13")));
    let exact = ids(&t, "hierarchicalrequirement", "(FormattedID = US3)").await;
    assert_eq!(exact.into_iter().collect::<Vec<_>>(), vec!["US3"]);
}

#[tokio::test]
async fn drop_down_ordering() {
    let t = sim().await;
    let stories = all(&t, "hierarchicalrequirement", "FormattedID,ScheduleState").await;
    let order = ["Defined", "In-Progress", "Completed", "Accepted"];
    let pos = |r: &Value| order.iter().position(|s| *s == r["ScheduleState"]).unwrap();
    assert_eq!(ids(&t, "hierarchicalrequirement", "(ScheduleState < Completed)").await, fids(&stories, |r| pos(r) < 2));
    assert_eq!(
        ids(&t, "hierarchicalrequirement", "(ScheduleState >= \"In-Progress\")").await,
        fids(&stories, |r| pos(r) >= 1)
    );
    let defects = all(&t, "defect", "FormattedID,Priority,Severity,State").await;
    let prio = ["None", "Resolve Immediately", "High Attention", "Normal", "Low"];
    let p = |r: &Value| prio.iter().position(|s| *s == r["Priority"]).unwrap();
    assert_eq!(ids(&t, "defect", "(Priority <= \"High Attention\")").await, fids(&defects, |r| p(r) <= 2));
    let sev = ["None", "Crash/Data Loss", "Major Problem", "Minor Problem", "Cosmetic"];
    let s = |r: &Value| sev.iter().position(|x| *x == r["Severity"]).unwrap();
    assert_eq!(ids(&t, "defect", "(Severity > \"Major Problem\")").await, fids(&defects, |r| s(r) > 2));
    let states = ["Submitted", "Open", "Fixed", "Closed"];
    let st = |r: &Value| states.iter().position(|x| *x == r["State"]).unwrap();
    assert_eq!(ids(&t, "defect", "(State < Fixed)").await, fids(&defects, |r| st(r) < 2));
    assert_eq!(
        ids(&t, "defect", "(State in Open,Closed)").await,
        fids(&defects, |r| r["State"] == "Open" || r["State"] == "Closed")
    );
    assert_eq!(
        ids(&t, "defect", "(State !in Open,Closed)").await,
        fids(&defects, |r| r["State"] != "Open" && r["State"] != "Closed")
    );
}

#[tokio::test]
async fn dates_today_null_and_contains() {
    let t = sim().await;
    let defects = all(&t, "defect", "FormattedID,TargetDate,Name").await;
    let today = {
        let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        let q = t.query("/defect?pagesize=1&fetch=CreationDate").await;
        let _ = q;
        secs / 86_400
    };
    // Days since epoch of an ISO date, computed independently of the server.
    fn day(s: &str) -> u64 {
        let y: i64 = s[0..4].parse().unwrap();
        let m: i64 = s[5..7].parse().unwrap();
        let d: i64 = s[8..10].parse().unwrap();
        let (y, m) = if m <= 2 { (y - 1, m + 12) } else { (y, m) };
        (365 * y + y / 4 - y / 100 + y / 400 + (153 * (m - 3) + 2) / 5 + d - 719_469) as u64
    }
    let target = |r: &Value| r["TargetDate"].as_str().map(day);
    let before = fids(&defects, |r| target(r).is_some_and(|d| d < today));
    assert!(!before.is_empty());
    assert_eq!(ids(&t, "defect", "(TargetDate < today)").await, before);
    let soon = fids(&defects, |r| target(r).is_some_and(|d| d >= today && d <= today + 7));
    assert_eq!(ids(&t, "defect", "((TargetDate >= today) AND (TargetDate <= today+7))").await, soon);
    assert_eq!(ids(&t, "defect", "(TargetDate = null)").await, fids(&defects, |r| r["TargetDate"].is_null()));
    let some = defects.iter().find_map(|r| r["TargetDate"].as_str()).unwrap();
    let on_day = fids(&defects, |r| r["TargetDate"].as_str().is_some_and(|d| d[..10] == some[..10]));
    assert_eq!(ids(&t, "defect", &format!("(TargetDate = {})", &some[..10])).await, on_day);
    assert_eq!(ids(&t, "defect", &format!("(TargetDate = \"{some}\")")).await, on_day);
    // contains is case-insensitive; !contains is its complement.
    let got = ids(&t, "defect", "(Name contains \"CHECKOUT\")").await;
    let expect = fids(&defects, |r| r["Name"].as_str().unwrap().to_lowercase().contains("checkout"));
    assert_eq!(got, expect);
    assert_eq!(ids(&t, "defect", "(Name !contains checkout)").await.len(), defects.len() - expect.len());
    // Quoted values with escapes: a name containing a quote and a backslash.
    let created =
        t.post("/defect/create?fetch=FormattedID", serde_json::json!({"Defect": {"Name": "Say \"hi\" C:\\tmp"}})).await;
    let fid = created["CreateResult"]["Object"]["FormattedID"].as_str().unwrap().to_string();
    let got = ids(&t, "defect", "(Name = \"Say \\\"hi\\\" C:\\\\tmp\")").await;
    assert_eq!(got.into_iter().collect::<Vec<_>>(), vec![fid]);
}

#[tokio::test]
async fn project_scoping_up_down_and_null() {
    let t = sim().await;
    let root = t.sim.project_ref.clone();
    let child = t.sim.child_project_refs[0].clone();
    let everything = all(&t, "defect", "FormattedID,Project").await;
    let in_proj = |p: &str| fids(&everything, |r| rel(&r["Project"]["_ref"]) == p);
    let root_only = in_proj(&root);
    let child_only = in_proj(&child);
    assert!(!root_only.is_empty() && !child_only.is_empty(), "seed spreads defects over projects");
    let q = |extra: String| {
        let t = &t;
        async move {
            let v = t.query(&format!("/defect?fetch=FormattedID&pagesize=2000&{extra}")).await;
            field(&v["Results"], "FormattedID").into_iter().collect::<BTreeSet<_>>()
        }
    };
    let all_ids: BTreeSet<String> = everything.iter().map(|r| r["FormattedID"].as_str().unwrap().to_string()).collect();
    assert_eq!(q(format!("project={root}")).await, all_ids, "scope down is the default");
    assert_eq!(q(format!("project={root}&projectScopeDown=false")).await, root_only);
    assert_eq!(q(format!("project={child}")).await, child_only);
    let up: BTreeSet<String> = root_only.union(&child_only).cloned().collect();
    assert_eq!(q(format!("project={child}&projectScopeUp=true")).await, up);
    assert_eq!(q("project=null".into()).await, all_ids);
    assert_eq!(q(format!("workspace={}&project=null", t.sim.workspace_ref)).await, all_ids);
    let e = t.query_errors("/defect?project=/project/1").await;
    assert_eq!(e, vec!["Could not read referenced object /project/1"]);
}
