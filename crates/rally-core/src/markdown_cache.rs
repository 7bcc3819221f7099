//! HTML → Markdown results kept per scope (one per `Shared`, `tracker/shared.rs`), so listing or
//! reading the same items again does not convert their descriptions again.
//!
//! An entry is keyed by ObjectID and holds the item's `LastUpdateDate`, the length and a 64-bit
//! hash of the HTML it was converted from: it is used only when all three match the item at
//! hand, so an edited description (a new `LastUpdateDate`, a different text) is converted
//! again. The conversion depends on nothing but the HTML. Only conversions that went through the
//! full parser are kept (the plain-paragraph fast path costs less than a lookup), at most
//! `MAX_ENTRIES` of them; past that the least recently used quarter is dropped. A converted item
//! also keeps its Markdown itself (the same `Arc<str>`, `rally_types/description.rs`), so a
//! poll answered from a kept list looks nothing up here; fresh reads of the same items do.

use crate::markup::{fast_markdown, html_to_markdown};
use crate::rally_types::RallyArtifact;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// Entries kept per scope: a 10,000-item list of rich descriptions fits, at a few hundred
/// bytes of Markdown each.
pub const MAX_ENTRIES: usize = 12_000;

struct Entry {
    last_update: Box<str>,
    html_len: usize,
    html_hash: u64,
    markdown: Arc<str>,
    used: u64,
}

#[derive(Default)]
pub struct MarkdownCache {
    map: Mutex<HashMap<u64, Entry>>,
    clock: AtomicU64,
    hits: AtomicU64,
    conversions: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn hash(html: &str) -> u64 {
    // Fixed keys: the same text hashes the same in every cache of the process.
    let mut h = std::collections::hash_map::DefaultHasher::new();
    html.hash(&mut h);
    h.finish()
}

impl MarkdownCache {
    /// `html_to_markdown(html)` for `html`, the description of `a`, from the cache when `a`'s
    /// ObjectID, LastUpdateDate and HTML are those of a kept conversion. A kept conversion is
    /// handed out as the cache holds it (the item keeps the same text, not a copy).
    pub fn convert(&self, a: &RallyArtifact, html: &str) -> Arc<str> {
        let (Some(oid), Some(updated)) = (a.object_id, a.last_update_date.as_deref()) else {
            return html_to_markdown(html).into();
        };
        if let Some(md) = fast_markdown(html) {
            return md.into();
        }
        let h = hash(html);
        let used = self.clock.fetch_add(1, Ordering::Relaxed);
        if let Some(e) = lock(&self.map).get_mut(&oid) {
            if &*e.last_update == updated && e.html_len == html.len() && e.html_hash == h {
                e.used = used;
                self.hits.fetch_add(1, Ordering::Relaxed);
                return e.markdown.clone();
            }
        }
        let md: Arc<str> = html_to_markdown(html).into();
        self.conversions.fetch_add(1, Ordering::Relaxed);
        let entry =
            Entry { last_update: updated.into(), html_len: html.len(), html_hash: h, markdown: md.clone(), used };
        let mut map = lock(&self.map);
        if map.len() >= MAX_ENTRIES && !map.contains_key(&oid) {
            // Drop the least recently used quarter (one sort per MAX_ENTRIES / 4 inserts).
            let mut ages: Vec<u64> = map.values().map(|e| e.used).collect();
            let cut = ages.len() / 4;
            let (_, nth, _) = ages.select_nth_unstable(cut);
            let cutoff = *nth;
            map.retain(|_, e| e.used > cutoff);
        }
        map.insert(oid, entry);
        md
    }

    /// Kept conversions.
    pub fn len(&self) -> usize {
        lock(&self.map).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Descriptions answered from the cache, and converted (and kept), so far.
    pub fn counts(&self) -> (u64, u64) {
        (self.hits.load(Ordering::Relaxed), self.conversions.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RICH: &str = "<div><b>Steps</b></div><ol><li>one &amp; two</li></ol>";

    fn art(oid: u64, updated: &str) -> RallyArtifact {
        RallyArtifact { object_id: Some(oid), last_update_date: Some(updated.into()), ..Default::default() }
    }

    #[test]
    fn reuses_only_the_same_item_version_and_html() {
        let c = MarkdownCache::default();
        let a = art(1, "2026-01-01T00:00:00.000Z");
        assert_eq!(*c.convert(&a, RICH), html_to_markdown(RICH));
        assert_eq!(*c.convert(&a, RICH), html_to_markdown(RICH));
        assert_eq!(c.counts(), (1, 1));
        // Same ObjectID and date, other HTML (never from Rally, but never stale either).
        let other = "<div><i>Other</i> text</div>";
        assert_eq!(*c.convert(&a, other), html_to_markdown(other));
        // A new version of the item.
        let newer = art(1, "2026-01-02T00:00:00.000Z");
        assert_eq!(*c.convert(&newer, RICH), html_to_markdown(RICH));
        assert_eq!(c.counts(), (1, 3));
        // Plain paragraphs are not kept.
        assert_eq!(&*c.convert(&art(2, "x"), "<p>Plain words.</p>"), "Plain words.");
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn stays_bounded() {
        let c = MarkdownCache::default();
        for oid in 0..(MAX_ENTRIES as u64 + 500) {
            c.convert(&art(oid, "2026-01-01T00:00:00.000Z"), RICH);
        }
        assert!(c.len() <= MAX_ENTRIES, "{}", c.len());
        // The newest entries are the ones kept.
        let before = c.counts().0;
        c.convert(&art(MAX_ENTRIES as u64 + 499, "2026-01-01T00:00:00.000Z"), RICH);
        assert_eq!(c.counts().0, before + 1);
    }
}
