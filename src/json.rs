//! `listIssues` as JSON text: the issues are serialised off the main thread (on the tokio
//! worker that ran the list), in chunks, and `rally.js` parses one chunk per turn of the event
//! loop. Building thousands of objects through napi on the main thread cost more CPU than
//! `JSON.parse` of the same data and blocked the loop for the whole list.
//!
//! The shape is exactly the napi `Issue` object's (`types.rs`): the same keys in the same
//! order (napi sets the optional ones last), `tracker: 'rally'`, and an absent optional field is an absent key (napi sets no
//! property for `None`), so `listIssues` returns the same objects either way.

use rally_core as core;
use serde::Serialize;

/// Issues per chunk: each `JSON.parse` stays a few milliseconds.
pub const CHUNK: usize = 500;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct IssueOut<'a> {
    id: &'a str,
    #[serde(rename = "ref")]
    reference: &'a str,
    title: &'a str,
    description: &'a str,
    state: core::IssueState,
    labels: &'a [String],
    url: &'a str,
    tracker: &'static str,
    created_at: &'a str,
    updated_at: &'a str,
    artifact_type: core::ArtifactType,
    // napi sets the optional fields after the others, each in declaration order.
    #[serde(skip_serializing_if = "Option::is_none")]
    assignee: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    linked_issues: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    priority: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    due_date: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_ref: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rally_state: Option<&'a str>,
}

fn out(i: &core::Issue) -> IssueOut<'_> {
    IssueOut {
        id: &i.id,
        reference: &i.reference,
        title: &i.title,
        description: &i.description,
        state: i.state,
        labels: &i.labels,
        assignee: i.assignee.as_deref(),
        url: &i.url,
        tracker: "rally",
        linked_issues: i.linked_issues.as_deref(),
        priority: i.priority,
        due_date: i.due_date.as_deref(),
        created_at: &i.created_at,
        updated_at: &i.updated_at,
        artifact_type: i.artifact_type,
        parent_id: i.parent_id.as_deref(),
        parent_ref: i.parent_ref.as_deref(),
        rally_state: i.rally_state.as_deref(),
    }
}

/// The issues as JSON arrays of at most `CHUNK` each (at least one, maybe empty).
pub fn issue_chunks(issues: &[core::Issue]) -> Result<Vec<String>, serde_json::Error> {
    if issues.is_empty() {
        return Ok(vec!["[]".into()]);
    }
    issues
        .chunks(CHUNK)
        .map(|c| {
            let rows: Vec<IssueOut<'_>> = c.iter().map(out).collect();
            serde_json::to_string(&rows)
        })
        .collect()
}

/// Lists at least this long hand their freed memory back to the system.
const TRIM_AFTER: usize = 1000;

/// After a long list (`items` issues), returns the memory its pages and intermediate values
/// used to the system. glibc keeps freed memory in per-thread arenas and, once a large buffer
/// has been freed, serves later large buffers from them as well, so a process repeating
/// 10,000-item lists grew by tens of MB per list. Elsewhere a no-op.
pub fn release_freed_memory(items: usize) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if items >= TRIM_AFTER {
        extern "C" {
            fn malloc_trim(pad: usize) -> i32;
        }
        // SAFETY: glibc's malloc_trim takes the arena locks itself; it only releases free
        // memory and may be called from any thread at any time.
        unsafe {
            malloc_trim(0);
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = (items, TRIM_AFTER);
}
