//! Rally WSAPI v2.0 simulator: an in-memory, stateful Rally over real HTTP for tests,
//! benchmarks and demos. Start it in-process with [`start`] or run the `rally-sim` binary.

mod app;
mod churn;
mod collect;
mod control;
mod custom;
mod dates;
mod envelope;
mod eval;
pub mod faults;
mod gate;
mod json;
pub mod query;
mod read;
mod refs;
mod render;
mod schema;
mod seed;
mod server;
mod store;
mod tls;
mod write;

use app::App;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use axum::Router;
use schema::Kind;
use std::sync::Arc;
use tokio::sync::oneshot;

/// Options of one simulator (the binary's flags map onto these).
#[derive(Clone)]
pub struct SimConfig {
    /// The number of work items to generate (10 to 200,000), which also seeds the
    /// generator: the same value gives the same objects and ObjectIDs. Default 113.
    pub seed: u64,
    /// The main API key (`ZSESSIONID`); it belongs to the first seeded user.
    pub api_key: String,
    /// More keys as (key, UserName); a UserName not in the seed data becomes a new user.
    pub extra_keys: Vec<(String, String)>,
    /// Latency added to every WSAPI request.
    pub latency_ms: u64,
    /// Initial fault spec (see README, "Fault injection").
    pub faults: Option<String>,
    /// Stop by itself after this many seconds.
    pub max_seconds: Option<u64>,
    /// 0 = an ephemeral port.
    pub port: u16,
    /// Simple stories added after the seed data (as `POST /__sim/bulk` does), for large lists.
    pub extra_stories: usize,
    /// ScheduleState values in order when the workspace has custom ones: the standard four
    /// with at most one value before `Defined` and one after `Accepted`
    /// (`["Idea", "Defined", "In-Progress", "Completed", "Accepted", "Released"]`).
    pub schedule_states: Option<Vec<String>>,
    /// Serve HTTPS with a certificate made at start (see [`SimHandle::ca_pem`]).
    pub tls: bool,
    /// Custom fields of the workspace, one `--custom-field` spec each (see README, "Custom
    /// fields"): `HierarchicalRequirement:c_Team:string:required:allowed=Red,Blue`.
    pub custom_fields: Vec<String>,
    /// Whether the workspace has the `PullRequest` type (default true). Without it, Rally
    /// answers every `pullrequest` request as for an unknown type.
    pub pull_requests: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 113,
            api_key: "_simTestKey0123456789".to_string(),
            extra_keys: Vec::new(),
            latency_ms: 0,
            faults: None,
            max_seconds: None,
            port: 0,
            extra_stories: 0,
            schedule_states: None,
            tls: false,
            custom_fields: Vec::new(),
            pull_requests: true,
        }
    }
}

impl std::fmt::Debug for SimConfig {
    // Keys stay out of Debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimConfig")
            .field("seed", &self.seed)
            .field("extra_keys", &self.extra_keys.len())
            .field("latency_ms", &self.latency_ms)
            .field("faults", &self.faults)
            .field("max_seconds", &self.max_seconds)
            .field("port", &self.port)
            .field("extra_stories", &self.extra_stories)
            .field("schedule_states", &self.schedule_states)
            .field("tls", &self.tls)
            .field("custom_fields", &self.custom_fields)
            .field("pull_requests", &self.pull_requests)
            .finish_non_exhaustive()
    }
}

