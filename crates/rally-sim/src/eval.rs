//! Evaluates a parsed query against stored objects. Attribute paths are checked and operands
//! converted once per request (`compile`), then `matches` runs per object without parsing.

use crate::dates::{self, DAY_MS};
use crate::query::{Cmp, Expr, Op, Value};
use crate::refs;
use crate::schema::{info, Kind, Sys, Target, ARTIFACTS, FK};
use crate::store::{FVal, Obj, Store};
use std::borrow::Cow;
use std::cmp::Ordering;

pub enum Node {
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Cmp(Compiled),
}

pub struct Compiled {
    path: Vec<String>,
    op: Op,
    operand: Operand,
    /// FormattedID on the abstract artifact type: compare the number only.
    number_only: bool,
}

#[derive(Clone, Debug)]
enum Operand {
    Null,
    Text(String),
    Num(f64),
    Bool(bool),
    Date { ms: i64, day_only: bool },
    Ref(u64),
    List(Vec<Operand>),
}

fn unknown(attr: &str, type_name: &str) -> String {
    format!("Could not parse: Unknown attribute \"{attr}\" on type {type_name}")
}

fn kinds_name(kinds: &[Kind]) -> &'static str {
    if kinds.len() > 1 {
        if kinds.iter().all(|k| matches!(k, Kind::Feature | Kind::Initiative)) {
            return "PortfolioItem";
        }
        return "Artifact";
    }
    kinds.first().map_or("Artifact", |k| info(*k).type_name)
}

/// Resolves the path; returns the final attribute's kind and the kinds that own it.
fn resolve(target: &Target, path: &[String]) -> Result<(FK, Vec<Kind>), String> {
    let first = &path[0];
    let fd = target.field(first).ok_or_else(|| unknown(first, target.type_name()))?;
    let mut owners = target.kinds();
    let mut fk = fd.kind;
    for seg in &path[1..] {
        let next: Vec<Kind> = match fk {
            FK::Ref(ks) => ks.to_vec(),
            FK::Refs(k) | FK::Coll(k, _) => vec![k],
            _ => return Err(unknown(seg, kinds_name(&owners))),
        };
        let found = next.iter().find_map(|k| info(*k).field(seg).map(|f| f.kind));
        fk = found.ok_or_else(|| unknown(seg, kinds_name(&next)))?;
        owners = next;
    }
    Ok((fk, owners))
}

fn convert(st: &Store, text: &str, fk: FK, op: Op) -> Result<Operand, String> {
    Ok(match fk {
        FK::Date => {
            let p = dates::parse(text).ok_or_else(|| {
                format!("Could not parse: Cannot convert \"{text}\" into a date.  You must use the ISO8601 date+time format.")
            })?;
            Operand::Date { ms: p.ms, day_only: p.day_only }
        }
        FK::Int | FK::Num | FK::CountOf(_) | FK::Sys(Sys::ObjectId) => match text.parse::<f64>() {
            Ok(n) => Operand::Num(n),
            Err(_) => return Err(format!("Could not parse: Cannot convert \"{text}\" into a number.")),
        },
        FK::Bool => match text.to_ascii_lowercase().as_str() {
            "true" => Operand::Bool(true),
            "false" => Operand::Bool(false),
            _ => return Err(format!("Could not parse: Cannot convert \"{text}\" into a boolean.")),
        },
        FK::Ref(_) | FK::Refs(_) | FK::Coll(..)
            if !matches!(op, Op::Contains | Op::NotContains) || text.starts_with('/') || text.contains("://") =>
        {
            let r = refs::parse(text)
                .ok_or_else(|| format!("Could not parse: Cannot parse object reference from \"{text}\""))?;
            // A ref to a missing object matches nothing.
            Operand::Ref(refs::resolve(st, &r).unwrap_or(0))
        }
        _ => Operand::Text(text.to_string()),
    })
}

pub fn compile(target: &Target, expr: &Expr, st: &Store) -> Result<Node, String> {
    Ok(match expr {
        Expr::And(a, b) => Node::And(Box::new(compile(target, a, st)?), Box::new(compile(target, b, st)?)),
        Expr::Or(a, b) => Node::Or(Box::new(compile(target, a, st)?), Box::new(compile(target, b, st)?)),
        Expr::Cmp(c) => Node::Cmp(compile_cmp(target, c, st)?),
    })
}

