//! The fault spec language: parsing, request matching and deterministic firing.
//!
//! ```text
//! spec  := rule (";" rule)*                 blank rules are ignored
//! rule  := kind ["@" match] ["#" when]
//! kind  := latency=MS | latency=MIN..MAX | STATUS | STATUS-after | 429[=SECONDS]
//!        | 500-json[=TEXT] | slow-reply=MS
//!        | drop-before | drop-after | truncate | html | errors[=TEXT]
//!        | empty | text[=TEXT] | echo[=STATUS] | echo-errors
//! STATUS := 500 | 502 | 503 | 504 | 524
//! match := * | METHOD | [METHOD " "] GLOB   GLOB starts with "/" or "*"; "*" matches any run
//! when  := always | next=N | p=P[,seed=S]
//! ```
//! Example: `503@GET /slm/webservice/v2.0/defect*#next=2; latency=20..80@*`.

use std::fmt;

const MAX_RULES: usize = 256;
const MAX_LATENCY_MS: u64 = 600_000;
const MAX_RETRY_AFTER_S: u64 = 86_400;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    Latency {
        min_ms: u64,
        max_ms: u64,
    },
    Status(u16),
    /// The handler runs (a write takes effect), then the reply is replaced by this status.
    StatusAfter(u16),
    /// HTTP 500 with a Rally envelope carrying the text in `Errors`.
    JsonServerError(String),
    /// The handler runs at once; its reply is held back this long.
    SlowReply {
        ms: u64,
    },
    TooMany {
        retry_after_s: u64,
    },
    DropBefore,
    DropAfter,
    Truncate,
    Html,
    Errors(String),
    /// 200, JSON content type, no body.
    Empty,
    /// 200 with this plain text for a body (neither JSON nor HTML).
    Text(String),
    /// A debug page (a WAF, a misconfigured proxy) that echoes the request headers, the
    /// `ZSESSIONID` among them, with this status.
    Echo(u16),
    /// A Rally envelope whose `Errors` quote the request's `ZSESSIONID` header.
    EchoErrors,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum When {
    Always,
    Next { remaining: u64, of: u64 },
    Chance { p: f64, seed: u64 },
}

#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub kind: Kind,
    /// Upper-case method, `None` for any.
    method: Option<String>,
    glob: String,
    when: When,
    rng: u64,
    pub fired: u64,
}

pub(crate) const DEFAULT_ERROR: &str = "An unexpected error occurred";

/// Parses a whole spec; the error names the offending rule.
pub(crate) fn parse_spec(spec: &str) -> Result<Vec<Rule>, String> {
    let mut rules = Vec::new();
    for (i, text) in spec.split(';').map(str::trim).filter(|r| !r.is_empty()).enumerate() {
        if rules.len() == MAX_RULES {
            return Err(format!("a fault spec holds at most {MAX_RULES} rules"));
        }
        let rule = parse_rule(text, i as u64 + 1).map_err(|why| format!("fault rule {} \"{text}\": {why}", i + 1))?;
        rules.push(rule);
    }
    Ok(rules)
}

fn parse_rule(text: &str, position: u64) -> Result<Rule, String> {
    let (rest, when) = match text.split_once('#') {
        Some((r, w)) => (r, parse_when(w.trim(), position)?),
        None => (text, When::Always),
    };
    let (kind, matcher) = match rest.split_once('@') {
        Some((k, m)) => (k.trim(), m.trim()),
        None => (rest.trim(), "*"),
    };
    let kind = parse_kind(kind)?;
    let (method, glob) = parse_match(matcher)?;
    let seed = match when {
        When::Chance { seed, .. } => seed,
        _ => position,
    };
    Ok(Rule { kind, method, glob, when, rng: seed, fired: 0 })
}

