//! `listIssues` as JSON text: the issues are normalised and serialised off the main thread (on
//! a tokio worker), a chunk of about 160 K characters at a time, and `rally.js` parses each
//! chunk while the next is built, so neither the list's whole text nor all its issues exist at
//! once.
//! Building thousands of objects through napi on the main thread cost more CPU than
//! `JSON.parse` of the same data and blocked the loop for the whole list.
//!
//! The shape is exactly the napi `Issue` object's (`types.rs`): the same keys in the same
//! order (napi sets the optional ones last), `tracker: 'rally'`, and an absent optional field is an absent key (napi sets no
//! property for `None`), so `listIssues` returns the same objects either way.

use rally_core as core;
use serde::Serialize;

/// Characters per chunk, at least. V8 puts a string of 128 KiB or more (one byte per Latin-1
/// character, two for others) in its large-object space, outside the young generation, so a
/// chunk's text never fills the young generation. Measured on Node 20, six lists of the same
/// 10,000 fixture-built issues in one process: with 64 KB chunks the young generation grew to
/// its maximum and dead lists piled up to a 70 MB heap before a full collection (peak RSS
/// 147–151 MB); with these chunks the heap stays at 45–65 MB (139–142 MB, `bench/RESULTS.md`'s
/// "6th list in a row" rows). One `JSON.parse` of a chunk takes about 2 ms.
pub const CHUNK_CHARS: usize = 160 * 1024;

/// UTF-8 → characters: every byte but continuation bytes starts one (a character past the
/// Basic Multilingual Plane is two in JS, so this never counts more than JS does).
fn chars(bytes: &[u8]) -> usize {
    bytes.iter().filter(|b| (**b & 0xC0) != 0x80).count()
}

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
    #[serde(skip_serializing_if = "Option::is_none")]
    project: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    project_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    custom_fields: Option<&'a serde_json::Map<String, serde_json::Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pull_requests: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    blocked: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    blocked_reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    estimate: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to_do: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    actuals: Option<f64>,
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
        project: i.project.as_deref(),
        project_name: i.project_name.as_deref(),
        custom_fields: i.custom_fields.as_ref(),
        pull_requests: i.pull_requests.as_deref(),
        blocked: i.blocked,
        blocked_reason: i.blocked_reason.as_deref(),
        estimate: i.estimate,
        to_do: i.to_do,
        actuals: i.actuals,
    }
}

