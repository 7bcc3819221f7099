//! Objects to JSON as Rally shapes them: ref keys first, `_type` last, references as nested
//! ref objects, collections as summaries, and the fetch list applied to nested refs too.

use crate::dates;
use crate::json::J;
use crate::schema::{info, Sys, FK};
use crate::store::{shown_oid, FVal, Obj, Store};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

#[derive(Clone, Debug, PartialEq)]
pub enum Fetch {
    /// No fetch or `fetch=false`: ref keys and `_type` only.
    Refs,
    /// `fetch=true`: every attribute; nested refs carry ref keys only.
    All,
    /// Only these attributes, at every nesting level.
    List(HashSet<String>),
}

impl Fetch {
    pub fn parse(raw: Option<&str>) -> Fetch {
        match raw.map(str::trim) {
            None | Some("") => Fetch::Refs,
            Some(v) if v.eq_ignore_ascii_case("false") => Fetch::Refs,
            Some(v) if v.eq_ignore_ascii_case("true") => Fetch::All,
            Some(v) => Fetch::List(
                v.split(',')
                    // `Tasks:summary[State]` asks for a summary; the summary is what we give anyway.
                    .map(|f| f.split(':').next().unwrap_or("").trim().to_string())
                    .filter(|f| !f.is_empty())
                    .collect(),
            ),
        }
    }
}

pub struct Cx<'a> {
    pub st: &'a Store,
    /// `http://127.0.0.1:<port>/slm/webservice/v2.0`
    pub base: &'a str,
    pub now: i64,
    /// Nested refs by (ObjectID, depth): within one response the fetch is fixed, so the same
    /// Owner or Project on 2000 rows is rendered once.
    nested_cache: RefCell<HashMap<(u64, usize), J>>,
}

/// Nesting beyond this many levels returns plain refs, which also stops Parent cycles.
const MAX_DEPTH: usize = 3;

