//! The `rally-sim` binary: its first stdout line and the ways it exits by itself.

mod common;
use common::get_json;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn spawn(args: &[&str], stdin: Stdio) -> (Child, Value) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rally-sim"))
        .args(args)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn rally-sim");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect("first line");
    (child, serde_json::from_str(&line).expect("first line is JSON"))
}

async fn exits_within(child: &mut Child, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Ok(Some(status)) = child.try_wait() {
            return status.success();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    false
}

#[tokio::test]
async fn prints_the_json_line_and_serves() {
    let (mut child, info) =
        spawn(&["--port", "0", "--seed", "50", "--api-key", "_binKey1", "--max-seconds", "30"], Stdio::piped());
    let obj = info.as_object().unwrap();
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["apiKey", "project", "url", "workspace"]);
    let url = info["url"].as_str().unwrap();
    assert!(url.starts_with("http://127.0.0.1:") && !url.ends_with('/'));
    assert_eq!(info["apiKey"], "_binKey1");
    assert!(info["workspace"].as_str().unwrap().starts_with("/workspace/"));
    assert!(info["project"].as_str().unwrap().starts_with("/project/"));
    let http = reqwest::Client::new();
    let v: Value =
        get_json(&http, format!("{url}/slm/webservice/v2.0{}", info["project"].as_str().unwrap()), "_binKey1").await;
    assert_eq!(v["Project"]["Name"], "Online Store");
    // Closing stdin stops it.
    drop(child.stdin.take());
    assert!(exits_within(&mut child, Duration::from_secs(5)).await, "exits when stdin closes");
}

#[tokio::test]
async fn max_seconds_stops_it_even_without_stdin() {
    let started = Instant::now();
    let (mut child, _) = spawn(
        &["--port", "0", "--seed", "10", "--api-key", "_k", "--max-seconds", "1", "--latency-ms", "5"],
        Stdio::null(),
    );
    assert!(exits_within(&mut child, Duration::from_secs(6)).await);
    assert!(started.elapsed() >= Duration::from_millis(900), "/dev/null stdin is not a close");
}

#[tokio::test]
async fn bad_arguments_exit_with_usage() {
    let out = Command::new(env!("CARGO_BIN_EXE_rally-sim"))
        .args(["--port", "0", "--seed", "1"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--api-key"));
    let out = Command::new(env!("CARGO_BIN_EXE_rally-sim"))
        .args(["--api-key", "k", "--faults", "418@*"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "a bad fault spec is refused at start");
}

#[tokio::test]
async fn extra_stories_make_a_large_workspace_at_start() {
    let started = Instant::now();
    let (mut child, info) = spawn(
        &["--port", "0", "--seed", "113", "--api-key", "_big", "--extra-stories", "10000", "--max-seconds", "30"],
        Stdio::piped(),
    );
    let ready = started.elapsed();
    let url = format!("{}/slm/webservice/v2.0/hierarchicalrequirement?pagesize=1", info["url"].as_str().unwrap());
    let v: Value =
        reqwest::Client::new().get(url).header("ZSESSIONID", "_big").send().await.unwrap().json().await.unwrap();
    assert_eq!(v["QueryResult"]["TotalResultCount"], 10_040);
    println!("start with 10040 stories: {} ms to the JSON line (debug build)", ready.as_millis());
    drop(child.stdin.take());
    assert!(exits_within(&mut child, Duration::from_secs(5)).await);
}

#[tokio::test]
async fn sigterm_stops_it() {
    let (mut child, _) =
        spawn(&["--port", "0", "--seed", "10", "--api-key", "_k", "--max-seconds", "30"], Stdio::null());
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(status.success());
    assert!(exits_within(&mut child, Duration::from_secs(5)).await, "exits on SIGTERM");
}

#[tokio::test]
async fn tls_flag_serves_https_and_names_the_ca_in_the_json_line() {
    let (mut child, info) =
        spawn(&["--port", "0", "--seed", "10", "--api-key", "_tlsKey", "--tls", "--max-seconds", "30"], Stdio::piped());
    let mut keys: Vec<&str> = info.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["apiKey", "caFile", "caPem", "project", "url", "workspace"]);
    let url = info["url"].as_str().unwrap();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let file = info["caFile"].as_str().unwrap().to_string();
    let pem = std::fs::read(&file).expect("CA file");
    assert_eq!(pem, info["caPem"].as_str().unwrap().as_bytes());
    let http = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .build()
        .unwrap();
    let v: Value = get_json(&http, format!("{url}/slm/webservice/v2.0/user"), "_tlsKey").await;
    assert_eq!(v["User"]["UserName"], "alex.morgan@acme.example");
    drop(child.stdin.take());
    assert!(exits_within(&mut child, Duration::from_secs(5)).await, "exits when stdin closes");
    assert!(!std::path::Path::new(&file).exists(), "the CA file is removed at exit");
}