fn compile_cmp(target: &Target, c: &Cmp, st: &Store) -> Result<Compiled, String> {
    if c.path.is_empty() {
        return Err("Could not parse: missing attribute".into());
    }
    let (fk, owners) = resolve(target, &c.path)?;
    let last = c.path.last().map(String::as_str).unwrap_or("");
    let number_only = last == "FormattedID" && owners.len() > 1 && owners.iter().all(|k| ARTIFACTS.contains(k));
    let op = c.op;
    let operand = match &c.value {
        Value::Null => Operand::Null,
        Value::Today { offset_days } => {
            Operand::Date { ms: dates::today_start() + offset_days * DAY_MS, day_only: true }
        }
        Value::List(items) => {
            Operand::List(items.iter().map(|t| convert(st, t, fk, Op::Eq)).collect::<Result<Vec<_>, _>>()?)
        }
        Value::Text(t) => convert(st, t, fk, op)?,
    };
    Ok(Compiled { path: c.path.clone(), op, operand, number_only })
}

/// Values reached by following `path` from `o` (refs and collections fan out).
fn walk<'a>(st: &'a Store, o: &'a Obj, path: &[String], out: &mut Vec<(Cow<'a, FVal>, FK)>) {
    let ti = info(o.kind);
    let Some(i) = ti.field_index(&path[0]) else { return };
    let fd = &ti.fields[i];
    let last = path.len() == 1;
    match fd.kind {
        FK::Sys(Sys::ObjectId) => out.push((Cow::Owned(FVal::Num(crate::store::shown_oid(o.oid) as f64)), fd.kind)),
        FK::Sys(Sys::ObjectUuid) => out.push((Cow::Owned(FVal::Str(o.uuid.clone())), fd.kind)),
        FK::Sys(Sys::VersionId) => out.push((Cow::Owned(FVal::Str(o.version.to_string())), fd.kind)),
        FK::CountOf(c) => out.push((Cow::Owned(FVal::Num(crate::render::members(st, o, c).len() as f64)), fd.kind)),
        FK::Refs(_) | FK::Coll(..) => {
            for m in crate::render::members(st, o, fd.name) {
                if last {
                    out.push((Cow::Owned(FVal::Ref(m)), fd.kind));
                } else if let Some(t) = st.get(m) {
                    walk(st, t, &path[1..], out);
                }
            }
        }
        _ if last => out.push((Cow::Borrowed(&o.vals[i]), fd.kind)),
        _ => {
            if let FVal::Ref(t) = &o.vals[i] {
                if let Some(t) = st.get(*t) {
                    walk(st, t, &path[1..], out);
                }
            }
        }
    }
}

fn digits(s: &str) -> &str {
    s.trim_start_matches(|c: char| !c.is_ascii_digit())
}

fn num(v: &FVal) -> Option<f64> {
    match v {
        FVal::Int(n) => Some(*n as f64),
        FVal::Num(n) => Some(*n),
        _ => None,
    }
}

fn enum_index(st: &Store, fk: FK, s: &str) -> Option<usize> {
    match fk {
        FK::Enum(list) => st.values(list).iter().position(|x| *x == s),
        _ => None,
    }
}

impl Compiled {
    fn eq(&self, v: &FVal, operand: &Operand) -> bool {
        match (operand, v) {
            (Operand::Null, v) => *v == FVal::Null,
            (Operand::Text(t), FVal::Str(s)) if self.number_only => digits(s) == digits(t),
            (Operand::Text(t), FVal::Str(s)) => s == t,
            (Operand::Num(n), v) => num(v) == Some(*n),
            (Operand::Bool(b), FVal::Bool(x)) => b == x,
            (Operand::Date { ms, day_only }, FVal::Date(d)) => {
                if *day_only {
                    *d >= *ms && *d < ms + DAY_MS
                } else {
                    d == ms
                }
            }
            (Operand::Ref(r), FVal::Ref(x)) => r == x,
            (Operand::List(items), v) => items.iter().any(|i| self.eq(v, i)),
            _ => false,
        }
    }

    fn order(&self, st: &Store, v: &FVal, fk: FK) -> Option<bool> {
        let op = &self.op;
        let test = |o: Ordering| match op {
            Op::Lt => o == Ordering::Less,
            Op::Le => o != Ordering::Greater,
            Op::Gt => o == Ordering::Greater,
            _ => o != Ordering::Less,
        };
        Some(match (&self.operand, v) {
            (Operand::Date { ms, day_only: true }, FVal::Date(d)) => match op {
                Op::Lt => *d < *ms,
                Op::Le => *d < ms + DAY_MS,
                Op::Gt => *d >= ms + DAY_MS,
                _ => *d >= *ms,
            },
            (Operand::Date { ms, .. }, FVal::Date(d)) => test(d.cmp(ms)),
            (Operand::Num(n), v) => test(num(v)?.partial_cmp(n)?),
            (Operand::Text(t), FVal::Str(s)) => match (enum_index(st, fk, s), enum_index(st, fk, t)) {
                (Some(a), Some(b)) => test(a.cmp(&b)),
                _ if matches!(fk, FK::Enum(_)) => return None,
                _ => test(s.as_str().cmp(t.as_str())),
            },
            _ => return None,
        })
    }

