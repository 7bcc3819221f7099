//! `POST /<Type>/<oid>/Tags/add` and `/remove`: the collection edits Rally offers for stored
//! sets. Derived collections (Children, Tasks, Discussion…) change through the member's own ref.

use crate::dates;
use crate::envelope;
use crate::json::J;
use crate::render::{members, Cx, Fetch};
use crate::schema::{info, Kind, FK};
use crate::store::{FVal, Store};
use crate::write::{create, escape_tag, ref_text, resolve_ref, set, Caller, TAG_MAX};
use serde_json::Value;

/// Which collection of which object, and whether items are added or removed.
pub struct Edit<'a> {
    pub kind: Kind,
    pub oid: u64,
    pub field: &'a str,
    pub add: bool,
}

/// `POST /<Type>/<oid>/Tags/add|remove` with `{"CollectionItems": [...]}` or `{"Tags": [...]}`.
pub fn collection(st: &mut Store, base: &str, edit: Edit, body: &[u8], fetch: &Fetch) -> J {
    let Edit { kind, oid, field, add } = edit;
    let now = dates::now_ms();
    let Some(mut o) = st.get(oid).filter(|o| o.kind == kind).cloned() else {
        return envelope::operation(
            &[format!("Could not read: Could not read {} {oid} to update.", info(kind).type_name)],
            &[],
            None,
        );
    };
    let ti = info(kind);
    let Some(fd) = ti.field(field).copied() else {
        return envelope::operation(
            &[format!("Could not parse: Unknown attribute \"{field}\" on type {}", ti.type_name)],
            &[],
            None,
        );
    };
    let FK::Refs(member) = fd.kind else {
        return envelope::operation(
            &[format!("Collection {}.{} cannot be modified through add/remove", ti.type_name, fd.name)],
            &[],
            None,
        );
    };
    // `{"CollectionItems": [...]}`, or the collection's own name (`{"Tags": [...]}`, as pyral
    // 1.7.0 posts it), in any case.
    let listed = |m: &serde_json::Map<String, Value>| {
        m.iter()
            .find(|(k, _)| k.as_str() == "CollectionItems" || k.eq_ignore_ascii_case(fd.name))
            .and_then(|(_, v)| v.as_array().cloned())
    };
    let items = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => match listed(&m) {
            Some(a) => a,
            None => {
                return envelope::operation(
                    &[format!("Could not parse: the request body must hold a CollectionItems (or {}) array", fd.name)],
                    &[],
                    None,
                )
            }
        },
        Ok(_) | Err(_) => {
            return envelope::operation(
                &["Cannot parse input stream due to I/O error as JSON document".into()],
                &[],
                None,
            )
        }
    };
    let mut current = members(st, &o, field);
    let mut touched = Vec::new();
    for item in &items {
        let by_name = item.get("Name").and_then(Value::as_str).filter(|_| item.get("_ref").is_none());
        let target = match (by_name, member) {
            (Some(name), Kind::Tag) => {
                let escaped = escape_tag(name);
                let existing = st.all(Kind::Tag).find(|t| t.str("Name") == Some(&escaped)).map(|t| t.oid);
                match existing {
                    Some(t) => Ok(t),
                    None if add => {
                        let caller = Caller { user: 0, user_name: String::new() };
                        let body = serde_json::json!({"Tag": {"Name": name}}).to_string();
                        let _ = create(st, base, Kind::Tag, body.as_bytes(), &caller, &Fetch::Refs);
                        st.all(Kind::Tag).find(|t| t.str("Name") == Some(&escaped)).map(|t| t.oid).ok_or_else(|| {
                            format!("Validation error: Tag.Name exceeds the maximum length of {TAG_MAX} characters")
                        })
                    }
                    None => Err(format!("Could not read referenced object {name}")),
                }
            }
            _ => ref_text(item)
                .and_then(|t| t.ok_or_else(|| "Cannot parse object reference from \"null\"".to_string()))
                .and_then(|t| resolve_ref(st, &t, &[member])),
        };
        match target {
            Ok(t) => touched.push(t),
            Err(e) => return envelope::operation(&[e], &[], None),
        }
    }
    for t in &touched {
        if add && !current.contains(t) {
            current.push(*t);
        } else if !add {
            current.retain(|x| x != t);
        }
    }
    set(&mut o, field, FVal::Refs(current));
    o.version += 1;
    set(&mut o, "LastUpdateDate", FVal::Date(now));
    st.put(o);
    let cx = Cx::new(st, base, now);
    let rows = touched.iter().filter_map(|t| cx.st.get(*t)).map(|t| cx.render(t, fetch)).collect();
    envelope::operation(&[], &[], Some(("Results", J::Arr(rows))))
}
