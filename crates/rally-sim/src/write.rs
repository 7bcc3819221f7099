//! Create, update, delete and collection add/remove, validated as Rally does: all checks run
//! before anything changes, so a rejected write leaves the object as it was.

use crate::dates;
use crate::envelope;
use crate::json::J;
use crate::refs;
use crate::render::{Cx, Fetch};
use crate::schema::{info, is_artifact, Field, Kind, FK};
use crate::store::{FVal, Obj, Store};
use serde_json::Value;
use std::collections::HashSet;

mod convert;
mod rules;
use convert::convert;
pub use rules::base64;

pub const RICH_MAX: usize = 32_768;
pub const TAG_MAX: usize = 32;

#[derive(Clone, Debug)]
pub struct Caller {
    pub user: u64,
    pub user_name: String,
}

fn invalid(t: &str, f: &str, v: &str) -> String {
    format!("Validation error: {t}.{f} contains an invalid value: \"{v}\"")
}

fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `"..."`, `{"_ref": "..."}`; `Ok(None)` for null.
pub(crate) fn ref_text(v: &Value) -> Result<Option<String>, String> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        Value::Object(m) => match m.get("_ref") {
            Some(Value::String(s)) => Ok(Some(s.clone())),
            _ => Err(format!("Cannot parse object reference from \"{v}\"")),
        },
        other => Err(format!("Cannot parse object reference from \"{other}\"")),
    }
}

pub(crate) fn resolve_ref(st: &Store, text: &str, kinds: &[Kind]) -> Result<u64, String> {
    let r = refs::parse(text).ok_or_else(|| format!("Cannot parse object reference from \"{text}\""))?;
    match refs::resolve(st, &r) {
        Some(oid) if kinds.contains(&r.kind) => Ok(oid),
        _ => Err(format!("Could not read referenced object {text}")),
    }
}

pub(crate) fn escape_tag(name: &str) -> String {
    name.replace('&', "&amp;").replace('>', "&gt;")
}

/// The single `{"<Type>": {...}}` wrapper of a write body; returns (type as sent, fields).
fn unwrap_body(kind: Kind, body: &[u8]) -> Result<(String, serde_json::Map<String, Value>), String> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| format!("Cannot parse input stream due to I/O error as JSON document: {e}"))?;
    let Value::Object(outer) = v else { return Err("Cannot parse input stream as JSON object".into()) };
    let ti = info(kind);
    for (k, v) in outer {
        let matches = [ti.type_name, ti.element_name, ti.path].iter().any(|n| n.eq_ignore_ascii_case(&k));
        if let (true, Value::Object(fields)) = (matches, v) {
            return Ok((k, fields));
        }
    }
    Err(format!("Could not parse: the request body must hold the object under \"{}\"", ti.type_name))
}

/// Validates and applies a body to `o`; returns warnings, or every error found.
fn apply(
    st: &Store,
    o: &mut Obj,
    sent: &str,
    fields: &serde_json::Map<String, Value>,
    creating: bool,
) -> Result<Vec<String>, (Vec<String>, Vec<String>)> {
    let ti = info(o.kind);
    let (mut errors, mut warnings) = (Vec::new(), Vec::new());
    let mut failed = Vec::new();
    let mut failed_custom: Vec<&str> = Vec::new();
    for (k, v) in fields {
        let idx = ti.field_index_ci(k).filter(|i| {
            let fd = &ti.fields[*i];
            fd.writable || (fd.name == "Workspace" && matches!(fd.kind, FK::Ref(_)))
        });
        let Some(i) = idx else {
            let custom = st.custom_of(o.kind).find(|f| f.element.eq_ignore_ascii_case(k));
            match custom.map(|f| (f, crate::custom::convert(f, ti.type_name, v))) {
                Some((f, Ok(val))) => {
                    o.custom.insert(f.element.clone(), val);
                }
                Some((f, Err(e))) => {
                    errors.push(e);
                    failed_custom.push(f.element.as_str());
                }
                None => warnings.push(format!("Ignored JSON element {sent}.{k} during processing of this request.")),
            }
            continue;
        };
        match convert(st, o.kind, &ti.fields[i], v) {
            Ok(val) => o.vals[i] = val,
            Err(e) => {
                errors.push(e);
                failed.push(i);
            }
        }
    }
    for (_, fd) in ti.fields.iter().enumerate().filter(|(i, f)| f.required && !failed.contains(i)) {
        let missing = match o.get(fd.name) {
            FVal::Null => true,
            FVal::Str(s) => s.trim().is_empty(),
            _ => false,
        };
        if missing {
            errors.push(format!("Validation error: {}.{} should not be null", ti.type_name, fd.name));
        }
    }
    // A required custom field is named by its display name, as in Rally's own message
    // ("HierarchicalRequirement.MICS Category should not be null"). Checked on create: items
    // made before the field became required stay editable (see README, "Custom fields").
    for f in st.custom_of(o.kind).filter(|f| f.required && creating && !failed_custom.contains(&f.element.as_str())) {
        if o.custom.get(&f.element).is_none_or(serde_json::Value::is_null) {
            errors.push(format!("Validation error: {}.{} should not be null", ti.type_name, f.display));
        }
    }
    if errors.is_empty() {
        Ok(warnings)
    } else {
        Err((errors, warnings))
    }
}

