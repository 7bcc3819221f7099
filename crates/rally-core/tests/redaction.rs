//! The key never reaches an error: a server or proxy that echoes the `ZSESSIONID` header into
//! its body (the simulator's `echo` faults) gives errors of every kind with the key masked, in
//! the message and in every `details()` value.

mod common;
use common::*;
use rally_core::{IssueFilters, NewIssue, RallyError, Tracker, TrackerConfig};

fn assert_clean(e: &Env, err: &RallyError, want: &str, case: &str) {
    assert_eq!(err.code(), want, "{case}: {err}");
    let text = format!("{err} {} {err:?}", err.details());
    assert!(!text.contains(e.sim.api_key.as_str()), "{case}: the key is in {text}");
}

#[tokio::test]
async fn errors_from_a_server_that_echoes_the_key_never_carry_it() {
    let e = env().await;
    let t = Tracker::new(TrackerConfig { max_retries: Some(0), ..e.config() }).unwrap();
    let made = t.create_issue(NewIssue { title: "echo target".into(), ..Default::default() }).await.unwrap();
    let cases = [
        ("echo", "RALLY_PROTOCOL"),
        ("echo=401", "RALLY_AUTH"),
        ("echo-errors", "RALLY_REJECTED"),
        ("echo=503", "RALLY_UNAVAILABLE"),
    ];
    for (fault, want) in cases {
        e.faults(&format!("{fault}@*")).await;
        let get = t.get_issue(&made.reference).await.unwrap_err();
        if fault == "echo" {
            // The page really carries the key: what the client is handed.
            let page = e.http.get(format!("{}/defect", e.sim.base)).header("ZSESSIONID", &e.sim.api_key).send().await;
            assert!(page.unwrap().text().await.unwrap().contains(e.sim.api_key.as_str()));
        }
        assert_clean(&e, &get, want, &format!("getIssue, {fault}"));
        let list = t.list_issues(IssueFilters::default()).await.unwrap_err();
        assert_clean(&e, &list, want, &format!("listIssues, {fault}"));
        let post = t.add_comment(&made.reference, "x").await.unwrap_err();
        assert_clean(&e, &post, want, &format!("addComment, {fault}"));
        e.clear_faults().await;
    }
}

/// Every variant (every error code), with the key in every text it carries: the message,
/// `details()` and Debug all mask it. A new variant or field that skipped the redaction point
/// shows here.
#[tokio::test]
async fn every_error_code_masks_a_key_in_any_field() {
    let e = env().await;
    let _t = e.tracker();
    let k = || format!("echo {} echo", e.sim.api_key);
    let all = [
        RallyError::Auth { detail: k() },
        RallyError::NotFound { id: k() },
        RallyError::InvalidInput { argument: k(), message: k() },
        RallyError::Rejected { operation: k(), errors: vec![k(), k()] },
        RallyError::Unavailable { operation: k(), attempts: 1, last_status: Some(503), detail: k() },
        RallyError::Timeout { operation: k(), attempts: 1, timeout_ms: 5, detail: k() },
        RallyError::Timeout { operation: k(), attempts: 1, timeout_ms: 5, detail: String::new() },
        RallyError::Protocol { operation: k(), excerpt: k() },
    ];
    let mut codes = std::collections::BTreeSet::new();
    for err in &all {
        codes.insert(err.code());
        assert_clean(&e, err, err.code(), "constructed");
        assert!(err.to_string().contains("echo *** echo"), "{err}");
    }
    assert_eq!(codes.len(), 7, "every code: {codes:?}");
}
