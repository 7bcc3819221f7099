//! The simulator behind HTTPS: a TLS-terminating proxy (test code, certificates from a private
//! CA in `tests/tls/`) in front of an in-process rally-sim, and optionally an HTTP CONNECT proxy
//! in front of that. Every operation must work over it with the CA, fail clearly without it,
//! and never reach the simulator any other way (the simulator's refs are plain-HTTP URLs on its
//! own port: a client that followed them would bypass TLS).
//!
//! Environment variables are only set in child processes (this binary re-run with one test
//! selected), so no test here sees another's `NODE_EXTRA_CA_CERTS` or `HTTPS_PROXY`.

mod common;

use common::{env, Env};
use rally_core::{IssueFilters, IssueState, IssueUpdate, NewIssue, RallyError, Tracker, TrackerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls;

const CA: &str = include_str!("tls/ca.pem");
const CERT: &str = include_str!("tls/server.pem");
const KEY: &str = include_str!("tls/server.key");
/// Self-signed (no CA): a client that trusts only `CA` refuses it as of an unknown issuer.
const SELF_SIGNED_CERT: &str = include_str!("tls/self-signed.pem");
const SELF_SIGNED_KEY: &str = include_str!("tls/self-signed.key");

/// What a proxy saw: connections accepted, TLS handshakes completed, HTTP requests forwarded.
#[derive(Default)]
struct Seen {
    connections: AtomicUsize,
    handshakes: AtomicUsize,
    requests: AtomicUsize,
}

/// Counts request heads in the decrypted client→server stream (each has one `host:` header;
/// JSON bodies never contain CRLF + `host:`), carrying a tail across reads.
async fn pump_counting<R, W>(mut from: R, mut to: W, seen: Arc<Seen>)
where
    R: tokio::io::AsyncRead + Unpin,
    W: tokio::io::AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; 16 * 1024];
    let mut tail: Vec<u8> = Vec::new();
    while let Ok(n) = from.read(&mut buf).await {
        if n == 0 {
            break;
        }
        let mut scan = std::mem::take(&mut tail);
        scan.extend_from_slice(&buf[..n]);
        let lower = scan.to_ascii_lowercase();
        seen.requests.fetch_add(lower.windows(8).filter(|w| w == b"\r\nhost: ").count(), Ordering::SeqCst);
        tail = scan[scan.len().saturating_sub(7)..].to_vec();
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

/// HTTPS on 127.0.0.1 (certificate for `localhost` and `127.0.0.1`), forwarding to `upstream`.
async fn tls_proxy(upstream: String) -> (u16, Arc<Seen>) {
    tls_proxy_on("127.0.0.1:0", upstream).await
}

async fn tls_proxy_on(bind: &str, upstream: String) -> (u16, Arc<Seen>) {
    tls_proxy_with(bind, upstream, &[(CERT, KEY)]).await
}

fn acceptor(cert: &str, key: &str) -> tokio_rustls::TlsAcceptor {
    let certs = vec![CertificateDer::from_pem_slice(cert.as_bytes()).expect("server cert")];
    let key = PrivateKeyDer::from_pem_slice(key.as_bytes()).expect("server key");
    let cfg = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server config");
    tokio_rustls::TlsAcceptor::from(Arc::new(cfg))
}

/// The proxy presenting `identities[n % len]` (certificate, key) on its n-th connection, so
/// connections made at once can fail their handshakes for different reasons.
async fn tls_proxy_with(bind: &str, upstream: String, identities: &[(&str, &str)]) -> (u16, Arc<Seen>) {
    let acceptors: Vec<_> = identities.iter().map(|(c, k)| acceptor(c, k)).collect();
    let listener = TcpListener::bind(bind).await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let seen = Arc::new(Seen::default());
    let s = seen.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let n = s.connections.fetch_add(1, Ordering::SeqCst);
            let acceptor = acceptors[n % acceptors.len()].clone();
            let (s, upstream) = (s.clone(), upstream.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(sock).await else { return };
                s.handshakes.fetch_add(1, Ordering::SeqCst);
                let Ok(up) = TcpStream::connect(&upstream).await else { return };
                let (tls_r, tls_w) = tokio::io::split(tls);
                let (up_r, up_w) = up.into_split();
                let to_sim = pump_counting(tls_r, up_w, s.clone());
                let from_sim = async move {
                    let (mut r, mut w) = (up_r, tls_w);
                    let _ = tokio::io::copy(&mut r, &mut w).await;
                    let _ = w.shutdown().await;
                };
                tokio::join!(to_sim, from_sim);
            });
        }
    });
    (port, seen)
}

