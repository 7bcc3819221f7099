//! `RALLY_LOG=debug`: one stderr line per HTTP attempt with method, path, status, duration and
//! attempt number, checked against the simulator's own request log — and never the API key.
//! The variable is read when a tracker is built, so the traced run is a child process (this
//! test binary again, running only the ignored `traced_run`) with the variable set.

mod common;

use common::{env_with, KEY};
use rally_core::{IssueFilters, NewIssue, Tracker, TrackerConfig};
use rally_sim::SimConfig;
use serde_json::Value;
use std::process::Command;

const CHILD: &str = "RALLY_CORE_LOGGING_CHILD";

/// The traced run: a few operations, one of them retried after a 503, with the tracker's
/// stderr log on and no logger callback. Prints the simulator's request log as one line.
#[tokio::test]
#[ignore = "run by rally_log_debug_prints_one_line_per_request_without_the_key"]
async fn traced_run() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let e = env_with(SimConfig {
        api_key: KEY.into(),
        seed: 50,
        faults: Some("503@GET /slm/webservice/v2.0/hierarchicalrequirement#next=1".into()),
        ..Default::default()
    })
    .await;
    let t = Tracker::new(TrackerConfig { logger: None, ..e.config() }).unwrap();
    let created = t.create_issue(NewIssue { title: "Traced".into(), ..Default::default() }).await.unwrap();
    t.get_issue(&created.reference).await.unwrap();
    t.list_issues(IssueFilters::default()).await.unwrap();
    t.add_comment(&created.reference, "a *note*").await.unwrap();
    let log: Value = e.http.get(format!("{}/__sim/log", e.sim.url)).send().await.unwrap().json().await.unwrap();
    println!("SIM_LOG {}", log["requests"]);
}

/// `(method, path, status)` of one request, path without query, lower case.
type Seen = (String, String, String);

fn parse_line(line: &str) -> Option<(Seen, u64, u32)> {
    // GET /slm/webservice/v2.0/defect [query,fetch,...] -> 200 in 3 ms (attempt 1)
    let (method, rest) = line.split_once(' ')?;
    let (path, rest) = rest.split_once(' ')?;
    let (_, rest) = rest.split_once("] -> ")?;
    let (status, rest) = rest.split_once(' ')?;
    let (_, rest) = rest.split_once("in ")?;
    let (ms, rest) = rest.split_once(" ms (attempt ")?;
    let attempt = rest.strip_suffix(')')?;
    Some(((method.into(), path.to_ascii_lowercase(), status.into()), ms.parse().ok()?, attempt.parse().ok()?))
}

#[test]
fn rally_log_debug_prints_one_line_per_request_without_the_key() {
    let exe = std::env::current_exe().expect("test binary");
    let out = Command::new(exe)
        .args(["--ignored", "--exact", "traced_run", "--nocapture"])
        .env("RALLY_LOG", "debug")
        .env(CHILD, "1")
        .output()
        .expect("child runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "child failed:\n{stdout}\n{stderr}");
    assert!(!stdout.contains(KEY) && !stderr.contains(KEY), "the API key was printed");

    let sim_log: Value = stdout
        .lines()
        .find_map(|l| l.strip_prefix("SIM_LOG "))
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or_else(|| panic!("no SIM_LOG line in:\n{stdout}"));
    let mut served: Vec<Seen> = sim_log
        .as_array()
        .expect("requests")
        .iter()
        .filter(|r| !r["path"].as_str().unwrap_or_default().starts_with("/__sim/"))
        .map(|r| {
            let path = r["path"].as_str().unwrap_or_default();
            let path = path.split('?').next().unwrap_or_default().to_ascii_lowercase();
            (r["method"].as_str().unwrap_or_default().to_string(), path, r["status"].to_string())
        })
        .collect();

    let lines: Vec<&str> = stderr.lines().filter_map(|l| l.strip_prefix("[rally debug] ")).collect();
    let parsed: Vec<(Seen, u64, u32)> =
        lines.iter().map(|l| parse_line(l).unwrap_or_else(|| panic!("unexpected log line: {l}"))).collect();
    let mut logged: Vec<Seen> = parsed.iter().map(|(s, _, _)| s.clone()).collect();
    // Concurrent requests finish in any order: compare as multisets.
    served.sort();
    logged.sort();
    assert!(served.len() >= 8, "too few requests to say much: {served:?}");
    assert_eq!(logged, served, "one log line per request the simulator served");
    // The create's schema read is logged with its own path, not under the WSAPI base.
    assert!(logged.iter().any(|s| s.1.starts_with("/slm/schema/v2.0/workspace/")), "{logged:?}");

    // The 503 was retried: its line says attempt 1, the retry's line attempt 2.
    let story_gets: Vec<&(Seen, u64, u32)> =
        parsed.iter().filter(|(s, _, _)| s.0 == "GET" && s.1.ends_with("/hierarchicalrequirement")).collect();
    assert!(
        story_gets.iter().any(|(s, _, a)| s.2 == "503" && *a == 1)
            && story_gets.iter().any(|(s, _, a)| s.2 == "200" && *a == 2),
        "{story_gets:?}"
    );
}