pub(crate) fn set(o: &mut Obj, name: &str, v: FVal) {
    if let Some(i) = info(o.kind).field_index(name) {
        o.vals[i] = v;
    }
}

fn is_null(o: &Obj, name: &str) -> bool {
    *o.get(name) == FVal::Null
}

/// Dates and shortcuts that Rally maintains itself.
fn derive(st: &Store, o: &mut Obj, before: Option<&Obj>, now: i64) {
    let changed = |o: &Obj, name: &str| before.is_none_or(|b| b.get(name) != o.get(name));
    if changed(o, "ScheduleState") {
        match o.str("ScheduleState") {
            Some("Accepted") if is_null(o, "AcceptedDate") => set(o, "AcceptedDate", FVal::Date(now)),
            Some("In-Progress") if is_null(o, "InProgressDate") => set(o, "InProgressDate", FVal::Date(now)),
            _ => {}
        }
    }
    if o.kind == Kind::Defect && changed(o, "State") {
        match o.str("State") {
            Some("Closed") => set(o, "ClosedDate", FVal::Date(now)),
            Some("Open") if is_null(o, "OpenedDate") => set(o, "OpenedDate", FVal::Date(now)),
            _ => {}
        }
    }
    if o.kind == Kind::HierarchicalRequirement {
        let pi = o.get("PortfolioItem").clone();
        set(o, "Feature", pi);
    }
    if o.kind == Kind::Task && is_null(o, "Project") {
        let p = o.ref_oid("WorkProduct").and_then(|w| st.get(w)).and_then(|w| w.ref_oid("Project"));
        set(o, "Project", p.map_or(FVal::Null, FVal::Ref));
    }
}

fn defaults(st: &Store, o: &mut Obj, caller: &Caller, now: i64) {
    let ti = info(o.kind);
    let d: &[(&str, FVal)] = &[
        ("CreationDate", FVal::Date(now)),
        ("LastUpdateDate", FVal::Date(now)),
        ("Subscription", FVal::Ref(st.subscription)),
        ("Workspace", FVal::Ref(st.workspace)),
        ("CreatedBy", FVal::Ref(caller.user)),
        ("Description", FVal::Str(String::new())),
        ("Notes", FVal::Str(String::new())),
        ("Tags", FVal::Refs(Vec::new())),
        ("Ready", FVal::Bool(false)),
        ("Expedite", FVal::Bool(false)),
        ("Blocked", FVal::Bool(false)),
        ("Archived", FVal::Bool(false)),
        ("DisplayColor", FVal::Str("#21a2e0".into())),
        ("SubmittedBy", FVal::Ref(caller.user)),
        ("Priority", FVal::Str("None".into())),
        ("Severity", FVal::Str("None".into())),
        ("Resolution", FVal::Str("None".into())),
        ("Environment", FVal::Str("None".into())),
        ("ScheduleState", FVal::Str("Defined".into())),
        ("State", FVal::Str(if o.kind == Kind::Defect { "Submitted" } else { "Defined" }.into())),
        ("Actuals", FVal::Num(0.0)),
    ];
    for (name, v) in d {
        if let Some(i) = ti.field_index(name) {
            let settable = matches!(
                (ti.fields[i].kind, v),
                (FK::Enum(_), FVal::Str(_))
                    | (FK::Ref(_), FVal::Ref(_))
                    | (FK::Refs(_), _)
                    | (FK::Str | FK::Rich, FVal::Str(_))
                    | (FK::Bool, FVal::Bool(_))
                    | (FK::Date, FVal::Date(_))
                    | (FK::Num, FVal::Num(_))
            );
            if settable && o.vals[i] == FVal::Null {
                o.vals[i] = v.clone();
            }
        }
    }
    if o.kind == Kind::Task && is_null(o, "WorkProduct") {
        // Keep Project empty so the required WorkProduct error is the only one.
    } else if ti.field_index("Project").is_some()
        && is_artifact(o.kind)
        && is_null(o, "Project")
        && o.kind != Kind::Task
    {
        set(o, "Project", FVal::Ref(st.root_project));
    }
}

