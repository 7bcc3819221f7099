//! The outer middleware of every WSAPI request: counting and logging, API-key auth (401 with
//! Rally's Jetty page), and the per-key cap of 12 requests in flight.

use crate::app::{App, LogEntry};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;
use std::time::Instant;

/// `GET /slm/webservice/v2.0/defect/{oid}`: ObjectIDs and UUIDs collapse so counts group.
pub fn route_key(method: &str, path: &str) -> String {
    let segs: Vec<String> = path
        .split('/')
        .map(|s| {
            let bare = s.strip_suffix(".js").unwrap_or(s);
            let is_uuid = bare.len() >= 32 && bare.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
            // Negative ObjectIDs (built-in attribute definitions) collapse too.
            if crate::store::parse_oid(bare).is_some() || is_uuid {
                "{oid}".to_string()
            } else {
                s.to_string()
            }
        })
        .collect();
    format!("{method} {}", segs.join("/"))
}

pub fn unauthorized(path: &str) -> Response {
    let html = format!(
        "<html>\n<head>\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=UTF-8\"/>\n\
<title>Error 401 Full authentication is required to access this resource</title>\n</head>\n\
<body><h2>HTTP ERROR 401</h2>\n<p>Problem accessing {}. Reason:\n\
<pre>    Full authentication is required to access this resource</pre></p><hr><i><small>Powered by Jetty://</small></i><hr/>\n\n\
</body>\n</html>\n",
        html_escape(path)
    );
    let mut r = Response::new(Body::from(html));
    *r.status_mut() = StatusCode::UNAUTHORIZED;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html;charset=utf-8"));
    r
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Counts a request from arrival (queued or running) until it is answered or abandoned.
struct Open {
    app: Arc<App>,
}

impl Open {
    fn enter(app: Arc<App>) -> Open {
        let mut s = app.stats();
        s.open += 1;
        s.max_open = s.max_open.max(s.open);
        drop(s);
        Open { app }
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        let mut s = self.app.stats();
        s.open = s.open.saturating_sub(1);
    }
}

/// Lowers the in-flight counters even when the client goes away mid-request.
struct InFlight {
    app: Arc<App>,
    user: String,
}

impl InFlight {
    fn enter(app: Arc<App>, user: String) -> InFlight {
        let mut s = app.stats();
        s.in_flight += 1;
        s.max_in_flight = s.max_in_flight.max(s.in_flight);
        let n = {
            let n = s.user_in_flight.entry(user.clone()).or_insert(0);
            *n += 1;
            *n
        };
        let m = s.user_max.entry(user.clone()).or_insert(0);
        *m = (*m).max(n);
        drop(s);
        InFlight { app, user }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut s = self.app.stats();
        s.in_flight = s.in_flight.saturating_sub(1);
        if let Some(n) = s.user_in_flight.get_mut(&self.user) {
            *n = n.saturating_sub(1);
        }
    }
}

pub async fn gate(State(app): State<Arc<App>>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let started_ms = crate::dates::now_ms();
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let path_query = req.uri().path_and_query().map_or(path.clone(), |p| p.to_string());
    {
        let mut s = app.stats();
        s.total += 1;
        *s.by_route.entry(route_key(&method, &path)).or_insert(0) += 1;
    }
    let key = req.headers().get("zsessionid").and_then(|v| v.to_str().ok()).map(str::to_string);
    let caller = key.as_deref().and_then(|k| app.caller(k));
    let (response, user) = match (caller, key) {
        (Some(caller), Some(key)) => {
            let open = Open::enter(app.clone());
            let limiter = app.limiter(&key);
            let permit = limiter.acquire_owned().await;
            let user = caller.user_name.clone();
            let guard = InFlight::enter(app.clone(), user.clone());
            req.extensions_mut().insert(caller);
            let response = next.run(req).await;
            // The answer is rendered: edits armed with `/__sim/churn` land before the client
            // has it, so between its page requests.
            app.churn.after(&app, &method, &path);
            drop(guard);
            drop(permit);
            drop(open);
            (response, Some(user))
        }
        _ => (unauthorized(&path), None),
    };
    let bytes = axum::body::HttpBody::size_hint(response.body()).exact();
    app.stats().push_log(LogEntry {
        method,
        bytes,
        path: path_query,
        status: response.status().as_u16(),
        user,
        started_ms,
        duration_ms: started.elapsed().as_secs_f64() * 1000.0,
    });
    response
}
