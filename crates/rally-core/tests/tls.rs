//! TLS: a local HTTPS server with a certificate from a private CA. Without the CA the tracker
//! fails with a clear TLS error (and does not retry it); with it — through `caCerts` or
//! `NODE_EXTRA_CA_CERTS` — it succeeds.

use rally_core::{Tracker, TrackerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::rustls;

const CA: &str = include_str!("tls/ca.pem");
const CERT: &str = include_str!("tls/server.pem");
const KEY: &str = include_str!("tls/server.key");

/// Answers every request with a one-story QueryResult; counts completed handshakes.
async fn https_server() -> (String, Arc<AtomicUsize>) {
    let certs = vec![CertificateDer::from_pem_slice(CERT.as_bytes()).unwrap()];
    let key = PrivateKeyDer::from_pem_slice(KEY.as_bytes()).unwrap();
    let cfg = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let handshakes = Arc::new(AtomicUsize::new(0));
    let hs = handshakes.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let (acceptor, hs) = (acceptor.clone(), hs.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(sock).await else { return };
                hs.fetch_add(1, Ordering::SeqCst);
                let mut buf = vec![0u8; 8192];
                let _ = tls.read(&mut buf).await;
                let body = r#"{"QueryResult":{"Errors":[],"Warnings":[],"TotalResultCount":1,"StartIndex":1,"PageSize":20,"Results":[{"_ref":"/hierarchicalrequirement/5","_type":"HierarchicalRequirement","ObjectID":5,"FormattedID":"US5","Name":"over TLS","ScheduleState":"Defined","CreationDate":"2025-01-01T00:00:00.000Z","LastUpdateDate":"2025-01-01T00:00:00.000Z"}]}}"#;
                let resp = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(resp.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (format!("https://localhost:{port}"), handshakes)
}

fn config(server: &str) -> TrackerConfig {
    TrackerConfig {
        api_key: "_tlsTestKey".into(),
        server: Some(server.into()),
        workspace: Some("/workspace/1".into()),
        ..TrackerConfig::default()
    }
}

#[tokio::test]
async fn private_ca_fails_clearly_without_it_and_works_with_it() {
    let (server, handshakes) = https_server().await;

    let err = Tracker::new(config(&server)).unwrap().get_issue("US5").await.unwrap_err();
    assert_eq!(err.code(), "RALLY_UNAVAILABLE", "{err}");
    let msg = err.to_string();
    assert!(msg.contains("TLS") && msg.contains("caCerts") && msg.contains("NODE_EXTRA_CA_CERTS"), "{msg}");
    assert!(msg.contains("1 attempt"), "a certificate failure was retried: {msg}");
    assert_eq!(handshakes.load(Ordering::SeqCst), 0);

    let t = Tracker::new(TrackerConfig { ca_certs: Some(vec![CA.into()]), ..config(&server) }).unwrap();
    assert_eq!(t.get_issue("US5").await.unwrap().title, "over TLS");

    let dir = std::env::temp_dir().join(format!("rally-core-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("extra-ca.pem");
    std::fs::write(&path, CA).unwrap();
    // This test binary has no other test reading the environment concurrently.
    std::env::set_var("NODE_EXTRA_CA_CERTS", &path);
    let t = Tracker::new(config(&server));
    std::env::remove_var("NODE_EXTRA_CA_CERTS");
    assert_eq!(t.unwrap().get_issue("US5").await.unwrap().title, "over TLS");
    let _ = std::fs::remove_dir_all(&dir);
}
