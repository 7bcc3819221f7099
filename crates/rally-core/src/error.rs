//! The one error type of the crate. Each variant carries what a user needs to act on it;
//! `Display` is the message Panopticon shows, `code()` the stable machine-readable code.

use crate::input::InputError;
use serde_json::{json, Value};
use std::fmt;

/// Longest piece of a server response quoted in an error.
pub const EXCERPT_MAX: usize = 200;

#[derive(Clone, PartialEq, Eq)]
pub enum RallyError {
    Auth {
        detail: String,
    },
    NotFound {
        id: String,
    },
    InvalidInput {
        argument: String,
        message: String,
    },
    Rejected {
        operation: String,
        errors: Vec<String>,
    },
    Unavailable {
        operation: String,
        attempts: u32,
        last_status: Option<u16>,
        detail: String,
    },
    /// `detail`: what is known beyond "no answer in time" (a create that MAY have been made).
    Timeout {
        operation: String,
        attempts: u32,
        timeout_ms: u64,
        detail: String,
    },
    Protocol {
        operation: String,
        excerpt: String,
    },
}

impl RallyError {
    pub fn code(&self) -> &'static str {
        match self {
            RallyError::Auth { .. } => "RALLY_AUTH",
            RallyError::NotFound { .. } => "RALLY_NOT_FOUND",
            RallyError::InvalidInput { .. } => "RALLY_INVALID_INPUT",
            RallyError::Rejected { .. } => "RALLY_REJECTED",
            RallyError::Unavailable { .. } => "RALLY_UNAVAILABLE",
            RallyError::Timeout { .. } => "RALLY_TIMEOUT",
            RallyError::Protocol { .. } => "RALLY_PROTOCOL",
        }
    }

    pub fn invalid(argument: impl Into<String>, message: impl Into<String>) -> Self {
        RallyError::InvalidInput { argument: argument.into(), message: message.into() }
    }

    /// Structured extras for the JS error object (camelCase keys). Never holds the key: every
    /// string passes through [`crate::secret::redact`], as the message does.
    pub fn details(&self) -> Value {
        let mut v = self.raw_details();
        redact_strings(&mut v);
        v
    }

    fn raw_details(&self) -> Value {
        match self {
            RallyError::Auth { .. } => json!({}),
            RallyError::NotFound { id } => json!({ "issueId": id }),
            RallyError::InvalidInput { argument, .. } => json!({ "argument": argument }),
            RallyError::Rejected { operation, errors } => {
                json!({ "operation": operation, "rallyErrors": errors })
            }
            RallyError::Unavailable { operation, attempts, last_status, .. } => {
                json!({ "operation": operation, "attempts": attempts, "status": last_status })
            }
            RallyError::Timeout { operation, attempts, timeout_ms, .. } => {
                json!({ "operation": operation, "attempts": attempts, "timeoutMs": timeout_ms })
            }
            RallyError::Protocol { operation, .. } => json!({ "operation": operation }),
        }
    }
}

fn redact_strings(v: &mut Value) {
    match v {
        Value::String(s) => {
            if let std::borrow::Cow::Owned(clean) = crate::secret::redact(s) {
                *s = clean;
            }
        }
        Value::Array(a) => a.iter_mut().for_each(redact_strings),
        Value::Object(m) => m.values_mut().for_each(redact_strings),
        _ => {}
    }
}

/// The message, through the one redaction point.
impl fmt::Display for RallyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::secret::redact(&Raw(self).to_string()))
    }
}

/// Debug shows what Display and `details()` show, so it is redacted too.
impl fmt::Debug for RallyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RallyError")
            .field("code", &self.code())
            .field("message", &self.to_string())
            .field("details", &self.details())
            .finish()
    }
}

/// The message as built, before redaction.
struct Raw<'a>(&'a RallyError);

