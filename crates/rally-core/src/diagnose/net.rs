//! Which proxy and CA settings are in effect, and why a connection failed, in plain words.
//! Proxy URLs are shown without their user name and password.

use crate::config::{Settings, TrackerConfig};
use crate::error::RallyError;
use serde::Serialize;
use url::Url;

#[derive(Debug, Clone, Serialize, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Network {
    /// `https` or `http`.
    pub scheme: String,
    /// The proxy requests go through (credentials removed), if any.
    pub proxy: Option<String>,
    /// Where it came from: `proxy option`, `HTTPS_PROXY`, `ALL_PROXY`, ….
    pub proxy_source: Option<String>,
    /// The NO_PROXY value, when set.
    pub no_proxy: Option<String>,
    /// True when NO_PROXY names the server, so the request goes direct.
    pub bypassed_by_no_proxy: bool,
    /// Certificates added by the `caCerts` option.
    pub ca_certs_option: usize,
    /// The NODE_EXTRA_CA_CERTS path, when set, and how many certificates it added.
    pub node_extra_ca_certs: Option<String>,
    pub node_extra_ca_certs_loaded: usize,
}

fn env_first(names: &[&str]) -> Option<(String, String)> {
    names.iter().find_map(|n| std::env::var(n).ok().filter(|v| !v.trim().is_empty()).map(|v| (n.to_string(), v)))
}

/// `http://user:pass@proxy:3128` → `http://***@proxy:3128`.
pub fn redact_proxy(raw: &str) -> String {
    match Url::parse(raw.trim()) {
        Ok(mut u) => {
            if !u.username().is_empty() || u.password().is_some() {
                let _ = u.set_password(None);
                let _ = u.set_username("***");
            }
            u.to_string()
        }
        Err(_) => "(not a URL)".into(),
    }
}

/// The NO_PROXY rules the HTTP stack applies, for the host alone: `*`, exact names, and
/// domain suffixes (`example.com` and `.example.com` both cover `a.example.com`).
fn no_proxy_covers(no_proxy: &str, host: &str) -> bool {
    let host = host.trim_matches(['[', ']']).to_ascii_lowercase();
    no_proxy.split(',').map(|e| e.trim().to_ascii_lowercase()).filter(|e| !e.is_empty()).any(|e| {
        let e = e.split(':').next().unwrap_or_default().to_string();
        e == "*" || host == e.trim_start_matches('.') || host.ends_with(&format!(".{}", e.trim_start_matches('.')))
    })
}

fn pem_count(pem: &str) -> usize {
    reqwest::Certificate::from_pem_bundle(pem.as_bytes()).map_or(0, |c| c.len())
}

impl Network {
    pub fn describe(s: &Settings, c: &TrackerConfig) -> Network {
        let url = Url::parse(&s.origin).ok();
        let scheme = url.as_ref().map_or("https", |u| u.scheme()).to_string();
        let host = url.as_ref().and_then(|u| u.host_str().map(str::to_string)).unwrap_or_default();
        let no_proxy = env_first(&["NO_PROXY", "no_proxy"]).map(|(_, v)| v);
        let bypassed = no_proxy.as_deref().is_some_and(|np| no_proxy_covers(np, &host));
        let (proxy, proxy_source) = if let Some(p) = &s.proxy {
            (Some(redact_proxy(p.as_str())), Some("proxy option".to_string()))
        } else {
            let names: &[&str] = if scheme == "https" {
                &["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
            } else {
                &["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]
            };
            match env_first(names) {
                Some((name, v)) => (Some(redact_proxy(&v)), Some(name)),
                None => (None, None),
            }
        };
        let ca_certs_option: usize = c.ca_certs.iter().flatten().map(|p| pem_count(p)).sum();
        let node_extra = std::env::var("NODE_EXTRA_CA_CERTS").ok().filter(|p| !p.is_empty());
        Network {
            scheme,
            proxy,
            proxy_source,
            no_proxy,
            bypassed_by_no_proxy: bypassed,
            ca_certs_option,
            node_extra_ca_certs_loaded: s.ca_certs.len().saturating_sub(ca_certs_option),
            node_extra_ca_certs: node_extra,
        }
    }

    fn route(&self) -> String {
        match (&self.proxy, &self.proxy_source) {
            (Some(_), _) if self.bypassed_by_no_proxy => "direct: NO_PROXY names the server".into(),
            (Some(p), Some(src)) => format!("through proxy {p} from {src}"),
            (Some(p), None) => format!("through proxy {p}"),
            (None, _) => "direct, no proxy configured".into(),
        }
    }

    fn trust(&self) -> String {
        if self.scheme != "https" {
            return "plain HTTP, no TLS".into();
        }
        let mut extra = Vec::new();
        if self.ca_certs_option > 0 {
            extra.push(format!("{} from caCerts", self.ca_certs_option));
        }
        if let Some(p) = &self.node_extra_ca_certs {
            extra.push(format!("{} from NODE_EXTRA_CA_CERTS={p}", self.node_extra_ca_certs_loaded));
        }
        let extra = if extra.is_empty() { String::new() } else { format!(" plus {}", extra.join(" and ")) };
        format!("TLS certificate verified against the built-in and system roots{extra}")
    }

    /// The `connection` check's detail when the server answered.
    pub fn summary(&self, s: &Settings) -> String {
        format!("reached {} ({}); {}", s.origin, self.route(), self.trust())
    }
}

/// A bare request with the same TLS roots and proxy (and no key) to learn the low-level
/// reason a connection failed. `None` when the server answered this time.
pub async fn probe(s: &Settings) -> Option<String> {
    let mut b = reqwest::Client::builder().timeout(s.connect_timeout).connect_timeout(s.connect_timeout);
    for c in &s.ca_certs {
        b = b.add_root_certificate(c.clone());
    }
    if let Some(p) = &s.proxy {
        match reqwest::Proxy::all(p.as_str()) {
            Ok(proxy) => b = b.proxy(proxy.no_proxy(reqwest::NoProxy::from_env())),
            Err(_) => return Some("the proxy URL is not usable".into()),
        }
    }
    let client = match b.build() {
        Ok(c) => c,
        Err(e) => return Some(chain(&e)),
    };
    match client.get(&s.api_base).send().await {
        Ok(_) => None,
        Err(e) => Some(chain(&e)),
    }
}

/// The causes of an error, innermost last, without the generic wrappers ("error sending
/// request for url …", "client error (Connect)") that say nothing a user can act on.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(inner) = cur {
        let t = inner.to_string();
        if !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        cur = inner.source();
    }
    let useful: Vec<String> = parts
        .iter()
        .filter(|p| !p.starts_with("error sending request") && !p.starts_with("client error ("))
        .cloned()
        .collect();
    if useful.is_empty() {
        parts.join(": ")
    } else {
        useful.join(": ")
    }
}

