//! Tracker options, and their validation into `Settings` — once, in
//! `Tracker::new`, without I/O (except reading `NODE_EXTRA_CA_CERTS`, as Node does at start).
//! Every default lives in `Defaults`.

use crate::error::RallyError;
use crate::input::{self, IntArg};
use crate::model::ArtifactType;
use crate::retry::RetryPolicy;
use crate::secret::ApiKey;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

pub type Logger = Arc<dyn Fn(&LogEvent) + Send + Sync>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEvent {
    /// `"debug"` or `"warn"`.
    pub level: &'static str,
    /// Never contains the API key (requests log method, path and status only).
    pub message: String,
}

/// The constructor options (JS names in comments). All but `api_key` optional.
#[derive(Clone, Default)]
pub struct TrackerConfig {
    pub api_key: String,
    /// `server`: a host (`rally1.rallydev.com`) or a URL.
    pub server: Option<String>,
    pub workspace: Option<String>,
    pub project: Option<String>,
    pub project_scope_down: Option<bool>,
    pub project_scope_up: Option<bool>,
    pub artifact_types: Option<Vec<ArtifactType>>,
    /// `timeoutMs`: per request.
    pub timeout: Option<Duration>,
    pub max_concurrency: Option<usize>,
    pub max_retries: Option<u32>,
    pub max_results: Option<usize>,
    pub proxy: Option<String>,
    /// PEM strings (each may hold several certificates).
    pub ca_certs: Option<Vec<String>>,
    pub allow_insecure_http: Option<bool>,
    pub logger: Option<Logger>,
    /// `customFields`: `'all'` or a list of custom field names.
    pub custom_fields: Option<serde_json::Value>,
    /// `createDefaults`: `{ [artifactType]: { field: value } }`.
    pub create_defaults: Option<serde_json::Value>,
    /// `prLinks`: `'pullRequest' | 'comment' | 'both'`.
    pub pr_links: Option<String>,
}

impl fmt::Debug for TrackerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrackerConfig")
            .field("api_key", &"***")
            .field("server", &self.server)
            .field("workspace", &self.workspace)
            .field("project", &self.project)
            .field("timeout", &self.timeout)
            .field("max_concurrency", &self.max_concurrency)
            .finish_non_exhaustive()
    }
}

/// The defaults, in one place.
pub struct Defaults;
impl Defaults {
    pub const SERVER: &'static str = "rally1.rallydev.com";
    pub const TIMEOUT_MS: u64 = 30_000;
    pub const CONNECT_TIMEOUT_MS: u64 = 10_000;
    pub const MAX_CONCURRENCY: usize = 8;
    /// Rally queues a key's requests past 12 in flight.
    pub const MAX_CONCURRENCY_CAP: usize = 12;
    pub const MAX_RETRIES: u32 = 3;
    pub const MAX_RETRIES_CAP: u32 = 10;
    /// First retry delay; each further retry doubles it (jittered, capped at 10 s).
    pub const RETRY_BASE_DELAY_MS: u64 = 200;
    /// No retry starts once this long has passed since an operation's first attempt.
    pub const RETRY_BUDGET_MS: u64 = 60_000;
    pub const MAX_RESULTS: usize = 10_000;
    pub const MAX_RESULTS_CAP: usize = 1_000_000;
    pub const SCOPE_DOWN: bool = true;
    pub const SCOPE_UP: bool = false;
}

/// Validated settings.
#[derive(Clone)]
pub struct Settings {
    pub key: ApiKey,
    /// `https://host[:port]`, no trailing slash: the web UI base for issue URLs.
    pub origin: String,
    /// `<origin>/slm/webservice/v2.0/`.
    pub api_base: String,
    /// `/workspace/<oid>`.
    pub workspace: Option<String>,
    /// `/project/<oid>`.
    pub project: Option<String>,
    pub scope_down: bool,
    pub scope_up: bool,
    pub artifact_types: Vec<ArtifactType>,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub max_concurrency: usize,
    pub retry: RetryPolicy,
    pub max_results: usize,
    pub proxy: Option<Url>,
    pub ca_certs: Vec<reqwest::Certificate>,
    pub log: LogSink,
    pub custom_fields: crate::custom::CustomFieldsOption,
    pub create_defaults: std::collections::HashMap<ArtifactType, serde_json::Map<String, serde_json::Value>>,
    pub pr_links: crate::custom::PrLinks,
}

/// Where log events go: the `logger` callback and, with `RALLY_LOG=debug|warn`, stderr.
#[derive(Clone, Default)]
pub struct LogSink {
    pub logger: Option<Logger>,
    pub stderr_debug: bool,
    pub stderr_warn: bool,
}