impl fmt::Display for Raw<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            RallyError::Auth { detail } => write!(f, "Authentication failed for rally: {detail}"),
            RallyError::NotFound { id } => write!(f, "Issue not found: {id} (tracker: rally)"),
            RallyError::InvalidInput { argument, message } => write!(f, "Invalid {argument}: {message}"),
            RallyError::Rejected { operation, errors } => {
                write!(f, "Rally rejected {operation}: {}", errors.join("; "))
            }
            RallyError::Unavailable { operation, attempts, last_status, detail } => {
                write!(f, "Rally is unavailable: {operation} failed after {attempts} attempt(s)")?;
                if let Some(s) = last_status {
                    write!(f, " (last status {s})")?;
                }
                if !detail.is_empty() {
                    write!(f, ": {detail}")?;
                }
                Ok(())
            }
            RallyError::Timeout { operation, attempts, timeout_ms, detail } if detail.is_empty() => write!(
                f,
                "Rally did not answer {operation} within {timeout_ms} ms ({attempts} attempt(s)); \
                 raise timeoutMs or narrow the request"
            ),
            RallyError::Timeout { operation, attempts, timeout_ms, detail } => {
                write!(f, "Rally did not answer {operation} within {timeout_ms} ms ({attempts} attempt(s)): {detail}")
            }
            RallyError::Protocol { operation, excerpt } => {
                write!(f, "Rally sent a response to {operation} that could not be understood: {excerpt}")
            }
        }
    }
}

impl std::error::Error for RallyError {}

impl From<InputError> for RallyError {
    fn from(e: InputError) -> Self {
        RallyError::InvalidInput { argument: e.argument, message: e.message }
    }
}

/// A short, single-line excerpt of a response body: HTML tags and entities dropped,
/// whitespace collapsed, at most `EXCERPT_MAX` characters.
pub fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(64 * 1024)]);
    let mut out = String::with_capacity(EXCERPT_MAX + 3);
    let mut in_tag = false;
    let mut in_skip = false; // inside <style>/<script>: their text is not for humans
    let mut last_space = true;
    let lower = text.to_ascii_lowercase();
    let mut i = 0;
    let bytes = text.as_bytes();
    while i < bytes.len() && out.chars().count() < EXCERPT_MAX {
        let c = text[i..].chars().next().unwrap_or(' ');
        let len = c.len_utf8();
        if c == '<' {
            in_tag = true;
            let rest = &lower[i..];
            if rest.starts_with("<style") || rest.starts_with("<script") {
                in_skip = true;
            } else if rest.starts_with("</style") || rest.starts_with("</script") {
                in_skip = false;
            }
        } else if c == '>' && in_tag {
            in_tag = false;
            if !last_space {
                out.push(' ');
                last_space = true;
            }
        } else if !in_tag && !in_skip {
            if c.is_whitespace() || c.is_control() {
                if !last_space {
                    out.push(' ');
                    last_space = true;
                }
            } else {
                out.push(c);
                last_space = false;
            }
        }
        i += len;
    }
    let out = out.trim().to_string();
    if out.chars().count() >= EXCERPT_MAX {
        format!("{out}…")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_follow_the_contract() {
        let e = RallyError::NotFound { id: "US12".into() };
        assert_eq!(e.to_string(), "Issue not found: US12 (tracker: rally)");
        assert_eq!(e.code(), "RALLY_NOT_FOUND");
        assert_eq!(e.details()["issueId"], "US12");
        let e = RallyError::Auth { detail: "check RALLY_API_KEY".into() };
        assert!(e.to_string().starts_with("Authentication failed for rally: "));
        let e: RallyError = InputError::new("priority", "must be an integer 0-4").into();
        assert_eq!(e.code(), "RALLY_INVALID_INPUT");
        assert_eq!(e.details()["argument"], "priority");
        let e = RallyError::Unavailable {
            operation: "getIssue US1".into(),
            attempts: 4,
            last_status: Some(503),
            detail: "Service Unavailable".into(),
        };
        assert_eq!(
            e.to_string(),
            "Rally is unavailable: getIssue US1 failed after 4 attempt(s) (last status 503): Service Unavailable"
        );
        assert_eq!(e.details()["status"], 503);
    }

    #[test]
    fn excerpt_strips_html_and_bounds_length() {
        let page = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/wsapi/401.html"));
        let x = excerpt(page.as_bytes());
        assert!(!x.contains('<'), "{x}");
        assert!(x.contains("Full authentication is required"), "{x}");
        let big = format!("<html><style>p{{}}</style>{}</html>", "word ".repeat(5000));
        let x = excerpt(big.as_bytes());
        assert!(x.chars().count() <= EXCERPT_MAX + 1);
        assert!(x.starts_with("word word"), "{x}");
        assert_eq!(excerpt("é\u{0}\n x".as_bytes()), "é x");
    }
}