    fn contains(&self, v: &FVal) -> bool {
        match (&self.operand, v) {
            (Operand::Text(t), FVal::Str(s)) => s.to_lowercase().contains(&t.to_lowercase()),
            (Operand::Ref(r), FVal::Ref(x)) => r == x,
            _ => false,
        }
    }

    fn test(&self, st: &Store, o: &Obj) -> bool {
        let mut vals = Vec::new();
        walk(st, o, &self.path, &mut vals);
        if vals.is_empty() {
            vals.push((Cow::Owned(FVal::Null), FK::Str));
        }
        let any = |f: &dyn Fn(&FVal, FK) -> bool| vals.iter().any(|(v, k)| f(v, *k));
        match self.op {
            Op::Eq | Op::In => any(&|v, _| self.eq(v, &self.operand)),
            Op::Ne | Op::NotIn => !any(&|v, _| self.eq(v, &self.operand)),
            Op::Contains => any(&|v, _| self.contains(v)),
            Op::NotContains => !any(&|v, _| self.contains(v)),
            Op::Lt | Op::Le | Op::Gt | Op::Ge => any(&|v, k| self.order(st, v, k).unwrap_or(false)),
        }
    }
}

pub fn matches(st: &Store, o: &Obj, node: &Node) -> bool {
    match node {
        Node::And(a, b) => matches(st, o, a) && matches(st, o, b),
        Node::Or(a, b) => matches(st, o, a) || matches(st, o, b),
        Node::Cmp(c) => c.test(st, o),
    }
}

/// `order=Field [asc|desc], ...` checked against the type.
pub fn parse_order(target: &Target, raw: &str) -> Result<Vec<(String, bool)>, String> {
    let mut keys = Vec::new();
    for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let mut parts = item.split_whitespace();
        let name = parts.next().unwrap_or("");
        let desc = match parts.next().map(|d| d.to_ascii_lowercase()) {
            None => false,
            Some(d) if d == "asc" => false,
            Some(d) if d == "desc" => true,
            Some(_) => return Err(format!("Cannot sort using unknown attribute {item}")),
        };
        if target.field(name).is_none() || parts.next().is_some() {
            return Err(format!("Cannot sort using unknown attribute {name}"));
        }
        keys.push((name.to_string(), desc));
    }
    Ok(keys)
}

/// A sortable value of one attribute.
pub fn sort_key(st: &Store, o: &Obj, field: &str) -> SortVal {
    let mut vals = Vec::new();
    walk(st, o, &[field.to_string()], &mut vals);
    let Some((v, fk)) = vals.into_iter().next() else { return SortVal::Null };
    match (v.as_ref(), fk) {
        // US9 before US10: the number decides, the prefix only separates types.
        (FVal::Str(s), _) if field == "FormattedID" => {
            let n: f64 = digits(s).parse().unwrap_or(0.0);
            let prefix = &s[..s.len() - digits(s).len()];
            SortVal::Str(format!("{prefix}{n:020}"))
        }
        (FVal::Str(s), FK::Enum(_)) => SortVal::Num(enum_index(st, fk, s).map_or(-1.0, |i| i as f64)),
        (FVal::Str(s), _) => SortVal::Str(s.clone()),
        (FVal::Int(n), _) => SortVal::Num(*n as f64),
        (FVal::Num(n), _) => SortVal::Num(*n),
        (FVal::Bool(b), _) => SortVal::Num(*b as u8 as f64),
        (FVal::Date(d), _) => SortVal::Num(*d as f64),
        (FVal::Ref(t), _) => st.get(*t).and_then(|t| t.name()).map_or(SortVal::Null, |n| SortVal::Str(n.to_string())),
        _ => SortVal::Null,
    }
}

#[derive(PartialEq, PartialOrd, Clone, Debug)]
pub enum SortVal {
    Null,
    Num(f64),
    Str(String),
}

impl SortVal {
    pub fn cmp(&self, other: &SortVal) -> Ordering {
        self.partial_cmp(other).unwrap_or(Ordering::Equal)
    }
}