impl LogSink {
    pub fn enabled(&self, level: &'static str) -> bool {
        self.logger.is_some() || if level == "debug" { self.stderr_debug } else { self.stderr_warn }
    }
    pub fn emit(&self, level: &'static str, message: String) {
        let message = crate::secret::redact(&message).into_owned();
        let to_stderr = if level == "debug" { self.stderr_debug } else { self.stderr_warn };
        if to_stderr {
            eprintln!("[rally {level}] {message}");
        }
        if let Some(l) = &self.logger {
            l(&LogEvent { level, message });
        }
    }
}

fn int_in(arg: IntArg, v: Option<u64>) -> Result<Option<u64>, RallyError> {
    Ok(v.map(|v| arg.check(v)).transpose()?)
}

/// A count as u64 (saturating: anything that large is out of every range).
fn wide(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

fn is_loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

/// `server` → origin. A bare host means https; `http://` only for loopback unless allowed.
pub fn parse_server(server: &str, allow_insecure: bool) -> Result<String, RallyError> {
    let s = server.trim();
    let bad = |m: &str| RallyError::invalid("server", format!("{m}: {}", crate::error::excerpt(s.as_bytes())));
    if s.is_empty() {
        return Err(bad("must not be empty"));
    }
    let with_scheme = if s.contains("://") { s.to_string() } else { format!("https://{s}") };
    let url = Url::parse(&with_scheme).map_err(|_| bad("is not a host name or URL"))?;
    let host = url.host().ok_or_else(|| bad("has no host"))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_insecure || is_loopback(&host) => {}
        "http" => return Err(bad("uses http:// on a non-loopback host (the key would travel in clear text; set allowInsecureHttp to allow it)")),
        _ => return Err(bad("must be an https:// URL or a host name")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must not contain credentials"));
    }
    Ok(url.origin().ascii_serialization())
}

/// `/workspace/123`, a full ref URL, or a bare ObjectID → `/<kind>/<oid>`.
pub fn parse_container_ref(argument: &str, kind: &str, v: &str) -> Result<String, RallyError> {
    let s = v.trim();
    let oid_of = |tail: &str| -> Option<u64> {
        let tail = tail.trim_end_matches('/').trim_end_matches(".js");
        tail.parse::<u64>().ok().filter(|n| *n > 0)
    };
    let found = if s.bytes().all(|b| b.is_ascii_digit()) {
        oid_of(s)
    } else {
        let path = match Url::parse(s) {
            Ok(u) => u.path().to_string(),
            Err(_) => s.to_string(),
        };
        let lower = path.to_ascii_lowercase();
        let needle = format!("/{kind}/");
        lower.rfind(&needle).and_then(|i| oid_of(&path[i + needle.len()..]))
    };
    found.map(|oid| format!("/{kind}/{oid}")).ok_or_else(|| {
        RallyError::invalid(
            argument,
            format!(
                "must be a ref (/{kind}/123), a full ref URL or an ObjectID, got {}",
                crate::error::excerpt(s.as_bytes())
            ),
        )
    })
}

fn parse_pem(argument: &str, pem: &str) -> Result<Vec<reqwest::Certificate>, String> {
    match reqwest::Certificate::from_pem_bundle(pem.as_bytes()) {
        Ok(certs) if !certs.is_empty() => Ok(certs),
        Ok(_) => Err(format!("{argument} holds no PEM certificate")),
        Err(_) => Err(format!("{argument} is not a valid PEM certificate")),
    }
}

impl Settings {
    pub fn from_config(c: &TrackerConfig) -> Result<Settings, RallyError> {
        let key = ApiKey::new(&c.api_key);
        if key.is_empty() {
            return Err(RallyError::Auth { detail: "apiKey is empty; set RALLY_API_KEY or pass apiKey".into() });
        }
        if key.header_value().is_none() {
            return Err(RallyError::Auth { detail: "apiKey contains characters an HTTP header cannot carry".into() });
        }
        let rally_log = std::env::var("RALLY_LOG").unwrap_or_default().to_ascii_lowercase();
        let log = LogSink {
            logger: c.logger.clone(),
            stderr_debug: rally_log == "debug",
            stderr_warn: rally_log == "debug" || rally_log == "warn",
        };
        let origin =
            parse_server(c.server.as_deref().unwrap_or(Defaults::SERVER), c.allow_insecure_http == Some(true))?;
        let workspace = c.workspace.as_deref().map(|w| parse_container_ref("workspace", "workspace", w)).transpose()?;
        let project = c.project.as_deref().map(|p| parse_container_ref("project", "project", p)).transpose()?;
        let timeout = match c.timeout {
            Some(t) => {
                int_in(input::TIMEOUT_MS, Some(u64::try_from(t.as_millis()).unwrap_or(u64::MAX)))?;
                t
            }
            None => Duration::from_millis(Defaults::TIMEOUT_MS),
        };
        let max_concurrency = int_in(input::MAX_CONCURRENCY, c.max_concurrency.map(wide))?
            .map_or(Defaults::MAX_CONCURRENCY, |n| n as usize);
        let max_retries =
            int_in(input::MAX_RETRIES, c.max_retries.map(u64::from))?.map_or(Defaults::MAX_RETRIES, |n| n as u32);
        let max_results =
            int_in(input::MAX_RESULTS, c.max_results.map(wide))?.map_or(Defaults::MAX_RESULTS, |n| n as usize);
        let artifact_types = match &c.artifact_types {
            Some(ts) if ts.is_empty() => {
                return Err(RallyError::invalid("artifactTypes", "must name at least one type"))
            }
            Some(ts) => {
                let mut v: Vec<ArtifactType> = Vec::with_capacity(4);
                for t in ts {
                    if !v.contains(t) {
                        v.push(*t);
                    }
                }
                v
            }
            None => ArtifactType::ALL.to_vec(),
        };
        let proxy = match c.proxy.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            None => None,
            Some(p) => {
                let u = Url::parse(p)
                    .map_err(|_| RallyError::invalid("proxy", "must be a URL such as http://proxy:3128"))?;
                // The HTTP client is built without SOCKS support (its `socks` feature adds a
                // dependency for a rare setup): a socks5:// proxy would never be contacted, and
                // every call would fail as if the server were down. Say so up front.
                if u.scheme().starts_with("socks") {
                    return Err(RallyError::invalid(
                        "proxy",
                        "SOCKS proxies are not supported; use an http:// or https:// proxy URL",
                    ));
                }
                if !matches!(u.scheme(), "http" | "https") || u.host().is_none() {
                    return Err(RallyError::invalid("proxy", "must be an http:// or https:// URL with a host"));
                }
                Some(u)
            }
        };
        let mut ca_certs = Vec::new();
        for (i, pem) in c.ca_certs.iter().flatten().enumerate() {
            let arg = format!("caCerts[{i}]");
            ca_certs.extend(parse_pem(&arg, pem).map_err(|m| RallyError::invalid(arg.clone(), m))?);
        }
        // Node reads NODE_EXTRA_CA_CERTS once at start and only warns when the file is unusable;
        // a native addon does not see Node's TLS settings, so we read it ourselves, the same way.
        if let Some(path) = std::env::var_os("NODE_EXTRA_CA_CERTS").filter(|p| !p.is_empty()) {
            let shown = path.to_string_lossy().into_owned();
            match std::fs::read_to_string(&path) {
                Ok(pem) => match parse_pem("NODE_EXTRA_CA_CERTS", &pem) {
                    Ok(certs) => ca_certs.extend(certs),
                    Err(m) => log.emit("warn", format!("ignoring extra CA certificates from {shown}: {m}")),
                },
                Err(e) => log.emit("warn", format!("ignoring extra CA certificates from {shown}: {e}")),
            }
        }
        let custom_fields =
            c.custom_fields.as_ref().map(crate::custom::parse_custom_fields_option).transpose()?.unwrap_or_default();
        let create_defaults =
            c.create_defaults.as_ref().map(crate::custom::parse_create_defaults).transpose()?.unwrap_or_default();
        let pr_links = match c.pr_links.as_deref() {
            None => crate::custom::PrLinks::default(),
            Some(s) => crate::custom::PrLinks::parse(s).ok_or_else(|| {
                RallyError::invalid("prLinks", format!("must be 'pullRequest', 'comment' or 'both', got {s:?}"))
            })?,
        };
        Ok(Settings {
            key,
            custom_fields,
            create_defaults,
            pr_links,
            api_base: format!("{origin}/slm/webservice/v2.0/"),
            origin,
            workspace,
            project,
            scope_down: c.project_scope_down.unwrap_or(Defaults::SCOPE_DOWN),
            scope_up: c.project_scope_up.unwrap_or(Defaults::SCOPE_UP),
            artifact_types,
            timeout,
            connect_timeout: timeout.min(Duration::from_millis(Defaults::CONNECT_TIMEOUT_MS)),
            max_concurrency,
            retry: RetryPolicy::with_retries(max_retries),
            max_results,
            proxy,
            ca_certs,
            log,
        })
    }
}

#[cfg(test)]
mod tests;
