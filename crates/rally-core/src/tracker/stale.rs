//! "A ref Rally refuses is forgotten": every write runs through [`Tracker::fresh_refs`]. When
//! Rally refuses a ref the process had cached (a tag, user, project, Feature state or the
//! issue itself, deleted by another client since), the cached lookups that gave it are dropped
//! and the call runs once more, looking them up again: the outcome is what a process that had
//! never seen them gets (a new tag, `RALLY_INVALID_INPUT` for a user no longer there,
//! `RALLY_NOT_FOUND` for the issue). A refusal names no object written, so nothing was written.

use super::*;
use crate::model::{IssueState, IssueUpdate, NewIssue};
use std::future::Future;

/// The refs a refusal names: `(type path, ObjectID)` of each "Could not read referenced object
/// <ref>" among Rally's errors.
pub(crate) fn refused_refs(e: &RallyError) -> Vec<(String, u64)> {
    let RallyError::Rejected { errors, .. } = e else { return Vec::new() };
    const NEEDLE: &str = "could not read referenced object";
    errors
        .iter()
        .filter_map(|m| {
            let at = m.to_ascii_lowercase().find(NEEDLE)? + NEEDLE.len();
            let word = m.get(at..)?.split_whitespace().next()?;
            crate::ids::parse_object_ref(word.trim_end_matches(['.', ',', ';', ')', '"', '\'']))
        })
        .collect()
}

impl Tracker {
    /// Drops every cached lookup that gives a ref `e` says Rally refused; whether there was one.
    pub(super) fn forget_refused(&self, e: &RallyError) -> bool {
        let mut dropped = false;
        for (t, oid) in refused_refs(e) {
            dropped |= self.cache.forget_refused(&t, oid);
            if t.eq_ignore_ascii_case("state") {
                dropped |= self.forget_feature_states(oid);
            }
        }
        dropped
    }

    /// Runs `call`; where Rally refused a cached ref, forgets it and runs `call` once more.
    async fn fresh_refs<T, F, Fut>(&self, call: F) -> Result<T, RallyError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, RallyError>>,
    {
        match call().await {
            Err(e) if self.forget_refused(&e) => call().await,
            done => done,
        }
    }

    pub async fn create_issue(&self, n: NewIssue) -> Result<Issue, RallyError> {
        self.fresh_refs(|| self.create_issue_once(n.clone())).await
    }

    pub async fn update_issue(&self, id: &str, u: IssueUpdate) -> Result<Issue, RallyError> {
        self.fresh_refs(|| self.update_issue_once(id, u.clone())).await
    }

    pub async fn transition_issue(&self, id: &str, state: IssueState) -> Result<(), RallyError> {
        self.fresh_refs(|| self.transition_issue_once(id, state)).await
    }

    pub async fn add_comment(&self, id: &str, body: &str) -> Result<Comment, RallyError> {
        self.fresh_refs(|| self.add_comment_once(id, body)).await
    }

    pub async fn link_pr(&self, id: &str, pr_url: &str) -> Result<(), RallyError> {
        self.fresh_refs(|| self.link_pr_once(id, pr_url)).await
    }
}
