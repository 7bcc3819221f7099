//! Incremental lists: a list with the filters of an earlier one (same type, query, scope and
//! limit, by any tracker of the same server, key and scope in the process — `shared.rs`) asks
//! Rally only for what changed. First the probe of `poll.rs` (one `pagesize=1` request when
//! nothing changed; the changed bodies and one count when something did); then, only when that
//! count does not reconcile (something left), this module's versions read:
//!
//! 1. **The versions.** The same query, in the same order and with the same limit, asks only
//!    `fetch=ObjectID,LastUpdateDate` and the links to parents (Rally adds `_objectVersion` to
//!    every object; deleting a parent clears the link without a new version of the child). It
//!    is a full evaluation of the filter, so it names exactly the items a full read would
//!    return, in its order. Beyond one page it goes through the consistent-snapshot paging
//!    (`snapshot.rs`).
//! 2. **The bodies of what changed.** Items whose `_objectVersion`, `LastUpdateDate` and
//!    links are those of a kept (or just read) body are reused; the others are read by
//!    ObjectID with the same filter and scope, `CHUNK` at a time, all at once.
//! 3. **A full read instead** when there is nothing to build on (first list of these filters
//!    in the process, the last full read is older than `MAX_AGE`, or the list is longer than
//!    `MAX_KEPT_ITEMS`), when more than `MAX_CHANGED` items changed, or when step 2 cannot
//!    confirm step 1 (an item changed again, left the filter or vanished in between): the
//!    answer is then never a mix of two moments.
//!
//! So the result is what a full read at one moment of the poll returns, but for what a probe
//! cannot see (`poll.rs`, `docs/reliability.md`) and data that shows in an item but is not the
//! item's own (a renamed tag or user), both until `MAX_AGE` after the last full read. Tested
//! over HTTP in `tests/incremental.rs` (request counts, and a property test with random edits,
//! deletes, creates and project moves against full reads).

use super::poll::Polled;
use super::{QuerySpec, Scope, Tracker};
use crate::error::RallyError;
use crate::paging::Fetched;
use crate::query::{QValue, Query};
use crate::rally_types::RallyArtifact;
use crate::wsapi::Op;
use futures_util::future::try_join_all;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What step 1 asks for: the version, and the links to other items, which a delete of the
/// other item clears without a new version of this one.
const VERSION_FETCH: &str = "ObjectID,LastUpdateDate,Parent,PortfolioItem,WorkProduct,Requirement";
/// ObjectIDs per body request (the query stays a few KB).
const CHUNK: usize = 60;
/// Past this many changed items, one full read.
pub(super) const MAX_CHANGED: usize = 600;
/// This long after a full read, the next list is a full read again (names of tags, owners and
/// parents, and what a probe cannot see).
const MAX_AGE: Duration = Duration::from_secs(600);
/// Filter sets kept per scope (the oldest is dropped).
const MAX_LISTS: usize = 32;
/// Longer lists are not kept (a poll of a kept list asks one probe; the bodies held are the
/// ones the list hands out anyway).
const MAX_KEPT_ITEMS: usize = crate::config::Defaults::MAX_RESULTS;

struct Kept {
    items: Vec<Arc<RallyArtifact>>,
    /// Rally's `TotalResultCount` for these filters (more than `items` under a limit).
    total: usize,
    read_at: Instant,
    used: u64,
}

/// A kept list as handed to a poll: the answer, newest first, and when its bodies were read.
pub(super) struct Held {
    pub(super) items: Vec<Arc<RallyArtifact>>,
    pub(super) total: usize,
    pub(super) read_at: Instant,
}

impl Held {
    pub(super) fn by_oid(&self) -> HashMap<u64, Arc<RallyArtifact>> {
        self.items.iter().filter_map(|a| Some((a.object_id?, a.clone()))).collect()
    }
}

