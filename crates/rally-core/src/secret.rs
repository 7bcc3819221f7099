//! The API key as a type that cannot be printed by accident.

use reqwest::header::HeaderValue;
use std::borrow::Cow;
use std::fmt;
use std::sync::{Mutex, OnceLock};

/// Every key this process was given: [`redact`] masks each of them.
fn known() -> &'static Mutex<Vec<String>> {
    static KNOWN: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    KNOWN.get_or_init(Mutex::default)
}

/// Shorter text than this is never taken for a key (Rally's keys are far longer); masking it
/// would garble ordinary words.
const MIN_KEY_CHARS: usize = 8;

/// The one redaction point: every error message and every `details()` value passes through
/// it (`error.rs`), so a key a server or proxy echoed into its body shows as `***`.
pub fn redact(text: &str) -> Cow<'_, str> {
    let keys = known().lock().unwrap_or_else(|p| p.into_inner());
    let mut out = Cow::Borrowed(text);
    for k in keys.iter() {
        if out.contains(k.as_str()) {
            out = Cow::Owned(out.replace(k.as_str(), "***"));
        }
    }
    out
}

/// The Rally API key. `Debug` and `Display` print `***`; the only way out is the
/// `ZSESSIONID` header value, marked sensitive so HTTP-level logging redacts it too.
#[derive(Clone)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: &str) -> Self {
        let key = key.trim().to_string();
        if key.chars().count() >= MIN_KEY_CHARS {
            let mut keys = known().lock().unwrap_or_else(|p| p.into_inner());
            if !keys.contains(&key) {
                keys.push(key.clone());
            }
        }
        ApiKey(key)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `None` when the key holds bytes a header cannot carry (control characters).
    pub fn header_value(&self) -> Option<HeaderValue> {
        let mut v = HeaderValue::from_str(&self.0).ok()?;
        v.set_sensitive(true);
        Some(v)
    }

    /// Feeds the key to a hasher (the process-wide limiter registry keys on a seeded hash of
    /// server and key, so it never holds the key itself).
    pub fn hash_secret<H: std::hash::Hasher>(&self, h: &mut H) {
        std::hash::Hash::hash(&self.0, h);
    }

    /// Lets a caller check that some text does not contain the key (used by tests and the
    /// error path), without handing the key out.
    pub fn appears_in(&self, text: &str) -> bool {
        !self.0.is_empty() && text.contains(&self.0)
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_the_key() {
        let k = ApiKey::new(" _abc123secret ");
        assert_eq!(format!("{k:?} {k}"), "*** ***");
        let h = k.header_value().unwrap();
        assert!(h.is_sensitive());
        assert_eq!(h.to_str().unwrap(), "_abc123secret");
        assert!(k.appears_in("x _abc123secret y"));
        assert!(!ApiKey::new("").appears_in("anything"));
        assert!(ApiKey::new("bad\nkey").header_value().is_none());
        assert_eq!(redact("echoed: _abc123secret."), "echoed: ***.");
        assert_eq!(redact("short words stay"), "short words stay");
    }
}