/// A running simulator. Dropping it stops the server.
pub struct SimHandle {
    /// `http://127.0.0.1:<port>` (`https://` with `tls`; clients append `/slm/webservice/v2.0`).
    pub url: String,
    /// `http://127.0.0.1:<port>/slm/webservice/v2.0`
    pub base: String,
    pub api_key: String,
    /// `/workspace/<oid>`
    pub workspace_ref: String,
    /// `/project/<oid>`: the root project "Online Store".
    pub project_ref: String,
    /// `/project/<oid>` of the child projects ("Checkout Team", "Search Team").
    pub child_project_refs: Vec<String>,
    /// `/user/<oid>` of the main key's owner, and that user's UserName.
    pub owner_ref: String,
    pub owner_user_name: String,
    /// With `tls`: the PEM of the CA that signed the server's certificate (for 127.0.0.1 and
    /// localhost), and a file holding it, removed when the handle is dropped.
    pub ca_pem: Option<String>,
    pub ca_file: Option<String>,
    stop: Option<oneshot::Sender<()>>,
    done: Option<tokio::task::JoinHandle<()>>,
}

impl SimHandle {
    /// The JSON line the binary prints first.
    pub fn json_line(&self) -> String {
        let mut j = serde_json::json!({
            "url": self.url, "apiKey": self.api_key,
            "workspace": self.workspace_ref, "project": self.project_ref,
        });
        if let (Some(file), Some(pem)) = (&self.ca_file, &self.ca_pem) {
            j["caFile"] = file.clone().into();
            j["caPem"] = pem.clone().into();
        }
        j.to_string()
    }

    /// Stops accepting requests; the server task ends shortly after.
    pub fn shutdown(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }

    /// Resolves when the server has stopped (after `shutdown` or `max_seconds`).
    pub async fn stopped(&mut self) {
        if let Some(done) = self.done.take() {
            let _ = done.await;
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.shutdown();
        if let Some(f) = self.ca_file.take() {
            let _ = std::fs::remove_file(f);
        }
    }
}

fn router(app: Arc<App>) -> Router {
    // Outermost first: count/log/auth/limit (gate), then faults, then the handler.
    let api = Router::new()
        .fallback(server::wsapi)
        // Room for a 50 MB attachment in base64 (axum's default is 2 MB).
        .layer(axum::extract::DefaultBodyLimit::max(72 << 20))
        .layer(from_fn_with_state(app.faults.clone(), faults::middleware))
        .layer(from_fn_with_state(app.clone(), gate::gate))
        .with_state(app.clone());
    Router::new()
        .route("/__sim/stats", get(control::stats))
        .route("/__sim/log", get(control::log))
        .route("/__sim/reset", post(control::reset))
        .route("/__sim/faults", post(control::set_faults).delete(control::clear_faults).get(control::get_faults))
        .route("/__sim/bulk", post(control::bulk))
        .route("/__sim/churn", post(control::arm_churn).delete(control::disarm_churn).get(control::churn_report))
        .with_state(app)
        .fallback_service(api)
}

/// Checks a custom ScheduleState list (Rally allows one extra state on each side of the four).
fn schedule_states(custom: Option<&[String]>) -> Result<&'static [&'static str], String> {
    let Some(list) = custom else { return Ok(schema::SCHEDULE_STATES) };
    let fixed = schema::SCHEDULE_STATES;
    let at = list.iter().position(|s| s == fixed[0]);
    let ok = at.is_some_and(|i| {
        i <= 1
            && list.len() >= i + fixed.len()
            && list.len() - i - fixed.len() <= 1
            && list[i..i + fixed.len()].iter().zip(fixed).all(|(a, b)| a == b)
            && list.iter().all(|s| !s.trim().is_empty())
    });
    if !ok {
        return Err(format!(
            "schedule states must be Defined, In-Progress, Completed, Accepted with at most one custom state before and one after; got {}",
            list.join(",")
        ));
    }
    // Leaked once per simulator start: the schema works with static value lists.
    let leaked: Vec<&'static str> = list.iter().map(|s| &*Box::leak(s.clone().into_boxed_str())).collect();
    Ok(Box::leak(leaked.into_boxed_slice()))
}

