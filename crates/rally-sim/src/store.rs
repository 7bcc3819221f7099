//! The in-memory object store. One `BTreeMap` per kind keyed by ObjectID (creation order, since
//! ObjectIDs only grow), an oid → kind index, and a reverse-reference index that makes derived
//! collections (Children, Tasks, Discussion…) cheap to count and list.

use crate::schema::{info, Kind, ALL_KINDS, FK, SCHEDULE_STATES};
use std::collections::{BTreeMap, BTreeSet, HashMap};

#[derive(Clone, Debug, PartialEq)]
pub enum FVal {
    Null,
    Str(String),
    Int(i64),
    Num(f64),
    Bool(bool),
    Date(i64),
    Ref(u64),
    Refs(Vec<u64>),
}

#[derive(Clone, Debug)]
pub struct Obj {
    pub kind: Kind,
    pub oid: u64,
    pub uuid: String,
    pub version: u64,
    /// Aligned with `info(kind).fields`; derived and system fields hold `Null`.
    pub vals: Vec<FVal>,
    /// Custom field values by ElementName (`c_Team`); a field never set is absent (null).
    pub custom: BTreeMap<String, serde_json::Value>,
}

impl Obj {
    pub fn get(&self, name: &str) -> &FVal {
        static NULL: FVal = FVal::Null;
        match info(self.kind).field_index(name) {
            Some(i) => &self.vals[i],
            None => &NULL,
        }
    }
    pub fn str(&self, name: &str) -> Option<&str> {
        match self.get(name) {
            FVal::Str(s) => Some(s),
            _ => None,
        }
    }
    pub fn ref_oid(&self, name: &str) -> Option<u64> {
        match self.get(name) {
            FVal::Ref(o) => Some(*o),
            _ => None,
        }
    }
    /// `_refObjectName`.
    pub fn name(&self) -> Option<&str> {
        match self.kind {
            Kind::User => self.str("DisplayName").filter(|s| !s.is_empty()).or(self.str("UserName")),
            Kind::AllowedAttributeValue => self.str("StringValue"),
            Kind::ConversationPost => None,
            _ => self.str("Name"),
        }
    }
}

/// The ObjectID as clients see it. The store keys objects by `u64`; Rally's built-in metadata
/// objects (attribute definitions) have negative ObjectIDs (`/attributedefinition/-12345`), which
/// the store keeps as their two's-complement `u64` (`Store::blank_builtin`). Every place that
/// renders, compares or sorts an ObjectID goes through this.
pub fn shown_oid(oid: u64) -> i64 {
    oid as i64
}

/// The store key of an ObjectID as clients write it (`-12345` included).
pub fn parse_oid(s: &str) -> Option<u64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if s.starts_with('-') {
        s.parse::<i64>().ok().filter(|n| *n < 0).map(|n| n as u64)
    } else {
        s.parse::<u64>().ok()
    }
}

/// Deterministic id source (splitmix64), shared by the seed and later creates.
#[derive(Clone, Debug)]
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    pub fn uuid(&mut self) -> String {
        let (a, b) = (self.next(), self.next());
        let h = format!("{a:016x}{b:016x}");
        format!(
            "{}-{}-4{}-{}{}-{}",
            &h[0..8],
            &h[8..12],
            &h[13..16],
            ["8", "9", "a", "b"][(b & 3) as usize],
            &h[17..20],
            &h[20..32]
        )
    }
}

pub struct Store {
    objects: Vec<BTreeMap<u64, Obj>>,
    kind_of: HashMap<u64, Kind>,
    uuids: HashMap<String, u64>,
    /// (target oid, source field) → sources.
    back: HashMap<(u64, &'static str), BTreeSet<u64>>,
    counters: HashMap<Kind, u64>,
    next_oid: u64,
    /// The next built-in (negative) ObjectID, counting down.
    next_builtin: i64,
    pub rng: Rng,
    pub workspace: u64,
    pub subscription: u64,
    pub root_project: u64,
    /// ScheduleState values in order (the standard four, or with custom ones around them).
    pub schedule_states: &'static [&'static str],
    /// The workspace's custom fields (`--custom-field`).
    pub custom: Vec<crate::custom::CustomField>,
    /// Whether the workspace has the `PullRequest` type (`--no-pull-requests` takes it away).
    pub pull_requests: bool,
}

