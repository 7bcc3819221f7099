//! The control surface under `/__sim/` (no auth, not counted): stats, log, reset, faults, bulk.

use crate::app::App;
use crate::json::J;
use crate::schema::{target_by_path, Target};
use crate::server::{json_response, parse_params};
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use std::sync::Arc;

pub async fn stats(State(app): State<Arc<App>>) -> Response {
    let s = app.stats();
    let routes = s.by_route.iter().map(|(k, v)| (k.clone().into(), J::Int(*v as i64))).collect();
    let users = s.user_max.iter().map(|(k, v)| (k.clone().into(), J::Int(*v as i64))).collect();
    let j = J::obj()
        .with("total", J::Int(s.total as i64))
        .with("byRoute", J::Obj(routes))
        .with("maxInFlight", J::Int(s.max_in_flight as i64))
        .with("inFlight", J::Int(s.in_flight as i64))
        .with("maxOpen", J::Int(s.max_open as i64))
        .with("maxInFlightByUser", J::Obj(users));
    json_response(StatusCode::OK, &j)
}

pub async fn log(State(app): State<Arc<App>>) -> Response {
    let s = app.stats();
    let rows = s
        .log
        .iter()
        .map(|e| {
            J::obj()
                .with("method", J::s(e.method.clone()))
                .with("path", J::s(e.path.clone()))
                .with("status", J::Int(e.status as i64))
                .with("user", e.user.clone().map_or(J::Null, J::Str))
                .with("startedMs", J::Int(e.started_ms))
                .with("durationMs", J::Num((e.duration_ms * 1000.0).round() / 1000.0))
                .with("bytes", e.bytes.map_or(J::Null, |b| J::Int(b as i64)))
        })
        .collect();
    json_response(StatusCode::OK, &J::obj().with("requests", J::Arr(rows)))
}

pub async fn reset(State(app): State<Arc<App>>, RawQuery(q): RawQuery) -> Response {
    let p = parse_params(q.as_deref());
    {
        let mut s = app.stats();
        let (in_flight, open, user_in) = (s.in_flight, s.open, std::mem::take(&mut s.user_in_flight));
        *s = Default::default();
        s.in_flight = in_flight;
        s.open = open;
        s.user_in_flight = user_in;
    }
    let data = p.get("data").is_some_and(|v| v == "true");
    if data {
        app.reseed();
    }
    json_response(StatusCode::OK, &J::obj().with("reset", J::Bool(true)).with("data", J::Bool(data)))
}

pub async fn set_faults(State(app): State<Arc<App>>, body: String) -> Response {
    match app.faults.set_spec(&body) {
        Ok(()) => json_response(StatusCode::OK, &J::obj().with("faults", J::s(app.faults.spec()))),
        Err(e) => json_response(StatusCode::BAD_REQUEST, &J::obj().with("error", J::s(e))),
    }
}

pub async fn clear_faults(State(app): State<Arc<App>>) -> Response {
    app.faults.clear();
    json_response(StatusCode::OK, &J::obj().with("faults", J::s("")))
}

pub async fn get_faults(State(app): State<Arc<App>>) -> Response {
    json_response(StatusCode::OK, &J::obj().with("faults", J::s(app.faults.spec())))
}

/// One bulk call adds at most this many objects (memory stays bounded).
const MAX_BULK: usize = 200_000;

/// `POST /__sim/bulk?type=hierarchicalrequirement&count=10000`
pub async fn bulk(State(app): State<Arc<App>>, RawQuery(q): RawQuery) -> Response {
    let p = parse_params(q.as_deref());
    let count: usize = p.get("count").and_then(|c| c.parse().ok()).unwrap_or(0);
    if count > MAX_BULK {
        return json_response(
            StatusCode::BAD_REQUEST,
            &J::obj().with("error", J::s(format!("count is limited to {MAX_BULK}"))),
        );
    }
    let kind = match p.get("type").map(|t| target_by_path(t)) {
        None => Some(crate::schema::Kind::HierarchicalRequirement),
        Some(Some(Target::One(k))) => Some(k),
        Some(_) => None,
    };
    let started = std::time::Instant::now();
    let result = match kind {
        Some(k) => {
            let mut st = app.write();
            let owner = st.all(crate::schema::Kind::User).next().map_or(0, |u| u.oid);
            crate::seed::bulk(&mut st, k, count, owner)
        }
        None => Err("unknown type".into()),
    };
    match result {
        Ok(n) => json_response(
            StatusCode::OK,
            &J::obj().with("created", J::Int(n as i64)).with("ms", J::Num(started.elapsed().as_secs_f64() * 1000.0)),
        ),
        Err(e) => json_response(StatusCode::BAD_REQUEST, &J::obj().with("error", J::s(e))),
    }
}

/// `POST /__sim/churn?type=hierarchicalrequirement&edit=5&delete=2&create=2&times=10` (see
/// `churn.rs`).
pub async fn arm_churn(State(app): State<Arc<App>>, RawQuery(q): RawQuery) -> Response {
    let p = parse_params(q.as_deref());
    let num = |k: &str| p.get(k).and_then(|v| v.parse::<usize>().ok()).unwrap_or(0).min(MAX_BULK);
    let kind = match p.get("type").map(|t| target_by_path(t)) {
        None => Some(crate::schema::Kind::HierarchicalRequirement),
        Some(Some(Target::One(k))) if crate::schema::is_artifact(k) => Some(k),
        Some(_) => None,
    };
    let Some(kind) = kind else {
        return json_response(StatusCode::BAD_REQUEST, &J::obj().with("error", J::s("type must be one artifact type")));
    };
    let times = p.get("times").and_then(|v| v.parse::<u64>().ok());
    app.churn.arm(crate::churn::Rule { kind, edit: num("edit"), delete: num("delete"), create: num("create"), times });
    churn_report(State(app)).await
}

pub async fn disarm_churn(State(app): State<Arc<App>>) -> Response {
    app.churn.disarm();
    churn_report(State(app)).await
}

pub async fn churn_report(State(app): State<Arc<App>>) -> Response {
    let (armed, done) = app.churn.report();
    let oids = |v: Vec<i64>| J::Arr(v.into_iter().map(J::Int).collect());
    let j = J::obj()
        .with("armed", J::Bool(armed))
        .with("triggers", J::Int(done.triggers as i64))
        .with("edited", oids(done.edited))
        .with("deleted", oids(done.deleted))
        .with("created", oids(done.created));
    json_response(StatusCode::OK, &j)
}