/// The last list of each filter set, per scope.
#[derive(Default)]
pub(crate) struct Lists {
    map: Mutex<HashMap<String, Kept>>,
    clock: std::sync::atomic::AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Lists {
    pub(crate) fn len(&self) -> usize {
        lock(&self.map).len()
    }

    pub(crate) fn clear(&self) {
        lock(&self.map).clear();
    }

    fn tick(&self) -> u64 {
        self.clock.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    /// The kept list (`None`: nothing, or its bodies are too old).
    fn get(&self, key: &str) -> Option<Held> {
        let used = self.tick();
        let mut map = lock(&self.map);
        let kept = map.get_mut(key)?;
        if kept.read_at.elapsed() > MAX_AGE {
            return None;
        }
        kept.used = used;
        Some(Held { items: kept.items.clone(), total: kept.total, read_at: kept.read_at })
    }

    /// Keeps `items` (of `total` matches) as the answer of `key`; `read_at`: when the oldest
    /// body among them was read (the last full read). Items already converted let go of their
    /// description's HTML: a kept item is only ever normalised again, from its Markdown.
    fn put(&self, key: String, items: &[Arc<RallyArtifact>], total: usize, read_at: Instant) {
        let used = self.tick();
        if items.len() > MAX_KEPT_ITEMS {
            lock(&self.map).remove(&key);
            return;
        }
        for a in items {
            a.description.settle();
        }
        let mut map = lock(&self.map);
        map.insert(key, Kept { items: items.to_vec(), total, read_at, used });
        if map.len() > MAX_LISTS {
            if let Some(oldest) = map.iter().min_by_key(|(_, k)| k.used).map(|(k, _)| k.clone()) {
                map.remove(&oldest);
            }
        }
    }
}

/// The same version of an item: same `_objectVersion` (when Rally gives it) and same
/// `LastUpdateDate`.
fn same_version(kept: &RallyArtifact, now: &RallyArtifact) -> bool {
    let links = |a: &RallyArtifact| {
        [&a.parent, &a.portfolio_item, &a.work_product, &a.requirement].map(|r| {
            let r = r.as_ref()?;
            r.object_id.or_else(|| crate::ids::parse_object_ref(r.r#ref.as_deref()?).map(|(_, o)| o))
        })
    };
    kept.last_update_date.is_some()
        && kept.last_update_date == now.last_update_date
        && kept.object_version == now.object_version
        && links(kept) == links(now)
}

fn scope_text(scope: Scope<'_>) -> String {
    match scope {
        Scope::Configured => "configured".into(),
        Scope::Project(p) => format!("project {p}"),
        Scope::Workspace => "workspace".into(),
    }
}

fn list_key(type_path: &str, base: &Option<Query>, scope: Scope<'_>, limit: usize) -> String {
    format!("{type_path}\n{}\n{}\n{limit}", base.as_ref().map(Query::render).unwrap_or_default(), scope_text(scope))
}

impl Tracker {
    /// Keeps `list` as the full answer of these filters, read at `read_at`.
    pub(super) fn keep_list(
        &self,
        type_path: &str,
        base: &Option<Query>,
        scope: Scope<'_>,
        limit: usize,
        list: &Fetched<Arc<RallyArtifact>>,
        read_at: Instant,
    ) {
        self.shared.lists.put(list_key(type_path, base, scope, limit), &list.items, list.total, read_at);
    }

    /// Up to `limit` artifacts of one type matching `base`, newest first: what a full read
    /// returns, asking Rally only what changed since the last list of these filters.
    pub(super) async fn list_type(
        &self,
        op: &Op,
        type_path: &str,
        base: Option<Query>,
        scope: Scope<'_>,
        limit: usize,
    ) -> Result<Fetched<Arc<RallyArtifact>>, RallyError> {
        let key = list_key(type_path, &base, scope, limit);
        if let Some(held) = self.shared.lists.get(&key) {
            // The bodies handed out keep their age: a full read follows `MAX_AGE` after the
            // last one, whatever the polls in between.
            let verify = match self.poll(op, type_path, &base, scope, limit, &held).await? {
                Polled::Answer(r) => {
                    self.shared.lists.put(key, &r.items, r.total, held.read_at);
                    return Ok(r);
                }
                Polled::Verify(bodies) => Some(bodies),
                Polled::Full => None,
            };
            if let Some(bodies) = verify {
                if let Some(r) = self.refresh(op, type_path, &base, scope, limit, &bodies).await? {
                    self.shared.lists.put(key, &r.items, r.total, held.read_at);
                    return Ok(r);
                }
            }
        }
        let started = Instant::now();
        let fetch = self.artifact_fetch(op).await?;
        let full = self.list_snapshot(op, type_path, base, scope, limit, &fetch).await?;
        self.shared.lists.put(key, &full.items, full.total, started);
        Ok(full)
    }

    /// Steps 1 and 2 of the module documentation; `None`: a full read is needed.
    async fn refresh(
        &self,
        op: &Op,
        type_path: &str,
        base: &Option<Query>,
        scope: Scope<'_>,
        limit: usize,
        kept: &HashMap<u64, Arc<RallyArtifact>>,
    ) -> Result<Option<Fetched<Arc<RallyArtifact>>>, RallyError> {
        let versions = self.list_snapshot(op, type_path, base.clone(), scope, limit, VERSION_FETCH).await?;
        let mut changed: Vec<&RallyArtifact> = Vec::new();
        for v in &versions.items {
            let Some(oid) = v.object_id else { return Ok(None) };
            if !kept.get(&oid).is_some_and(|k| same_version(k, v)) {
                changed.push(v);
            }
        }
        if changed.len() > MAX_CHANGED {
            return Ok(None);
        }
        let fetch = self.artifact_fetch(op).await?;
        let spec = |q: Option<Query>, n: usize| {
            (QuerySpec { type_path, query: q.map(|q| q.render()), fetch: &fetch, order: None, scope, types: None }, n)
        };
        let asks: Vec<_> = changed
            .chunks(CHUNK)
            .map(|chunk| {
                let ids = Query::any(
                    chunk
                        .iter()
                        .filter_map(|a| a.object_id)
                        .map(|o| Query::eq("ObjectID", QValue::Int(i64::try_from(o).unwrap_or(i64::MAX))))
                        .collect(),
                );
                let q = match (base.clone(), ids) {
                    (Some(b), Some(i)) => Some(b.and(i)),
                    (b, i) => b.or(i),
                };
                spec(q, chunk.len())
            })
            .collect();
        let pages =
            try_join_all(asks.iter().map(|(s, n)| self.query_page::<Arc<RallyArtifact>>(op, s, 1, (*n).max(1))))
                .await?;
        let mut fresh: HashMap<u64, Arc<RallyArtifact>> = HashMap::with_capacity(changed.len());
        for a in pages.into_iter().flat_map(|p| p.results) {
            if let Some(oid) = a.object_id {
                fresh.insert(oid, a);
            }
        }
        let mut items = Vec::with_capacity(versions.items.len());
        for v in &versions.items {
            let oid = v.object_id.unwrap_or_default();
            let body = match kept.get(&oid) {
                Some(k) if same_version(k, v) => k.clone(),
                // Read now: it must be the version step 1 saw, else the moments differ.
                _ => match fresh.get(&oid) {
                    Some(f) if same_version(f, v) => f.clone(),
                    _ => return Ok(None),
                },
            };
            items.push(body);
        }
        Ok(Some(Fetched { items, total: versions.total }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn art(oid: u64, date: &str, version: &str) -> RallyArtifact {
        RallyArtifact {
            object_id: Some(oid),
            last_update_date: Some(date.into()),
            object_version: Some(version.into()),
            ..Default::default()
        }
    }

    #[test]
    fn versions_compare_date_and_object_version() {
        let a = art(1, "2026-11-30T00:00:00.000Z", "3");
        assert!(same_version(&a, &a.clone()));
        assert!(!same_version(&a, &art(1, "2026-11-30T00:00:00.000Z", "4")));
        assert!(!same_version(&a, &art(1, "2026-11-30T00:00:00.001Z", "3")));
        let undated = RallyArtifact { object_id: Some(1), ..Default::default() };
        assert!(!same_version(&undated, &undated.clone()));
    }

    #[test]
    fn a_kept_item_lets_go_of_its_html_once_converted() {
        let html = |a: &RallyArtifact| a.description.with_html(|h| h.map(str::to_owned));
        let fresh = Arc::new(RallyArtifact {
            description: crate::rally_types::Description::from_html("<b>new</b>"),
            ..art(1, "2026-11-30T00:00:00.000Z", "1")
        });
        let converted = Arc::new(RallyArtifact {
            description: crate::rally_types::Description::from_html("<b>old</b>"),
            ..art(2, "2026-11-29T00:00:00.000Z", "1")
        });
        converted.description.markdown(|h| crate::markup::html_to_markdown(h).into());
        let lists = Lists::default();
        lists.put("k".into(), &[fresh.clone(), converted.clone()], 2, Instant::now());
        assert_eq!(html(&fresh).as_deref(), Some("<b>new</b>"), "not converted yet: kept as read");
        assert_eq!(html(&converted), None);
        let md = |a: &RallyArtifact| a.description.markdown(|_| panic!("converted again")).map(|m| m.to_string());
        assert_eq!(md(&converted).as_deref(), Some("**old**"));
        let held = lists.get("k").unwrap();
        assert_eq!(md(&held.items[1]).as_deref(), Some("**old**"));
    }

    #[test]
    fn keeps_at_most_max_lists_dropping_the_least_used() {
        let lists = Lists::default();
        let now = Instant::now();
        for i in 0..=MAX_LISTS {
            lists.put(format!("k{i}"), &[], 0, now);
            assert!(lists.get("k0").is_some(), "the most used one stays");
        }
        assert_eq!(lists.len(), MAX_LISTS);
        assert!(lists.get("k1").is_none());
    }
}
