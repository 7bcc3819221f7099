//! Reading what came back: the word for each kind of failure, status texts, TLS reasons, HTML
//! where JSON was expected, the server's `Date`, and the `Errors` of an envelope.

use super::*;

pub(super) trait ClassifyWord {
    fn classify_word(&self) -> &'static str;
}
impl ClassifyWord for serde_json::Error {
    fn classify_word(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Eof => "cut short",
            serde_json::error::Category::Syntax => "syntax error",
            serde_json::error::Category::Data => "unexpected shape",
            serde_json::error::Category::Io => "read error",
        }
    }
}

/// A short reason when a request failed in the TLS handshake (walks the error's sources).
pub(super) fn tls_problem(e: &reqwest::Error) -> Option<String> {
    let mut src: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    let mut chain = Vec::new();
    while let Some(s) = src {
        chain.push(s.to_string());
        src = s.source();
    }
    let joined = chain.join(": ");
    let lower = joined.to_ascii_lowercase();
    let is_tls = ["certificate", "unknownissuer", "tls", "handshake"].iter().any(|w| lower.contains(w));
    is_tls.then(|| chain.last().cloned().unwrap_or(joined).chars().take(160).collect())
}

pub(super) fn failure_word(f: &Failure) -> &'static str {
    match f {
        Failure::Tls => "tls-failed",
        Failure::Connect => "connect-failed",
        Failure::Dropped => "connection-dropped",
        Failure::Timeout => "timeout",
        Failure::Truncated => "truncated",
        Failure::Status { .. } => "transient",
    }
}

pub(super) fn status_text(s: u16) -> &'static str {
    match s {
        429 => "too many requests",
        500 => "internal server error",
        502 => "bad gateway",
        503 => "service unavailable",
        504 => "gateway timeout",
        524 => "the request ran too long on Rally's side (narrow the query)",
        _ => "server error",
    }
}

pub(super) fn looks_like_html(body: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&body[..body.len().min(512)]).to_ascii_lowercase();
    let t = head.trim_start();
    t.starts_with('<') || t.contains("<html")
}

pub(super) fn strip_query(loc: &str) -> String {
    let end = loc.find(['?', '#']).unwrap_or(loc.len());
    loc[..end].chars().take(150).collect()
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`, the only form HTTP/1.1 servers send) as ms
/// since the epoch.
pub(super) fn parse_http_date(v: &str) -> Option<i64> {
    let parts: Vec<&str> = v.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let month = MONTHS.iter().position(|m| m == month)? as u32 + 1;
    let day: u32 = day.parse().ok().filter(|d| (1..=31).contains(d))?;
    let year: i64 = year.parse().ok().filter(|y| (1970..=9999).contains(y))?;
    let hms: Vec<i64> = time.split(':').map(|p| p.parse().ok()).collect::<Option<_>>()?;
    let [h, m, sec] = hms.as_slice() else { return None };
    if *h > 23 || *m > 59 || *sec > 60 {
        return None;
    }
    let days = crate::validate::days_from_civil(year, month, day);
    Some(((days * 24 + h) * 60 + m) * 60_000 + sec * 1000)
}

/// `Errors` of any WSAPI envelope, for non-2xx responses that still carry JSON.
pub(super) fn envelope_errors(body: &[u8]) -> Option<Vec<String>> {
    #[derive(serde::Deserialize)]
    struct Inner {
        #[serde(rename = "Errors", default)]
        errors: Vec<String>,
    }
    let map: std::collections::HashMap<String, Inner> = serde_json::from_slice(body).ok()?;
    let errors: Vec<String> = map.into_values().flat_map(|i| i.errors).collect();
    (!errors.is_empty()).then_some(errors)
}

pub(super) fn login_like(location: &str) -> bool {
    let l = location.to_ascii_lowercase();
    ["login", "signin", "sign-in", "sso", "auth", "saml"].iter().any(|w| l.contains(w))
}

/// Largest body size taken on trust from `Content-Length` when sizing the buffer.
const PREALLOC_MAX: u64 = 64 << 20;

/// How a 2xx body becomes the value a call returns: fed the chunks as they arrive, then
/// finished into the value, or into the parse error with the bytes to quote and classify.
pub(super) trait Decode {
    type Out;
    fn start(content_length: Option<u64>) -> Self;
    fn feed(&mut self, chunk: &[u8]);
    fn finish(self) -> Result<Self::Out, (serde_json::Error, Vec<u8>)>;
}

/// The whole body in one buffer, sized once from `Content-Length` where the server sent one
/// (`Response::bytes` gathers the chunks and then copies them into a second buffer of the full
/// size), then parsed as `T`.
pub(super) struct Whole<T>(Vec<u8>, std::marker::PhantomData<fn() -> T>);

impl<T: DeserializeOwned> Decode for Whole<T> {
    type Out = T;
    fn start(content_length: Option<u64>) -> Self {
        Whole(Vec::with_capacity(content_length.unwrap_or(0).min(PREALLOC_MAX) as usize), std::marker::PhantomData)
    }
    fn feed(&mut self, chunk: &[u8]) {
        self.0.extend_from_slice(chunk);
    }
    fn finish(self) -> Result<T, (serde_json::Error, Vec<u8>)> {
        serde_json::from_slice(&self.0).map_err(|e| (e, self.0))
    }
}

impl<T> Whole<T> {
    pub(super) fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

/// Reads the body into `d` chunk by chunk.
pub(super) async fn read_into<D: Decode>(resp: &mut reqwest::Response, d: &mut D) -> reqwest::Result<()> {
    while let Some(chunk) = resp.chunk().await? {
        d.feed(&chunk);
    }
    Ok(())
}
