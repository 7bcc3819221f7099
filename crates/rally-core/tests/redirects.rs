//! Redirects: never followed to another host (the key header would go with them), and a
//! sign-in page is reported as an authentication problem. Tiny local HTTP servers stand in
//! for a proxy or SSO gateway; the simulator has no reason to redirect.

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

fn tracker(server: &str) -> Tracker {
    Tracker::new(TrackerConfig {
        api_key: "_redirectTestKey".into(),
        server: Some(server.into()),
        workspace: Some("/workspace/1".into()),
        max_retries: Some(0),
        ..TrackerConfig::default()
    })
    .unwrap()
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
