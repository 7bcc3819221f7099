//! The HTTP layer: one reqwest client (one keep-alive pool) per tracker, the concurrency
//! limiter, the retry loop and the classification of every response shape into either a parsed
//! envelope or a `RallyError`.

use crate::config::Settings;
use crate::error::{excerpt, RallyError};
use crate::limiter::Limiter;
use crate::retry::{is_transient_status, parse_retry_after, Decision, Failure, OpKind};
use crate::wsapi::Op;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE, LOCATION, RETRY_AFTER};
use reqwest::Method;
use serde::de::DeserializeOwned;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

mod query_stream;
mod response;
use response::*;

pub struct Request<'a> {
    pub method: Method,
    /// Relative to the WSAPI base: `defect`, `defect/123`, `hierarchicalrequirement/create`;
    /// or from the origin when it starts with `/slm/` (the schema service).
    pub path: &'a str,
    pub params: Vec<(&'static str, String)>,
    pub body: Option<Vec<u8>>,
    pub kind: OpKind,
}

/// A failed call; `maybe_applied` says a write may have reached Rally even so.
#[derive(Debug)]
pub struct CallError {
    pub error: RallyError,
    pub maybe_applied: bool,
    /// Requests sent for this call, retries included.
    pub attempts: u32,
}

impl From<CallError> for RallyError {
    fn from(e: CallError) -> Self {
        e.error
    }
}

pub struct Http {
    client: reqwest::Client,
    settings: Arc<Settings>,
    limiter: Limiter,
    rng: AtomicU64,
    /// Rally's clock minus ours, in ms, from the `Date` header of the latest response (a lower
    /// bound: the header has whole seconds and the reply took time to arrive). Reconciliation
    /// uses it to look only at what was created after a create was first sent.
    clock_offset_ms: AtomicI64,
    clock_known: AtomicBool,
}

impl Http {
    pub fn new(settings: Arc<Settings>) -> Result<Http, RallyError> {
        let mut headers = HeaderMap::new();
        let key = settings
            .key
            .header_value()
            .ok_or_else(|| RallyError::Auth { detail: "apiKey cannot be sent as a header".into() })?;
        headers.insert(HeaderName::from_static("zsessionid"), key);
        let version = HeaderValue::from_static(env!("CARGO_PKG_VERSION"));
        headers.insert("x-rallyintegrationname", HeaderValue::from_static("panopticon-rally"));
        headers.insert("x-rallyintegrationvendor", HeaderValue::from_static("panopticon"));
        headers.insert("x-rallyintegrationversion", version);
        headers.insert("x-rallyintegrationlibrary", HeaderValue::from_static("rally-core (Rust, reqwest)"));
        headers.insert("accept", HeaderValue::from_static("application/json"));

        // Follow a redirect only on the same host and never to a sign-in page: the key header
        // would otherwise travel to whoever the Location names.
        let redirect = reqwest::redirect::Policy::custom(|attempt| {
            let same_host = attempt.previous().first().is_some_and(|first| {
                first.host_str() == attempt.url().host_str() && first.port() == attempt.url().port()
            });
            if attempt.previous().len() > 5 || !same_host || login_like(attempt.url().as_str()) {
                attempt.stop()
            } else {
                attempt.follow()
            }
        });
        let mut b = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(concat!("panopticon-rally/", env!("CARGO_PKG_VERSION")))
            .timeout(settings.timeout)
            .connect_timeout(settings.connect_timeout)
            .pool_max_idle_per_host(settings.max_concurrency)
            .pool_idle_timeout(Duration::from_secs(60))
            .gzip(true)
            .redirect(redirect);
        for c in &settings.ca_certs {
            b = b.add_root_certificate(c.clone());
        }
        if let Some(p) = &settings.proxy {
            // An explicit proxy replaces HTTPS_PROXY; NO_PROXY still applies to it.
            let proxy = reqwest::Proxy::all(p.as_str())
                .map_err(|_| RallyError::invalid("proxy", "is not a usable proxy URL"))?
                .no_proxy(reqwest::NoProxy::from_env());
            b = b.proxy(proxy);
        }
        let client = b
            .build()
            .map_err(|e| RallyError::invalid("caCerts", format!("the HTTP client could not be set up: {e}")))?;
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x9E37_79B9, |d| d.as_nanos() as u64)
            | 1;
        Ok(Http {
            limiter: Limiter::shared(&settings.origin, &settings.key, settings.max_concurrency),
            client,
            settings,
            rng: AtomicU64::new(seed),
            clock_offset_ms: AtomicI64::new(0),
            clock_known: AtomicBool::new(false),
        })
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// `local` on Rally's clock, as far as the responses so far tell (never later than the
    /// truth, up to clock drift); `None` before any response carried a `Date`.
    pub fn on_server_clock(&self, local: SystemTime) -> Option<SystemTime> {
        if !self.clock_known.load(Ordering::Acquire) {
            return None;
        }
        let offset = self.clock_offset_ms.load(Ordering::Acquire);
        let delta = Duration::from_millis(offset.unsigned_abs());
        if offset >= 0 {
            local.checked_add(delta)
        } else {
            local.checked_sub(delta)
        }
    }

