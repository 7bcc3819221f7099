//! Object references as clients send them: `/defect/123`, `defect/123`, a full URL on any host,
//! `/portfolioitem/feature/123`, a UUID instead of the ObjectID, with or without `.js`.

use crate::schema::{kind_by_name, Kind};
use crate::store::Store;

#[derive(Clone, Debug, PartialEq)]
pub enum Id {
    Oid(u64),
    Uuid(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Ref {
    pub kind: Kind,
    pub id: Id,
}

fn is_uuid(s: &str) -> bool {
    let compact = s.replace('-', "");
    compact.len() == 32 && compact.bytes().all(|b| b.is_ascii_hexdigit())
}

pub fn parse(raw: &str) -> Option<Ref> {
    let mut s = raw.trim();
    if let Some(i) = s.find("/slm/webservice/") {
        s = &s[i + "/slm/webservice/".len()..];
        s = s.split_once('/').map_or("", |(_, rest)| rest);
    } else if s.contains("://") {
        return None;
    }
    let s = s.trim_matches('/');
    let s = s.strip_suffix(".js").unwrap_or(s);
    let (type_part, id) = s.rsplit_once('/')?;
    let kind = kind_by_name(type_part)?;
    let id = if let Some(oid) = crate::store::parse_oid(id) {
        Id::Oid(oid)
    } else if is_uuid(id) {
        Id::Uuid(id.to_ascii_lowercase())
    } else {
        return None;
    };
    Some(Ref { kind, id })
}

/// The ObjectID the ref points at, if such an object of that kind exists.
pub fn resolve(st: &Store, r: &Ref) -> Option<u64> {
    let oid = match &r.id {
        Id::Oid(o) => *o,
        Id::Uuid(u) => st.by_uuid(u)?,
    };
    st.get(oid).filter(|o| o.kind == r.kind).map(|o| o.oid)
}
