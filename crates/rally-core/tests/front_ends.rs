//! What stands between the client and Rally, answering instead of it: redirects are never
//! followed to another host (the key header would go with them), a sign-in page is reported as
//! an authentication problem, and broken or oddly framed bodies are read whole or refused.
//! Tiny local HTTP servers stand in for a proxy, SSO gateway or load balancer; the simulator
//! has no reason to behave so.

use rally_core::{Tracker, TrackerConfig};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Answers every request with `response`; counts requests and whether any carried the key.
async fn server(response: String) -> (String, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (hits, keyed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (h, k) = (hits.clone(), keyed.clone());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = vec![0u8; 8192];
            let n = sock.read(&mut buf).await.unwrap_or(0);
            let req = String::from_utf8_lossy(&buf[..n]).to_ascii_lowercase();
            h.fetch_add(1, Ordering::SeqCst);
            if req.contains("zsessionid:") {
                k.fetch_add(1, Ordering::SeqCst);
            }
            let _ = sock.write_all(response.as_bytes()).await;
            let _ = sock.shutdown().await;
        }
    });
    (format!("http://{addr}"), hits, keyed)
}

fn config(server: &str) -> TrackerConfig {
    TrackerConfig {
        api_key: "_redirectTestKey".into(),
        server: Some(server.into()),
        workspace: Some("/workspace/1".into()),
        max_retries: Some(0),
        ..TrackerConfig::default()
    }
}

fn tracker(server: &str) -> Tracker {
    Tracker::new(config(server)).unwrap()
}

#[tokio::test]
async fn off_host_redirects_are_not_followed_and_login_pages_are_auth_errors() {
    let (other, other_hits, other_keyed) = server("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}".into()).await;
    let (front, _, _) = server(format!(
        "HTTP/1.1 302 Found\r\nLocation: {other}/slm/webservice/v2.0/defect\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    ))
    .await;
    let err = tracker(&front).get_issue("DE1").await.unwrap_err();
    assert_eq!(err.code(), "RALLY_PROTOCOL", "{err}");
    assert!(err.to_string().contains("302"), "{err}");
    assert_eq!(other_hits.load(Ordering::SeqCst) + other_keyed.load(Ordering::SeqCst), 0, "followed off-host");

    let (sso, _, _) = server(
        "HTTP/1.1 302 Found\r\nLocation: https://sso.example.com/login?next=%2Fslm\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            .into(),
    )
    .await;
    let err = tracker(&sso).get_issue("DE1").await.unwrap_err();
    assert_eq!(err.code(), "RALLY_AUTH", "{err}");
    assert!(err.to_string().contains("sign-in") && !err.to_string().contains("next="), "{err}");

    let page = "<html><head><title>Proxy sign in</title></head><body>".to_string()
        + &"<p>x</p>".repeat(3000)
        + "</body></html>";
    let (html, _, _) = server(format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
        page.len()
    ))
    .await;
    let err = tracker(&html).get_issue("DE1").await.unwrap_err();
    assert_eq!(err.code(), "RALLY_PROTOCOL");
    assert!(err.to_string().len() < 500, "{err}");
    assert!(err.to_string().contains("Proxy sign in"), "{err}");
}

#[tokio::test]
async fn an_unreachable_server_is_unavailable_after_retries() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let t = Tracker::new(TrackerConfig {
        api_key: "_k".into(),
        server: Some(format!("http://{addr}")),
        max_retries: Some(2),
        ..TrackerConfig::default()
    })
    .unwrap();
    let err = t.get_issue("US1").await.unwrap_err();
    match &err {
        rally_core::RallyError::Unavailable { attempts, last_status, .. } => {
            assert_eq!((*attempts, *last_status), (3, None))
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("could not connect"), "{err}");
}

/// An HTTP/1.1 answer carrying `body` with chunked framing, `size` bytes a chunk.
fn chunked(body: &str, size: usize) -> String {
    let mut out =
        String::from("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
    for part in body.as_bytes().chunks(size) {
        out += &format!("{:x}\r\n{}\r\n", part.len(), std::str::from_utf8(part).unwrap());
    }
    out + "0\r\n\r\n"
}

/// A WSAPI query page of `n` defects, newest first (DE1 the newest).
fn defects(n: usize) -> String {
    let items: Vec<String> = (1..=n)
        .map(|i| {
            format!(
                r#"{{"_ref": "/defect/{i}", "_type": "Defect", "ObjectID": {i}, "FormattedID": "DE{i}", "Name": "Defect {i}",
                "Description": "<p>Seen on item {i}</p>", "State": "Open", "ScheduleState": "Defined",
                "CreationDate": "2026-01-01T00:00:00.000Z", "LastUpdateDate": "2026-01-02T00:00:{:02}.{:03}Z"}}"#,
                (n - i) / 1000 % 60,
                (n - i) % 1000
            )
        })
        .collect();
    format!(
        r#"{{"QueryResult": {{"Errors": [], "Warnings": [], "TotalResultCount": {n}, "StartIndex": 1, "PageSize": 2000,
        "Results": [{}]}}}}"#,
        items.join(",")
    )
}

/// Bodies are gathered into one buffer as they arrive: a chunked answer (no Content-Length)
/// of 2,000 items in 7-byte chunks reads whole and in order.
#[tokio::test]
async fn a_chunked_page_in_tiny_chunks_reads_whole() {
    let (url, hits, _) = server(chunked(&defects(2000), 7)).await;
    let t =
        Tracker::new(TrackerConfig { artifact_types: Some(vec![rally_core::ArtifactType::Defect]), ..config(&url) })
            .unwrap();
    let list =
        t.list_issues(rally_core::IssueFilters { include_closed: Some(true), ..Default::default() }).await.unwrap();
    assert_eq!(list.len(), 2000);
    assert_eq!((list[0].reference.as_str(), list[1999].reference.as_str()), ("DE1", "DE2000"));
    assert_eq!(list[1999].description, "Seen on item 2000");
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

/// The buffer for a body is sized from Content-Length only up to a bound: a front end that
/// claims 5 GB and sends two bytes gets a "cut short" error, not an attempt to reserve 5 GB.
#[tokio::test]
async fn a_content_length_far_past_the_body_is_a_short_body_not_an_allocation() {
    let (url, _, _) =
        server("HTTP/1.1 200 OK\r\nContent-Length: 5000000000\r\nConnection: close\r\n\r\n{}".into()).await;
    let err = tracker(&url).get_issue("DE1").await.unwrap_err();
    assert_eq!(err.code(), "RALLY_PROTOCOL", "{err}");
    assert!(err.to_string().contains("cut short"), "{err}");
}
