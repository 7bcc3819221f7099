use super::*;
use std::time::Duration;

fn cfg(key: &str) -> TrackerConfig {
    TrackerConfig { api_key: key.into(), ..TrackerConfig::default() }
}

fn err_arg(c: TrackerConfig) -> String {
    match Settings::from_config(&c) {
        Err(RallyError::InvalidInput { argument, .. }) => argument,
        Err(e) => format!("other: {}", e.code()),
        Ok(_) => "ok".into(),
    }
}

#[test]
fn defaults_apply() {
    let s = Settings::from_config(&cfg("_key")).unwrap();
    assert_eq!(s.origin, "https://rally1.rallydev.com");
    assert_eq!(s.api_base, "https://rally1.rallydev.com/slm/webservice/v2.0/");
    assert_eq!(s.max_concurrency, Defaults::MAX_CONCURRENCY);
    assert_eq!(s.timeout, Duration::from_millis(Defaults::TIMEOUT_MS));
    assert_eq!(s.retry.max_retries, Defaults::MAX_RETRIES);
    assert_eq!(s.max_results, Defaults::MAX_RESULTS);
    assert_eq!(s.artifact_types, ArtifactType::ALL.to_vec());
    assert!(s.scope_down && !s.scope_up);
    assert_eq!((s.workspace.clone(), s.project.clone()), (None, None));
}

#[test]
fn empty_key_is_an_auth_error_that_never_shows_a_key() {
    for k in ["", "   "] {
        let e = Settings::from_config(&cfg(k)).err().unwrap();
        assert_eq!(e.code(), "RALLY_AUTH");
    }
    let dbg = format!("{:?}", TrackerConfig { api_key: "_supersecret".into(), ..TrackerConfig::default() });
    assert!(!dbg.contains("_supersecret"), "{dbg}");
}

#[test]
fn server_forms() {
    let ok = |s: &str, insecure| parse_server(s, insecure).map_err(|e| e.to_string());
    assert_eq!(ok("rally1.rallydev.com", false).unwrap(), "https://rally1.rallydev.com");
    assert_eq!(ok("https://eu1.rallydev.com/slm/webservice/v2.0", false).unwrap(), "https://eu1.rallydev.com");
    assert_eq!(ok("http://127.0.0.1:8080", false).unwrap(), "http://127.0.0.1:8080");
    assert_eq!(ok("http://localhost:9", false).unwrap(), "http://localhost:9");
    assert_eq!(ok("http://[::1]:9", false).unwrap(), "http://[::1]:9");
    assert!(ok("http://rally.example.com", false).is_err());
    assert_eq!(ok("http://rally.example.com", true).unwrap(), "http://rally.example.com");
    assert!(ok("ftp://x", false).is_err());
    assert!(ok("https://user:pw@x.com", false).is_err());
    assert!(ok("", false).is_err());
    assert!(ok("not a host", false).is_err());
}

#[test]
fn container_refs() {
    let p = |v: &str| parse_container_ref("workspace", "workspace", v);
    assert_eq!(p("/workspace/123").unwrap(), "/workspace/123");
    assert_eq!(p("123").unwrap(), "/workspace/123");
    assert_eq!(p(" https://rally1.rallydev.com/slm/webservice/v2.0/workspace/42 ").unwrap(), "/workspace/42");
    assert_eq!(p("/Workspace/7.js").unwrap(), "/workspace/7");
    for bad in ["", "abc", "/project/1", "/workspace/x", "0", "/workspace/"] {
        let e = p(bad).unwrap_err();
        assert_eq!(e.code(), "RALLY_INVALID_INPUT", "{bad}");
        assert!(e.to_string().contains("workspace"), "{e}");
    }
}

