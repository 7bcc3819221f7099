//! The cap on requests in flight. Rally queues a key's requests past 12 in flight, whatever
//! process or tracker sent them, so the cap is per server and key across the whole process:
//! every tracker with the same server and key shares one count (`Limiter::shared`). A request
//! starts only while that count is below the starting tracker's `maxConcurrency` (never above
//! 12), so trackers with one configuration share exactly that limit, and mixed ones never pass
//! the largest of theirs. A permit is held from before the request is sent until its body has
//! been read, so a slow body still counts against Rally's limit.
//!
//! Waiters are served in arrival order across trackers ([`Policy`]): the first in line starts
//! as soon as the count is below its own cap, and no later one starts before it. So a tracker
//! with a low cap waits for the requests in flight to drop below that cap, never for another
//! tracker's whole queue.
//!
//! The registry never holds the key: entries are keyed by a hash of (server, key) under a
//! per-process random seed, and nothing here prints more than counts.

use crate::secret::ApiKey;
use std::collections::hash_map::RandomState;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};

/// Who starts next, as data: the count in flight and the line of waiters, each with its own
/// cap and something to hand it (`T`: its wake-up) when it may start.
pub(crate) struct Policy<T> {
    in_flight: usize,
    line: VecDeque<(u64, usize, T)>,
    next_ticket: u64,
}

impl<T> Default for Policy<T> {
    fn default() -> Self {
        Policy { in_flight: 0, line: VecDeque::new(), next_ticket: 0 }
    }
}

impl<T> Policy<T> {
    /// Joins the end of the line; the ticket names this wait.
    pub(crate) fn arrive(&mut self, cap: usize, wake: T) -> u64 {
        let t = self.next_ticket;
        self.next_ticket += 1;
        self.line.push_back((t, cap.max(1), wake));
        t
    }

    /// Leaves the line without starting; `false` when the ticket was already let in (then
    /// its slot must be released).
    pub(crate) fn leave(&mut self, ticket: u64) -> bool {
        match self.line.iter().position(|(t, _, _)| *t == ticket) {
            Some(i) => {
                self.line.remove(i);
                true
            }
            None => false,
        }
    }

    /// One request ended.
    pub(crate) fn release(&mut self) {
        self.in_flight = self.in_flight.saturating_sub(1);
    }

    /// Lets in, from the front of the line, every waiter whose cap is above the count: stops
    /// at the first that must wait, so nobody overtakes it.
    pub(crate) fn admit(&mut self) -> Vec<T> {
        let mut out = Vec::new();
        while let Some((_, cap, _)) = self.line.front() {
            if self.in_flight >= *cap {
                break;
            }
            self.in_flight += 1;
            if let Some((_, _, wake)) = self.line.pop_front() {
                out.push(wake);
            }
        }
        out
    }

    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight
    }
}

/// The count shared by every tracker of one (server, key) in the process.
#[derive(Default)]
struct Shared {
    policy: Mutex<Policy<oneshot::Sender<()>>>,
}

impl Shared {
    /// Applies `change`, then wakes whoever it lets in (outside the lock).
    fn update<R>(&self, change: impl FnOnce(&mut Policy<oneshot::Sender<()>>) -> R) -> R {
        let (r, woken) = {
            let mut p = lock(&self.policy);
            let r = change(&mut p);
            (r, p.admit())
        };
        for w in woken {
            // A waiter that is gone releases its slot itself (`Waiting::drop`).
            let _ = w.send(());
        }
        r
    }
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

/// A wait in line; dropped before it is let in, it leaves the line, and dropped after, it
/// hands the slot back.
struct Waiting {
    shared: Arc<Shared>,
    ticket: u64,
    started: bool,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if !self.started {
            let ticket = self.ticket;
            self.shared.update(|p| {
                if !p.leave(ticket) {
                    p.release();
                }
            });
        }
    }
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
        self.shared.update(Policy::release);
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

    /// Waits for a slot: first this tracker's own turn (FIFO), then its turn in the shared
    /// line, starting once the count is below this tracker's `max`. Cancel-safe: a dropped
    /// wait holds nothing.
    pub async fn acquire(&self) -> Permit {
        // The semaphore is never closed; if it were, the shared count alone still limits.
        let local = self.local.clone().acquire_owned().await.ok();
        let (tx, rx) = oneshot::channel();
        let max = self.max;
        let ticket = self.shared.update(|p| p.arrive(max, tx));
        let mut waiting = Waiting { shared: self.shared.clone(), ticket, started: false };
        // The sender is only dropped when it was sent (a Policy never drops a waiter otherwise).
        let _ = rx.await;
        waiting.started = true;
        Permit { shared: self.shared.clone(), _local: local }
    }

    /// Requests in flight for this server and key, across the process.
    pub fn in_flight(&self) -> usize {
        lock(&self.shared.policy).in_flight()
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
    fn the_line_is_first_come_first_served_each_within_its_own_cap() {
        let mut p: Policy<&str> = Policy::default();
        for i in 0..8 {
            p.arrive(8, ["a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7"][i]);
        }
        assert_eq!(p.admit().len(), 8);
        // A's queue goes on; B (cap 2) arrives behind two more of A's.
        p.arrive(8, "a8");
        p.arrive(8, "a9");
        p.arrive(2, "b0");
        p.arrive(8, "a10");
        assert!(p.admit().is_empty(), "8 in flight: no one starts");
        p.release();
        assert_eq!(p.admit(), ["a8"]);
        p.release();
        assert_eq!(p.admit(), ["a9"]);
        // B is first in line: A's later call does not pass it, though A's cap would allow it.
        for _ in 0..6 {
            p.release();
            assert!(p.admit().is_empty(), "{} in flight, b0 waits for fewer than 2", p.in_flight());
        }
        p.release();
        assert_eq!(p.admit(), ["b0", "a10"]);
        assert_eq!(p.in_flight(), 3);
    }

    #[test]
    fn leaving_the_line_before_the_turn_frees_it_and_after_it_is_refused() {
        let mut p: Policy<u8> = Policy::default();
        let first = p.arrive(1, 1);
        let second = p.arrive(1, 2);
        assert_eq!(p.admit(), [1]);
        assert!(!p.leave(first), "let in already: its slot is released instead");
        assert!(p.leave(second));
        p.release();
        assert!(p.admit().is_empty());
        assert_eq!(p.in_flight(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_cancelled_wait_holds_nothing() {
        let lim = Limiter::new(1);
        let held = lim.acquire().await;
        let waiting = tokio::time::timeout(std::time::Duration::from_millis(20), lim.acquire()).await;
        assert!(waiting.is_err());
        drop(held);
        let _again = lim.acquire().await;
        assert_eq!(lim.in_flight(), 1);
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