/// A plain HTTP CONNECT proxy (what `HTTPS_PROXY` / the `proxy` option point at); counts tunnels.
async fn connect_proxy() -> (u16, Arc<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let seen = Arc::new(Seen::default());
    let s = seen.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let s = s.clone();
            tokio::spawn(async move {
                let mut reader = BufReader::new(sock);
                let mut line = String::new();
                if reader.read_line(&mut line).await.is_err() {
                    return;
                }
                let mut parts = line.split_whitespace();
                let (Some("CONNECT"), Some(target)) = (parts.next(), parts.next()) else { return };
                let target = target.to_string();
                loop {
                    let mut h = String::new();
                    match reader.read_line(&mut h).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) if h == "\r\n" || h == "\n" => break,
                        Ok(_) => {}
                    }
                }
                s.connections.fetch_add(1, Ordering::SeqCst);
                let Ok(mut up) = TcpStream::connect(&target).await else { return };
                let mut sock = reader.into_inner();
                if sock.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await.is_err() {
                    return;
                }
                let _ = tokio::io::copy_bidirectional(&mut sock, &mut up).await;
            });
        }
    });
    (port, seen)
}

fn sim_addr(e: &Env) -> String {
    e.sim.url.trim_start_matches("http://").to_string()
}

fn https_config(e: &Env, port: u16) -> TrackerConfig {
    TrackerConfig { server: Some(format!("https://127.0.0.1:{port}")), logger: None, ..e.config() }
}

fn code(r: Result<impl Sized, RallyError>) -> Result<(), String> {
    r.map(drop).map_err(|e| format!("{}: {e}", e.code()))
}

/// Every operation once; returns how many succeeded (all of them, or the first error).
async fn every_operation(t: &Tracker, tag: &str) -> Result<(), String> {
    let labels = Some(vec![format!("tls-{tag}")]);
    let made = t
        .create_issue(NewIssue { title: format!("over TLS {tag}"), labels: labels.clone(), ..Default::default() })
        .await
        .map_err(|e| format!("create: {}: {e}", e.code()))?;
    let id = made.reference;
    code(t.get_issue(&id).await)?;
    code(
        t.update_issue(&id, IssueUpdate { title: Some(format!("over TLS {tag} (edited)")), ..Default::default() })
            .await,
    )?;
    code(t.add_comment(&id, "over TLS").await)?;
    code(t.get_comments(&id).await)?;
    code(t.list_issues(IssueFilters { labels, include_closed: Some(true), ..Default::default() }).await)?;
    code(t.transition_issue(&id, IssueState::InProgress).await)?;
    code(t.link_pr(&id, "https://github.com/acme/shop/pull/7").await)?;
    code(t.delete_issue(&id).await)
}

#[tokio::test]
async fn every_operation_over_https_with_the_ca_and_nothing_around_it() {
    let e = env().await;
    let (port, seen) = tls_proxy(sim_addr(&e)).await;
    e.reset_stats().await;
    let t = Tracker::new(TrackerConfig { ca_certs: Some(vec![CA.into()]), ..https_config(&e, port) }).unwrap();
    every_operation(&t, "ca").await.unwrap();
    let forwarded = seen.requests.load(Ordering::SeqCst);
    assert!(forwarded >= 9, "only {forwarded} requests went through TLS");
    assert_eq!(e.total().await, forwarded as u64, "requests reached the simulator without TLS");
    assert!(seen.handshakes.load(Ordering::SeqCst) < forwarded, "no connection was reused");
}