    fn note_server_date(&self, date: &str) {
        let (Some(server_ms), Ok(now)) = (parse_http_date(date), SystemTime::now().duration_since(UNIX_EPOCH)) else {
            return;
        };
        let local_ms = i64::try_from(now.as_millis()).unwrap_or(i64::MAX);
        self.clock_offset_ms.store(server_ms.saturating_sub(local_ms), Ordering::Release);
        self.clock_known.store(true, Ordering::Release);
    }

    fn random(&self) -> f64 {
        // xorshift: jitter needs spread, not cryptographic quality.
        let mut x = self.rng.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng.store(x, Ordering::Relaxed);
        (x >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Sends with retries and parses the body as `T`.
    pub async fn call<T: DeserializeOwned>(&self, op: &Op, req: Request<'_>) -> Result<T, CallError> {
        self.call_counted(op, req).await.map(|(v, _)| v)
    }

    /// `call` for a query page: its `Results` are parsed while the body arrives, never whole.
    pub async fn call_query<T: DeserializeOwned>(
        &self,
        op: &Op,
        req: Request<'_>,
    ) -> Result<crate::wsapi::QueryEnvelope<T>, CallError> {
        self.call_with::<query_stream::QueryStream<T>>(op, req).await.map(|(v, _)| v)
    }

    /// `call`, also saying how many attempts it took.
    pub async fn call_counted<T: DeserializeOwned>(&self, op: &Op, req: Request<'_>) -> Result<(T, u32), CallError> {
        self.call_with::<Whole<T>>(op, req).await
    }

    async fn call_with<D: Decode>(&self, op: &Op, req: Request<'_>) -> Result<(D::Out, u32), CallError> {
        // `/slm/schema/…` (the schema service) sits beside the WSAPI base, on the same origin.
        let url = if req.path.starts_with("/slm/") {
            format!("{}{}", self.settings.origin, req.path)
        } else {
            format!("{}{}", self.settings.api_base, req.path)
        };
        let first = Instant::now();
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let (failure, status, note) = match self.once::<D>(op, &req, &url, attempt).await {
                Attempt::Done(v) => return Ok((v, attempt)),
                Attempt::Fatal(error) => return Err(CallError { error, maybe_applied: false, attempts: attempt }),
                Attempt::Failed(f, status, note) => (f, status, note),
            };
            match self.settings.retry.decide(req.kind, &failure, attempt, first.elapsed(), self.random()) {
                Decision::Retry(delay) => tokio::time::sleep(delay).await,
                Decision::Stop => {
                    // Never sent (no connection, no TLS session) or refused before any work (429).
                    let surely_not_applied =
                        matches!(failure, Failure::Connect | Failure::Tls | Failure::Status { status: 429, .. });
                    let maybe_applied = req.kind != OpKind::Read && !surely_not_applied;
                    return Err(CallError {
                        error: self.final_error(op, failure, status, attempt, note),
                        maybe_applied,
                        attempts: attempt,
                    });
                }
            }
        }
    }

    /// The wait before sending a create again once a lookup showed the earlier attempts did not
    /// land (which makes the repeat as safe as a read's), or `None` when the policy's count or
    /// time budget is spent. `sent` counts the create requests sent so far.
    pub fn resend_delay(&self, sent: u32, elapsed: Duration) -> Option<Duration> {
        match self.settings.retry.decide(OpKind::Read, &Failure::Dropped, sent, elapsed, self.random()) {
            Decision::Retry(d) => Some(d),
            Decision::Stop => None,
        }
    }

    /// `note`: this request's own TLS failure reason, or the `Errors` text of a 5xx JSON body.
    fn final_error(
        &self,
        op: &Op,
        failure: Failure,
        status: Option<u16>,
        attempts: u32,
        note: Option<String>,
    ) -> RallyError {
        let operation = op.label();
        match failure {
            Failure::Timeout => RallyError::Timeout {
                operation,
                attempts,
                timeout_ms: self.settings.timeout.as_millis() as u64,
                detail: String::new(),
            },
            Failure::Connect => RallyError::Unavailable {
                operation,
                attempts,
                last_status: None,
                detail: format!("could not connect to {} (check the server, proxy and network)", self.settings.origin),
            },
            Failure::Dropped => RallyError::Unavailable {
                operation,
                attempts,
                last_status: status,
                detail: "the connection was closed before a complete response".into(),
            },
            Failure::Truncated => RallyError::Protocol {
                operation,
                excerpt: note.unwrap_or_else(|| "the response body was cut short".into()),
            },
            Failure::Tls => {
                let why = note.unwrap_or_default();
                RallyError::Unavailable {
                    operation,
                    attempts,
                    last_status: None,
                    detail: format!(
                        "TLS handshake with {} failed: {why}. If a proxy inspects TLS or the server uses a private \
                         CA, pass its certificate in caCerts or NODE_EXTRA_CA_CERTS",
                        self.settings.origin
                    ),
                }
            }
            Failure::Status { status, .. } => RallyError::Unavailable {
                operation,
                attempts,
                last_status: Some(status),
                detail: match note {
                    Some(errors) => format!("{}: {errors}", status_text(status)),
                    None => status_text(status).into(),
                },
            },
        }
    }

    async fn once<D: Decode>(&self, op: &Op, req: &Request<'_>, url: &str, attempt: u32) -> Attempt<D::Out> {
        let permit = self.limiter.acquire().await;
        let started = Instant::now();
        let mut rb = self.client.request(req.method.clone(), url).query(&req.params);
        if let Some(body) = &req.body {
            rb = rb.header(CONTENT_TYPE, "application/json").body(body.clone());
        }
        let sent = rb.send().await;
        let mut resp = match sent {
            Ok(r) => r,
            Err(e) => {
                drop(permit);
                // The reason travels with this request's failure: concurrent requests each
                // report their own.
                let (f, note) = if e.is_timeout() {
                    (Failure::Timeout, None)
                } else if let Some(why) = tls_problem(&e) {
                    (Failure::Tls, Some(why))
                } else if e.is_connect() {
                    (Failure::Connect, None)
                } else {
                    (Failure::Dropped, None)
                };
                self.log_request(req, None, started, attempt, Some(failure_word(&f)));
                return Attempt::Failed(f, None, note);
            }
        };
        let status = resp.status().as_u16();
        let header = |name| resp.headers().get(name).and_then(|v: &HeaderValue| v.to_str().ok()).map(str::to_string);
        let retry_after = header(RETRY_AFTER).as_deref().and_then(parse_retry_after);
        let location = header(LOCATION);
        if let Some(date) = header(reqwest::header::DATE) {
            self.note_server_date(&date);
        }
        // A 2xx body goes to the decoder as it arrives; any other is read whole into `body` (it
        // is small), which stays an empty buffer for a 2xx.
        let ok = (200..=299).contains(&status);
        let mut decoder = ok.then(|| D::start(resp.content_length()));
        let mut body = Whole::<()>::start(if ok { Some(0) } else { resp.content_length() });
        let read = match &mut decoder {
            Some(d) => read_into(&mut resp, d).await,
            None => read_into(&mut resp, &mut body).await,
        };
        drop(permit);
        if let Err(e) = read {
            let f = if e.is_timeout() { Failure::Timeout } else { Failure::Truncated };
            self.log_request(req, Some(status), started, attempt, Some(failure_word(&f)));
            return Attempt::Failed(f, Some(status), None);
        }
        self.log_request(req, Some(status), started, attempt, None);
        let operation = || op.label();
        let body = match decoder.map(Decode::finish) {
            Some(Ok(v)) => return Attempt::Done(v),
            Some(Err((e, seen))) => return Self::unparsed(op, status, &seen, &e),
            None => body.into_bytes(),
        };
        match status {
            401 => Attempt::Fatal(RallyError::Auth {
                detail: format!(
                    "Rally refused the API key (HTTP 401: {}). Check RALLY_API_KEY: the key may be wrong, revoked or disabled",
                    excerpt(&body).chars().take(120).collect::<String>()
                ),
            }),
            403 => Attempt::Fatal(RallyError::Auth {
                detail: format!("access forbidden (HTTP 403) for {}; check the key's permissions", operation()),
            }),
            300..=399 => {
                let loc = location.as_deref().map(strip_query).unwrap_or_default();
                if login_like(&loc) {
                    Attempt::Fatal(RallyError::Auth {
                        detail: format!(
                            "the request was redirected to a sign-in page ({loc}); a proxy or SSO gateway \
                             may be in the way — check server, proxy and RALLY_API_KEY"
                        ),
                    })
                } else {
                    Attempt::Fatal(RallyError::Protocol {
                        operation: operation(),
                        excerpt: format!("HTTP {status} redirect to {loc} was not followed (another host)"),
                    })
                }
            }
            // Every 5xx is Rally (or what is in front of it) failing, not an answer about the
            // request, even when its body is a WSAPI envelope with `Errors`: retried, and
            // RALLY_UNAVAILABLE with those texts if it persists.
            s if is_transient_status(s) => {
                let note = envelope_errors(&body).map(|errors| excerpt(errors.join("; ").as_bytes()));
                Attempt::Failed(Failure::Status { status: s, retry_after }, Some(s), note)
            }
            s => match envelope_errors(&body) {
                Some(errors) => Attempt::Fatal(crate::wsapi::classify_errors(op, &errors)),
                None => Attempt::Fatal(RallyError::Protocol {
                    operation: operation(),
                    excerpt: format!("HTTP {s}: {}", excerpt(&body)),
                }),
            },
        }
    }

    /// A 2xx body that did not parse: `seen` is the body (or, for a streamed query page, its
    /// envelope: the body's first bytes and everything outside the items).
    fn unparsed<T>(op: &Op, status: u16, seen: &[u8], e: &serde_json::Error) -> Attempt<T> {
        // A sign-in or proxy page does not change on a retry; it is said at once.
        if looks_like_html(seen) {
            return Attempt::Fatal(RallyError::Protocol {
                operation: op.label(),
                excerpt: format!(
                    "HTTP {status}, an HTML page instead of JSON (a proxy or sign-in page?): {}",
                    excerpt(seen)
                ),
            });
        }
        // Cut short, empty or not JSON at all: what a passing fault sends, so it is retried
        // where that is safe (`retry.rs`), and this is the message if it lasts.
        let what = if seen.iter().all(u8::is_ascii_whitespace) {
            "an empty body".to_string()
        } else if e.is_eof() && seen.first() == Some(&b'{') {
            "a body cut short".to_string()
        } else {
            format!("invalid JSON ({})", e.classify_word())
        };
        let note = format!("HTTP {status}, {what}: {}", excerpt(seen));
        Attempt::Failed(Failure::Truncated, Some(status), Some(note.trim_end_matches([' ', ':']).to_string()))
    }

    fn log_request(
        &self,
        req: &Request<'_>,
        status: Option<u16>,
        started: Instant,
        attempt: u32,
        failure: Option<&str>,
    ) {
        let log = &self.settings.log;
        if !log.enabled("debug") {
            return;
        }
        // Parameter names only: values may hold user text; the key is a header, never here.
        let names: Vec<&str> = req.params.iter().map(|(k, _)| *k).collect();
        let status = status.map_or_else(|| "-".to_string(), |s| s.to_string());
        // The path as sent: WSAPI paths are relative to the API base; others (the schema
        // service) are absolute.
        let path = if req.path.starts_with("/slm/") {
            req.path.to_string()
        } else {
            format!("/slm/webservice/v2.0/{}", req.path)
        };
        log.emit(
            "debug",
            format!(
                "{} {} [{}] -> {}{} in {} ms (attempt {})",
                req.method,
                path,
                names.join(","),
                status,
                failure.map(|f| format!(" {f}")).unwrap_or_default(),
                started.elapsed().as_millis(),
                attempt
            ),
        );
    }
}

enum Attempt<T> {
    Done(T),
    Fatal(RallyError),
    /// The failure, the status if any, and a note for the message (this request's TLS reason,
    /// or the `Errors` of a 5xx envelope).
    Failed(Failure, Option<u16>, Option<String>),
}

#[cfg(test)]
mod tests;