/// The `Object` of a create/update response.
fn result_object(cx: &Cx, o: &Obj, fetch: &Fetch) -> J {
    match fetch {
        Fetch::Refs => {
            let set: HashSet<String> =
                ["ObjectID", "FormattedID", "CreationDate"].iter().map(|s| s.to_string()).collect();
            cx.render(o, &Fetch::List(set))
        }
        f => cx.render(o, f),
    }
}

pub fn create(st: &mut Store, base: &str, kind: Kind, body: &[u8], caller: &Caller, fetch: &Fetch) -> J {
    let now = dates::now_ms();
    let (sent, fields) = match unwrap_body(kind, body) {
        Ok(x) => x,
        Err(e) => return envelope::create(&[e], &[], None),
    };
    let mut o = st.blank(kind);
    let applied = apply(st, &mut o, &sent, &fields, true);
    let mut warnings = match applied {
        Ok(w) => w,
        Err((errors, warnings)) => return envelope::create(&errors, &warnings, None),
    };
    defaults(st, &mut o, caller, now);
    if let Err(e) = rules::after_write(&mut o, &fields, caller) {
        return envelope::create(&[e], &warnings, None);
    }
    if kind == Kind::ConversationPost {
        set(&mut o, "User", FVal::Ref(caller.user));
        let art = o.ref_oid("Artifact").unwrap_or(0);
        let next = st
            .sources(art, "Artifact")
            .filter_map(|p| st.get(p))
            .filter_map(|p| match p.get("PostNumber") {
                FVal::Int(n) => Some(*n),
                _ => None,
            })
            .max()
            .unwrap_or(0)
            + 1;
        set(&mut o, "PostNumber", FVal::Int(next));
    }
    if kind == Kind::Tag {
        let name = o.str("Name").unwrap_or("").to_string();
        if st.all(Kind::Tag).any(|t| t.str("Name") == Some(&name)) {
            return envelope::create(
                &[format!("Validation error: Tag.Name \"{name}\" is already in use")],
                &warnings,
                None,
            );
        }
    }
    derive(st, &mut o, None, now);
    warnings.dedup();
    let oid = o.oid;
    st.put(o);
    let cx = Cx::new(st, base, now);
    let obj = cx.st.get(oid).map(|o| result_object(&cx, o, fetch));
    envelope::create(&[], &warnings, obj)
}

pub fn update(st: &mut Store, base: &str, kind: Kind, oid: u64, body: &[u8], caller: &Caller, fetch: &Fetch) -> J {
    let now = dates::now_ms();
    let Some(before) = st.get(oid).filter(|o| o.kind == kind).cloned() else {
        return envelope::operation(
            &[format!("Could not read: Could not read {} {oid} to update.", info(kind).type_name)],
            &[],
            None,
        );
    };
    let (sent, fields) = match unwrap_body(kind, body) {
        Ok(x) => x,
        Err(e) => return envelope::operation(&[e], &[], None),
    };
    let mut o = before.clone();
    let warnings = match apply(st, &mut o, &sent, &fields, false) {
        Ok(w) => w,
        Err((errors, warnings)) => return envelope::operation(&errors, &warnings, None),
    };
    if let Err(e) = rules::after_write(&mut o, &fields, caller) {
        return envelope::operation(&[e], &warnings, None);
    }
    if kind == Kind::Tag {
        let name = o.str("Name").unwrap_or("").to_string();
        if st.all(Kind::Tag).any(|t| t.oid != oid && t.str("Name") == Some(&name)) {
            return envelope::operation(
                &[format!("Validation error: Tag.Name \"{name}\" is already in use")],
                &warnings,
                None,
            );
        }
    }
    derive(st, &mut o, Some(&before), now);
    o.version += 1;
    set(&mut o, "LastUpdateDate", FVal::Date(now));
    st.put(o);
    let cx = Cx::new(st, base, now);
    let obj = cx.st.get(oid).map(|o| result_object(&cx, o, fetch)).unwrap_or(J::Null);
    envelope::operation(&[], &warnings, Some(("Object", obj)))
}

pub fn delete(st: &mut Store, kind: Kind, oid: u64) -> J {
    if st.get(oid).is_none_or(|o| o.kind != kind) {
        return envelope::operation(
            &[format!("Could not read: Could not read {} {oid} to delete.", info(kind).type_name)],
            &[],
            None,
        );
    }
    st.remove(oid);
    envelope::operation(&[], &[], None)
}
