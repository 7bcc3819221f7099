//! `parseIssueId`: an id read as every method reads it, for callers that must decide what an id
//! names without a request (rally-mcp's `--issue` scope). One parser (the core's), so a check
//! made in JS cannot read an id otherwise than the write that follows it.

use crate::error::guard;
use napi::Env;
use napi_derive::napi;
use rally_core as core;

/// What an id names, as the tracker's methods read it.
#[napi(object)]
pub struct ParsedIssueId {
    /// `US12` for `us012`, `US12` or ` us12 `; absent when the id names an ObjectID.
    pub formatted_id: Option<String>,
    /// The ObjectID a number, ref or Rally URL names, as a decimal string.
    pub object_id: Option<String>,
}

/// Reads `id` (a FormattedID, ObjectID, ref, WSAPI URL or Rally web URL) without a request;
/// throws `RALLY_INVALID_INPUT` for text that is none of them.
// Called from JS only: a `cargo test` build registers no napi exports, so it looks unused there.
#[cfg_attr(test, allow(dead_code))]
#[napi]
pub fn parse_issue_id(env: Env, id: String) -> napi::Result<ParsedIssueId> {
    guard(&env, || {
        let parsed = core::parse_issue_id(&id, "id")?;
        Ok(ParsedIssueId { formatted_id: parsed.formatted(), object_id: parsed.object_id().map(|o| o.to_string()) })
    })
}
