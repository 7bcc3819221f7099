//! The per-scope HTML → Markdown cache, over HTTP against the simulator: every description
//! equals an uncached conversion of the stored HTML, a description edited through WSAPI is
//! converted again, and unchanged ones come from the cache or, in a kept list, from the item.

mod common;

use common::{env_with, KEY};
use rally_core::html_to_markdown;
use rally_core::IssueFilters;
use rally_core::{ArtifactType, Issue, Tracker, TrackerConfig};
use rally_sim::SimConfig;
use serde_json::{json, Value};
use std::collections::HashMap;

const OTHER_KEY: &str = "_otherKey0000003";

fn all() -> IssueFilters {
    IssueFilters { include_closed: Some(true), ..Default::default() }
}

fn assert_uncached_equal(list: &[Issue], html: &HashMap<String, String>) {
    for i in list {
        let want = html_to_markdown(html.get(&i.id).map(String::as_str).unwrap_or(""));
        assert_eq!(i.description, want, "{} converted differently through the cache", i.reference);
    }
}

#[tokio::test]
async fn edited_descriptions_are_converted_again_and_cached_ones_equal_uncached() {
    let e = env_with(SimConfig {
        api_key: KEY.into(),
        seed: 113,
        extra_keys: vec![(OTHER_KEY.into(), "other@example.com".into())],
        ..Default::default()
    })
    .await;
    let cfg = TrackerConfig { artifact_types: Some(vec![ArtifactType::UserStory]), ..e.config() };
    let t = Tracker::new(cfg.clone()).unwrap();
    let first = t.list_issues(all()).await.unwrap();
    let html = e.stored_html().await;
    assert_uncached_equal(&first, &html);
    let cache = t.markdown_cache();
    let (hits, converted) = cache.counts();
    assert_eq!(hits, 0);
    assert!(converted > 0, "the seed has no rich descriptions");

    // Edit the description of a story whose description went through the full converter.
    let edited = first
        .iter()
        .find(|i| html[&i.id].contains("<") && !html[&i.id].starts_with("<p>"))
        .expect("a rich description")
        .clone();
    let new_html = "<div><b>Edited</b> after the first list:</div><ul><li>one &amp; two</li></ul>";
    let r = e
        .http
        .post(format!("{}/hierarchicalrequirement/{}", e.sim.base, edited.id))
        .header("ZSESSIONID", &e.sim.api_key)
        .json(&json!({ "HierarchicalRequirement": { "Description": new_html } }))
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["OperationResult"]["Errors"], json!([]), "{body}");

    // A new tracker of the same configuration shares the cache.
    let second = Tracker::new(cfg.clone()).unwrap().list_issues(all()).await.unwrap();
    let html = e.stored_html().await;
    assert_uncached_equal(&second, &html);
    let now = second.iter().find(|i| i.id == edited.id).unwrap();
    assert_eq!(now.description, html_to_markdown(new_html));
    assert_ne!(now.description, edited.description);
    let (hits, again) = cache.counts();
    assert_eq!(again, converted + 1, "only the edited description is converted again");
    // The poll reuses the kept items, each with the Markdown it was converted to: no lookup.
    assert_eq!(hits, 0, "every other description is the one kept with its item");

    // A list of other filters is a full read: fresh items, every rich description from the
    // cache (the edited one too, converted once above).
    let limited = t.list_issues(IssueFilters { limit: Some(5000), ..all() }).await.unwrap();
    assert_eq!(limited, second);
    assert_eq!(cache.counts(), (converted, converted + 1));

    // A tracker of another key (its own cache) converts everything itself: the same issues.
    let other = Tracker::new(TrackerConfig { api_key: OTHER_KEY.into(), logger: None, ..cfg }).unwrap();
    assert_eq!(other.list_issues(all()).await.unwrap(), second);
    assert_eq!(other.markdown_cache().counts(), (0, converted));
}
