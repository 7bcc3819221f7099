//! `diagnose(configJson)`: the checks behind the `rally-doctor` command.

use napi_derive::napi;

/// Checks a tracker configuration against the server (connection and TLS, key, workspace,
/// project, open items in scope) and resolves to the report as JSON. It never rejects: every
/// problem is a failed check in the report, with its exit code. The key is never in the report.
// Called from JS only: a `cargo test` build registers no napi exports, so it looks unused there.
#[cfg_attr(test, allow(dead_code))]
#[napi]
pub async fn diagnose(config_json: String) -> napi::Result<String> {
    Ok(rally_core::diagnose::diagnose_json(&config_json).await)
}
