//! Consistent lists: every item that matched when a list began and still matches at its end
//! comes back exactly once, whatever is edited, created or deleted while it pages.
//!
//! Paging by offset over a newest-first order loses items: an edit moves an item to the top (a
//! page already read) and a delete moves every later item up by one, so a page read afterwards
//! starts one item late. Here:
//! - **Overlapping pages, checked at every seam.** After the first page (which gives the
//!   total), the other pages are read at once by offset, each starting on the previous page's
//!   last item (stride 1,999). Where that item is on the next page, nothing before the seam
//!   moved out meanwhile (an edit only moves an item up, a create adds at the top: both shift
//!   the page down, into the overlap). Where it is not, a delete or an edit out of the filter
//!   shifted the page up: the items between the seam and the page's first item are read by
//!   keyset (`LastUpdateDate < d OR (= d AND ObjectID > o)`, in the order `LastUpdateDate desc,
//!   ObjectID`, bounded by the page's first item), never by offset. If the last page is full,
//!   keyset pages follow it (items pushed past the end by creates).
//! - **A catch-up query.** An item edited while the list pages moves above the cursor and
//!   would never be reached; so once the pages are read, one more query asks for everything
//!   updated after the first page's newest item (`LastUpdateDate > t0`, keyset-paged too if
//!   it fills a page). An edit made after the first page was served carries a later time
//!   than anything on it (Rally's clock, millisecond precision), so it is in that answer;
//!   every such item is newer than anything the first page saw, so it belongs in the list
//!   whatever the limit. (Strictly later: a bulk import gives thousands of items one
//!   timestamp, and `>=` would read them all again.)
//! - The two are merged by ObjectID, keeping the newer version, sorted newest first (ties by
//!   ObjectID) and cut to the limit.
//!
//! One page (the whole answer fits in it, or a `limit` up to 2,000) is one query, which Rally
//! answers from one state: nothing more is asked. So the dashboard's lists cost what they did.
//!
//! Not covered: an item that stops matching just as its page is read and matches again before
//! the list ends (no single query sees it); an edit in the same millisecond as the newest item
//! the first page saw; and, for a `limit` shorter than the match count, an item edited after
//! the last query was answered (no query can see it; it still comes back if it was read).

use super::{QuerySpec, Scope, Tracker};
use crate::error::RallyError;
use crate::paging::{Fetched, MAX_PAGE_SIZE};
use crate::query::{QValue, Query};
use crate::rally_types::RallyArtifact;
use crate::wsapi::Op;
use futures_util::future::try_join_all;
use std::collections::HashMap;
use std::sync::Arc;

/// A listed item: parsed once into its own allocation and never moved or copied again, so a
/// 10,000-item list is not held twice while its pages are joined, merged and sorted.
pub(crate) type Item = Arc<RallyArtifact>;

/// The list order: newest first, ties by the immutable ObjectID.
const LIST_ORDER: &str = "LastUpdateDate desc,ObjectID";

impl<'a> QuerySpec<'a> {
    /// A query of a list: `q` over `type_path` in `scope`, in the list's order.
    pub(super) fn list(type_path: &'a str, q: Option<Query>, fetch: &'a str, scope: Scope<'a>) -> Self {
        QuerySpec { type_path, query: q.map(|q| q.render()), fetch, order: Some(LIST_ORDER), scope, types: None }
    }
}

/// An item's place in `LIST_ORDER`.
pub(super) fn key(a: &Item) -> Option<(&str, u64)> {
    Some((a.last_update_date.as_deref()?, a.object_id?))
}

/// Items strictly after `(date, oid)` in `LIST_ORDER`.
fn after(date: &str, oid: u64) -> Query {
    let oid = QValue::Int(i64::try_from(oid).unwrap_or(i64::MAX));
    Query::lt("LastUpdateDate", date).or(Query::eq("LastUpdateDate", date).and(Query::gt("ObjectID", oid)))
}

/// Items up to `(date, oid)` included in `LIST_ORDER`.
pub(super) fn up_to(date: &str, oid: u64) -> Query {
    let oid = QValue::Int(i64::try_from(oid).unwrap_or(i64::MAX));
    Query::gt("LastUpdateDate", date).or(Query::eq("LastUpdateDate", date).and(Query::le("ObjectID", oid)))
}

