//! `linkPR` with `prLinks: 'comment'` posts a link once: the exact URL (scheme and host in any case, a trailing slash
//! ignored, never a substring), and once however many calls for one issue run at a time in
//! the process, from one tracker or several.

mod common;

use common::{env, Env};
use futures_util::future::join_all;
use rally_core::{NewIssue, Tracker, TrackerConfig};
use std::sync::Arc;

/// The `href`s of the posts on an artifact, read over raw WSAPI (not through the tracker).
async fn hrefs(e: &Env, oid: &str) -> Vec<String> {
    let v = e
        .http
        .get(format!("{}/conversationpost", e.sim.base))
        .query(&[
            ("query", format!("(Artifact.ObjectID = {oid})").as_str()),
            ("fetch", "Text"),
            ("workspace", e.sim.workspace_ref.as_str()),
            ("project", "null"),
            ("pagesize", "2000"),
        ])
        .header("ZSESSIONID", &e.sim.api_key)
        .send()
        .await
        .expect("posts")
        .json::<serde_json::Value>()
        .await
        .expect("posts JSON");
    let mut out = Vec::new();
    for p in v["QueryResult"]["Results"].as_array().cloned().unwrap_or_default() {
        let text = p["Text"].as_str().unwrap_or_default();
        for part in text.split("href=\"").skip(1) {
            out.push(part.split('"').next().unwrap_or_default().to_string());
        }
    }
    out.sort();
    out
}

/// A tracker that links by discussion post (`prLinks: 'comment'`).
fn posting(e: &Env) -> Tracker {
    Tracker::new(TrackerConfig { pr_links: Some("comment".into()), ..e.config() }).expect("tracker")
}

async fn story(e: &Env, title: &str) -> (String, String) {
    let s = e.tracker().create_issue(NewIssue { title: title.into(), ..Default::default() }).await.unwrap();
    (s.reference, s.id)
}

#[tokio::test]
async fn link_pr_matches_the_exact_url_never_a_substring() {
    let e = env().await;
    let (id, oid) = story(&e, "links by exact URL").await;
    let t = posting(&e);
    t.link_pr(&id, "https://github.com/acme/shop/pull/42").await.unwrap();
    // `…/pull/4` is a substring of `…/pull/42`, and a different pull request.
    t.link_pr(&id, "https://github.com/acme/shop/pull/4").await.unwrap();
    assert_eq!(
        hrefs(&e, &oid).await,
        ["https://github.com/acme/shop/pull/4", "https://github.com/acme/shop/pull/42"],
        "linking …/pull/4 after …/pull/42 must post"
    );
    // The same URLs again, with the scheme and host in other cases and a trailing slash, from
    // this tracker and from a cold one: nothing new.
    for u in ["HTTPS://GitHub.com/acme/shop/pull/42/", "https://GITHUB.COM/acme/shop/pull/4/"] {
        t.link_pr(&id, u).await.unwrap();
        posting(&e).link_pr(&oid, u).await.unwrap();
    }
    assert_eq!(hrefs(&e, &oid).await.len(), 2);
    // The path, query and fragment are compared as given; a trailing slash before a query is
    // still just a trailing slash.
    t.link_pr(&id, "https://github.com/acme/shop/pull/4?tab=files").await.unwrap();
    assert_eq!(hrefs(&e, &oid).await.len(), 3);
    posting(&e).link_pr(&id, "https://github.com/acme/shop/pull/4/?tab=files").await.unwrap();
    assert_eq!(hrefs(&e, &oid).await.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_link_pr_calls_for_one_issue_post_once() {
    let e = env().await;
    // A little latency so every call's existing-link lookup is out before any post.
    e.faults("latency=30@*").await;

    // One tracker, eight calls at once.
    let (id, oid) = story(&e, "links from one tracker").await;
    let t = Arc::new(posting(&e));
    let url = "https://github.com/acme/shop/pull/100";
    let calls = (0..8).map(|_| {
        let (t, id) = (t.clone(), id.clone());
        tokio::spawn(async move { t.link_pr(&id, url).await })
    });
    for r in join_all(calls).await {
        r.expect("task").expect("linkPR");
    }
    assert_eq!(hrefs(&e, &oid).await, [url], "one tracker, 8 concurrent calls");

    // Two trackers in one process (cold: neither has seen the issue), by FormattedID and by
    // ObjectID, the URL in two spellings.
    let (id2, oid2) = story(&e, "links from two trackers").await;
    let (a, b) = (Arc::new(posting(&e)), Arc::new(posting(&e)));
    let url2 = "https://github.com/acme/shop/pull/200";
    let calls = (0..4).map(|i| {
        let t = if i % 2 == 0 { a.clone() } else { b.clone() };
        let id = if i < 2 { id2.clone() } else { oid2.clone() };
        let u = if i == 3 { "https://GitHub.com/acme/shop/pull/200/" } else { url2 };
        tokio::spawn(async move { t.link_pr(&id, u).await })
    });
    for r in join_all(calls).await {
        r.expect("task").expect("linkPR");
    }
    // One post, in whichever spelling's call got there first (the URL is stored as given).
    let posted = hrefs(&e, &oid2).await;
    assert_eq!(posted.len(), 1, "two trackers, 4 concurrent calls: {posted:?}");
    assert!(
        posted[0] == url2 || posted[0] == "https://GitHub.com/acme/shop/pull/200/",
        "two trackers, 4 concurrent calls: {posted:?}"
    );
    e.clear_faults().await;
}

/// Rally refusing one PullRequest with "Not authorized to perform action: …" (a permission on
/// that object, the key just worked on the item) is no key problem: the link goes to a post,
/// with a warning quoting Rally. Only "Invalid key" is RALLY_AUTH.
#[tokio::test]
async fn a_pull_request_refused_as_not_authorized_falls_back_to_a_post() {
    let e = env().await;
    let t = e.tracker();
    let story = t.create_issue(NewIssue { title: "no PR rights".into(), ..Default::default() }).await.unwrap();
    e.faults("errors=Not authorized to perform action: Create PullRequest@POST */pullrequest/create#next=1").await;
    let url = "https://github.com/acme/shop/pull/21";
    t.link_pr(&story.reference, url).await.unwrap_or_else(|err| panic!("{}: {err}", err.code()));
    assert_eq!(hrefs(&e, &story.id).await, [url]);
    let warns = e.warnings();
    assert!(warns.iter().any(|w| w.contains("Not authorized to perform action: Create PullRequest")), "{warns:?}");
    // A key Rally says is invalid is still RALLY_AUTH.
    e.faults("errors=Not authorized to perform action: Invalid key@POST */conversationpost/create#next=1").await;
    let err = t.add_comment(&story.reference, "x").await.unwrap_err();
    assert_eq!(err.code(), "RALLY_AUTH", "{err}");
}