#[tokio::test]
async fn without_the_ca_the_error_says_tls_and_how_to_fix_it() {
    let e = env().await;
    let (port, seen) = tls_proxy(sim_addr(&e)).await;
    e.reset_stats().await;
    let t = Tracker::new(https_config(&e, port)).unwrap();
    for (op, result) in [
        ("getIssue", code(t.get_issue("US1").await)),
        ("listIssues", code(t.list_issues(IssueFilters::default()).await)),
        ("createIssue", code(t.create_issue(NewIssue { title: "never".into(), ..Default::default() }).await)),
    ] {
        let msg = result.expect_err(op);
        assert!(msg.starts_with("RALLY_UNAVAILABLE: "), "{op}: {msg}");
        assert!(msg.contains("TLS") && msg.contains("certificate"), "{op}: {msg}");
        assert!(msg.contains("caCerts") && msg.contains("NODE_EXTRA_CA_CERTS"), "{op}: {msg}");
        assert!(msg.contains("1 attempt"), "{op}: a certificate failure was retried: {msg}");
        assert!(!msg.contains(&e.sim.api_key), "{op}: key in the message");
    }
    assert!(seen.connections.load(Ordering::SeqCst) >= 3);
    assert_eq!(seen.handshakes.load(Ordering::SeqCst), 0);
    assert_eq!(e.total().await, 0, "a request got through without a trusted certificate");
}

/// A certificate from the right CA but for another name is refused too.
#[cfg(target_os = "linux")] // 127.0.0.2 is only routed to loopback by default on Linux
#[tokio::test]
async fn a_certificate_for_another_name_is_refused() {
    let e = env().await;
    let (port, seen) = tls_proxy_on("127.0.0.2:0", sim_addr(&e)).await;
    let cfg = TrackerConfig {
        server: Some(format!("https://127.0.0.2:{port}")),
        ca_certs: Some(vec![CA.into()]),
        allow_insecure_http: None,
        ..https_config(&e, port)
    };
    let msg = code(Tracker::new(cfg).unwrap().get_issue("US1").await).unwrap_err();
    assert!(msg.starts_with("RALLY_UNAVAILABLE: ") && msg.contains("TLS"), "{msg}");
    assert_eq!(seen.connections.load(Ordering::SeqCst), 1);
    assert_eq!(seen.handshakes.load(Ordering::SeqCst), 0);
}

/// Two requests in flight whose handshakes fail for different reasons (a certificate for another
/// name, one from an unknown issuer) each report their own reason. The logger holds each
/// request's failure line until both have failed, so both failures are known before either
/// error is built: a reason kept per client (the last one seen) shows up in both.
#[cfg(target_os = "linux")] // 127.0.0.2 is only routed to loopback by default on Linux
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_tls_failures_each_report_their_own_reason() {
    use std::sync::{Condvar, Mutex};
    use std::time::Duration;
    let e = env().await;
    let (port, seen) =
        tls_proxy_with("127.0.0.2:0", sim_addr(&e), &[(CERT, KEY), (SELF_SIGNED_CERT, SELF_SIGNED_KEY)]).await;
    let gate = Arc::new((Mutex::new(0usize), Condvar::new()));
    let g = gate.clone();
    let logger: rally_core::Logger = Arc::new(move |ev: &rally_core::LogEvent| {
        if ev.message.contains("tls-failed") {
            let (count, cv) = &*g;
            let mut n = count.lock().unwrap();
            *n += 1;
            cv.notify_all();
            let _ = cv.wait_timeout_while(n, Duration::from_secs(5), |n| *n < 2);
        }
    });
    let cfg = TrackerConfig {
        server: Some(format!("https://127.0.0.2:{port}")),
        ca_certs: Some(vec![CA.into()]),
        allow_insecure_http: None,
        logger: Some(logger),
        ..https_config(&e, port)
    };
    let t = Arc::new(Tracker::new(cfg).unwrap());
    let calls: Vec<_> = ["US1", "US2"]
        .into_iter()
        .map(|id| {
            let t = t.clone();
            tokio::spawn(async move { t.get_issue(id).await })
        })
        .collect();
    let mut reasons = Vec::new();
    for c in calls {
        let err = c.await.expect("task").expect_err("no handshake can succeed");
        let msg = err.to_string();
        assert!(msg.contains("TLS handshake"), "{msg}");
        let reason = msg.split(" failed: ").nth(1).and_then(|r| r.split(". If a proxy").next()).unwrap_or_default();
        reasons.push(reason.to_string());
    }
    assert_eq!(seen.connections.load(Ordering::SeqCst), 2);
    assert_eq!(*gate.0.lock().unwrap(), 2, "both requests failed their handshakes");
    let name = reasons.iter().filter(|r| r.to_lowercase().contains("not valid for name")).count();
    let issuer =
        reasons.iter().filter(|r| r.contains("UnknownIssuer") || r.to_lowercase().contains("unknown issuer")).count();
    assert_eq!((name, issuer), (1, 1), "each request must report its own handshake's reason: {reasons:?}");
}