fn parse_kind(k: &str) -> Result<Kind, String> {
    let (name, arg) = match k.split_once('=') {
        Some((n, a)) => (n.trim(), Some(a.trim())),
        None => (k, None),
    };
    let kind = match (name.to_ascii_lowercase().as_str(), arg) {
        ("latency", Some(a)) => {
            let (min_ms, max_ms) = match a.split_once("..") {
                Some((lo, hi)) => (millis(lo)?, millis(hi)?),
                None => (millis(a)?, millis(a)?),
            };
            if min_ms > max_ms {
                return Err(format!("latency range {a} runs backwards"));
            }
            Kind::Latency { min_ms, max_ms }
        }
        ("latency", None) => return Err("latency needs a value: latency=50 or latency=20..80".into()),
        (code @ ("500" | "502" | "503" | "504" | "524"), None) => Kind::Status(code.parse().unwrap_or(503)),
        (code @ ("500-after" | "502-after" | "503-after" | "504-after" | "524-after"), None) => {
            Kind::StatusAfter(code[..3].parse().unwrap_or(503))
        }
        ("500-json", None) => Kind::JsonServerError(DEFAULT_ERROR.to_string()),
        ("500-json", Some(a)) if !a.is_empty() => Kind::JsonServerError(a.to_string()),
        ("slow-reply", Some(a)) => Kind::SlowReply { ms: millis(a)? },
        ("slow-reply", None) => return Err("slow-reply needs a value: slow-reply=2000".into()),
        ("429", None) => Kind::TooMany { retry_after_s: 1 },
        ("429", Some(a)) => {
            let s = a
                .parse()
                .ok()
                .filter(|s| *s <= MAX_RETRY_AFTER_S)
                .ok_or_else(|| format!("429=SECONDS needs whole seconds up to {MAX_RETRY_AFTER_S}, got \"{a}\""))?;
            Kind::TooMany { retry_after_s: s }
        }
        ("drop-before", None) => Kind::DropBefore,
        ("drop-after", None) => Kind::DropAfter,
        ("truncate", None) => Kind::Truncate,
        ("html", None) => Kind::Html,
        ("empty", None) => Kind::Empty,
        ("text", None) => Kind::Text("upstream connect error or disconnect/reset before headers".into()),
        ("text", Some(a)) if !a.is_empty() => Kind::Text(a.to_string()),
        ("echo", None) => Kind::Echo(200),
        ("echo", Some(a)) => Kind::Echo(
            a.parse().ok().filter(|c| (200..600).contains(c)).ok_or_else(|| format!("echo=STATUS needs an HTTP status, got \"{a}\""))?,
        ),
        ("echo-errors", None) => Kind::EchoErrors,
        ("errors", None) => Kind::Errors(DEFAULT_ERROR.to_string()),
        ("errors", Some(a)) if !a.is_empty() => Kind::Errors(a.to_string()),
        _ => {
            return Err(format!(
                "unknown fault \"{k}\"; expected latency=MS, latency=MIN..MAX, 500, 502, 503, 504, \
                 524 (each also as STATUS-after), 500-json[=TEXT], slow-reply=MS, 429[=SECONDS], \
                 drop-before, drop-after, truncate, html, empty, text[=TEXT], errors[=TEXT], echo[=STATUS] or echo-errors"
            ))
        }
    };
    Ok(kind)
}

fn millis(s: &str) -> Result<u64, String> {
    s.trim()
        .parse()
        .ok()
        .filter(|ms| *ms <= MAX_LATENCY_MS)
        .ok_or_else(|| format!("latency needs whole milliseconds up to {MAX_LATENCY_MS}, got \"{s}\""))
}

fn parse_match(m: &str) -> Result<(Option<String>, String), String> {
    let words: Vec<&str> = m.split_whitespace().collect();
    let is_glob = |w: &str| w.starts_with('/') || w.starts_with('*');
    let method = |w: &str| -> Result<Option<String>, String> {
        if w == "*" {
            Ok(None)
        } else if !w.is_empty() && w.chars().all(|c| c.is_ascii_alphabetic()) {
            Ok(Some(w.to_ascii_uppercase()))
        } else {
            Err(format!("\"{w}\" is not an HTTP method"))
        }
    };
    match words.as_slice() {
        [] => Err("empty match after \"@\"; use * for every request".into()),
        [w] if is_glob(w) => Ok((None, w.to_string())),
        [w] => Ok((method(w)?, "*".to_string())),
        [m, g] if is_glob(g) => Ok((method(m)?, g.to_string())),
        [_, g] => Err(format!("path pattern \"{g}\" must start with \"/\" or \"*\"")),
        _ => Err(format!("match \"{m}\" must be METHOD PATH, e.g. POST */create")),
    }
}

