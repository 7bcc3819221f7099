//! Polls of a kept list (`incremental.rs`): what a repeat list asks before anything else.
//!
//! 1. **The probe**: the list's own query, in the list's order, `pagesize=1`, fetching only
//!    `ObjectID,LastUpdateDate`. When its `TotalResultCount` and its newest item (date and
//!    ObjectID) are those of the kept list, nothing the list shows changed: the kept answer is
//!    the answer. One small request, the same bytes for 10 items or 10,000. An edit of a
//!    matching item (one that moves it into the filter too) or a create makes it the newest;
//!    a delete or a move out of the filter, with no create or edit to hide it, lowers the count.
//! 2. **What changed**, when the probe differs: the list's query and `LastUpdateDate > d0`
//!    (`d0`: the kept newest date), with full bodies: k changes, k bodies. Those are newer than
//!    every kept item, so they head the answer.
//! 3. **One count** says whether every other kept item is still there: `LastUpdateDate <= d0`
//!    within the kept range (under a `limit`, up to the last kept item) must count exactly the
//!    kept items step 2 did not return. Items that were not edited can only leave that set
//!    (deleted, or moved out of the filter by an edit that took them past `d0`), so an equal
//!    count, asked after step 2, means each of them was there, unchanged, when step 2 was
//!    answered: the answer is step 2's moment.
//! 4. When the count does not reconcile (something left), the versions read of
//!    `incremental.rs` (`Verify`), with the bodies of step 2 added to the kept ones.
//!
//! What a probe cannot see is in `docs/reliability.md` ("Polls"): an item that comes into the
//! filter without a new version of its own (its project moved under the scope, a tag renamed to
//! a filtered label) while another leaves; a link cleared when another item is deleted; writes
//! in the millisecond of the kept newest item. The kept bodies are read in full `MAX_AGE` after
//! the last full read, whatever the polls in between, which bounds all three.

use super::incremental::{Held, MAX_CHANGED};
use super::snapshot::{key, merge_newest, up_to, with, Item};
use super::{QuerySpec, Scope, Tracker};
use crate::error::RallyError;
use crate::paging::Fetched;
use crate::query::Query;
use crate::wsapi::Op;
use std::collections::{HashMap, HashSet};

/// What a probe and a count ask for.
const PROBE_FETCH: &str = "ObjectID,LastUpdateDate";

/// What a poll found.
pub(super) enum Polled {
    /// The answer, equal to a full read's.
    Answer(Fetched<Item>),
    /// Something left: the versions read decides, with these bodies to reuse.
    Verify(HashMap<u64, Item>),
    /// Nothing to build on: a full read.
    Full,
}

impl Tracker {
    /// Steps 1-3 of the module documentation.
    pub(super) async fn poll(
        &self,
        op: &Op,
        type_path: &str,
        base: &Option<Query>,
        scope: Scope<'_>,
        limit: usize,
        held: &Held,
    ) -> Result<Polled, RallyError> {
        let limit = limit.max(1);
        let spec = |q: Option<Query>, fetch| QuerySpec::list(type_path, q, fetch, scope);
        let count = |q: Option<Query>| async move {
            self.query_page::<Item>(op, &spec(q, PROBE_FETCH), 1, 1).await.map(|p| (p.total(), p.results))
        };
        // Every kept item must have a place in the order to be compared.
        if held.items.iter().any(|a| key(a).is_none()) {
            return Ok(Polled::Full);
        }
        let kept_newest = held.items.first().and_then(key);
        let (total, newest) = count(base.clone()).await?;
        if total == held.total && newest.first().and_then(key) == kept_newest {
            return Ok(Polled::Answer(Fetched { items: held.items.clone(), total }));
        }
        let Some((d0, _)) = kept_newest else { return Ok(Polled::Full) };
        let fetch = self.artifact_fetch(op).await?;
        let page = limit.min(MAX_CHANGED + 1);
        let recent = with(base, Some(Query::gt("LastUpdateDate", d0)));
        let changed = self.query_page::<Item>(op, &spec(recent, &fetch), 1, page).await?;
        let changed_total = changed.total();
        let changed = changed.results;
        if changed.len() >= limit {
            // Every changed item is newer than every kept one: the newest `limit` of them.
            return Ok(Polled::Answer(Fetched { items: merge_newest(changed, limit), total }));
        }
        if changed.len() < changed_total || changed.len() > MAX_CHANGED {
            return Ok(Polled::Full);
        }
        let whole = held.total <= held.items.len();
        // Nothing new and fewer matches than kept: something left, no count can say otherwise.
        if whole && changed.is_empty() && total < held.total {
            return Ok(Polled::Verify(held.by_oid()));
        }
        let fresh: HashSet<u64> = changed.iter().filter_map(|a| a.object_id).collect();
        let rest: Vec<Item> =
            held.items.iter().filter(|a| a.object_id.is_none_or(|o| !fresh.contains(&o))).cloned().collect();
        // The kept range: all of it, or up to the last kept item under a limit.
        let range = match held.items.last().and_then(key) {
            Some((d, o)) if held.total > held.items.len() => with(base, Some(up_to(d, o))),
            _ => base.clone(),
        };
        let (unchanged, _) = count(with(&range, Some(Query::le("LastUpdateDate", d0)))).await?;
        if unchanged == rest.len() {
            let mut items = changed;
            items.extend(rest);
            let n = items.len();
            let total = if whole { n } else { total };
            return Ok(Polled::Answer(Fetched { items: merge_newest(items, limit), total }));
        }
        let mut bodies = held.by_oid();
        bodies.extend(changed.into_iter().filter_map(|a| Some((a.object_id?, a))));
        Ok(Polled::Verify(bodies))
    }
}
