//! Fault injection seen from a real HTTP client: each fault kind, its trigger, and whether the
//! handler behind it ran.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::header::CONTENT_TYPE;
use axum::routing::{get, post};
use axum::Router;
use rally_sim::faults::{middleware, Faults};
use serde_json::{json, Value};

const DEFECTS: &str = "/slm/webservice/v2.0/defect";

struct Sim {
    base: String,
    faults: Faults,
    calls: Arc<AtomicUsize>,
    http: reqwest::Client,
}

impl Sim {
    async fn start(latency_ms: u64, spec: &str) -> Sim {
        let faults = Faults::new(latency_ms);
        faults.set_spec(spec).expect("valid spec");
        let calls = Arc::new(AtomicUsize::new(0));
        let (c1, c2) = (calls.clone(), calls.clone());
        let app = Router::new()
            .route(
                DEFECTS,
                get(move || async move {
                    c1.fetch_add(1, Ordering::SeqCst);
                    json_reply(page())
                }),
            )
            .route(
                "/slm/webservice/v2.0/defect/create",
                post(move || async move {
                    c2.fetch_add(1, Ordering::SeqCst);
                    json_reply(json!({"CreateResult": {"Errors": [], "Warnings": [], "Object": {"ObjectID": 1}}}))
                }),
            )
            .route("/slm/webservice/v2.0/defect/{oid}", get(|| async { "single" }))
            .route("/__sim/ping", get(|| async { "pong" }))
            .layer(axum::middleware::from_fn_with_state(faults.clone(), middleware));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        Sim { base: format!("http://{addr}"), faults, calls, http: reqwest::Client::new() }
    }

    async fn get(&self, path: &str) -> Result<reqwest::Response, reqwest::Error> {
        self.http.get(format!("{}{path}", self.base)).send().await
    }

    async fn create(&self) -> Result<reqwest::Response, reqwest::Error> {
        self.http.post(format!("{}{DEFECTS}/create", self.base)).json(&json!({"Defect": {"Name": "x"}})).send().await
    }