pub(super) fn with(base: &Option<Query>, extra: Option<Query>) -> Option<Query> {
    match (base.clone(), extra) {
        (Some(b), Some(e)) => Some(b.and(e)),
        (b, e) => b.or(e),
    }
}

/// Merges pages and catch-up: one entry per ObjectID (the newer version wins; the first of
/// equals), newest first, ties by ObjectID, at most `limit`. Items without an ObjectID are
/// kept as they are. In place: only pointers move.
pub(crate) fn merge_newest(mut items: Vec<Item>, limit: usize) -> Vec<Item> {
    let mut newest: HashMap<u64, usize> = HashMap::with_capacity(items.len());
    for (i, a) in items.iter().enumerate() {
        let Some(oid) = a.object_id else { continue };
        let at = newest.entry(oid).or_insert(i);
        if a.last_update_date > items[*at].last_update_date {
            *at = i;
        }
    }
    let mut i = 0;
    items.retain(|a| {
        let keep = a.object_id.is_none_or(|oid| newest.get(&oid) == Some(&i));
        i += 1;
        keep
    });
    // ISO-8601 UTC strings sort as text.
    items.sort_by(|a, b| b.last_update_date.cmp(&a.last_update_date).then_with(|| a.object_id.cmp(&b.object_id)));
    items.truncate(limit);
    items
}

impl Tracker {
    /// Up to `limit` artifacts of one type matching `base`, newest first, as a consistent
    /// snapshot (see the module documentation). `total` is the count Rally reported first.
    pub(super) async fn list_snapshot(
        &self,
        op: &Op,
        type_path: &str,
        base: Option<Query>,
        scope: Scope<'_>,
        limit: usize,
        fetch: &str,
    ) -> Result<Fetched<Item>, RallyError> {
        let limit = limit.max(1);
        let page_size = limit.min(MAX_PAGE_SIZE);
        let spec = |q: Option<Query>| QuerySpec::list(type_path, q, fetch, scope);
        let first = self.query_page::<Item>(op, &spec(base.clone()), 1, page_size).await?;
        let total = first.total();
        let mut items = first.results;
        // One query answered everything asked for: that is already one state of Rally.
        if items.len() >= total || items.len() < page_size || limit <= page_size {
            items.truncate(limit);
            return Ok(Fetched { items, total });
        }
        let since = items.iter().find_map(|a| a.last_update_date.clone());
        // The other pages at once, each starting on the previous one's last item, so every
        // seam can be checked.
        let wanted = total.min(limit);
        let stride = page_size - 1;
        let starts: Vec<usize> = (1..).map(|k| 1 + k * stride).take_while(|s| *s <= wanted).collect();
        let all = spec(base.clone());
        let pages = try_join_all(starts.iter().map(|&s| self.query_page::<Item>(op, &all, s, page_size))).await?;
        items.reserve(pages.iter().map(|p| p.results.len()).sum());
        let mut last_full = true;
        for page in pages {
            let page = page.results;
            let seam = items.iter().rev().find_map(key).map(|(d, o)| (d.to_string(), o));
            let Some((date, oid)) = seam else { break };
            // The seam item is on this page: nothing before it moved out meanwhile. Else a
            // delete (or an edit out of the filter) shifted the page: read what lies between.
            if !page.iter().any(|a| a.object_id == Some(oid)) {
                let upto = page.first().and_then(key).map(|(d, o)| (d.to_string(), o));
                self.fill(op, &spec, &base, (date, oid), upto, &mut items, page_size).await?;
            }
            last_full = page.len() >= page_size;
            items.extend(page);
        }
        // The last page was full: items pushed past it (creates meanwhile) follow it.
        if last_full {
            self.walk(op, &spec, &base, &mut items, page_size, limit).await?;
        }
        // Everything updated since the first page: edits that moved above the cursor.
        if let Some(t0) = since {
            let recent = with(&base, Some(Query::gt("LastUpdateDate", t0.as_str())));
            let mut caught = self.query_page::<Item>(op, &spec(recent.clone()), 1, page_size).await?.results;
            if caught.len() >= page_size {
                self.walk(op, &spec, &recent, &mut caught, page_size, limit).await?;
            }
            items.extend(caught);
        }
        Ok(Fetched { items: merge_newest(items, limit), total })
    }

