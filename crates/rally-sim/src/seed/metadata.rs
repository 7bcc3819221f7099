//! The workspace's type and attribute metadata (TypeDefinitions, AttributeDefinitions, allowed
//! values), built from the schema itself.

use super::*;

fn split_camel(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.char_indices() {
        if i > 0 && c.is_ascii_uppercase() && !name[..i].ends_with(|p: char| p.is_ascii_uppercase()) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// Type and attribute metadata, built from the schema itself: the type definitions first, then
/// each type's attribute definitions with the allowed values of its drop-downs.
pub(super) fn metadata(st: &mut Store, today: i64, ws: u64) -> Vec<(Kind, u64)> {
    let mut typedefs = Vec::new();
    // The PullRequest type and the artifacts' `PullRequests` are defined last (`late_metadata`),
    // so the ObjectIDs of the seed data stay what they were before the type existed.
    // So are the attachment types (`attachment_metadata`).
    let late = [Kind::PullRequest, Kind::Attachment, Kind::AttachmentContent];
    for kind in ALL_KINDS.into_iter().filter(|k| !late.contains(k)) {
        typedefs.push((kind, type_definition(st, today, ws, kind)));
    }
    let value_type = typedefs.iter().find(|(k, _)| *k == Kind::AllowedAttributeValue).map_or(0, |(_, o)| *o);
    for &(kind, td) in &typedefs {
        for fd in info(kind).fields.iter().filter(|f| f.name != "PullRequests" && f.name != "Attachments") {
            attribute_definition(st, today, kind, td, value_type, fd);
        }
    }
    typedefs
}

fn type_definition(st: &mut Store, today: i64, ws: u64, kind: Kind) -> u64 {
    let ti = info(kind);
    let display = if kind == Kind::HierarchicalRequirement { "User Story" } else { ti.element_name };
    // What a client may do with the type here: create/delete work items, tags, posts, PRs.
    let writable = crate::schema::is_artifact(kind) || crate::schema::is_creatable_other(kind);
    let ordinal = match kind {
        Kind::Feature => 0,
        Kind::Initiative => 1,
        _ => -1,
    };
    plain(
        st,
        Kind::TypeDefinition,
        today,
        &[
            ("Workspace", FVal::Ref(ws)),
            ("Abstract", FVal::Bool(false)),
            ("Creatable", FVal::Bool(writable)),
            ("Deletable", FVal::Bool(writable)),
            ("DisplayName", s(display)),
            ("ElementName", s(ti.element_name)),
            ("IDPrefix", ti.prefix.map_or(FVal::Null, s)),
            (
                "Name",
                s(if kind == Kind::HierarchicalRequirement { "Hierarchical Requirement" } else { ti.element_name }),
            ),
            ("Ordinal", FVal::Int(ordinal)),
            ("Queryable", FVal::Bool(true)),
            (
                "ReadOnly",
                FVal::Bool(matches!(
                    kind,
                    Kind::TypeDefinition | Kind::AttributeDefinition | Kind::AllowedAttributeValue
                )),
            ),
            ("Restorable", FVal::Bool(crate::schema::is_artifact(kind))),
            ("TypePath", s(ti.type_path)),
        ],
    )
}

fn attribute_definition(st: &mut Store, today: i64, kind: Kind, td: u64, value_type: u64, fd: &crate::schema::Field) {
    let max_length = match fd.kind {
        FK::Rich => crate::write::RICH_MAX as i64,
        FK::Str if kind == Kind::Tag && fd.name == "Name" => crate::write::TAG_MAX as i64,
        FK::Str | FK::Enum(_) => 256,
        _ => -1,
    };
    let ad = plain(
        st,
        Kind::AttributeDefinition,
        today,
        &[
            ("AllowedValueType", if matches!(fd.kind, FK::Enum(_)) { FVal::Ref(value_type) } else { FVal::Null }),
            ("AttributeType", s(crate::schema::attribute_type(fd.kind))),
            ("Constrained", FVal::Bool(matches!(fd.kind, FK::Enum(_)))),
            ("Custom", FVal::Bool(false)),
            ("ElementName", s(fd.name)),
            ("Filterable", FVal::Bool(!matches!(fd.kind, FK::Coll(..)))),
            ("Hidden", FVal::Bool(false)),
            ("MaxFractionalDigits", FVal::Int(if fd.kind == FK::Num { 2 } else { -1 })),
            ("MaxLength", FVal::Int(max_length)),
            ("Name", s(split_camel(fd.name))),
            ("ReadOnly", FVal::Bool(!fd.writable)),
            ("Required", FVal::Bool(fd.required)),
            ("SchemaType", s(crate::schema::schema_type(fd.kind))),
            ("TypeDefinition", FVal::Ref(td)),
        ],
    );
    if let FK::Enum(values) = fd.kind {
        let values = st.values(values);
        allowed_values(st, today, ad, values.iter().map(|v| v.to_string()));
    }
}

fn allowed_values(st: &mut Store, today: i64, ad: u64, values: impl Iterator<Item = String>) {
    for (i, v) in values.enumerate() {
        plain(
            st,
            Kind::AllowedAttributeValue,
            today,
            &[("AttributeDefinition", FVal::Ref(ad)), ("StringValue", s(v)), ("ValueIndex", FVal::Int(i as i64))],
        );
    }
}

/// Metadata made after the seed data: the PullRequest type (when the workspace has it) with
/// the artifacts' `PullRequests` attribute, then the custom fields (positive ObjectIDs, as
/// Rally gives attributes an administrator added).
pub(super) fn late_metadata(st: &mut Store, today: i64, ws: u64, typedefs: &[(Kind, u64)]) {
    let td_of = |k: Kind| typedefs.iter().find(|(x, _)| *x == k).map_or(0, |(_, o)| *o);
    let value_type = td_of(Kind::AllowedAttributeValue);
    if st.pull_requests {
        let pr_td = type_definition(st, today, ws, Kind::PullRequest);
        for fd in &info(Kind::PullRequest).fields {
            attribute_definition(st, today, Kind::PullRequest, pr_td, value_type, fd);
        }
        for kind in crate::schema::ARTIFACTS {
            if let Some(fd) = info(kind).field("PullRequests") {
                attribute_definition(st, today, kind, td_of(kind), value_type, fd);
            }
        }
    }
    for f in st.custom.clone() {
        let mut o = st.blank(Kind::AttributeDefinition);
        let constrained = !f.allowed.is_empty();
        let fields: Vec<(&str, FVal)> = vec![
            ("CreationDate", FVal::Date(today)),
            ("AllowedValueType", if constrained { FVal::Ref(value_type) } else { FVal::Null }),
            ("AttributeType", s(f.ty.attribute_type())),
            ("Constrained", FVal::Bool(constrained)),
            ("Custom", FVal::Bool(true)),
            ("ElementName", s(f.element.clone())),
            ("Filterable", FVal::Bool(true)),
            ("Hidden", FVal::Bool(false)),
            ("MaxFractionalDigits", FVal::Int(if f.ty == crate::custom::CType::Num { 2 } else { -1 })),
            ("MaxLength", FVal::Int(f.max_length.map_or(-1, |m| m as i64))),
            ("Name", s(f.display.clone())),
            ("ReadOnly", FVal::Bool(false)),
            ("Required", FVal::Bool(f.required)),
            ("SchemaType", s(f.ty.schema_type())),
            ("TypeDefinition", FVal::Ref(td_of(f.kind))),
        ];
        for (k, v) in fields {
            set(&mut o, k, v);
        }
        let ad = o.oid;
        st.put(o);
        if constrained {
            // Rally's drop-downs hold an empty "null" value first.
            let values = std::iter::once(String::new()).chain(f.allowed.iter().cloned());
            allowed_values(st, today, ad, values);
        }
    }
    // The attachment types and the artifacts' `Attachments`: last, so every ObjectID made
    // before they existed stays what it was.
    for kind in [Kind::Attachment, Kind::AttachmentContent] {
        let td = type_definition(st, today, ws, kind);
        for fd in &info(kind).fields {
            attribute_definition(st, today, kind, td, value_type, fd);
        }
    }
    for kind in crate::schema::ARTIFACTS {
        if let Some(fd) = info(kind).field("Attachments") {
            attribute_definition(st, today, kind, td_of(kind), value_type, fd);
        }
    }
}