    async fn status(&self, path: &str) -> u16 {
        self.get(path).await.expect("response").status().as_u16()
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

fn json_reply(v: Value) -> ([(axum::http::HeaderName, &'static str); 1], String) {
    ([(CONTENT_TYPE, "application/json")], v.to_string())
}

fn page() -> Value {
    let results: Vec<Value> =
        (1..=20).map(|i| json!({"_ref": format!("/defect/{i}"), "Name": format!("Defect number {i}")})).collect();
    json!({"QueryResult": {"Errors": [], "Warnings": [], "TotalResultCount": 20, "Results": results}})
}

async fn text(r: reqwest::Response) -> (u16, String, String) {
    let status = r.status().as_u16();
    let ctype = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    (status, ctype, r.text().await.expect("body"))
}

#[tokio::test]
async fn gateway_statuses_answer_html_without_running_the_handler() {
    for (code, marker) in [
        (502, "502 Bad Gateway"),
        (503, "Powered by Jetty://"),
        (504, "504 Gateway Time-out"),
        (524, "A timeout occurred"),
    ] {
        let sim = Sim::start(0, &format!("{code}@GET {DEFECTS}*")).await;
        let (status, ctype, body) = text(sim.get(DEFECTS).await.expect("response")).await;
        assert_eq!(status, code);
        assert!(ctype.starts_with("text/html"), "{code}: {ctype}");
        assert!(body.contains(marker), "{code}: {body}");
        assert!(serde_json::from_str::<Value>(&body).is_err());
        assert_eq!(sim.calls(), 0, "{code} must not reach the handler");
        // The rule is scoped to GET: a create goes through.
        assert_eq!(sim.create().await.expect("create").status().as_u16(), 200);
        assert_eq!(sim.calls(), 1);
    }
}

#[tokio::test]
async fn jetty_503_page_names_the_path_without_query() {
    let sim = Sim::start(0, "503").await;
    let (_, _, body) = text(sim.get(&format!("{DEFECTS}?query=(Name%20%3D%20%22%3Cb%3E%22)")).await.unwrap()).await;
    assert!(body.contains(&format!("Problem accessing {DEFECTS}. Reason:")), "{body}");
}

#[tokio::test]
async fn too_many_requests_carries_retry_after() {
    let sim = Sim::start(0, "429=7@GET *; 429@POST *").await;
    let r = sim.get(DEFECTS).await.unwrap();
    assert_eq!(r.status().as_u16(), 429);
    assert_eq!(r.headers()["retry-after"], "7");
    let r = sim.create().await.unwrap();
    assert_eq!(r.status().as_u16(), 429);
    assert_eq!(r.headers()["retry-after"], "1");
    assert_eq!(sim.calls(), 0);
}

#[tokio::test]
async fn drop_before_closes_the_connection_without_running_the_handler() {
    let sim = Sim::start(0, "drop-before@POST */create#next=1").await;
    let err = sim.create().await.expect_err("the connection must drop");
    assert!(!err.is_timeout() && err.status().is_none(), "{err:?}");
    assert!(err.is_request(), "expected a connection-level error, got {err:?}");
    assert_eq!(sim.calls(), 0);
    // The next request gets through on a fresh connection.
    assert_eq!(sim.create().await.unwrap().status().as_u16(), 200);
    assert_eq!(sim.calls(), 1);
}

#[tokio::test]
async fn drop_after_runs_the_handler_then_closes_the_connection() {
    let sim = Sim::start(0, "drop-after@POST */create#next=1").await;
    let err = sim.create().await.expect_err("the connection must drop");
    assert!(err.is_request() && err.status().is_none(), "{err:?}");
    // The write took effect even though the client saw no response: a retry duplicates it.
    assert_eq!(sim.calls(), 1);
    assert_eq!(sim.create().await.unwrap().status().as_u16(), 200);
    assert_eq!(sim.calls(), 2);
}

#[tokio::test]
async fn drop_also_fails_a_client_reusing_a_kept_alive_connection() {
    let sim = Sim::start(0, "").await;
    assert_eq!(sim.status(DEFECTS).await, 200);
    sim.faults.set_spec("drop-before@GET *#next=1").unwrap();
    assert!(sim.get(DEFECTS).await.is_err());
    assert_eq!(sim.status(DEFECTS).await, 200);
    assert_eq!(sim.calls(), 2);
}

#[tokio::test]
async fn truncate_cuts_the_real_body_in_half() {
    let sim = Sim::start(0, "truncate@GET *#next=1").await;
    let (status, ctype, cut) = text(sim.get(DEFECTS).await.unwrap()).await;
    let (_, _, whole) = text(sim.get(DEFECTS).await.unwrap()).await;
    assert_eq!(status, 200);
    assert!(ctype.starts_with("application/json"), "{ctype}");
    assert_eq!(sim.calls(), 2, "truncate serves the handler's own body");
    assert!(serde_json::from_str::<Value>(&whole).is_ok());
    assert!(serde_json::from_str::<Value>(&cut).is_err(), "{cut}");
    assert_eq!(cut.len(), whole.len() / 2);
    assert!(whole.starts_with(&cut));
}

#[tokio::test]
async fn html_fault_is_a_200_login_page() {
    let sim = Sim::start(0, "html@GET *").await;
    let (status, ctype, body) = text(sim.get(DEFECTS).await.unwrap()).await;
    assert_eq!(status, 200);
    assert!(ctype.starts_with("text/html"), "{ctype}");
    assert!(body.contains("Sign in") && serde_json::from_str::<Value>(&body).is_err());
    assert_eq!(sim.calls(), 0);
}

#[tokio::test]
async fn errors_fault_returns_the_envelope_of_the_operation() {
    let sim = Sim::start(0, "errors@GET /slm/*; errors=Concurrency conflict@POST *").await;
    let q: Value = sim.get(DEFECTS).await.unwrap().json().await.unwrap();
    assert_eq!(q["QueryResult"]["Errors"], json!(["An unexpected error occurred"]));
    assert_eq!(q["QueryResult"]["Results"], json!([]));
    let one: Value = sim.get(&format!("{DEFECTS}/123")).await.unwrap().json().await.unwrap();
    assert_eq!(one["OperationResult"]["Errors"], json!(["An unexpected error occurred"]));
    let r = sim.create().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let c: Value = r.json().await.unwrap();
    assert_eq!(c["CreateResult"]["Errors"], json!(["Concurrency conflict"]));
    assert!(c["CreateResult"].get("Object").is_none());
    assert_eq!(sim.calls(), 0);
}

#[tokio::test]
async fn next_n_fires_exactly_n_times_and_counts_firings() {
    let spec = format!("503@GET {DEFECTS}*#next=2; drop-after@POST */create#next=1");
    let sim = Sim::start(0, &spec).await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(sim.status(DEFECTS).await);
    }
    assert_eq!(statuses, [503, 503, 200, 200]);
    assert_eq!(
        sim.faults.fired(),
        [(format!("503@GET {DEFECTS}*#next=2"), 2), ("drop-after@POST */create#next=1".to_string(), 0)]
    );
}

#[tokio::test]
async fn first_firing_rule_wins_and_later_budgets_wait() {
    let sim = Sim::start(0, "503#next=1; 502#next=1").await;
    let statuses = [sim.status(DEFECTS).await, sim.status(DEFECTS).await, sim.status(DEFECTS).await];
    assert_eq!(statuses, [503, 502, 200]);
}

#[tokio::test]
async fn probability_is_deterministic_for_a_seed() {
    let sim = Sim::start(0, "").await;
    let mut runs = Vec::new();
    for spec in ["503#p=0.5,seed=42", "503#p=0.5,seed=42", "503#p=0.5,seed=43"] {
        sim.faults.set_spec(spec).unwrap();
        let mut seen = Vec::new();
        for _ in 0..32 {
            seen.push(sim.status(DEFECTS).await);
        }
        runs.push(seen);
    }
    assert_eq!(runs[0], runs[1]);
    assert_ne!(runs[0], runs[2]);
    assert!(runs[0].contains(&503) && runs[0].contains(&200), "{:?}", runs[0]);
    let fired = runs[0].iter().filter(|s| **s == 503).count() as u64;
    assert_eq!(sim.faults.fired()[0].1, runs[2].iter().filter(|s| **s == 503).count() as u64);
    assert!(fired > 0);
}

#[tokio::test]
async fn latency_global_fixed_and_jittered_delay_requests() {
    for (global, spec) in [(50, ""), (0, "latency=50@GET *"), (0, "latency=50..80")] {
        let sim = Sim::start(global, spec).await;
        let t = Instant::now();
        assert_eq!(sim.status(DEFECTS).await, 200);
        assert!(t.elapsed() >= Duration::from_millis(40), "{global} {spec}: {:?}", t.elapsed());
    }
}

#[tokio::test]
async fn control_surface_is_never_faulted() {
    let sim = Sim::start(0, "drop-before; 503").await;
    let r = sim.get("/__sim/ping").await.expect("control surface reachable");
    assert_eq!(r.text().await.unwrap(), "pong");
    assert!(sim.get(DEFECTS).await.is_err());
    assert_eq!(sim.faults.fired()[0].1, 1);
}

#[tokio::test]
async fn spec_replace_clear_and_rejection() {
    let sim = Sim::start(0, "503@GET *#next=5").await;
    let err = sim.faults.set_spec("502; teapot@*").unwrap_err();
    assert!(err.contains("fault rule 2 \"teapot@*\""), "{err}");
    assert_eq!(sim.faults.spec(), "503@GET *#next=5", "a rejected spec changes nothing");
    assert_eq!(sim.status(DEFECTS).await, 503);
    sim.faults.clear();
    assert_eq!(sim.faults.spec(), "");
    assert_eq!(sim.status(DEFECTS).await, 200);
}

#[tokio::test]
async fn server_error_500_answers_a_jetty_page_without_running_the_handler() {
    let sim = Sim::start(0, "500@POST */create#next=1").await;
    let (status, ctype, body) = text(sim.create().await.expect("response")).await;
    assert_eq!(status, 500);
    assert!(ctype.starts_with("text/html"), "{ctype}");
    assert!(body.contains("HTTP ERROR 500") && body.contains("Server Error"), "{body}");
    assert_eq!(sim.calls(), 0);
    assert_eq!(sim.create().await.unwrap().status().as_u16(), 200);
    assert_eq!(sim.calls(), 1);
}

#[tokio::test]
async fn server_error_500_json_carries_a_rally_envelope() {
    let sim = Sim::start(0, "500-json@GET *; 500-json=Database is read-only@POST *").await;
    let r = sim.get(DEFECTS).await.unwrap();
    assert_eq!(r.status().as_u16(), 500);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    let q: Value = r.json().await.unwrap();
    assert_eq!(q["QueryResult"]["Errors"], json!(["An unexpected error occurred"]));
    let r = sim.create().await.unwrap();
    assert_eq!(r.status().as_u16(), 500);
    let c: Value = r.json().await.unwrap();
    assert_eq!(c["CreateResult"]["Errors"], json!(["Database is read-only"]));
    assert_eq!(sim.calls(), 0);
}

#[tokio::test]
async fn status_after_runs_the_handler_then_answers_the_error() {
    for (code, marker) in [
        (500, "HTTP ERROR 500"),
        (502, "502 Bad Gateway"),
        (503, "HTTP ERROR 503"),
        (504, "504 Gateway Time-out"),
        (524, "A timeout occurred"),
    ] {
        let sim = Sim::start(0, &format!("{code}-after@POST */create#next=1")).await;
        let (status, ctype, body) = text(sim.create().await.expect("response")).await;
        assert_eq!(status, code);
        assert!(ctype.starts_with("text/html"), "{code}: {ctype}");
        assert!(body.contains(marker), "{code}: {body}");
        // The write happened although the client saw an error: a blind retry duplicates it.
        assert_eq!(sim.calls(), 1, "{code}-after must run the handler");
        assert_eq!(sim.create().await.unwrap().status().as_u16(), 200);
        assert_eq!(sim.calls(), 2);
        assert_eq!(sim.faults.fired(), [(format!("{code}-after@POST */create#next=1"), 1)]);
    }
}

#[tokio::test]
async fn slow_reply_processes_first_and_answers_late() {
    let sim = Sim::start(0, "slow-reply=400@POST */create#next=1").await;
    // A client that gives up after 100 ms: it sees a timeout, yet the handler ran.
    let quick = reqwest::Client::builder().timeout(Duration::from_millis(100)).build().unwrap();
    let err = quick
        .post(format!("{}{DEFECTS}/create", sim.base))
        .json(&json!({"Defect": {"Name": "x"}}))
        .send()
        .await
        .expect_err("the reply comes after the client's timeout");
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(sim.calls(), 1, "slow-reply must run the handler before waiting");
    // Unlike latency, which waits before the handler: a client that gives up leaves nothing done.
    sim.faults.set_spec("latency=400@POST */create#next=1").unwrap();
    let err = quick.post(format!("{}{DEFECTS}/create", sim.base)).send().await.expect_err("timeout");
    assert!(err.is_timeout(), "{err:?}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sim.calls(), 1, "latency ran the handler for a client that had gone");
    // A patient client gets the real reply, late.
    sim.faults.set_spec("slow-reply=200@GET *").unwrap();
    let t = Instant::now();
    assert_eq!(sim.status(DEFECTS).await, 200);
    assert!(t.elapsed() >= Duration::from_millis(180), "{:?}", t.elapsed());
}

#[tokio::test]
async fn echo_faults_put_the_session_header_into_the_body_and_empty_and_text_are_not_json() {
    let key = "_echoedKey0123456789";
    for (spec, want_status, want_type) in
        [("echo", 200, "text/html"), ("echo=401", 401, "text/html"), ("echo-errors", 200, "application/json")]
    {
        let sim = Sim::start(0, &format!("{spec}@GET {DEFECTS}*")).await;
        let r = sim.http.get(format!("{}{DEFECTS}", sim.base)).header("ZSESSIONID", key).send().await.unwrap();
        let (status, ctype, body) = text(r).await;
        assert_eq!((status, ctype.starts_with(want_type)), (want_status, true), "{spec}: {ctype}");
        assert!(body.contains(key), "{spec}: {body}");
        assert_eq!(sim.calls(), 0, "{spec} must not reach the handler");
        if spec == "echo-errors" {
            let v: Value = serde_json::from_str(&body).unwrap();
            assert!(v["QueryResult"]["Errors"][0].as_str().unwrap().contains(key), "{v}");
        }
    }
    for (spec, want) in [("empty", ""), ("text=not json", "not json")] {
        let sim = Sim::start(0, &format!("{spec}@GET {DEFECTS}*")).await;
        let (status, _, body) = text(sim.get(DEFECTS).await.unwrap()).await;
        assert_eq!((status, body.as_str()), (200, want), "{spec}");
        assert_eq!(sim.calls(), 0);
    }
}