    /// Keyset pages strictly after `from` and up to `upto` included (or to the end), appended
    /// to `items`: what a shifted page skipped.
    #[allow(clippy::too_many_arguments)]
    async fn fill<'a>(
        &self,
        op: &Op,
        spec: &impl Fn(Option<Query>) -> QuerySpec<'a>,
        base: &Option<Query>,
        from: (String, u64),
        upto: Option<(String, u64)>,
        items: &mut Vec<Item>,
        page_size: usize,
    ) -> Result<(), RallyError> {
        let bounded = match &upto {
            Some((d, o)) => with(base, Some(up_to(d, *o))),
            None => base.clone(),
        };
        let mut gap = Vec::new();
        let mut cursor = from;
        loop {
            let q = with(&bounded, Some(after(&cursor.0, cursor.1)));
            let page = self.query_page::<Item>(op, &spec(q), 1, page_size).await?.results;
            let n = page.len();
            let next = page.iter().rev().find_map(key).map(|(d, o)| (d.to_string(), o));
            gap.extend(page);
            match next {
                Some(c) if n >= page_size => cursor = c,
                _ => break,
            }
        }
        items.extend(gap);
        Ok(())
    }

    /// Keyset pages after the last item of `items` until a short page or `limit` items.
    async fn walk<'a>(
        &self,
        op: &Op,
        spec: &impl Fn(Option<Query>) -> QuerySpec<'a>,
        base: &Option<Query>,
        items: &mut Vec<Item>,
        page_size: usize,
        limit: usize,
    ) -> Result<(), RallyError> {
        while items.len() < limit {
            let Some((date, oid)) = items.iter().rev().find_map(key) else {
                return Err(RallyError::Protocol {
                    operation: op.label(),
                    excerpt: "list items carry no LastUpdateDate and ObjectID to page by".into(),
                });
            };
            let q = with(base, Some(after(date, oid)));
            let page = self.query_page::<Item>(op, &spec(q), 1, page_size).await?;
            let n = page.results.len();
            items.extend(page.results);
            if n < page_size {
                break;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn art(oid: u64, date: &str) -> Item {
        Arc::new(RallyArtifact { object_id: Some(oid), last_update_date: Some(date.into()), ..Default::default() })
    }

    #[test]
    fn keyset_condition_renders_through_the_builder() {
        assert_eq!(
            after("2026-11-30T06:00:00.000Z", 42).render(),
            r#"((LastUpdateDate < "2026-11-30T06:00:00.000Z") OR ((LastUpdateDate = "2026-11-30T06:00:00.000Z") AND (ObjectID > 42)))"#
        );
    }

    #[test]
    fn merge_keeps_the_newer_version_once_newest_first() {
        let items = vec![
            art(3, "2026-01-03T00:00:00.000Z"),
            art(1, "2026-01-02T00:00:00.000Z"),
            art(2, "2026-01-02T00:00:00.000Z"),
            art(1, "2026-01-05T00:00:00.000Z"),
            art(4, "2026-01-01T00:00:00.000Z"),
        ];
        let got: Vec<(u64, String)> = merge_newest(items.clone(), 10)
            .into_iter()
            .map(|a| (a.object_id.unwrap(), a.last_update_date.clone().unwrap()))
            .collect();
        assert_eq!(
            got,
            vec![
                (1, "2026-01-05T00:00:00.000Z".into()),
                (3, "2026-01-03T00:00:00.000Z".into()),
                (2, "2026-01-02T00:00:00.000Z".into()),
                (4, "2026-01-01T00:00:00.000Z".into()),
            ]
        );
        assert_eq!(merge_newest(items, 2).iter().map(|a| a.object_id.unwrap()).collect::<Vec<_>>(), vec![1, 3]);
    }
}
