//! A JSON value into the value of a field, refused as Rally refuses it.

use super::*;

/// One attribute from a write body to a stored value.
pub(super) fn convert(st: &Store, kind: Kind, fd: &Field, v: &Value) -> Result<FVal, String> {
    let t = info(kind).type_name;
    let bad = || invalid(t, fd.name, &shown(v));
    Ok(match fd.kind {
        FK::Str | FK::Rich => {
            let s = match v {
                Value::Null => return Ok(FVal::Null),
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => return Err(bad()),
            };
            let s = if kind == Kind::Tag && fd.name == "Name" { escape_tag(&s) } else { s };
            if fd.kind == FK::Rich && s.chars().count() > RICH_MAX {
                return Err(format!(
                    "Validation error: {t}.{} exceeds the maximum length of {RICH_MAX} characters",
                    fd.name
                ));
            }
            if kind == Kind::Tag && fd.name == "Name" && s.chars().count() > TAG_MAX {
                return Err(format!("Validation error: Tag.Name exceeds the maximum length of {TAG_MAX} characters"));
            }
            FVal::Str(s)
        }
        FK::Int | FK::Num => match v {
            Value::Null => FVal::Null,
            Value::Number(n) => n
                .as_f64()
                .map(|x| if fd.kind == FK::Int { FVal::Int(x as i64) } else { FVal::Num(x) })
                .ok_or_else(bad)?,
            Value::String(s) => match s.trim().parse::<f64>() {
                Ok(x) if fd.kind == FK::Int => FVal::Int(x as i64),
                Ok(x) => FVal::Num(x),
                Err(_) => return Err(bad()),
            },
            _ => return Err(bad()),
        },
        FK::Bool => match v {
            Value::Bool(b) => FVal::Bool(*b),
            Value::String(s) if s.eq_ignore_ascii_case("true") => FVal::Bool(true),
            Value::String(s) if s.eq_ignore_ascii_case("false") => FVal::Bool(false),
            _ => return Err(bad()),
        },
        FK::Date => match v {
            Value::Null => FVal::Null,
            Value::String(s) if !s.is_empty() => match dates::parse(s) {
                Some(p) => FVal::Date(p.ms),
                None => return Err(date_error(s)),
            },
            _ => return Err(date_error(&shown(v))),
        },
        FK::Enum(values) => match (v, st.values(values)) {
            (Value::String(s), values) if values.contains(&s.as_str()) => FVal::Str(s.clone()),
            _ => return Err(bad()),
        },
        FK::Ref(kinds) => match ref_text(v)? {
            None => FVal::Null,
            Some(text) => {
                let oid = resolve_ref(st, &text, kinds)?;
                if fd.name == "State" && matches!(kind, Kind::Feature | Kind::Initiative) {
                    let own = st.get(oid).and_then(|s| s.ref_oid("TypeDef")).and_then(|td| st.get(td));
                    if own.and_then(|td| td.str("TypePath")) != Some(info(kind).type_path) {
                        return Err(invalid(t, fd.name, &text));
                    }
                }
                FVal::Ref(oid)
            }
        },
        FK::Refs(member) => match v {
            Value::Null => FVal::Refs(Vec::new()),
            Value::Array(items) => {
                let mut out = Vec::new();
                for i in items {
                    let text = ref_text(i)?.ok_or_else(|| format!("Cannot parse object reference from \"{i}\""))?;
                    let oid = resolve_ref(st, &text, &[member])?;
                    if !out.contains(&oid) {
                        out.push(oid);
                    }
                }
                FVal::Refs(out)
            }
            _ => return Err(format!("Cannot parse object reference from \"{v}\"")),
        },
        FK::Sys(_) | FK::Coll(..) | FK::CountOf(_) => return Err(bad()),
    })
}

fn date_error(v: &str) -> String {
    format!("Could not parse: Cannot convert \"{v}\" into a date.  You must use the ISO8601 date+time format.")
}