/// (detail, hint) for a request that got no HTTP answer at all.
pub fn explain_connect_failure(s: &Settings, e: &RallyError, probe: Option<&str>) -> (String, String) {
    let net = Network::describe(s, &TrackerConfig::default());
    let via = net.route();
    let low = probe.unwrap_or_default().to_ascii_lowercase();
    let why = probe.map(|p| format!(": {p}")).unwrap_or_default();
    let proxy_note = if net.proxy.is_some() && !net.bypassed_by_no_proxy {
        " If the proxy is wrong, fix HTTPS_PROXY or the proxy option; NO_PROXY lists hosts that go direct."
    } else {
        ""
    };
    let tls_words = ["certificate", "unknownissuer", "handshake", "tls", "ssl"];
    if tls_words.iter().any(|w| low.contains(w)) {
        return (
            format!("TLS failed connecting to {} ({via}){why}", s.origin),
            "the server's certificate is not trusted. Behind a TLS-inspecting proxy, set NODE_EXTRA_CA_CERTS to your \
             company's CA bundle (PEM file) or pass it in caCerts: this native addon does not use Node's TLS settings."
                .into(),
        );
    }
    if ["dns error", "failed to lookup", "name or service not known", "no such host", "nodename nor servname"]
        .iter()
        .any(|w| low.contains(w))
    {
        return (
            format!("the server name in {} could not be resolved ({via}){why}", s.origin),
            format!("check RALLY_SERVER / --server (usually rally1.rallydev.com).{proxy_note}"),
        );
    }
    if low.contains("refused") {
        return (
            format!("the connection to {} ({via}) was refused{why}", s.origin),
            format!("nothing accepts connections there: check the host and port in RALLY_SERVER.{proxy_note}"),
        );
    }
    if matches!(e, RallyError::Timeout { .. }) || low.contains("timed out") {
        return (
            format!("{} ({via}) did not answer in time{why}", s.origin),
            format!(
                "a firewall may be dropping the traffic; if your network needs a proxy, set HTTPS_PROXY.{proxy_note}"
            ),
        );
    }
    (
        format!("could not reach {} ({via}): {e}{why}", s.origin),
        format!("check the server name, the network and the proxy settings.{proxy_note}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_credentials_are_removed() {
        assert_eq!(redact_proxy("http://bob:s3cret@proxy.corp:3128"), "http://***@proxy.corp:3128/");
        assert_eq!(redact_proxy("http://proxy.corp:3128"), "http://proxy.corp:3128/");
        assert!(!redact_proxy("http://u:pw@h:1").contains("pw"));
    }

    #[test]
    fn no_proxy_rules() {
        assert!(no_proxy_covers("localhost,.rallydev.com", "rally1.rallydev.com"));
        assert!(no_proxy_covers("rallydev.com", "rally1.rallydev.com"));
        assert!(no_proxy_covers("*", "anything"));
        assert!(no_proxy_covers(" 127.0.0.1 ", "127.0.0.1"));
        assert!(!no_proxy_covers("example.com", "rally1.rallydev.com"));
        assert!(!no_proxy_covers("dev.com", "rallydev.com"));
    }
}
