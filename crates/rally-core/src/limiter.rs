//! The cap on requests in flight. Rally queues a key's requests past 12 in flight, whatever
//! process or tracker sent them, so the cap is per server and key across the whole process:
//! every tracker with the same server and key shares one count (`Limiter::shared`). A request
//! starts only while that count is below the starting tracker's `maxConcurrency` (never above
//! 12), so trackers with one configuration share exactly that limit, and mixed ones never pass
//! the largest of theirs. A permit is held from before the request is sent until its body has
//! been read, so a slow body still counts against Rally's limit.
//!
//! The registry never holds the key: entries are keyed by a hash of (server, key) under a
//! per-process random seed, and nothing here prints more than counts.

use crate::secret::ApiKey;
use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

/// The count shared by every tracker of one (server, key) in the process.
#[derive(Default)]
struct Shared {
    in_flight: Mutex<usize>,
    /// Woken on every release; waiters re-check against their own tracker's cap.
    released: Notify,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// (server, key) → the shared count, by a 128-bit keyed hash; dead entries (every tracker of
/// that key dropped) are swept on insert.
type Registry = Mutex<HashMap<[u64; 2], Weak<Shared>>>;

fn registry() -> &'static (Registry, [RandomState; 2]) {
    static R: OnceLock<(Registry, [RandomState; 2])> = OnceLock::new();
    R.get_or_init(|| (Mutex::new(HashMap::new()), [RandomState::new(), RandomState::new()]))
}

fn registry_key(server: &str, key: &ApiKey, seeds: &[RandomState; 2]) -> [u64; 2] {
    seeds.each_ref().map(|s| {
        let mut h = s.build_hasher();
        server.hash(&mut h);
        key.hash_secret(&mut h);
        h.finish()
    })
}

#[derive(Clone)]
pub struct Limiter {
    /// This tracker's own queue, so at most `max` of its calls wait on the shared count.
    local: Arc<Semaphore>,
    shared: Arc<Shared>,
    max: usize,
}

impl fmt::Debug for Limiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Limiter").field("max", &self.max).field("in_flight", &self.in_flight()).finish()
    }
}

/// One request's slot; released on drop.
pub struct Permit {
    shared: Arc<Shared>,
    _local: Option<OwnedSemaphorePermit>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        {
            let mut n = lock(&self.shared.in_flight);
            *n = n.saturating_sub(1);
        }
        self.shared.released.notify_waiters();
    }
}

impl Limiter {
    /// A limiter of its own (no sharing).
    #[cfg(test)]
    pub fn new(max: usize) -> Self {
        Self::with_shared(Arc::default(), max)
    }

    /// The limiter of `server` and `key` in this process: every call with the same two shares
    /// one in-flight count, each within its own `max`.
    pub fn shared(server: &str, key: &ApiKey, max: usize) -> Self {
        let (reg, seeds) = registry();
        let id = registry_key(server, key, seeds);
        let mut map = lock(reg);
        let shared = match map.get(&id).and_then(Weak::upgrade) {
            Some(s) => s,
            None => {
                map.retain(|_, w| w.strong_count() > 0);
                let s: Arc<Shared> = Arc::default();
                map.insert(id, Arc::downgrade(&s));
                s
            }
        };
        drop(map);
        Self::with_shared(shared, max)
    }

    fn with_shared(shared: Arc<Shared>, max: usize) -> Self {
        let max = max.max(1);
        Limiter { local: Arc::new(Semaphore::new(max)), shared, max }
    }

    /// Waits for a slot: first this tracker's own turn (FIFO), then room in the shared count
    /// below this tracker's `max`. Cancel-safe: a dropped wait holds nothing.
    pub async fn acquire(&self) -> Permit {
        // The semaphore is never closed; if it were, the shared count alone still limits.
        let local = self.local.clone().acquire_owned().await.ok();
        loop {
            let released = self.shared.released.notified();
            let mut released = std::pin::pin!(released);
            // Registered before the check, so a release between the check and the wait wakes us.
            released.as_mut().enable();
            {
                let mut n = lock(&self.shared.in_flight);
                if *n < self.max {
                    *n += 1;
                    return Permit { shared: self.shared.clone(), _local: local };
                }
            }
            released.await;
        }
    }

    /// Requests in flight for this server and key, across the process.
    pub fn in_flight(&self) -> usize {
        *lock(&self.shared.in_flight)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    async fn peak_of(limiters: Vec<Limiter>, calls: usize) -> usize {
        let now = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..calls)
            .map(|i| {
                let (lim, now, peak) = (limiters[i % limiters.len()].clone(), now.clone(), peak.clone());
                tokio::spawn(async move {
                    let _p = lim.acquire().await;
                    let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(n, Ordering::SeqCst);
                    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                    now.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        peak.load(Ordering::SeqCst)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn never_more_than_max_in_flight() {
        let lim = Limiter::new(3);
        assert_eq!(peak_of(vec![lim.clone()], 40).await, 3);
        assert_eq!(lim.in_flight(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_count_per_server_and_key_across_limiters() {
        let key = ApiKey::new("_limiterTestKey");
        let same: Vec<Limiter> = (0..3).map(|_| Limiter::shared("https://a.example", &key, 4)).collect();
        assert_eq!(peak_of(same.clone(), 60).await, 4);
        assert_eq!(same[0].in_flight(), 0);
        // Mixed caps never pass the largest; another server or key has its own count.
        let mixed = vec![Limiter::shared("https://a.example", &key, 2), Limiter::shared("https://a.example", &key, 5)];
        assert!(peak_of(mixed, 60).await <= 5);
        let other = Limiter::shared("https://b.example", &key, 4);
        let other_key = Limiter::shared("https://a.example", &ApiKey::new("_anotherKey"), 4);
        let p = (same[0].acquire().await, other.acquire().await, other_key.acquire().await);
        assert_eq!((same[1].in_flight(), other.in_flight(), other_key.in_flight()), (1, 1, 1));
        drop(p);
    }

    #[test]
    fn debug_shows_counts_never_the_key() {
        let key = ApiKey::new("_secretLimiterKey123");
        let lim = Limiter::shared("https://c.example", &key, 6);
        let shown = format!("{lim:?} {:?}", registry().0);
        assert!(!key.appears_in(&shown), "{shown}");
        assert!(shown.contains("max: 6"), "{shown}");
    }
}