#[tokio::test]
async fn the_proxy_option_tunnels_https() {
    if ["NO_PROXY", "no_proxy"].iter().any(|v| std::env::var_os(v).is_some()) {
        eprintln!("NO_PROXY is set; the proxy option is checked by env_https_proxy_is_honoured");
        return;
    }
    let e = env().await;
    let (tls_port, tls_seen) = tls_proxy(sim_addr(&e)).await;
    let (proxy_port, proxy_seen) = connect_proxy().await;
    e.reset_stats().await;
    let cfg = TrackerConfig {
        ca_certs: Some(vec![CA.into()]),
        proxy: Some(format!("http://127.0.0.1:{proxy_port}")),
        ..https_config(&e, tls_port)
    };
    every_operation(&Tracker::new(cfg).unwrap(), "proxy").await.unwrap();
    let tunnels = proxy_seen.connections.load(Ordering::SeqCst);
    assert!(tunnels >= 1 && tunnels == tls_seen.handshakes.load(Ordering::SeqCst), "{tunnels} tunnels");
    assert_eq!(e.total().await, tls_seen.requests.load(Ordering::SeqCst) as u64);
}

/// Runs this binary again with one (ignored) test selected and `vars` set; true if it passed.
fn child(test: &str, vars: &[(&str, String)]) -> bool {
    let exe = std::env::current_exe().expect("test binary");
    let mut cmd = std::process::Command::new(exe);
    cmd.args(["--exact", test, "--ignored", "--test-threads=1"]);
    cmd.env_remove("NO_PROXY").env_remove("no_proxy").env_remove("HTTPS_PROXY").env_remove("https_proxy");
    cmd.env_remove("NODE_EXTRA_CA_CERTS");
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("child test runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("1 passed") || text.contains("1 failed"), "child did not run {test}: {text}");
    out.status.success()
}

fn pem_file(name: &str, contents: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("rally-core-tls-proxy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("write PEM");
    path
}

/// In a child with `NODE_EXTRA_CA_CERTS` (and maybe `HTTPS_PROXY`) set by the parent.
#[tokio::test]
#[ignore = "run by env_* tests in a child process"]
async fn child_operations_over_https() {
    let e = env().await;
    let (port, seen) = tls_proxy(sim_addr(&e)).await;
    let (proxy_port, proxy_seen) = connect_proxy().await;
    if std::env::var_os("HTTPS_PROXY").is_some() {
        std::env::set_var("HTTPS_PROXY", format!("http://127.0.0.1:{proxy_port}"));
    }
    e.reset_stats().await;
    every_operation(&Tracker::new(https_config(&e, port)).unwrap(), "env").await.unwrap();
    assert_eq!(e.total().await, seen.requests.load(Ordering::SeqCst) as u64);
    let tunnels = proxy_seen.connections.load(Ordering::SeqCst);
    assert_eq!(tunnels > 0, std::env::var_os("HTTPS_PROXY").is_some(), "{tunnels} tunnels");
}

#[test]
fn env_node_extra_ca_certs_is_trusted() {
    let path = pem_file("extra.pem", CA);
    assert!(child("child_operations_over_https", &[("NODE_EXTRA_CA_CERTS", path.display().to_string())]));
    // Unusable files are ignored like Node ignores them (a warning), so the CA is missing.
    let missing = path.with_file_name("missing.pem");
    assert!(!child("child_operations_over_https", &[("NODE_EXTRA_CA_CERTS", missing.display().to_string())]));
    let junk = pem_file("junk.pem", "not a certificate");
    assert!(!child("child_operations_over_https", &[("NODE_EXTRA_CA_CERTS", junk.display().to_string())]));
}

#[test]
fn env_https_proxy_is_honoured() {
    let path = pem_file("extra-for-proxy.pem", CA);
    // The child replaces the placeholder with its own proxy's port before building the tracker.
    let vars = [("NODE_EXTRA_CA_CERTS", path.display().to_string()), ("HTTPS_PROXY", "placeholder".to_string())];
    assert!(child("child_operations_over_https", &vars));
}
