//! `diagnose(config)`: the checks behind the `rally-doctor` command, and its exit codes.

use crate::error::promise;
use crate::{core_config, RallyTrackerConfig};
use napi::bindgen_prelude::PromiseRaw;
use napi::Env;
use napi_derive::napi;
use rally_core::Problem;
use serde_json::Value;

/// The process exit code of `rally-doctor` for what ended a diagnosis.
fn exit_code(problem: Option<Problem>) -> i32 {
    match problem {
        None => 0,
        Some(Problem::Other) => 1,
        Some(Problem::Config) => 2,
        Some(Problem::Unreachable) => 3,
        Some(Problem::Auth) => 4,
        Some(Problem::NotFound) => 5,
        Some(Problem::EmptyScope) => 6,
        Some(Problem::CreatesFail) => 7,
    }
}

/// Checks a tracker configuration (the options of `new RallyTracker`) against the server:
/// connection and TLS, key, workspace, project, open items in scope. Resolves to the report,
/// with the `exitCode` of `rally-doctor`; every problem is a failed check in the report. The
/// key is never in the report.
// Called from JS only: a `cargo test` build registers no napi exports, so it looks unused there.
#[cfg_attr(test, allow(dead_code))]
#[napi(ts_return_type = "Promise<Record<string, any>>")]
pub fn diagnose<'env>(env: &'env Env, config: RallyTrackerConfig) -> napi::Result<PromiseRaw<'env, Value>> {
    let config = core_config(config);
    promise(env, async move {
        let report = match config {
            Ok(config) => rally_core::diagnose(config).await,
            Err(e) => rally_core::config_report(&e),
        };
        let mut out = serde_json::to_value(&report).unwrap_or_default();
        if let Value::Object(m) = &mut out {
            m.insert("exitCode".into(), exit_code(report.problem).into());
        }
        Ok(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_has_its_own_exit_code() {
        let all = [
            None,
            Some(Problem::Other),
            Some(Problem::Config),
            Some(Problem::Unreachable),
            Some(Problem::Auth),
            Some(Problem::NotFound),
            Some(Problem::EmptyScope),
            Some(Problem::CreatesFail),
        ];
        let codes: Vec<i32> = all.iter().map(|p| exit_code(*p)).collect();
        assert_eq!(codes, (0..8).collect::<Vec<_>>());
    }
}
