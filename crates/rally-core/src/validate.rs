//! Argument checks that run before any request. Each failure names the argument the caller
//! passed, so the message says what to fix; each success returns the value as it will be sent.

use crate::input::InputError;
use crate::markup::markdown_to_html;
use crate::model::ArtifactType;

/// Rally's `Name` limit. Our reference does not state it; 256 characters is Rally's documented
/// maximum for artifact names, and checking here turns a server rejection into a clear message.
pub const TITLE_MAX_CHARS: usize = 256;
/// Tag names: 32 characters, counted after HTML-escaping (`&amp;` counts 5).
pub const LABEL_MAX_CHARS: usize = 32;
/// Description (and, as a sanity bound, comment) HTML: 32 KB.
pub const RICH_TEXT_MAX_BYTES: usize = 32_768;
/// Labels per call. A filter or create sends one comparison per label; the query nests
/// ⌈log2 n⌉ deep, but it travels in a GET URL, which servers and proxies cap at a few KB, and
/// no issue is tagged with hundreds of labels. Counted before de-duplication.
pub const LABELS_MAX: usize = 100;
/// Largest `limit` accepted: far beyond any real list, small enough to size buffers safely.
pub const LIMIT_MAX: u32 = 1_000_000;
const URL_MAX: usize = 2048;

fn err(argument: &str, message: impl Into<String>) -> InputError {
    InputError::new(argument, message)
}

/// Trimmed, non-empty, at most `TITLE_MAX_CHARS` characters.
pub fn title(v: &str) -> Result<String, InputError> {
    let t = v.trim();
    if t.is_empty() {
        return Err(err("title", "must not be empty"));
    }
    let n = t.chars().count();
    if n > TITLE_MAX_CHARS {
        return Err(err("title", format!("is {n} characters; Rally allows at most {TITLE_MAX_CHARS}")));
    }
    Ok(t.to_string())
}

/// 0 (none) .. 4 (low).
pub fn priority(v: u32) -> Result<u32, InputError> {
    crate::input::PRIORITY.check(v.into()).map(|_| v)
}

/// Positive, at most `LIMIT_MAX`.
pub fn limit(v: u32) -> Result<u32, InputError> {
    crate::input::LIMIT.check(v.into()).map(|_| v)
}

/// Each label trimmed, non-empty and within Rally's tag limit. Exact duplicates collapse (the
/// result is a set, first occurrence kept); labels differing in case stay distinct because
/// Rally values are case-sensitive.
pub fn labels(v: &[String]) -> Result<Vec<String>, InputError> {
    labels_named(v, "labels")
}

/// `labels` for an argument of another name (`addLabels`, `removeLabels`).
pub fn labels_named(v: &[String], name: &str) -> Result<Vec<String>, InputError> {
    if v.len() > LABELS_MAX {
        return Err(err(name, format!("has {} labels; at most {LABELS_MAX} are accepted", v.len())));
    }
    let mut out: Vec<String> = Vec::with_capacity(v.len());
    for (i, raw) in v.iter().enumerate() {
        let arg = format!("{name}[{i}]");
        let label = raw.trim();
        if label.is_empty() {
            return Err(err(&arg, "must not be empty"));
        }
        let stored: usize = label
            .chars()
            .map(|c| match c {
                '&' => 5,
                '<' | '>' => 4,
                _ => 1,
            })
            .sum();
        if stored > LABEL_MAX_CHARS {
            return Err(err(
                &arg,
                format!("is {stored} characters as Rally stores it (& < > count as entities); the tag limit is {LABEL_MAX_CHARS}"),
            ));
        }
        if !out.iter().any(|l| l == label) {
            out.push(label.to_string());
        }
    }
    Ok(out)
}

fn rich_text(argument: &str, md: &str) -> Result<String, InputError> {
    let html = markdown_to_html(md);
    if html.len() > RICH_TEXT_MAX_BYTES {
        return Err(err(
            argument,
            format!("is {} bytes once converted to HTML; Rally's limit is {RICH_TEXT_MAX_BYTES}", html.len()),
        ));
    }
    Ok(html)
}

/// Markdown → the HTML that will be sent; empty clears the description.
pub fn description(md: &str) -> Result<String, InputError> {
    rich_text("description", md)
}

/// Markdown → HTML for a comment; must have visible text.
pub fn comment_body(md: &str) -> Result<String, InputError> {
    if md.trim().is_empty() {
        return Err(err("body", "must not be empty"));
    }
    rich_text("body", md)
}

/// An absolute http(s) URL with a host, no spaces.
pub fn pr_url(v: &str) -> Result<String, InputError> {
    let u = v.trim();
    let bad = |why: &str| err("prUrl", format!("must be an http(s) URL ({why})"));
    if u.len() > URL_MAX {
        return Err(bad("too long"));
    }
    let lower = u.to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &u[8..]
    } else if lower.starts_with("http://") {
        &u[7..]
    } else {
        return Err(bad("it must start with http:// or https://"));
    };
    if u.chars().any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '<' || c == '>') {
        return Err(bad("it contains spaces or characters a URL cannot hold"));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let host = if host_port.starts_with('[') {
        host_port.split(']').next().map(|h| h.trim_start_matches('[')).unwrap_or_default()
    } else {
        let (host, port) = host_port.split_once(':').unwrap_or((host_port, ""));
        if !port.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("bad port"));
        }
        host
    };
    let host_ok = !host.is_empty()
        && host.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'))
        && !host.starts_with('.')
        && !host.ends_with("..");
    if !host_ok {
        return Err(bad("no valid host"));
    }
    Ok(u.to_string())
}

/// `team` as given: a project ref, ObjectID or name; only emptiness is checked here.
pub fn team(v: &str) -> Result<String, InputError> {
    let t = v.trim();
    if t.is_empty() {
        return Err(err("team", "must not be empty (a project ref, ObjectID or name)"));
    }
    Ok(t.to_string())
}

/// Free-text search: trimmed; blank means no search.
pub fn search_text(v: &str) -> Result<Option<String>, InputError> {
    let t = v.trim();
    if t.chars().count() > 1000 {
        return Err(err("query", "is longer than 1000 characters"));
    }
    Ok((!t.is_empty()).then(|| t.to_string()))
}

/// `priority` and `dueDate` exist only on some types; sending them elsewhere is an error, never
/// a silent drop.
pub fn fields_for_type(t: ArtifactType, has_priority: bool, has_due_date: bool) -> Result<(), InputError> {
    if has_priority && t != ArtifactType::Defect {
        return Err(err("priority", format!("{} has no priority in Rally; only a Defect does", t.as_str())));
    }
    if has_due_date && !matches!(t, ArtifactType::Defect | ArtifactType::Feature) {
        return Err(err(
            "dueDate",
            format!(
                "{} has no due date in Rally; only a Defect (TargetDate) or Feature (PlannedEndDate) does",
                t.as_str()
            ),
        ));
    }
    Ok(())
}

mod date;
mod work;
pub use date::due_date;
pub(crate) use date::{civil_from_days, days_from_civil};
pub(crate) use work::{attachment_cap, work_fields, WorkInput, ATTACHMENT_MAX_CAP};

#[cfg(test)]
mod tests;
