//! What every tracker of one server, key and scope in a process shares: the lookup caches
//! (users, tags, projects, FormattedID prefixes, the artifact locations), the state orders,
//! and the last list of each filter set (`incremental.rs`). So `new RallyTracker(sameConfig)`
//! per command or per poll starts warm.
//!
//! The registry is keyed like the limiter's: a 128-bit hash of (server, key, workspace,
//! project, scope flags) under a per-process random seed — never the key itself — and nothing
//! here prints more than counts. Entries are kept while trackers use them and, after the last
//! tracker is gone, up to `KEEP` of the most recently used ones (a per-command tracker is
//! dropped between commands; its successor finds the caches still there).
//!
//! Other per-scope caches join through `Shared::extension::<T>()` (one `T: Default` per
//! scope, created on first use), without a new field here.

use super::resolve::Resolved;
use crate::cache::SharedCaches;
use crate::config::Settings;
use std::any::{Any, TypeId};
use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

/// Scopes kept after their last tracker is dropped.
const KEEP: usize = 16;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[derive(Default)]
pub(crate) struct Shared {
    pub(super) cache: Arc<SharedCaches>,
    pub(super) resolved: Arc<Resolved>,
    pub(super) lists: super::incremental::Lists,
    extensions: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared").field("lists", &self.lists.len()).finish_non_exhaustive()
    }
}

impl Shared {
    /// The scope's one `T`, created on first use.
    pub(crate) fn extension<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let mut map = lock(&self.extensions);
        let any = map.entry(TypeId::of::<T>()).or_insert_with(|| Arc::new(T::default())).clone();
        drop(map);
        // The entry under TypeId::of::<T>() is always a T.
        any.downcast::<T>().unwrap_or_else(|_| Arc::new(T::default()))
    }
}

struct Entry {
    shared: Arc<Shared>,
    used: u64,
}

#[derive(Default)]
struct Registry {
    entries: HashMap<[u64; 2], Entry>,
    clock: u64,
}

fn registry() -> &'static (Mutex<Registry>, [RandomState; 2]) {
    static R: OnceLock<(Mutex<Registry>, [RandomState; 2])> = OnceLock::new();
    R.get_or_init(|| (Mutex::default(), [RandomState::new(), RandomState::new()]))
}

fn scope_key(s: &Settings, seeds: &[RandomState; 2]) -> [u64; 2] {
    seeds.each_ref().map(|seed| {
        let mut h = seed.build_hasher();
        s.api_base.hash(&mut h);
        s.key.hash_secret(&mut h);
        s.workspace.hash(&mut h);
        s.project.hash(&mut h);
        (s.scope_down, s.scope_up).hash(&mut h);
        // Kept lists carry the custom fields asked for: other fields, other lists.
        format!("{:?}", s.custom_fields).hash(&mut h);
        h.finish()
    })
}

/// The shared state of these settings' server, key and scope.
pub(crate) fn shared_for(s: &Settings) -> Arc<Shared> {
    let (reg, seeds) = registry();
    let id = scope_key(s, seeds);
    let mut r = lock(reg);
    r.clock += 1;
    let now = r.clock;
    if let Some(e) = r.entries.get_mut(&id) {
        e.used = now;
        return e.shared.clone();
    }
    let shared: Arc<Shared> = Arc::default();
    r.entries.insert(id, Entry { shared: shared.clone(), used: now });
    // Forget the least recently used scopes no tracker holds any more, beyond `KEEP`.
    let mut idle: Vec<([u64; 2], u64)> =
        r.entries.iter().filter(|(_, e)| Arc::strong_count(&e.shared) == 1).map(|(k, e)| (*k, e.used)).collect();
    if idle.len() > KEEP {
        idle.sort_by_key(|(_, used)| *used);
        for (k, _) in &idle[..idle.len() - KEEP] {
            r.entries.remove(k);
        }
    }
    shared
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TrackerConfig;

    fn settings(key: &str, project: &str) -> Settings {
        Settings::from_config(&TrackerConfig {
            api_key: key.into(),
            server: Some("https://shared.example".into()),
            project: Some(project.into()),
            ..TrackerConfig::default()
        })
        .unwrap()
    }

    #[test]
    fn one_shared_state_per_server_key_and_scope() {
        let a = shared_for(&settings("_sharedKeyA", "/project/1"));
        let b = shared_for(&settings("_sharedKeyA", "/project/1"));
        assert!(Arc::ptr_eq(&a, &b));
        let other_key = shared_for(&settings("_sharedKeyB", "/project/1"));
        let other_scope = shared_for(&settings("_sharedKeyA", "/project/2"));
        assert!(!Arc::ptr_eq(&a, &other_key));
        assert!(!Arc::ptr_eq(&a, &other_scope));
        // Extensions: one per type per scope.
        #[derive(Default)]
        struct Schema(Mutex<u32>);
        *lock(&a.extension::<Schema>().0) = 7;
        assert_eq!(*lock(&b.extension::<Schema>().0), 7);
        assert_eq!(*lock(&other_key.extension::<Schema>().0), 0);
    }

    #[test]
    fn kept_after_the_last_tracker_and_never_shows_the_key() {
        let s = settings("_sharedSecretKey42", "/project/3");
        let a = shared_for(&s);
        a.cache.put_ref("user", "x", "/user/1".into());
        drop(a);
        assert_eq!(shared_for(&s).cache.get_ref("user", "x").as_deref(), Some("/user/1"));
        let shown = format!("{:?} {:?}", shared_for(&s), lock(&registry().0).entries.keys().collect::<Vec<_>>());
        assert!(!s.key.appears_in(&shown), "{shown}");
    }
}
