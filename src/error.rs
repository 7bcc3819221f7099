//! The one place where core errors (and panics) become JS errors.
//!
//! The error object is built here, on the JS thread, like lightningcss's `into_js_error`: an
//! `Error` whose `message` is the core's text, with `code`, `name` and the error's details as
//! own properties. `rally.js` only gives it the prototype of the class `name` says, so that
//! `instanceof` works; a caller of `index.js` gets the same object with a readable message.

use napi::bindgen_prelude::{PromiseRaw, ToNapiValue};
use napi::{Env, JsValue, Status};
use rally_core::RallyError;
use serde_json::Value;
use std::any::Any;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Why a call failed: the core said so, or the addon panicked (a bug of ours).
#[derive(Debug)]
pub enum Failure {
    Core(RallyError),
    Panic(String),
}

/// What a JS error gets: `code`, class `name`, `message` and extra properties.
#[derive(Debug, PartialEq)]
pub struct JsErrorParts {
    pub code: &'static str,
    pub name: &'static str,
    pub message: String,
    pub details: serde_json::Map<String, Value>,
}

/// The JS class name for a code (Panopticon's names where it has one).
fn class_name(code: &str) -> &'static str {
    match code {
        "RALLY_AUTH" => "TrackerAuthError",
        "RALLY_NOT_FOUND" => "IssueNotFoundError",
        _ => "RallyError",
    }
}

/// Properties an error object owns itself; details never overwrite them.
const RESERVED: [&str; 5] = ["code", "name", "message", "stack", "cause"];

impl Failure {
    pub fn parts(&self) -> JsErrorParts {
        let (code, message, details) = match self {
            Failure::Core(e) => (e.code(), e.to_string(), e.details()),
            Failure::Panic(reason) => (
                "RALLY_INTERNAL",
                format!("internal error in panopticon-rally (please report it): {}", rally_core::redact(reason)),
                Value::Null,
            ),
        };
        let details = match details {
            Value::Object(m) => {
                m.into_iter().filter(|(k, v)| !v.is_null() && !RESERVED.contains(&k.as_str())).collect()
            }
            _ => serde_json::Map::new(),
        };
        JsErrorParts { code, name: class_name(code), message, details }
    }

    /// The JS error object, as a `napi::Error` that throws (or rejects with) that very object.
    pub fn into_js(self, env: &Env) -> napi::Error {
        let parts = self.parts();
        let plain = napi::Error::new(Status::GenericFailure, parts.message.clone());
        let build = || -> napi::Result<napi::Error> {
            let mut obj = env.create_error(napi::Error::new(Status::GenericFailure, parts.message.clone()))?;
            obj.set("code", parts.code)?;
            obj.set("name", parts.name)?;
            for (k, v) in &parts.details {
                obj.set(k, env.to_js_value(v)?)?;
            }
            Ok(napi::Error::from(obj.to_unknown()))
        };
        // Building an object can only fail when the environment is shutting down: keep the text.
        build().unwrap_or(plain)
    }
}

impl From<RallyError> for Failure {
    fn from(e: RallyError) -> Self {
        Failure::Core(e)
    }
}

/// A panic inside the addon is a bug of ours: it becomes a rejection (or a throw), never an abort.
fn from_panic(payload: Box<dyn Any + Send>) -> Failure {
    let reason = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    Failure::Panic(reason)
}

/// Runs a synchronous step with panics turned into errors, and throws what fails.
pub fn guard<T>(env: &Env, f: impl FnOnce() -> Result<T, RallyError>) -> napi::Result<T> {
    catch(f).map_err(|e| e.into_js(env))
}

fn catch<T>(f: impl FnOnce() -> Result<T, RallyError>) -> Result<T, Failure> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r.map_err(Failure::Core),
        Err(p) => Err(from_panic(p)),
    }
}

/// Polls a core future with panics turned into errors. napi also catches panics of async
/// methods, but only as a bare "Panic in async function"; this keeps our error shape.
pub struct Guarded<F>(Pin<Box<F>>);

impl<T, F: Future<Output = Result<T, RallyError>>> Future for Guarded<F> {
    type Output = Result<T, Failure>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let fut = self.0.as_mut();
        match catch_unwind(AssertUnwindSafe(move || fut.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(r)) => Poll::Ready(r.map_err(Failure::Core)),
            Err(p) => Poll::Ready(Err(from_panic(p))),
        }
    }
}

pub fn guarded<T, F: Future<Output = Result<T, RallyError>>>(f: F) -> Guarded<F> {
    Guarded(Box::pin(f))
}

/// Runs a core future on the runtime; the promise resolves to its value or rejects with the
/// JS error built (on the JS thread) from its failure.
pub fn promise<'env, T, F>(env: &'env Env, fut: F) -> napi::Result<PromiseRaw<'env, T>>
where
    T: ToNapiValue + Send + 'static,
    F: Future<Output = Result<T, RallyError>> + Send + 'static,
{
    env.spawn_future_with_callback(async move { Ok(guarded(fut).await) }, |env, r| r.map_err(|f| f.into_js(env)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(e: RallyError) -> JsErrorParts {
        Failure::Core(e).parts()
    }

    #[test]
    fn core_errors_carry_code_name_message_and_details() {
        let p = parts(RallyError::NotFound { id: "US12".into() });
        assert_eq!((p.code, p.name), ("RALLY_NOT_FOUND", "IssueNotFoundError"));
        assert_eq!(p.message, "Issue not found: US12 (tracker: rally)");
        assert_eq!(p.details["issueId"], "US12");

        let p = parts(RallyError::Auth { detail: "the key was refused".into() });
        assert_eq!((p.code, p.name), ("RALLY_AUTH", "TrackerAuthError"));
        assert_eq!(p.message, "Authentication failed for rally: the key was refused");

        let p =
            parts(RallyError::Rejected { operation: "createIssue".into(), errors: vec!["Validation error: x".into()] });
        assert_eq!((p.code, p.name), ("RALLY_REJECTED", "RallyError"));
        assert_eq!(p.details["rallyErrors"][0], "Validation error: x");
    }

    #[test]
    fn absent_details_are_left_out() {
        let p = parts(RallyError::Unavailable {
            operation: "getIssue US1".into(),
            attempts: 2,
            last_status: None,
            detail: String::new(),
        });
        assert!(!p.details.contains_key("status"), "{:?}", p.details);
        assert_eq!(p.details["attempts"], 2);
    }

    #[test]
    fn sync_panics_become_errors() {
        let r: Result<(), Failure> = catch(|| panic!("boom {}", 1));
        let p = r.err().map(|e| e.parts()).expect("a failure");
        assert_eq!((p.code, p.name), ("RALLY_INTERNAL", "RallyError"));
        assert!(p.message.contains("boom 1"), "{}", p.message);
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
        let p = rt.block_on(guarded(fails(true))).err().map(|e| e.parts()).expect("a failure");
        assert_eq!(p.code, "RALLY_INTERNAL");
        assert!(p.message.contains("async boom"), "{}", p.message);
        assert_eq!(rt.block_on(guarded(fails(false))).ok(), Some(7));
    }
}
