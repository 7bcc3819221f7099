//! `GET /<type>` and `GET <collection ref>`: filter, scope, order, page, render.

use crate::envelope;
use crate::eval::{self, SortVal};
use crate::json::J;
use crate::refs;
use crate::render::{Cx, Fetch};
use crate::schema::{info, target_by_path, Kind, Target};
use crate::store::{Obj, Store};
use std::collections::{HashMap, HashSet};

pub type Params = HashMap<String, String>;

pub const DEFAULT_PAGE: usize = 20;
pub const MAX_PAGE: usize = 2000;

fn param<'a>(p: &'a Params, name: &str) -> Option<&'a str> {
    p.get(&name.to_ascii_lowercase()).map(String::as_str)
}

fn positive(p: &Params, name: &str, default: usize) -> Result<usize, String> {
    match param(p, name) {
        None => Ok(default),
        Some(v) => match v.trim().parse::<i64>() {
            Ok(n) if n >= 1 => Ok(n as usize),
            _ => Err(format!("Could not parse: Invalid value for {name}: \"{v}\". It must be a positive integer.")),
        },
    }
}

fn flag(p: &Params, name: &str, default: bool) -> bool {
    param(p, name).map_or(default, |v| v.eq_ignore_ascii_case("true"))
}

/// The projects a query sees, or `None` for the whole workspace.
fn scope(st: &Store, p: &Params) -> Result<Option<HashSet<u64>>, String> {
    if let Some(ws) = param(p, "workspace") {
        let r = refs::parse(ws).ok_or_else(|| format!("Cannot parse object reference from \"{ws}\""))?;
        if r.kind != Kind::Workspace || refs::resolve(st, &r) != Some(st.workspace) {
            return Err(format!("Could not read referenced object {ws}"));
        }
    }
    let Some(raw) = param(p, "project") else { return Ok(None) };
    if raw.eq_ignore_ascii_case("null") {
        return Ok(None);
    }
    let r = refs::parse(raw).ok_or_else(|| format!("Cannot parse object reference from \"{raw}\""))?;
    if r.kind != Kind::Project {
        return Err(format!("Cannot parse object reference from \"{raw}\""));
    }
    let root = refs::resolve(st, &r).ok_or_else(|| format!("Could not read referenced object {raw}"))?;
    let mut set = HashSet::from([root]);
    if flag(p, "projectScopeDown", true) {
        let mut stack = vec![root];
        while let Some(x) = stack.pop() {
            for c in st.sources(x, "Parent") {
                if st.get(c).is_some_and(|o| o.kind == Kind::Project) && set.insert(c) {
                    stack.push(c);
                }
            }
        }
    }
    if flag(p, "projectScopeUp", false) {
        let mut cur = root;
        while let Some(parent) = st.get(cur).and_then(|o| o.ref_oid("Parent")) {
            if !set.insert(parent) {
                break;
            }
            cur = parent;
        }
    }
    Ok(Some(set))
}

/// `types=hierarchicalrequirement,defect` on an abstract endpoint.
fn narrow(target: &Target, p: &Params) -> Result<Vec<Kind>, String> {
    let all = target.kinds();
    let Some(raw) = param(p, "types") else { return Ok(all) };
    let mut kinds = Vec::new();
    for t in raw.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        match target_by_path(t) {
            Some(Target::One(k)) if all.contains(&k) => kinds.push(k),
            Some(Target::Abstract { kinds: ks, .. }) => kinds.extend(ks.into_iter().filter(|k| all.contains(k))),
            _ => return Err(format!("Requested type name \"{t}\" is unknown.")),
        }
    }
    Ok(kinds)
}

pub struct Query<'a> {
    pub target: Target,
    /// A collection's members instead of every object of the type.
    pub members: Option<Vec<u64>>,
    pub params: &'a Params,
    pub warnings: Vec<String>,
}

pub fn run(cx: &Cx, q: Query) -> J {
    let p = q.params;
    let start = positive(p, "start", 1);
    let page = positive(p, "pagesize", DEFAULT_PAGE).map(|n| n.min(MAX_PAGE));
    let fail = |e: String| {
        let s = start.clone().unwrap_or(1);
        let ps = page.clone().unwrap_or(DEFAULT_PAGE);
        envelope::query_result(&[e], &q.warnings, 0, s, ps, Vec::new())
    };
    let (start, page) = match (start.clone(), page.clone()) {
        (Ok(s), Ok(ps)) => (s, ps),
        (Err(e), _) | (_, Err(e)) => return fail(e),
    };
    match select(cx.st, &q) {
        Err(e) => fail(e),
        Ok(found) => {
            let fetch = Fetch::parse(param(p, "fetch"));
            let rows = found.iter().skip(start - 1).take(page).map(|o| cx.render(o, &fetch)).collect();
            envelope::query_result(&[], &q.warnings, found.len(), start, page, rows)
        }
    }
}

/// Every object matching the query, scope and type filter, in the requested order.
pub fn select<'s>(st: &'s Store, q: &Query) -> Result<Vec<&'s Obj>, String> {
    let p = q.params;
    let kinds = narrow(&q.target, p)?;
    let filter = match param(p, "query").map(str::trim).filter(|s| !s.is_empty()) {
        Some(text) => Some(eval::compile(&q.target, &crate::query::parse(text)?, st)?),
        None => None,
    };
    let order = eval::parse_order(&q.target, param(p, "order").unwrap_or(""))?;
    let projects = scope(st, p)?;
    let keep = |o: &Obj| {
        if let Some(set) = &projects {
            if info(o.kind).field_index("Project").is_some() && !o.ref_oid("Project").is_some_and(|x| set.contains(&x))
            {
                return false;
            }
        }
        filter.as_ref().is_none_or(|f| eval::matches(st, o, f))
    };
    let mut found: Vec<&Obj> = match &q.members {
        Some(ids) => {
            ids.iter().filter_map(|i| st.get(*i)).filter(|o| kinds.contains(&o.kind)).filter(|o| keep(o)).collect()
        }
        None => kinds.iter().flat_map(|k| st.all(*k)).filter(|o| keep(o)).collect(),
    };
    if order.is_empty() {
        if kinds.len() > 1 || q.members.is_some() {
            found.sort_by_key(|o| crate::store::shown_oid(o.oid));
        }
    } else {
        let mut keyed: Vec<(Vec<SortVal>, &Obj)> =
            found.into_iter().map(|o| (order.iter().map(|(f, _)| eval::sort_key(st, o, f)).collect(), o)).collect();
        keyed.sort_by(|(a, x), (b, y)| {
            for (i, (_, desc)) in order.iter().enumerate() {
                let c = a[i].cmp(&b[i]);
                if c != std::cmp::Ordering::Equal {
                    return if *desc { c.reverse() } else { c };
                }
            }
            crate::store::shown_oid(x.oid).cmp(&crate::store::shown_oid(y.oid))
        });
        found = keyed.into_iter().map(|(_, o)| o).collect();
    }
    Ok(found)
}