/// The next issues of `issues` as one JSON array of at least `CHUNK_CHARS` characters (it
/// ends with the issue that took it past) unless it holds the last ones, or `None` when none
/// is left. Each issue is let go once written.
pub fn next_chunk(issues: &mut impl Iterator<Item = core::Issue>) -> Result<Option<String>, serde_json::Error> {
    let Some(first) = issues.next() else { return Ok(None) };
    // Room for the issue that takes it past CHUNK_CHARS.
    let mut buf = Vec::with_capacity(CHUNK_CHARS + CHUNK_CHARS / 4);
    buf.push(b'[');
    serde_json::to_writer(&mut buf, &out(&first))?;
    drop(first);
    let mut count = chars(&buf);
    while count < CHUNK_CHARS {
        let Some(issue) = issues.next() else { break };
        let start = buf.len();
        buf.push(b',');
        serde_json::to_writer(&mut buf, &out(&issue))?;
        count += chars(&buf[start..]);
    }
    buf.push(b']');
    // serde_json writes UTF-8 only; the check is a fast pass over bytes already in cache.
    String::from_utf8(buf).map(Some).map_err(serde::ser::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issue(n: usize) -> core::Issue {
        core::Issue {
            id: n.to_string(),
            reference: format!("US{n}"),
            title: format!("Story {n} \u{e9} \"quoted\""),
            // Some long descriptions: a chunk may end on any of them.
            description: "x".repeat(if n.is_multiple_of(7) { 9_000 } else { 40 }),
            ..Default::default()
        }
    }

    /// Every field of the core `Issue` (from which the napi `Issue` is built field by field)
    /// has its key on the JSON path, with every optional field set: a field added to one and
    /// not the other fails here (the destructuring below names every field, so a new one does
    /// not compile until it is set here too).
    #[test]
    fn the_json_path_has_a_key_for_every_field_of_the_issue() {
        let some = || Some("x".to_string());
        let full = core::Issue {
            assignee: some(),
            linked_issues: Some(vec!["US1".into()]),
            priority: Some(2),
            due_date: some(),
            parent_id: some(),
            parent_ref: some(),
            rally_state: some(),
            custom_fields: Some(serde_json::Map::from_iter([("Team".to_string(), "Red".into())])),
            pull_requests: Some(vec!["https://x.example/pull/1".into()]),
            project: Some("/project/1".into()),
            project_name: some(),
            blocked: Some(true),
            blocked_reason: some(),
            estimate: Some(5.0),
            to_do: Some(3.0),
            actuals: Some(1.5),
            ..issue(1)
        };
        let core::Issue {
            id: _,
            reference: _,
            title: _,
            description: _,
            state: _,
            labels: _,
            url: _,
            created_at: _,
            updated_at: _,
            artifact_type: _,
            assignee,
            linked_issues,
            priority,
            due_date,
            parent_id,
            parent_ref,
            rally_state,
            custom_fields,
            pull_requests,
            project,
            project_name,
            blocked,
            blocked_reason,
            estimate,
            to_do,
            actuals,
        } = &full;
        let set = [
            assignee.is_some(),
            linked_issues.is_some(),
            priority.is_some(),
            due_date.is_some(),
            parent_id.is_some(),
            parent_ref.is_some(),
            rally_state.is_some(),
            custom_fields.is_some(),
            pull_requests.is_some(),
            project.is_some(),
            project_name.is_some(),
            blocked.is_some(),
            blocked_reason.is_some(),
            estimate.is_some(),
            to_do.is_some(),
            actuals.is_some(),
        ];
        assert!(set.iter().all(|s| *s), "every optional field is set: {set:?}");
        let keys =
            |v: serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<std::collections::BTreeSet<_>>();
        let mut want = keys(serde_json::to_value(&full).unwrap());
        want.insert("tracker".into());
        assert_eq!(want.len(), 27, "every field of the Issue and the tracker: {want:?}");
        let rows: Vec<serde_json::Value> =
            serde_json::from_str(&next_chunk(&mut std::iter::once(full.clone())).unwrap().unwrap()).unwrap();
        assert_eq!(keys(rows[0].clone()), want);
        assert_eq!(rows[0]["customFields"], serde_json::json!({"Team": "Red"}));
        assert_eq!(rows[0]["toDo"], serde_json::json!(3.0));
    }

    #[test]
    fn chunks_are_arrays_of_bounded_size_that_together_hold_every_issue_once_in_order() {
        for count in [0, 1, 2, 150, 1_000] {
            let mut issues = (0..count).map(issue);
            let chunks: Vec<String> = std::iter::from_fn(|| next_chunk(&mut issues).unwrap()).collect();
            assert!(next_chunk(&mut issues).unwrap().is_none(), "none after the last");
            let mut ids = Vec::new();
            for c in &chunks {
                let rows: Vec<serde_json::Value> = serde_json::from_str(c).unwrap();
                assert!(!rows.is_empty(), "no empty chunk");
                // A chunk ends with the issue that took it past CHUNK_CHARS; only the last
                // is shorter.
                let n = c.chars().count();
                assert!(n < CHUNK_CHARS + 10_000, "chunk of {n} characters");
                if !std::ptr::eq(c, chunks.last().unwrap()) {
                    assert!(n >= CHUNK_CHARS, "chunk of {n} characters before the last");
                }
                for r in &rows {
                    assert_eq!(r["tracker"], "rally");
                    ids.push(r["id"].as_str().unwrap().to_string());
                }
            }
            assert_eq!(ids, (0..count).map(|n| n.to_string()).collect::<Vec<_>>());
            assert_eq!(chunks.is_empty(), count == 0);
            if count == 1_000 {
                assert!(chunks.len() > 5, "1,000 issues in {} chunks", chunks.len());
            }
        }
    }
}
