//! Shared server state: the store, the API keys, request statistics and per-key limiters.

use crate::faults::Faults;
use crate::schema::Kind;
use crate::seed;
use crate::store::Store;
use crate::write::Caller;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use tokio::sync::Semaphore;

/// Rally processes at most this many requests of one user at a time; the rest wait.
pub const PER_KEY_LIMIT: usize = 12;
const LOG_CAPACITY: usize = 2000;

#[derive(Clone, Debug)]
pub struct LogEntry {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub user: Option<String>,
    pub started_ms: i64,
    pub duration_ms: f64,
    /// The response body's size, when known before it is sent (every WSAPI answer).
    pub bytes: Option<u64>,
}

#[derive(Default)]
pub struct Stats {
    pub total: u64,
    pub by_route: BTreeMap<String, u64>,
    pub in_flight: usize,
    pub max_in_flight: usize,
    /// Requests received and not yet answered, counted from arrival: queued behind the per-key
    /// cap or running. What a client put in flight, which the cap hides from `max_in_flight`.
    pub open: usize,
    pub max_open: usize,
    pub user_in_flight: HashMap<String, usize>,
    pub user_max: BTreeMap<String, usize>,
    pub log: VecDeque<LogEntry>,
}

impl Stats {
    pub fn push_log(&mut self, e: LogEntry) {
        if self.log.len() == LOG_CAPACITY {
            self.log.pop_front();
        }
        self.log.push_back(e);
    }
}

pub struct App {
    store: RwLock<Store>,
    pub seed: u64,
    ws: seed::WsOptions,
    /// (API key, UserName). The first entry is the main key.
    keys: Vec<(String, String)>,
    /// `http://127.0.0.1:<port>/slm/webservice/v2.0`
    pub base: String,
    pub faults: Faults,
    stats: Mutex<Stats>,
    limiters: Mutex<HashMap<String, Arc<Semaphore>>>,
    /// Edits between a client's page requests (`/__sim/churn`).
    pub churn: crate::churn::Churn,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl App {
    pub fn new(
        cfg: &crate::SimConfig,
        ws: seed::WsOptions,
        base: String,
        faults: Faults,
    ) -> Result<(App, u64), String> {
        let (seed_n, api_key, extra) = (cfg.seed, cfg.api_key.as_str(), &cfg.extra_keys);
        let extra_users: Vec<String> = extra.iter().map(|(_, u)| u.clone()).collect();
        let seeded = seed::seed(seed_n, &extra_users, &ws)?;
        let owner_name = seeded.store.get(seeded.owner).and_then(|u| u.str("UserName")).unwrap_or("").to_string();
        let mut keys = vec![(api_key.to_string(), owner_name)];
        keys.extend(extra.iter().cloned());
        let app = App {
            store: RwLock::new(seeded.store),
            seed: seed_n,
            ws,
            keys,
            base,
            faults,
            stats: Mutex::new(Stats::default()),
            limiters: Mutex::new(HashMap::new()),
            churn: Default::default(),
        };
        Ok((app, seeded.owner))
    }

    pub fn read(&self) -> RwLockReadGuard<'_, Store> {
        self.store.read().unwrap_or_else(|p| p.into_inner())
    }

    pub fn write(&self) -> RwLockWriteGuard<'_, Store> {
        self.store.write().unwrap_or_else(|p| p.into_inner())
    }

    pub fn stats(&self) -> MutexGuard<'_, Stats> {
        lock(&self.stats)
    }

    /// The user an API key belongs to.
    pub fn caller(&self, key: &str) -> Option<Caller> {
        let (_, name) = self.keys.iter().find(|(k, _)| k == key)?;
        let st = self.read();
        let user = st.all(Kind::User).find(|u| u.str("UserName") == Some(name.as_str()))?;
        Some(Caller { user: user.oid, user_name: name.clone() })
    }

    pub fn limiter(&self, key: &str) -> Arc<Semaphore> {
        lock(&self.limiters).entry(key.to_string()).or_insert_with(|| Arc::new(Semaphore::new(PER_KEY_LIMIT))).clone()
    }

    pub fn reseed(&self) {
        let extra: Vec<String> = self.keys.iter().skip(1).map(|(_, u)| u.clone()).collect();
        // The seed was accepted at start, so building it again cannot fail.
        if let Ok(seeded) = seed::seed(self.seed, &extra, &self.ws) {
            *self.write() = seeded.store;
        }
    }
}
