//! Process-wide async locks by key, for work that must not overlap across trackers (two
//! `RallyTracker`s in one process are two `Tracker`s, so a per-tracker lock is not enough).
//!
//! An entry lives only while someone holds or waits for it: the map never grows with the
//! number of keys ever used.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

#[derive(Default)]
pub struct KeyedLocks {
    entries: Mutex<HashMap<String, Arc<AsyncMutex<()>>>>,
}

/// Held while the keyed work runs; dropping it releases the key.
pub struct KeyedGuard<'a> {
    locks: &'a KeyedLocks,
    key: String,
    guard: Option<OwnedMutexGuard<()>>,
}

impl KeyedLocks {
    fn map(&self) -> MutexGuard<'_, HashMap<String, Arc<AsyncMutex<()>>>> {
        // A poisoned map only means a panic elsewhere mid-insert; the map itself is intact.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits until no one else holds `key`, then holds it.
    pub async fn lock(&self, key: &str) -> KeyedGuard<'_> {
        let entry = self.map().entry(key.to_string()).or_default().clone();
        let guard = entry.lock_owned().await;
        KeyedGuard { locks: self, key: key.to_string(), guard: Some(guard) }
    }

    /// Keys currently held or waited for.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.map().len()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Drop for KeyedGuard<'_> {
    fn drop(&mut self) {
        drop(self.guard.take());
        let mut map = self.locks.map();
        // Only the map's own reference left: nobody holds or waits for this key.
        if map.get(&self.key).is_some_and(|e| Arc::strong_count(e) == 1) {
            map.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_holder_per_key_and_no_leftover_entries() {
        let locks: &'static KeyedLocks = Box::leak(Box::default());
        let inside: &'static [AtomicUsize; 2] = Box::leak(Box::default());
        let peak: &'static [AtomicUsize; 2] = Box::leak(Box::default());
        let tasks: Vec<_> = (0..24)
            .map(|i| {
                tokio::spawn(async move {
                    let k = i % 2;
                    let _g = locks.lock(["a", "b"][k]).await;
                    let n = inside[k].fetch_add(1, Ordering::SeqCst) + 1;
                    peak[k].fetch_max(n, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    inside[k].fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!([peak[0].load(Ordering::SeqCst), peak[1].load(Ordering::SeqCst)], [1, 1]);
        assert!(locks.is_empty());
    }
}
