//! The Blocked flag, its reason and task hours of a write, as WSAPI fields; the size cap of an
//! attachment read.

use super::{err, InputError};
use crate::model::ArtifactType;
use serde_json::{Map, Value};

/// What an update or create asks for beyond the interface's fields.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct WorkInput<'a> {
    pub blocked: Option<bool>,
    pub blocked_reason: Option<&'a str>,
    pub estimate: Option<f64>,
    pub to_do: Option<f64>,
    pub actuals: Option<f64>,
}

/// Hours above this are refused as a typo (Rally's own ceiling is not documented).
pub const HOURS_MAX: f64 = 100_000.0;

/// The WSAPI fields of `w` for an item of type `t` (unknown before the item is located: then
/// only the values are checked). `blocked: false` also clears the reason, as Rally's UI does;
/// a reason with `blocked: false` is refused; a reason alone sets the flag too.
pub(crate) fn work_fields(t: Option<ArtifactType>, w: &WorkInput) -> Result<Map<String, Value>, InputError> {
    let mut out = Map::new();
    let reason = w.blocked_reason.map(str::trim);
    if let (Some(r), Some(false)) = (reason, w.blocked) {
        if !r.is_empty() {
            return Err(err("blockedReason", "a reason needs blocked: true (or no blocked); blocked: false clears it"));
        }
    }
    if let Some(r) = reason {
        if r.chars().count() > 256 {
            return Err(err("blockedReason", format!("must be at most 256 characters, got {}", r.chars().count())));
        }
    }
    let blocking = w.blocked.is_some() || reason.is_some();
    if blocking && t == Some(ArtifactType::Feature) {
        let arg = if w.blocked.is_some() { "blocked" } else { "blockedReason" };
        return Err(err(arg, "a Feature has no Blocked flag in Rally; a UserStory, Defect or Task does"));
    }
    match (w.blocked, reason) {
        (Some(false), _) => {
            out.insert("Blocked".into(), Value::Bool(false));
            out.insert("BlockedReason".into(), Value::String(String::new()));
        }
        (b, Some(r)) if !r.is_empty() => {
            debug_assert_ne!(b, Some(false));
            out.insert("Blocked".into(), Value::Bool(true));
            out.insert("BlockedReason".into(), Value::String(r.to_string()));
        }
        (b, r) => {
            if let Some(b) = b {
                out.insert("Blocked".into(), Value::Bool(b));
            }
            if r.is_some() {
                out.insert("BlockedReason".into(), Value::String(String::new()));
            }
        }
    }
    for (arg, field, v) in
        [("estimate", "Estimate", w.estimate), ("toDo", "ToDo", w.to_do), ("actuals", "Actuals", w.actuals)]
    {
        let Some(h) = v else { continue };
        if !(h.is_finite() && (0.0..=HOURS_MAX).contains(&h)) {
            return Err(err(
                arg,
                format!("must be a number of hours from 0 to {HOURS_MAX}, got {}", crate::input::number_as_written(h)),
            ));
        }
        if let Some(t) = t.filter(|t| *t != ArtifactType::Task) {
            return Err(err(
                arg,
                format!("a {} has no task hours in Rally; only a Task has Estimate, ToDo and Actuals", t.as_str()),
            ));
        }
        out.insert(field.into(), serde_json::Number::from_f64(h).map_or(Value::Null, Value::Number));
    }
    Ok(out)
}

/// Bytes an attachment read returns when the caller names no cap: 10 MB.
pub const ATTACHMENT_DEFAULT_CAP: u64 = 10 * 1024 * 1024;
/// The largest cap: Rally's own attachment limit (50 MB, as pyral enforces it).
pub const ATTACHMENT_MAX_CAP: u64 = 50 * 1024 * 1024;

/// `maxBytes` of an attachment read: 1 byte to 50 MB, 10 MB when absent.
pub(crate) fn attachment_cap(max_bytes: Option<u64>) -> Result<u64, InputError> {
    max_bytes.map_or(Ok(ATTACHMENT_DEFAULT_CAP), |n| crate::input::MAX_BYTES.check(n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(t: Option<ArtifactType>, w: WorkInput) -> Result<Value, String> {
        work_fields(t, &w).map(Value::Object).map_err(|e| e.to_string())
    }

    #[test]
    fn blocked_and_reason_become_the_fields_rally_keeps_together() {
        let story = Some(ArtifactType::UserStory);
        let reason = |r| WorkInput { blocked_reason: Some(r), ..Default::default() };
        assert_eq!(fields(story, reason(" Vendor ")), Ok(json!({"Blocked": true, "BlockedReason": "Vendor"})));
        let unblock = WorkInput { blocked: Some(false), ..Default::default() };
        assert_eq!(fields(story, unblock), Ok(json!({"Blocked": false, "BlockedReason": ""})));
        let block = WorkInput { blocked: Some(true), ..Default::default() };
        assert_eq!(fields(story, block), Ok(json!({"Blocked": true})));
        let both = WorkInput { blocked: Some(false), blocked_reason: Some("x"), ..Default::default() };
        assert!(fields(story, both).unwrap_err().starts_with("Invalid blockedReason:"));
        assert!(fields(Some(ArtifactType::Feature), block).unwrap_err().starts_with("Invalid blocked:"));
        assert!(fields(story, reason(&"x".repeat(257))).unwrap_err().contains("256"));
    }

    #[test]
    fn hours_are_tasks_only_and_in_range() {
        let w = WorkInput { estimate: Some(4.5), to_do: Some(0.0), actuals: Some(2.0), ..Default::default() };
        assert_eq!(fields(Some(ArtifactType::Task), w), Ok(json!({"Estimate": 4.5, "ToDo": 0.0, "Actuals": 2.0})));
        assert!(fields(None, w).is_ok(), "type not known yet: values only");
        let e = fields(Some(ArtifactType::Defect), w).unwrap_err();
        assert!(e.starts_with("Invalid estimate: a Defect has no task hours"), "{e}");
        for bad in [-1.0, f64::NAN, f64::INFINITY, 1e9] {
            let e = fields(None, WorkInput { to_do: Some(bad), ..Default::default() }).unwrap_err();
            assert!(e.starts_with("Invalid toDo: must be a number of hours"), "{e}");
        }
        assert_eq!(attachment_cap(None), Ok(ATTACHMENT_DEFAULT_CAP));
        assert!(attachment_cap(Some(0)).is_err() && attachment_cap(Some(ATTACHMENT_MAX_CAP + 1)).is_err());
    }
}