#[test]
fn invalid_options_name_their_field() {
    let base = cfg("_k");
    let cases: Vec<(TrackerConfig, &str)> = vec![
        (TrackerConfig { max_concurrency: Some(0), ..base.clone() }, "maxConcurrency"),
        (TrackerConfig { max_concurrency: Some(13), ..base.clone() }, "maxConcurrency"),
        (TrackerConfig { timeout: Some(Duration::ZERO), ..base.clone() }, "timeoutMs"),
        (TrackerConfig { timeout: Some(Duration::from_micros(999)), ..base.clone() }, "timeoutMs"),
        (TrackerConfig { timeout: Some(Duration::from_secs(3601)), ..base.clone() }, "timeoutMs"),
        (TrackerConfig { max_retries: Some(11), ..base.clone() }, "maxRetries"),
        (TrackerConfig { max_results: Some(0), ..base.clone() }, "maxResults"),
        (TrackerConfig { max_results: Some(1_000_001), ..base.clone() }, "maxResults"),
        (TrackerConfig { workspace: Some("nope".into()), ..base.clone() }, "workspace"),
        (TrackerConfig { project: Some("/workspace/1".into()), ..base.clone() }, "project"),
        (TrackerConfig { server: Some("http://evil.example".into()), ..base.clone() }, "server"),
        (TrackerConfig { proxy: Some("::".into()), ..base.clone() }, "proxy"),
        (TrackerConfig { proxy: Some("ftp://p:1".into()), ..base.clone() }, "proxy"),
        (TrackerConfig { proxy: Some("socks5://127.0.0.1:1080".into()), ..base.clone() }, "proxy"),
        (TrackerConfig { proxy: Some("socks5h://p:1".into()), ..base.clone() }, "proxy"),
        (TrackerConfig { ca_certs: Some(vec!["garbage".into()]), ..base.clone() }, "caCerts[0]"),
        (TrackerConfig { artifact_types: Some(vec![]), ..base.clone() }, "artifactTypes"),
    ];
    for (c, want) in cases {
        assert_eq!(err_arg(c), want);
    }
    let s = Settings::from_config(&TrackerConfig {
        max_concurrency: Some(12),
        timeout: Some(Duration::from_millis(1)),
        max_retries: Some(0),
        proxy: Some("http://proxy.local:3128".into()),
        artifact_types: Some(vec![ArtifactType::Defect, ArtifactType::Defect]),
        project: Some("555".into()),
        project_scope_up: Some(true),
        ..base
    })
    .unwrap();
    assert_eq!((s.max_concurrency, s.retry.max_retries), (12, 0));
    assert_eq!(s.artifact_types, vec![ArtifactType::Defect]);
    assert_eq!(s.project.as_deref(), Some("/project/555"));
    assert!(s.scope_up);
}

/// A self-signed test CA (no private key kept); only its parsing matters here.
const TEST_CA: &str = "-----BEGIN CERTIFICATE-----
MIIBjjCCATWgAwIBAgIUHmFMS0g+IvNwfPhQYi+Ymq3nM0swCgYIKoZIzj0EAwIw
HTEbMBkGA1UEAwwScmFsbHktY29yZSB0ZXN0IENBMB4XDTI2MTEyMzIxMDE1N1oX
DTM2MTEyMDIxMDE1N1owHTEbMBkGA1UEAwwScmFsbHktY29yZSB0ZXN0IENBMFkw
EwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEf2/e00EZ8mbqIMv1NKQ6nohNXO0aYZtS
/L06uFqGePrbBxv/iZxiCGIu/o1HSQyaX8V/M3tMkXcTmHa1sTkox6NTMFEwHQYD
VR0OBBYEFGUWXxEE1/cnqRqyVI5sfIAr5WfLMB8GA1UdIwQYMBaAFGUWXxEE1/cn
qRqyVI5sfIAr5WfLMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDRwAwRAIg
JeAIszZIbYnVo41KhRIiLNWWmG8utU8EFLrufaKVD+MCIHJy/cvROREMKZyQgOYX
BEW2TS4ecXpk3t7IFbzwht+Q
-----END CERTIFICATE-----
";

#[test]
fn ca_certs_and_node_extra_ca_certs() {
    let s = Settings::from_config(&TrackerConfig {
        ca_certs: Some(vec![TEST_CA.into(), format!("{TEST_CA}{TEST_CA}")]),
        ..cfg("_k")
    })
    .unwrap();
    assert!(s.ca_certs.len() >= 3);
    // The tracker's HTTP client accepts them.
    assert!(crate::http::Http::new(std::sync::Arc::new(s)).is_ok());

    // An unusable NODE_EXTRA_CA_CERTS warns (as Node does) instead of failing construction.
    let dir = std::env::temp_dir().join(format!("rally-core-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("ca.pem");
    std::fs::write(&good, TEST_CA).unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<LogEvent>::new()));
    let sink = seen.clone();
    let logger: Logger = std::sync::Arc::new(move |e: &LogEvent| sink.lock().unwrap().push(e.clone()));
    std::env::set_var("NODE_EXTRA_CA_CERTS", &good);
    let with = Settings::from_config(&TrackerConfig { logger: Some(logger.clone()), ..cfg("_k") }).unwrap();
    std::env::set_var("NODE_EXTRA_CA_CERTS", dir.join("missing.pem"));
    let missing = Settings::from_config(&TrackerConfig { logger: Some(logger), ..cfg("_k") });
    std::env::remove_var("NODE_EXTRA_CA_CERTS");
    assert!(!with.ca_certs.is_empty());
    assert!(missing.is_ok());
    let logs = seen.lock().unwrap();
    assert!(logs.iter().any(|e| e.level == "warn" && e.message.contains("missing.pem")), "{logs:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
