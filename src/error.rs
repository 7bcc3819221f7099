//! The one place where core errors (and panics) become JS errors.
//!
//! A napi `async fn` can only reject with a napi status as `code`, so the structured error
//! travels in the message: `RALLY_ERROR_JSON:` + `{"code","name","message",...details}`. The
//! package's JS entry parses it back into `RallyError` / `IssueNotFoundError` /
//! `TrackerAuthError` with the same fields.

use rally_core::RallyError;
use serde_json::{Map, Value};
use std::any::Any;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

pub const PREFIX: &str = "RALLY_ERROR_JSON:";

/// An error already encoded for JS; becomes a `napi::Error` at the boundary (`?` converts).
#[derive(Debug)]
pub struct Encoded(pub String);

impl From<Encoded> for napi::Error {
    fn from(e: Encoded) -> Self {
        napi::Error::new(napi::Status::GenericFailure, e.0)
    }
}

/// The JS class name for a code (Panopticon's names where it has one).
fn class_name(code: &str) -> &'static str {
    match code {
        "RALLY_AUTH" => "TrackerAuthError",
        "RALLY_NOT_FOUND" => "IssueNotFoundError",
        _ => "RallyError",
    }
}

fn encode(code: &str, message: String, details: Value) -> Encoded {
    let mut obj = Map::new();
    obj.insert("code".into(), Value::from(code));
    obj.insert("name".into(), Value::from(class_name(code)));
    obj.insert("message".into(), Value::from(message.clone()));
    if let Value::Object(extra) = details {
        for (k, v) in extra {
            obj.entry(k).or_insert(v);
        }
    }
    match serde_json::to_string(&Value::Object(obj)) {
        Ok(json) => Encoded(format!("{PREFIX}{json}")),
        // Serialising a map of strings and numbers cannot fail; if it ever did, keep the text.
        Err(_) => Encoded(message),
    }
}

/// Every core error goes through here.
pub fn from_core(e: RallyError) -> Encoded {
    encode(e.code(), e.to_string(), e.details())
}

/// A panic inside the addon is a bug of ours: it becomes a rejection (or a throw), never an abort.
fn from_panic(payload: Box<dyn Any + Send>) -> Encoded {
    let reason = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    encode("RALLY_INTERNAL", format!("internal error in panopticon-rally (please report it): {reason}"), Value::Null)
}

/// Runs a synchronous step with panics turned into errors.
pub fn guard<T>(f: impl FnOnce() -> Result<T, RallyError>) -> Result<T, Encoded> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r.map_err(from_core),
        Err(p) => Err(from_panic(p)),
    }
}

/// Polls a core future with panics turned into errors. napi also catches panics of async
/// methods, but only as a bare "Panic in async function"; this keeps our error shape.
pub struct Guarded<F>(Pin<Box<F>>);

impl<T, F: Future<Output = Result<T, RallyError>>> Future for Guarded<F> {
    type Output = Result<T, Encoded>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let fut = self.0.as_mut();
        match catch_unwind(AssertUnwindSafe(move || fut.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(r)) => Poll::Ready(r.map_err(from_core)),
            Err(p) => Poll::Ready(Err(from_panic(p))),
        }
    }
}

pub fn guarded<T, F: Future<Output = Result<T, RallyError>>>(f: F) -> Guarded<F> {
    Guarded(Box::pin(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(e: &Encoded) -> Value {
        let json = e.0.strip_prefix(PREFIX).unwrap_or("null");
        serde_json::from_str(json).unwrap_or(Value::Null)
    }

    #[test]
    fn core_errors_carry_code_name_message_and_details() {
        let v = payload(&from_core(RallyError::NotFound { id: "US12".into() }));
        assert_eq!(v["code"], "RALLY_NOT_FOUND");
        assert_eq!(v["name"], "IssueNotFoundError");
        assert_eq!(v["message"], "Issue not found: US12 (tracker: rally)");
        assert_eq!(v["issueId"], "US12");

        let v = payload(&from_core(RallyError::Auth { detail: "the key was refused".into() }));
        assert_eq!(v["code"], "RALLY_AUTH");
        assert_eq!(v["name"], "TrackerAuthError");
        assert_eq!(v["message"], "Authentication failed for rally: the key was refused");

        let e = RallyError::Rejected { operation: "createIssue".into(), errors: vec!["Validation error: x".into()] };
        let v = payload(&from_core(e));
        assert_eq!(v["code"], "RALLY_REJECTED");
        assert_eq!(v["name"], "RallyError");
        assert_eq!(v["rallyErrors"][0], "Validation error: x");
    }

    #[test]
    fn details_never_override_the_fixed_fields() {
        let details = serde_json::json!({"code": "X", "name": "Y", "message": "z", "extra": 1});
        let v = payload(&encode("RALLY_PROTOCOL", "m".into(), details));
        assert_eq!(v["code"], "RALLY_PROTOCOL");
        assert_eq!(v["name"], "RallyError");
        assert_eq!(v["message"], "m");
        assert_eq!(v["extra"], 1);
    }

    #[test]
    fn sync_panics_become_errors() {
        let r: Result<(), Encoded> = guard(|| panic!("boom {}", 1));
        let v = r.err().map(|e| payload(&e)).unwrap_or(Value::Null);
        assert_eq!(v["code"], "RALLY_INTERNAL");
        assert!(v["message"].as_str().unwrap_or("").contains("boom 1"), "{v}");
    }

    #[test]
    fn async_panics_become_errors() {
        async fn fails(panic: bool) -> Result<u8, RallyError> {
            tokio::task::yield_now().await;
            if panic {
                panic!("async boom");
            }
            Ok(7)
        }
        let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        let v = rt.block_on(guarded(fails(true))).err().map(|e| payload(&e)).unwrap_or(Value::Null);
        assert_eq!(v["code"], "RALLY_INTERNAL");
        assert!(v["message"].as_str().unwrap_or("").contains("async boom"), "{v}");
        assert_eq!(rt.block_on(guarded(fails(false))).ok(), Some(7));
    }
}
