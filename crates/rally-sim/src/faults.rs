//! Fault injection and latency, as an axum middleware.
//!
//! A [`Faults`] value holds the global latency and a list of rules parsed from a spec string
//! (syntax in [`spec`] and the crate README, "Fault injection"). For each request the
//! middleware waits the global latency plus every firing latency rule, then applies the first
//! firing non-latency rule, if any. Requests under `/__sim/` are never touched, so a test can
//! always reach the control surface to change or clear faults.
//!
//! Dropped connections: the response carries a body stream that fails before yielding any
//! byte. hyper then aborts the connection without flushing the head, so the client sees the
//! connection close with no response at all.

mod spec;

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use spec::{Kind, Rule};

/// Largest handler body that `truncate` buffers before cutting it.
const TRUNCATE_LIMIT: usize = 256 * 1024 * 1024;

#[derive(Clone)]
pub struct Faults {
    inner: Arc<Inner>,
}

struct Inner {
    latency_ms: u64,
    rules: Mutex<Vec<Rule>>,
}

/// What the middleware does with one request.
struct Plan {
    delay_ms: u64,
    action: Option<Kind>,
}

impl Faults {
    /// `latency_ms` is added to every request (outside `/__sim/`) before it is handled.
    pub fn new(latency_ms: u64) -> Self {
        Faults { inner: Arc::new(Inner { latency_ms, rules: Mutex::new(Vec::new()) }) }
    }

    /// Replaces all rules (and their counters) with those of `spec`. On error nothing changes
    /// and the message names the bad rule: `fault rule 2 "418@*": unknown fault ...`.
    ///
    /// # Errors
    /// The first rule that does not parse, by position and text.
    pub fn set_spec(&self, spec: &str) -> Result<(), String> {
        let rules = spec::parse_spec(spec)?;
        *self.rules() = rules;
        Ok(())
    }

    pub fn clear(&self) {
        self.rules().clear();
    }

    /// The active rules in canonical form, joined by `; ` (empty when there are none).
    pub fn spec(&self) -> String {
        let rules = self.rules();
        rules.iter().map(Rule::to_string).collect::<Vec<_>>().join("; ")
    }

    /// Each active rule (canonical form) with how many times it has fired.
    pub fn fired(&self) -> Vec<(String, u64)> {
        self.rules().iter().map(|r| (r.to_string(), r.fired)).collect()
    }

    pub fn latency_ms(&self) -> u64 {
        self.inner.latency_ms
    }

    fn rules(&self) -> MutexGuard<'_, Vec<Rule>> {
        // A poisoned lock only means another request panicked mid-update; the rules stay usable.
        self.inner.rules.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn plan(&self, method: &str, path: &str) -> Plan {
        let mut delay_ms = self.inner.latency_ms;
        let mut action = None;
        for rule in self.rules().iter_mut() {
            if !rule.matches(method, path) {
                continue;
            }
            if let Kind::Latency { .. } = rule.kind {
                if rule.fire() {
                    delay_ms = delay_ms.saturating_add(rule.latency_ms());
                }
            } else if action.is_none() && rule.fire() {
                // Later outcome rules are not consulted, so their `next=` budgets stay intact.
                action = Some(rule.kind.clone());
            }
        }
        Plan { delay_ms, action }
    }
}

impl fmt::Debug for Faults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Faults").field("latency_ms", &self.inner.latency_ms).field("spec", &self.spec()).finish()
    }
}

pub async fn middleware(State(f): State<Faults>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if path == "/__sim" || path.starts_with("/__sim/") {
        return next.run(req).await;
    }
    let plan = f.plan(req.method().as_str(), &path);
    if plan.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(plan.delay_ms)).await;
    }
    let Some(action) = plan.action else {
        return next.run(req).await;
    };
    match action {
        Kind::Latency { .. } => next.run(req).await,
        Kind::Status(code) => html(status(code), &gateway_page(code, &path)),
        Kind::StatusAfter(code) => {
            // A gateway that forwarded the request, then lost or refused the reply: the write
            // happened, the client sees only the error page.
            drop(next.run(req).await);
            html(status(code), &gateway_page(code, &path))
        }
        Kind::JsonServerError(text) => {
            let body = error_envelope(req.method(), &path, &text);
            let mut resp = Response::new(Body::from(body.to_string()));
            *resp.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            resp.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
            resp
        }
        Kind::SlowReply { ms } => {
            // Processed at once; a client that gives up while waiting has still made the change.
            let resp = next.run(req).await;
            tokio::time::sleep(Duration::from_millis(ms)).await;
            resp
        }
        Kind::TooMany { retry_after_s } => {
            let mut resp = html(StatusCode::TOO_MANY_REQUESTS, TOO_MANY_PAGE);
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_s));
            resp
        }
        Kind::DropBefore => dropped(),
        Kind::DropAfter => {
            // The handler runs to completion (the write happens); only the reply is lost.
            drop(next.run(req).await);
            dropped()
        }
        Kind::Truncate => truncated(next.run(req).await).await,
        Kind::Html => html(StatusCode::OK, PROXY_LOGIN_PAGE),
        Kind::Empty => {
            let mut resp = Response::new(Body::empty());
            resp.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
            resp
        }
        Kind::Text(text) => {
            let mut resp = Response::new(Body::from(text));
            resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
            resp
        }
        Kind::Echo(code) => html(status_any(code), &echo_page(&req)),
        Kind::EchoErrors => {
            let key = req.headers().get("zsessionid").and_then(|v| v.to_str().ok()).unwrap_or("");
            let body =
                error_envelope(req.method(), &path, &format!("Request refused by the gateway; ZSESSIONID={key}"));
            let mut resp = Response::new(Body::from(body.to_string()));
            resp.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
            resp
        }
        Kind::Errors(text) => {
            let body = error_envelope(req.method(), &path, &text);
            let mut resp = Response::new(Body::from(body.to_string()));
            resp.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
            resp
        }
    }
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE)
}