fn parse_when(w: &str, position: u64) -> Result<When, String> {
    if w.eq_ignore_ascii_case("always") {
        return Ok(When::Always);
    }
    if let Some(n) = w.strip_prefix("next=") {
        return match n.trim().parse::<u64>() {
            Ok(n) if n >= 1 => Ok(When::Next { remaining: n, of: n }),
            _ => Err(format!("next=N needs a whole number of at least 1, got \"{n}\"")),
        };
    }
    if let Some(rest) = w.strip_prefix("p=") {
        let (p, seed) = match rest.split_once(',') {
            Some((p, s)) => {
                let s = s.trim().strip_prefix("seed=").and_then(|s| s.trim().parse().ok());
                (p, s.ok_or_else(|| format!("expected p=P,seed=S with a whole seed, got \"{w}\""))?)
            }
            None => (rest, position),
        };
        let p: f64 = p
            .trim()
            .parse()
            .ok()
            .filter(|p: &f64| (0.0..=1.0).contains(p))
            .ok_or_else(|| format!("p needs a probability from 0 to 1, got \"{p}\""))?;
        return Ok(When::Chance { p, seed });
    }
    Err(format!("unknown condition \"{w}\"; expected always, next=N or p=P[,seed=S]"))
}

/// SplitMix64: tiny, seedable and good enough to spread fault draws.
fn next_random(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rule {
    pub fn matches(&self, method: &str, path: &str) -> bool {
        self.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method))
            && glob_match(self.glob.as_bytes(), path.as_bytes())
    }

    /// Decides whether this rule fires for a request it matches, consuming `next=` budget or a
    /// random draw, and counts the firing.
    pub fn fire(&mut self) -> bool {
        let fires = match &mut self.when {
            When::Always => true,
            When::Next { remaining, .. } => {
                let left = *remaining > 0;
                *remaining = remaining.saturating_sub(1);
                left
            }
            When::Chance { p, .. } => {
                let p = *p;
                let unit = (next_random(&mut self.rng) >> 11) as f64 / (1u64 << 53) as f64;
                unit < p
            }
        };
        self.fired += u64::from(fires);
        fires
    }

    /// The delay of a latency rule, drawn from its range.
    pub fn latency_ms(&mut self) -> u64 {
        match self.kind {
            Kind::Latency { min_ms, max_ms } if max_ms > min_ms => {
                min_ms + next_random(&mut self.rng) % (max_ms - min_ms + 1)
            }
            Kind::Latency { min_ms, .. } => min_ms,
            _ => 0,
        }
    }
}

/// ASCII case-insensitive glob where `*` matches any run of bytes, `/` included.
fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p].eq_ignore_ascii_case(&text[t]) {
            p += 1;
            t += 1;
        } else if let Some((sp, st)) = star {
            // Let the last `*` swallow one more byte and retry from there.
            star = Some((sp, st + 1));
            p = sp + 1;
            t = st + 1;
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

impl fmt::Display for Rule {
    /// The canonical form, which parses back to the same rule (seeds made explicit).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Latency { min_ms, max_ms } if min_ms == max_ms => write!(f, "latency={min_ms}")?,
            Kind::Latency { min_ms, max_ms } => write!(f, "latency={min_ms}..{max_ms}")?,
            Kind::Status(code) => write!(f, "{code}")?,
            Kind::StatusAfter(code) => write!(f, "{code}-after")?,
            Kind::JsonServerError(text) => write!(f, "500-json={text}")?,
            Kind::SlowReply { ms } => write!(f, "slow-reply={ms}")?,
            Kind::TooMany { retry_after_s } => write!(f, "429={retry_after_s}")?,
            Kind::DropBefore => f.write_str("drop-before")?,
            Kind::DropAfter => f.write_str("drop-after")?,
            Kind::Truncate => f.write_str("truncate")?,
            Kind::Html => f.write_str("html")?,
            Kind::Empty => f.write_str("empty")?,
            Kind::Text(text) => write!(f, "text={text}")?,
            Kind::Echo(code) => write!(f, "echo={code}")?,
            Kind::EchoErrors => f.write_str("echo-errors")?,
            Kind::Errors(text) => write!(f, "errors={text}")?,
        }
        match (&self.method, self.glob.as_str()) {
            (None, g) => write!(f, "@{g}")?,
            (Some(m), g) => write!(f, "@{m} {g}")?,
        }
        match &self.when {
            When::Always => Ok(()),
            When::Next { of, .. } => write!(f, "#next={of}"),
            When::Chance { p, seed } => write!(f, "#p={p},seed={seed}"),
        }
    }
}

#[cfg(test)]
mod tests;
