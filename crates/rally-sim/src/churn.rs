//! Work going on while a client pages: `POST /__sim/churn` arms a rule that, after each query
//! on one type's collection endpoint has been answered (its body already rendered) and before
//! the client receives it, edits, deletes and creates items of that type. So every edit lands
//! between two of the client's page requests, as when people work while a dashboard lists.
//!
//! `POST /__sim/churn?type=hierarchicalrequirement&edit=5&delete=2&create=2&times=10`:
//! - `edit`: the items least recently updated (ties by ObjectID) get a new `Name` and
//!   `LastUpdateDate` (they move from the end of a newest-first list to its top);
//! - `delete`: the items most recently updated are deleted (everything after them in a
//!   newest-first list moves up);
//! - `create`: new items in the root project (as `/__sim/bulk` makes them);
//! - `times`: how many queries trigger it (default: every one until `DELETE /__sim/churn`).
//!
//! `GET /__sim/churn` reports the rule and what was done: `{"triggers", "edited": [oid…],
//! "deleted": [oid…], "created": [oid…]}`.

use crate::app::App;
use crate::schema::{info, Kind};
use crate::store::{shown_oid, FVal};
use std::sync::Mutex;

#[derive(Clone, Debug)]
pub struct Rule {
    pub kind: Kind,
    pub edit: usize,
    pub delete: usize,
    pub create: usize,
    /// Triggers left; `None` = unlimited.
    pub times: Option<u64>,
}

#[derive(Default, Debug, Clone)]
pub struct Done {
    pub triggers: u64,
    pub edited: Vec<i64>,
    pub deleted: Vec<i64>,
    pub created: Vec<i64>,
}

#[derive(Default)]
pub struct Churn {
    rule: Mutex<Option<Rule>>,
    done: Mutex<Done>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Churn {
    pub fn arm(&self, rule: Rule) {
        *lock(&self.rule) = Some(rule);
        *lock(&self.done) = Done::default();
    }

    pub fn disarm(&self) {
        *lock(&self.rule) = None;
    }

    /// Whether a rule is armed, and what was done since it was.
    pub fn report(&self) -> (bool, Done) {
        (lock(&self.rule).is_some(), lock(&self.done).clone())
    }

    /// Called after a WSAPI request was answered: churns if the armed rule matches it.
    pub fn after(&self, app: &App, method: &str, path: &str) {
        let rule = {
            let mut slot = lock(&self.rule);
            let Some(rule) = slot.as_mut() else { return };
            let endpoint = format!("/{}", info(rule.kind).path);
            let is_query = method == "GET" && path.trim_end_matches('/').to_ascii_lowercase().ends_with(&endpoint);
            if !is_query {
                return;
            }
            if let Some(n) = rule.times.as_mut() {
                if *n == 0 {
                    return;
                }
                *n -= 1;
            }
            rule.clone()
        };
        let now = crate::dates::now_ms();
        let mut st = app.write();
        let lud = |o: &crate::store::Obj| match o.get("LastUpdateDate") {
            FVal::Date(d) => *d,
            _ => 0,
        };
        let mut by_age: Vec<(i64, i64, u64)> = st.all(rule.kind).map(|o| (lud(o), shown_oid(o.oid), o.oid)).collect();
        by_age.sort();
        let mut done = lock(&self.done);
        done.triggers += 1;
        // Deletes: the newest items, which a newest-first list has already read.
        for &(_, shown, oid) in by_age.iter().rev().take(rule.delete) {
            st.remove(oid);
            done.deleted.push(shown);
        }
        // Edits: the oldest items, which a newest-first list reads last.
        for &(_, shown, oid) in by_age.iter().take(rule.edit) {
            let Some(mut o) = st.get(oid).cloned() else { continue };
            let name = o.str("Name").unwrap_or("").trim_end_matches(" (edited)").to_string();
            if let Some(i) = info(o.kind).field_index("Name") {
                o.vals[i] = FVal::Str(format!("{name} (edited)"));
            }
            if let Some(i) = info(o.kind).field_index("LastUpdateDate") {
                o.vals[i] = FVal::Date(now);
            }
            o.version += 1;
            st.put(o);
            done.edited.push(shown);
        }
        if rule.create > 0 {
            let before: std::collections::HashSet<u64> = st.all(rule.kind).map(|o| o.oid).collect();
            let owner = st.all(Kind::User).next().map_or(0, |u| u.oid);
            if crate::seed::bulk(&mut st, rule.kind, rule.create, owner).is_ok() {
                let new: Vec<i64> =
                    st.all(rule.kind).filter(|o| !before.contains(&o.oid)).map(|o| shown_oid(o.oid)).collect();
                done.created.extend(new);
            }
        }
    }
}