impl Store {
    pub fn new(seed: u64) -> Store {
        let mut rng = Rng(seed ^ 0x5EED_0000_0000_0000);
        let next_oid = 700_000_000_000 + rng.below(99_000_000_000);
        Store {
            objects: ALL_KINDS.iter().map(|_| BTreeMap::new()).collect(),
            kind_of: HashMap::new(),
            uuids: HashMap::new(),
            back: HashMap::new(),
            counters: HashMap::new(),
            next_oid,
            next_builtin: -10_000,
            rng,
            workspace: 0,
            subscription: 0,
            root_project: 0,
            schedule_states: SCHEDULE_STATES,
            custom: Vec::new(),
            pull_requests: true,
        }
    }

    /// A drop-down's values as this workspace has them configured.
    pub fn values(&self, list: &'static [&'static str]) -> &'static [&'static str] {
        if list == SCHEDULE_STATES {
            self.schedule_states
        } else {
            list
        }
    }

    /// The custom fields of a type, in definition order.
    pub fn custom_of(&self, kind: Kind) -> impl Iterator<Item = &crate::custom::CustomField> {
        self.custom.iter().filter(move |f| f.kind == kind)
    }

    pub fn get(&self, oid: u64) -> Option<&Obj> {
        let k = self.kind_of.get(&oid)?;
        self.objects[*k as usize].get(&oid)
    }

    pub fn by_uuid(&self, uuid: &str) -> Option<u64> {
        self.uuids.get(uuid).copied()
    }

    pub fn all(&self, kind: Kind) -> impl Iterator<Item = &Obj> {
        self.objects[kind as usize].values()
    }

    /// Members of a derived collection: objects whose `field` refers to `oid`.
    pub fn sources(&self, oid: u64, field: &'static str) -> impl Iterator<Item = u64> + '_ {
        self.back.get(&(oid, field)).into_iter().flatten().copied()
    }

    /// A fresh object with a new ObjectID, UUID and (for artifacts) FormattedID.
    pub fn blank(&mut self, kind: Kind) -> Obj {
        self.next_oid += 1 + self.rng.below(7);
        let oid = self.next_oid;
        let uuid = self.rng.uuid();
        let ti = info(kind);
        let mut vals = vec![FVal::Null; ti.fields.len()];
        if let Some(prefix) = ti.prefix {
            let n = self.counters.entry(kind).or_insert(0);
            *n += 1;
            if let Some(i) = ti.field_index("FormattedID") {
                vals[i] = FVal::Str(format!("{prefix}{n}"));
            }
        }
        Obj { kind, oid, uuid, version: 1, vals, custom: BTreeMap::new() }
    }

    /// A fresh built-in metadata object: like `blank`, with a negative ObjectID as Rally gives
    /// its built-in attribute definitions.
    pub fn blank_builtin(&mut self, kind: Kind) -> Obj {
        let mut o = self.blank(kind);
        self.next_builtin -= 1 + self.rng.below(5) as i64;
        o.oid = self.next_builtin as u64;
        o
    }

    /// Inserts or replaces an object, keeping the reverse index in step.
    pub fn put(&mut self, obj: Obj) {
        if let Some(old) = self.get(obj.oid).cloned() {
            self.unindex(&old);
        }
        self.index(&obj);
        self.kind_of.insert(obj.oid, obj.kind);
        self.uuids.insert(obj.uuid.clone(), obj.oid);
        self.objects[obj.kind as usize].insert(obj.oid, obj);
    }

    pub fn remove(&mut self, oid: u64) -> Option<Obj> {
        let kind = self.kind_of.remove(&oid)?;
        let obj = self.objects[kind as usize].remove(&oid)?;
        self.unindex(&obj);
        self.uuids.remove(&obj.uuid);
        Some(obj)
    }

    fn index(&mut self, obj: &Obj) {
        for (f, v) in info(obj.kind).fields.iter().zip(&obj.vals) {
            if let (FK::Ref(_), FVal::Ref(t)) = (f.kind, v) {
                self.back.entry((*t, f.name)).or_default().insert(obj.oid);
            }
        }
    }

    fn unindex(&mut self, obj: &Obj) {
        for (f, v) in info(obj.kind).fields.iter().zip(&obj.vals) {
            if let (FK::Ref(_), FVal::Ref(t)) = (f.kind, v) {
                if let Some(set) = self.back.get_mut(&(*t, f.name)) {
                    set.remove(&obj.oid);
                }
            }
        }
    }
}
