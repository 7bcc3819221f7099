//! What `linkPR` needs to post a link once: URL equality as the contract defines it, finding
//! the links a post already holds, and the process-wide serialisation of calls per issue.

use crate::keyed_lock::{KeyedGuard, KeyedLocks};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// A URL in the form two URLs are compared in: scheme and host in lower case (the `url`
/// crate's parse), default port dropped, one trailing `/` of the path ignored; path, query and
/// fragment otherwise exactly as given. `None` for text that is not an absolute http(s) URL.
pub fn normalise(u: &str) -> Option<String> {
    let parsed = url::Url::parse(u.trim()).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return None;
    }
    let host = parsed.host_str()?;
    let mut out = format!("{}://{host}", parsed.scheme());
    if let Some(port) = parsed.port() {
        out.push_str(&format!(":{port}"));
    }
    let path = parsed.path();
    out.push_str(path.strip_suffix('/').unwrap_or(path));
    if let Some(q) = parsed.query() {
        out.push('?');
        out.push_str(q);
    }
    if let Some(f) = parsed.fragment() {
        out.push('#');
        out.push_str(f);
    }
    Some(out)
}

/// Text a post holding the URL must contain, whatever the case of its scheme and host or a
/// trailing slash: the path, without its trailing `/`, as written (the query and fragment are
/// left to the exact comparison). Empty when the URL has no path.
pub fn needle(u: &str) -> String {
    let u = u.trim();
    let after_scheme = u.find("://").map_or(u, |i| &u[i + 3..]);
    let rest = after_scheme.find(['/', '?', '#']).map_or("", |i| &after_scheme[i..]);
    let path = &rest[..rest.find(['?', '#']).unwrap_or(rest.len())];
    path.strip_suffix('/').unwrap_or(path).to_string()
}

/// Every http(s) URL in a post's HTML, in `href`s and in the text, entities decoded and
/// normalised.
pub fn urls_in(html: &str) -> Vec<String> {
    let lower = html.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = lower[from..].find("http").map(|i| i + from) {
        let rest = &lower[i..];
        if !(rest.starts_with("http://") || rest.starts_with("https://")) {
            from = i + 4;
            continue;
        }
        let len = html[i..]
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>'))
            .unwrap_or(html.len() - i);
        let raw = &html[i..i + len];
        let decoded = raw
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&");
        if let Some(n) = normalise(&decoded) {
            out.push(n);
        }
        from = i + len.max(1);
    }
    out
}

fn locks() -> &'static KeyedLocks {
    static LOCKS: OnceLock<KeyedLocks> = OnceLock::new();
    LOCKS.get_or_init(KeyedLocks::default)
}

/// Link posts made (or attempted) in this process, per server.
fn posted() -> std::sync::MutexGuard<'static, HashMap<String, u64>> {
    static POSTED: OnceLock<Mutex<HashMap<String, u64>>> = OnceLock::new();
    POSTED.get_or_init(Mutex::default).lock().unwrap_or_else(|p| p.into_inner())
}

/// Holds the issue `key` (server and ObjectID) against every other `linkPR` in the process.
pub async fn lock_issue(key: &str) -> KeyedGuard<'static> {
    locks().lock(key).await
}

/// How many link posts this process has made (or attempted) on `server`. A lookup of existing
/// links made before taking the issue's lock is still good if this has not moved since.
pub fn posts_so_far(server: &str) -> u64 {
    posted().get(server).copied().unwrap_or(0)
}

pub fn note_post(server: &str) {
    *posted().entry(server.to_string()).or_insert(0) += 1;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equality_is_exact_up_to_scheme_host_case_and_one_trailing_slash() {
        let n = |u: &str| normalise(u).unwrap();
        assert_eq!(n("HTTPS://GitHub.COM/acme/shop/pull/7/"), n("https://github.com/acme/shop/pull/7"));
        assert_eq!(n("https://github.com:443/a/pull/7"), n("https://github.com/a/pull/7"));
        assert_ne!(n("https://github.com/acme/shop/pull/4"), n("https://github.com/acme/shop/pull/42"));
        assert_ne!(n("https://github.com/Acme/shop/pull/4"), n("https://github.com/acme/shop/pull/4"));
        assert_ne!(n("http://github.com/a/pull/4"), n("https://github.com/a/pull/4"));
        assert_ne!(n("https://github.com/a/pull/4?x=1"), n("https://github.com/a/pull/4"));
        assert_eq!(n("https://h"), n("https://H/"));
        assert_eq!(normalise("javascript:alert(1)"), None);
    }

    #[test]
    fn needles_and_urls_in_posts() {
        assert_eq!(needle("https://github.com/acme/shop/pull/4/"), "/acme/shop/pull/4");
        assert_eq!(needle("https://github.com/a/pull/4?x=1&y=2"), "/a/pull/4");
        assert_eq!(needle("https://github.com/a/pull/4/?x=1#files"), "/a/pull/4");
        assert_eq!(needle("https://github.com"), "");
        let html = "<p>Pull request: <a href=\"https://github.com/a/pull/42?x=1&amp;y=2\">https://github.com/a/pull/42?x=1&amp;y=2</a></p> see HTTPS://GITHUB.com/a/pull/4/ too";
        let found = urls_in(html);
        assert!(found.contains(&normalise("https://github.com/a/pull/42?x=1&y=2").unwrap()), "{found:?}");
        assert!(found.contains(&normalise("https://github.com/a/pull/4").unwrap()), "{found:?}");
        assert!(!found.contains(&normalise("https://github.com/a/pull/4?x=1&y=2").unwrap()));
        assert!(urls_in("no links, just httpx and http:/ here").is_empty());
    }
}
