//! `--seed N`: exactly N work items, in the documented proportions, with every relationship and
//! drop-down value present from 30 items on; the same N gives the same bytes.

mod common;

use common::{field, sim_with, KEY, T};
use rally_sim::SimConfig;
use std::collections::BTreeSet;

async fn seeded(n: u64) -> T {
    sim_with(SimConfig { seed: n, api_key: KEY.into(), ..Default::default() }).await
}

async fn total(t: &T, path: &str) -> u64 {
    let sep = if path.contains('?') { '&' } else { '?' };
    t.query(&format!("{path}{sep}pagesize=1")).await["TotalResultCount"].as_u64().expect("count")
}

/// Every row of a query (pages of 2000).
async fn rows(t: &T, path: &str) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    loop {
        let q = t.query(&format!("{path}&pagesize=2000&start={}", out.len() + 1)).await;
        let page = q["Results"].as_array().cloned().unwrap_or_default();
        let done = page.is_empty() || out.len() + page.len() >= q["TotalResultCount"].as_u64().unwrap_or(0) as usize;
        out.extend(page);
        if done {
            return out;
        }
    }
}

async fn distinct(t: &T, path: &str, name: &str) -> BTreeSet<String> {
    let all = serde_json::Value::Array(rows(t, path).await);
    field(&all, name).into_iter().collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn seed_n_gives_exactly_n_work_items() {
    for n in [10u64, 30, 113, 500] {
        let t = seeded(n).await;
        assert_eq!(total(&t, "/artifact").await, n, "seed {n}: artifacts in the workspace");
        let by_type = [
            total(&t, "/portfolioitem/initiative").await,
            total(&t, "/portfolioitem/feature").await,
            total(&t, "/hierarchicalrequirement").await,
            total(&t, "/defect").await,
            total(&t, "/task").await,
        ];
        assert_eq!(by_type.iter().sum::<u64>(), n, "seed {n}: {by_type:?}");
        assert!(by_type.iter().all(|c| *c >= 1), "seed {n}: one of each type at least: {by_type:?}");
        // Stories and tasks lead, then defects, features, initiatives.
        assert!(by_type[2] >= by_type[3] && by_type[3] >= by_type[1] && by_type[1] >= by_type[0], "{by_type:?}");
        if n == 113 {
            assert_eq!(by_type, [2, 7, 40, 25, 39], "the README's worked example");
        }
        if n == 500 {
            assert_eq!(by_type, [10, 30, 175, 110, 175], "the README's worked example");
        }
        // Users, projects and tags do not scale with N.
        assert_eq!(total(&t, "/users").await, 5);
        assert_eq!(total(&t, "/project").await, 3);
        assert_eq!(total(&t, "/tag").await, 8);
    }
}

#[tokio::test]
async fn from_30_items_every_relationship_and_value_is_present() {
    for n in [30u64, 113, 500] {
        let t = seeded(n).await;
        let nonempty = [
            "/hierarchicalrequirement?query=(Parent != null)",
            "/hierarchicalrequirement?query=(PortfolioItem != null)",
            "/defect?query=(Requirement != null)",
            "/defect?query=(TargetDate != null)",
            "/portfolioitem/feature?query=(Parent != null)",
            "/portfolioitem/feature?query=(PlannedEndDate != null)",
            "/task?query=(WorkProduct.FormattedID contains \"US\")",
            "/task?query=(WorkProduct.FormattedID contains \"DE\")",
        ];
        for q in nonempty {
            assert!(total(&t, q).await > 0, "seed {n}: {q}");
        }
        let tagged = rows(&t, "/artifact?fetch=Tags").await;
        assert!(tagged.iter().any(|a| a["Tags"]["Count"].as_u64() > Some(0)), "seed {n}: tagged items");
        let states = ["Defined", "In-Progress", "Completed", "Accepted"];
        assert_eq!(distinct(&t, "/hierarchicalrequirement?fetch=ScheduleState", "ScheduleState").await, set(&states));
        assert_eq!(distinct(&t, "/defect?fetch=State", "State").await, set(&["Submitted", "Open", "Fixed", "Closed"]));
        let priorities = ["None", "Resolve Immediately", "High Attention", "Normal", "Low"];
        assert_eq!(distinct(&t, "/defect?fetch=Priority", "Priority").await, set(&priorities));
        let severities = ["None", "Crash/Data Loss", "Major Problem", "Minor Problem", "Cosmetic"];
        assert_eq!(distinct(&t, "/defect?fetch=Severity", "Severity").await, set(&severities));
        assert_eq!(distinct(&t, "/task?fetch=State", "State").await, set(&["Defined", "In-Progress", "Completed"]));
        let features = rows(&t, "/portfolioitem/feature?fetch=State,Name").await;
        let pi: BTreeSet<String> =
            features.iter().filter_map(|f| f["State"]["Name"].as_str().map(String::from)).collect();
        assert_eq!(pi, set(&["Discovering", "Developing", "Measuring", "Done"]), "seed {n}");
        // Several people own items and write posts.
        let owners = distinct(&t, "/artifact?fetch=Owner&query=(Owner != null)", "Owner").await;
        assert!(owners.len() >= 3, "seed {n}: owners {owners:?}");
        let posts = rows(&t, "/conversationpost?fetch=User,Text").await;
        let authors: BTreeSet<String> =
            posts.iter().filter_map(|p| p["User"]["_ref"].as_str().map(String::from)).collect();
        assert!(authors.len() >= 3, "seed {n}: post authors {authors:?}");
        assert!(posts.iter().all(|p| p["Text"].as_str().is_some_and(|s| s.starts_with('<'))), "HTML posts");
        // Work in each child project, and more in the root with its children (scope down).
        for child in &t.sim.child_project_refs {
            let only = total(&t, &format!("/artifact?project={child}&projectScopeDown=false")).await;
            assert!(only > 0, "seed {n}: items in {child}");
        }
        let root = &t.sim.project_ref;
        let alone = total(&t, &format!("/artifact?project={root}&projectScopeDown=false")).await;
        let down = total(&t, &format!("/artifact?project={root}")).await;
        assert!(alone > 0 && down == n && alone < down, "seed {n}: root {alone}, with children {down}");
    }
}

/// All seeded objects as JSON, the simulator's own address taken out.
async fn dump(t: &T) -> String {
    let mut out = String::new();
    for ty in ["artifact", "conversationpost", "tag", "users", "project", "state"] {
        let all = rows(t, &format!("/{ty}?fetch=true")).await;
        out.push_str(&serde_json::Value::Array(all).to_string().replace(&t.sim.url, "BASE"));
    }
    out
}

#[tokio::test]
async fn same_n_same_bytes_other_n_other_data() {
    for n in [10u64, 113] {
        let (a, b, c) = (seeded(n).await, seeded(n).await, seeded(n + 1).await);
        let (da, db, dc) = (dump(&a).await, dump(&b).await, dump(&c).await);
        assert_eq!(da, db, "seed {n} twice");
        assert_ne!(da, dc, "seed {n} and {}", n + 1);
        assert!(da.contains("\"FormattedID\":\"US1\""), "seed {n} has stories");
    }
}

#[tokio::test]
async fn fewer_than_ten_items_is_refused() {
    for n in [0u64, 9, 200_001] {
        let err = rally_sim::start(SimConfig { seed: n, api_key: KEY.into(), ..Default::default() }).await.err();
        let err = err.unwrap_or_else(|| panic!("seed {n} must be refused"));
        assert!(err.contains("between 10 and 200000") && err.contains(&format!("got {n}")), "{err}");
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rally-sim"))
        .args(["--port", "0", "--seed", "9", "--api-key", "_k", "--max-seconds", "5"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run rally-sim");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "no JSON line");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--seed") && stderr.contains("got 9"), "{stderr}");
}