impl<'a> Cx<'a> {
    pub fn new(st: &'a Store, base: &'a str, now: i64) -> Cx<'a> {
        Cx { st, base, now, nested_cache: RefCell::new(HashMap::new()) }
    }

    pub fn obj_ref(&self, o: &Obj) -> String {
        format!("{}/{}/{}", self.base, info(o.kind).path, shown_oid(o.oid))
    }

    fn ref_keys(&self, o: &Obj, version: bool) -> J {
        let mut j = J::obj()
            .with("_rallyAPIMajor", J::s("2"))
            .with("_rallyAPIMinor", J::s("0"))
            .with("_ref", J::Str(self.obj_ref(o)))
            .with("_refObjectUUID", J::s(o.uuid.clone()));
        if version {
            j.push("_objectVersion", J::Str(o.version.to_string()));
        }
        if let Some(n) = o.name() {
            j.push("_refObjectName", J::s(n));
        }
        j
    }

    /// A top-level object (query result row, single GET, write result).
    pub fn render(&self, o: &Obj, fetch: &Fetch) -> J {
        let mut j = self.ref_keys(o, true);
        let ti = info(o.kind);
        match fetch {
            Fetch::Refs => {}
            Fetch::All => {
                let created = match o.get("CreationDate") {
                    FVal::Date(d) => *d,
                    _ => self.now,
                };
                j.push("CreationDate", J::Str(dates::format(created)));
                j.push("_CreatedAt", J::Str(dates::humanised(created, self.now)));
                for (i, fd) in ti.fields.iter().enumerate() {
                    if fd.name != "CreationDate" && self.shown(fd.name) {
                        j.push(fd.name, self.value(o, i, None, 0));
                    }
                }
                for f in self.st.custom_of(o.kind) {
                    j.push(f.element.clone(), custom_value(o, &f.element));
                }
            }
            Fetch::List(set) => self.listed(&mut j, o, set, 0),
        }
        j.push("_type", J::s(ti.type_name));
        j
    }

    fn listed(&self, j: &mut J, o: &Obj, set: &HashSet<String>, depth: usize) {
        for (i, fd) in info(o.kind).fields.iter().enumerate() {
            if set.contains(fd.name) && self.shown(fd.name) {
                j.push(fd.name, self.value(o, i, Some(set), depth));
            }
        }
        for f in self.st.custom_of(o.kind) {
            if set.contains(&f.element) {
                j.push(f.element.clone(), custom_value(o, &f.element));
            }
        }
    }

    /// `PullRequests` exists only where the workspace has the PullRequest type.
    fn shown(&self, field: &str) -> bool {
        field != "PullRequests" || self.st.pull_requests
    }

    fn nested(&self, oid: u64, list: Option<&HashSet<String>>, depth: usize) -> J {
        if let Some(j) = self.nested_cache.borrow().get(&(oid, depth)) {
            return j.clone();
        }
        let j = self.nested_uncached(oid, list, depth).to_raw();
        self.nested_cache.borrow_mut().insert((oid, depth), j.clone());
        j
    }

    fn nested_uncached(&self, oid: u64, list: Option<&HashSet<String>>, depth: usize) -> J {
        let Some(t) = self.st.get(oid) else { return J::Null };
        let mut j = self.ref_keys(t, list.is_some());
        if let Some(set) = list {
            if depth < MAX_DEPTH {
                self.listed(&mut j, t, set, depth + 1);
            }
        }
        j.push("_type", J::s(info(t.kind).type_name));
        j
    }

    fn value(&self, o: &Obj, i: usize, list: Option<&HashSet<String>>, depth: usize) -> J {
        let fd = &info(o.kind).fields[i];
        match (fd.kind, &o.vals[i]) {
            (FK::Sys(Sys::ObjectId), _) => J::Int(shown_oid(o.oid)),
            (FK::Sys(Sys::ObjectUuid), _) => J::s(o.uuid.clone()),
            (FK::Sys(Sys::VersionId), _) => J::Str(o.version.to_string()),
            (FK::Refs(_) | FK::Coll(..), _) => self.summary(o, fd.name),
            (FK::CountOf(coll), _) => J::Int(members(self.st, o, coll).len() as i64),
            (_, FVal::Null) => J::Null,
            (_, FVal::Str(s)) => J::s(s.clone()),
            (_, FVal::Int(n)) => J::Int(*n),
            (_, FVal::Num(n)) => J::Num(*n),
            (_, FVal::Bool(b)) => J::Bool(*b),
            (_, FVal::Date(d)) => J::Str(dates::format(*d)),
            (_, FVal::Ref(t)) => self.nested(*t, list, depth),
            (_, FVal::Refs(_)) => J::Null,
        }
    }

    /// `{"_ref": ".../HierarchicalRequirement/<oid>/Tags", "_type": "Tag", "Count": n}`.
    pub fn summary(&self, o: &Obj, field: &str) -> J {
        let ti = info(o.kind);
        let Some(fd) = ti.field(field) else { return J::Null };
        let member = match fd.kind {
            FK::Refs(k) | FK::Coll(k, _) => k,
            _ => return J::Null,
        };
        let items = match fd.kind {
            FK::Refs(_) => members(self.st, o, field),
            _ => Vec::new(),
        };
        let count = match fd.kind {
            FK::Coll(kind, src) => {
                self.st.sources(o.oid, src).filter(|t| self.st.get(*t).is_some_and(|x| x.kind == kind)).count()
            }
            _ => items.len(),
        };
        let mut j = J::obj()
            .with("_rallyAPIMajor", J::s("2"))
            .with("_rallyAPIMinor", J::s("0"))
            .with("_ref", J::Str(format!("{}/{}/{}/{}", self.base, ti.type_path, shown_oid(o.oid), field)))
            .with("_type", J::s(info(member).type_name));
        if matches!(fd.kind, FK::Refs(_)) {
            let names = items
                .iter()
                .filter_map(|t| self.st.get(*t))
                .map(|t| {
                    J::obj()
                        .with("Name", J::s(t.name().unwrap_or("")))
                        .with("_ref", J::Str(format!("/{}/{}", info(t.kind).path, shown_oid(t.oid))))
                })
                .collect();
            j.push("_tagsNameArray", J::Arr(names));
        }
        j.push("Count", J::Int(count as i64));
        j
    }
}

/// A custom field's stored value as JSON (null when never set).
fn custom_value(o: &Obj, element: &str) -> J {
    match o.custom.get(element) {
        None | Some(serde_json::Value::Null) => J::Null,
        Some(serde_json::Value::Bool(b)) => J::Bool(*b),
        Some(serde_json::Value::Number(n)) => match n.as_i64() {
            Some(i) => J::Int(i),
            None => J::Num(n.as_f64().unwrap_or(0.0)),
        },
        Some(serde_json::Value::String(s)) => J::s(s.clone()),
        Some(other) => J::Raw(other.to_string().into()),
    }
}

/// The ObjectIDs in a collection attribute (stored Tags or a derived collection).
pub fn members(st: &Store, o: &Obj, field: &str) -> Vec<u64> {
    match info(o.kind).field(field).map(|f| f.kind) {
        Some(FK::Refs(_)) => match o.get(field) {
            FVal::Refs(v) => v.iter().copied().filter(|t| st.get(*t).is_some()).collect(),
            _ => Vec::new(),
        },
        Some(FK::Coll(kind, src)) => {
            st.sources(o.oid, src).filter(|t| st.get(*t).is_some_and(|x| x.kind == kind)).collect()
        }
        _ => Vec::new(),
    }
}