/// Starts a simulator on 127.0.0.1 (an ephemeral port unless `cfg.port` is set).
pub async fn start(cfg: SimConfig) -> Result<SimHandle, String> {
    seed::counts(cfg.seed)?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", cfg.port))
        .await
        .map_err(|e| format!("cannot bind 127.0.0.1:{}: {e}", cfg.port))?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let tls = if cfg.tls { Some(tls::Tls::generate()?) } else { None };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let url = format!("{scheme}://127.0.0.1:{port}");
    let base = format!("{url}/slm/webservice/v2.0");
    let faults = faults::Faults::new(cfg.latency_ms);
    if let Some(spec) = cfg.faults.as_deref().filter(|s| !s.trim().is_empty()) {
        faults.set_spec(spec)?;
    }
    let states = schedule_states(cfg.schedule_states.as_deref())?;
    let mut custom: Vec<custom::CustomField> = Vec::new();
    for spec in &cfg.custom_fields {
        let f = custom::parse_spec(spec)?;
        if custom.iter().any(|c| c.kind == f.kind && c.element.eq_ignore_ascii_case(&f.element)) {
            return Err(format!("--custom-field {spec:?}: {} is defined twice", f.element));
        }
        custom.push(f);
    }
    let ws = seed::WsOptions { schedule_states: states, custom, pull_requests: cfg.pull_requests };
    let (app, owner) = App::new(&cfg, ws, base.clone(), faults)?;
    if cfg.extra_stories > 0 {
        seed::bulk(&mut app.write(), Kind::HierarchicalRequirement, cfg.extra_stories, owner)?;
    }
    let (workspace_ref, project_ref, children, owner_name) = {
        let st = app.read();
        let children = st
            .all(Kind::Project)
            .filter(|p| p.ref_oid("Parent") == Some(st.root_project))
            .map(|p| format!("/project/{}", p.oid))
            .collect();
        let owner_name = st.get(owner).and_then(|u| u.str("UserName")).unwrap_or("").to_string();
        (format!("/workspace/{}", st.workspace), format!("/project/{}", st.root_project), children, owner_name)
    };
    let app = Arc::new(app);
    let ca_pem = tls.as_ref().map(|t| t.ca_pem.clone());
    let ca_file = match &ca_pem {
        Some(pem) => {
            let path = std::env::temp_dir().join(format!("rally-sim-{}-{port}-ca.pem", std::process::id()));
            std::fs::write(&path, pem).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            Some(path.display().to_string())
        }
        None => None,
    };
    let (tx, rx) = oneshot::channel::<()>();
    let max = cfg.max_seconds;
    let service = router(app);
    let done = tokio::spawn(async move {
        let stop = async move {
            match max {
                Some(s) => {
                    tokio::select! {
                        _ = rx => {}
                        _ = tokio::time::sleep(std::time::Duration::from_secs(s)) => {}
                    }
                }
                None => {
                    let _ = rx.await;
                }
            }
        };
        match tls {
            Some(tls) => {
                let _ = axum::serve(tls.listen(listener), service).with_graceful_shutdown(stop).await;
            }
            None => {
                let _ = axum::serve(listener, service).with_graceful_shutdown(stop).await;
            }
        }
    });
    Ok(SimHandle {
        url,
        base,
        api_key: cfg.api_key,
        workspace_ref,
        project_ref,
        child_project_refs: children,
        owner_ref: format!("/user/{owner}"),
        owner_user_name: owner_name,
        ca_pem,
        ca_file,
        stop: Some(tx),
        done: Some(done),
    })
}

/// A simulator on its own runtime thread, for tests that are not async.
pub struct BlockingSim {
    pub handle: SimHandle,
    runtime: Option<tokio::runtime::Runtime>,
}

impl BlockingSim {
    pub fn start(cfg: SimConfig) -> Result<BlockingSim, String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let handle = runtime.block_on(start(cfg))?;
        Ok(BlockingSim { handle, runtime: Some(runtime) })
    }
}

impl Drop for BlockingSim {
    fn drop(&mut self) {
        self.handle.shutdown();
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}
