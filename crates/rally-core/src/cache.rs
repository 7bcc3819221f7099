//! The lookup caches of one server, key and scope, shared by its trackers in the process
//! (`tracker/shared.rs`).
//!
//! The artifact cache maps a FormattedID (and an ObjectID) to where the artifact lives and the
//! state last seen, so a write on a known issue needs no lookup round trip.

use crate::model::ArtifactType;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// Where an artifact lives, plus its raw state fields when last seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub artifact_type: ArtifactType,
    pub object_id: u64,
    pub formatted_id: String,
    pub schedule_state: Option<String>,
    pub state: Option<String>,
}

impl Located {
    pub fn ref_path(&self) -> String {
        format!("/{}/{}", self.artifact_type.type_path(), self.object_id)
    }
}

/// The lookups shared by every tracker of one server, key and scope.
#[derive(Default)]
pub struct SharedCaches {
    artifacts: Mutex<HashMap<String, Located>>,
    by_oid: Mutex<HashMap<u64, String>>,
    /// Lookups by name → ref (`users`, `tags`, `projects`), keyed `kind:name`.
    refs: Mutex<HashMap<String, String>>,
    /// FormattedID prefix → type path from `typedefinition` (None = no such prefix).
    prefixes: Mutex<HashMap<String, Option<String>>>,
}

/// One tracker's caches: the shared lookups, and what this tracker itself created.
#[derive(Default)]
pub struct Caches {
    shared: Arc<SharedCaches>,
    /// ObjectIDs of artifacts this tracker created: never mistaken for a lost create. Kept
    /// per tracker: reconciliation treats another tracker's item as another client's.
    created: Mutex<HashSet<u64>>,
}

impl Caches {
    pub fn with_shared(shared: Arc<SharedCaches>) -> Caches {
        Caches { shared, created: Mutex::default() }
    }

    pub fn mark_created(&self, oid: u64) {
        lock(&self.created).insert(oid);
    }

    pub fn was_created_here(&self, oid: u64) -> bool {
        lock(&self.created).contains(&oid)
    }
}

impl std::ops::Deref for Caches {
    type Target = SharedCaches;
    fn deref(&self) -> &SharedCaches {
        &self.shared
    }
}

// A poisoned lock only means another thread panicked mid-update of a plain map; the map is
// still usable, so recover it instead of propagating a panic.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl SharedCaches {
    pub fn located(&self, formatted_id: &str) -> Option<Located> {
        lock(&self.artifacts).get(&formatted_id.to_ascii_uppercase()).cloned()
    }

    pub fn located_by_oid(&self, oid: u64) -> Option<Located> {
        let fid = lock(&self.by_oid).get(&oid).cloned()?;
        self.located(&fid)
    }

    pub fn remember(&self, l: Located) {
        let key = l.formatted_id.to_ascii_uppercase();
        lock(&self.by_oid).insert(l.object_id, key.clone());
        lock(&self.artifacts).insert(key, l);
    }

    pub fn forget(&self, oid: u64) {
        if let Some(fid) = lock(&self.by_oid).remove(&oid) {
            lock(&self.artifacts).remove(&fid);
        }
    }

    pub fn get_ref(&self, kind: &str, name: &str) -> Option<String> {
        lock(&self.refs).get(&format!("{kind}:{name}")).cloned()
    }

    pub fn put_ref(&self, kind: &str, name: &str, r: String) {
        lock(&self.refs).insert(format!("{kind}:{name}"), r);
    }

    /// The rule for a ref Rally refuses ("Could not read referenced object /tag/12": deleted
    /// by someone else since it was cached): every cached lookup that gives it (a tag, user or
    /// project by name, an artifact by FormattedID) is dropped, so the next use looks it up
    /// again. Whether anything was dropped.
    pub fn forget_refused(&self, type_path: &str, oid: u64) -> bool {
        let same = |r: &str| {
            crate::ids::parse_object_ref(r).is_some_and(|(t, o)| o == oid && t.eq_ignore_ascii_case(type_path))
        };
        let mut dropped = {
            let mut refs = lock(&self.refs);
            let before = refs.len();
            refs.retain(|_, r| !same(r));
            refs.len() != before
        };
        if ArtifactType::from_type_name(type_path).is_some() && lock(&self.by_oid).contains_key(&oid) {
            self.forget(oid);
            dropped = true;
        }
        dropped
    }

    pub fn prefix(&self, prefix: &str) -> Option<Option<String>> {
        lock(&self.prefixes).get(prefix).cloned()
    }

    pub fn put_prefix(&self, prefix: &str, type_path: Option<String>) {
        lock(&self.prefixes).insert(prefix.to_string(), type_path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_by_formatted_id_and_oid_and_forgets() {
        let c = Caches::default();
        let l = Located {
            artifact_type: ArtifactType::Defect,
            object_id: 7,
            formatted_id: "DE3".into(),
            schedule_state: Some("Defined".into()),
            state: Some("Open".into()),
        };
        c.remember(l.clone());
        assert_eq!(c.located("de3"), Some(l.clone()));
        assert_eq!(c.located_by_oid(7), Some(l.clone()));
        assert_eq!(l.ref_path(), "/defect/7");
        c.forget(7);
        assert_eq!(c.located("DE3"), None);
        c.put_ref("tag", "a", "/tag/1".into());
        assert_eq!(c.get_ref("tag", "a").as_deref(), Some("/tag/1"));
        assert_eq!(c.get_ref("user", "a"), None);
        c.put_ref("user", "pat", "/user/5".into());
        c.put_ref("user", "Pat Smith", "/user/5".into());
        c.remember(l.clone());
        assert!(!c.forget_refused("user", 6), "nothing cached gives /user/6");
        assert!(c.forget_refused("user", 5));
        assert_eq!((c.get_ref("user", "pat"), c.get_ref("user", "Pat Smith")), (None, None));
        assert_eq!(c.get_ref("tag", "a").as_deref(), Some("/tag/1"));
        assert!(c.forget_refused("defect", 7));
        assert_eq!(c.located("DE3"), None);
        let other = Caches::default();
        assert_eq!(other.get_ref("tag", "a"), None);
    }
}