fn status_any(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::OK)
}

/// What a debug endpoint or a WAF's block page shows: the request line and every header,
/// values as sent (the key too).
fn echo_page(req: &Request) -> String {
    // The session header first, as the pages that leak it show it: before anything cuts.
    let mut headers: Vec<_> = req.headers().iter().collect();
    headers.sort_by_key(|(name, _)| name.as_str() != "zsessionid");
    let mut rows = String::new();
    for (name, value) in headers {
        rows.push_str(&format!("{name}: {}\n", String::from_utf8_lossy(value.as_bytes())));
    }
    rows.push_str(&format!("{} {}\n", req.method(), req.uri()));
    format!(
        "<html><head><title>Request blocked</title></head><body><h1>Request blocked</h1><pre>{}</pre></body></html>\n",
        escape_html(&rows)
    )
}

/// A response whose body fails at once, so hyper aborts the connection without replying.
fn dropped() -> Response {
    let failing = futures_util::stream::once(std::future::ready(Err::<Bytes, std::io::Error>(std::io::Error::new(
        std::io::ErrorKind::ConnectionAborted,
        "connection dropped by fault rule",
    ))));
    Response::new(Body::from_stream(failing))
}

/// The handler's response with the same status and headers but only the first half of its body.
async fn truncated(resp: Response) -> Response {
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, TRUNCATE_LIMIT).await else {
        return dropped();
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(bytes.slice(..bytes.len() / 2)))
}

fn html(code: StatusCode, page: &str) -> Response {
    let mut resp = Response::new(Body::from(page.to_string()));
    *resp.status_mut() = code;
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=UTF-8"));
    resp
}

/// A Rally-shaped envelope carrying `text` in `Errors`: CreateResult for creates, QueryResult
/// for collection reads, OperationResult for the rest.
fn error_envelope(method: &Method, path: &str, text: &str) -> serde_json::Value {
    let last = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    let single_object = crate::store::parse_oid(last).is_some();
    let base = serde_json::json!({
        "_rallyAPIMajor": "2", "_rallyAPIMinor": "0", "Errors": [text], "Warnings": []
    });
    let (key, mut body) = if *method == Method::GET && !single_object {
        let mut q = base;
        q["TotalResultCount"] = 0.into();
        q["StartIndex"] = 0.into();
        q["PageSize"] = 0.into();
        q["Results"] = serde_json::json!([]);
        ("QueryResult", q)
    } else if last.eq_ignore_ascii_case("create") {
        ("CreateResult", base)
    } else {
        ("OperationResult", base)
    };
    serde_json::json!({ key: body.take() })
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// What sits in front of Rally answers 502/504 (load balancer) and 524 (CDN); 500 and 503 come
/// from Jetty itself, in the shape of the recorded 401 page.
fn gateway_page(code: u16, path: &str) -> String {
    let reason = if code == 500 { "Server Error" } else { "Service Unavailable" };
    let title = if code == 500 { "500 Server Error" } else { "503 Service Unavailable" };
    match code {
        502 => "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n".to_string(),
        504 => "<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n<center><h1>504 Gateway Time-out</h1></center>\r\n</body>\r\n</html>\r\n".to_string(),
        524 => CLOUDFLARE_524_PAGE.to_string(),
        _ => format!(
            "<html>\n<head>\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=UTF-8\"/>\n\
             <title>Error {title}</title>\n</head>\n<body><h2>HTTP ERROR {code}</h2>\n\
             <p>Problem accessing {}. Reason:\n<pre>    {reason}</pre></p><hr>\
             <i><small>Powered by Jetty://</small></i><hr/>\n\n</body>\n</html>\n",
            escape_html(path)
        ),
    }
}

const CLOUDFLARE_524_PAGE: &str = r#"<!DOCTYPE html>
<html lang="en-US">
<head>
<title>rally1.rallydev.com | 524: A timeout occurred</title>
<meta charset="UTF-8" />
</head>
<body>
<div id="cf-wrapper">
  <h1><span class="cf-error-type">Error code 524</span></h1>
  <h2>A timeout occurred</h2>
  <p>The origin web server timed out responding to this request.</p>
  <p>Cloudflare Ray ID: <strong>8a1b2c3d4e5f6a7b</strong></p>
</div>
</body>
</html>
"#;

const TOO_MANY_PAGE: &str = "<html>\r\n<head><title>429 Too Many Requests</title></head>\r\n<body>\r\n<center><h1>429 Too Many Requests</h1></center>\r\n</body>\r\n</html>\r\n";

const PROXY_LOGIN_PAGE: &str = r#"<!DOCTYPE html>
<html>
<head><title>Network Access Sign In</title></head>
<body>
<h1>Sign in to continue</h1>
<p>Your organisation requires you to sign in before accessing external sites.</p>
<form method="post" action="/proxy/login">
  <input name="username" /> <input name="password" type="password" />
  <button type="submit">Sign in</button>
</form>
</body>
</html>
"#;
