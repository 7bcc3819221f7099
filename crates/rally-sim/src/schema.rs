//! The object model: which types exist, which attributes each has and of what kind.
//!
//! Values of an object live in a `Vec` aligned with its type's field list, so reading an
//! attribute is an index, and a query resolves attribute names once per type.

use std::collections::HashMap;
use std::sync::OnceLock;

mod types;
use types::{artifact_common, build, make};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Subscription,
    Workspace,
    Project,
    User,
    Tag,
    State,
    TypeDefinition,
    AttributeDefinition,
    AllowedAttributeValue,
    HierarchicalRequirement,
    Defect,
    Task,
    Feature,
    Initiative,
    ConversationPost,
    UserProfile,
    PullRequest,
    Attachment,
    AttachmentContent,
}

pub const ALL_KINDS: [Kind; 19] = [
    Kind::Subscription,
    Kind::Workspace,
    Kind::Project,
    Kind::User,
    Kind::Tag,
    Kind::State,
    Kind::TypeDefinition,
    Kind::AttributeDefinition,
    Kind::AllowedAttributeValue,
    Kind::HierarchicalRequirement,
    Kind::Defect,
    Kind::Task,
    Kind::Feature,
    Kind::Initiative,
    Kind::ConversationPost,
    Kind::UserProfile,
    Kind::PullRequest,
    Kind::Attachment,
    Kind::AttachmentContent,
];

pub const ARTIFACTS: [Kind; 5] =
    [Kind::HierarchicalRequirement, Kind::Defect, Kind::Task, Kind::Feature, Kind::Initiative];
const PORTFOLIO: [Kind; 2] = [Kind::Feature, Kind::Initiative];
const WORK_PRODUCTS: [Kind; 2] = [Kind::HierarchicalRequirement, Kind::Defect];

pub const SCHEDULE_STATES: &[&str] = &["Defined", "In-Progress", "Completed", "Accepted"];
pub const DEFECT_STATES: &[&str] = &["Submitted", "Open", "Fixed", "Closed"];
pub const TASK_STATES: &[&str] = &["Defined", "In-Progress", "Completed"];
pub const PRIORITIES: &[&str] = &["None", "Resolve Immediately", "High Attention", "Normal", "Low"];
pub const SEVERITIES: &[&str] = &["None", "Crash/Data Loss", "Major Problem", "Minor Problem", "Cosmetic"];
pub const PI_STATES: &[&str] = &["Discovering", "Developing", "Measuring", "Done"];

/// What an attribute holds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FK {
    /// ObjectID, ObjectUUID, VersionId: kept on the object itself.
    Sys(Sys),
    Str,
    /// HTML rich text, 32 KB limit.
    Rich,
    Int,
    Num,
    Bool,
    Date,
    /// A drop-down: the slice is the value order used by `<`/`>`.
    Enum(&'static [&'static str]),
    /// A reference to one object of one of these kinds.
    Ref(&'static [Kind]),
    /// A stored set of references (Tags).
    Refs(Kind),
    /// A derived collection: the members of `kind` whose `field` points at this object.
    Coll(Kind, &'static str),
    /// Derived: number of members of the named collection field.
    CountOf(&'static str),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Sys {
    ObjectId,
    ObjectUuid,
    VersionId,
}

#[derive(Clone, Copy, Debug)]
pub struct Field {
    pub name: &'static str,
    pub kind: FK,
    /// Clients may set it.
    pub writable: bool,
    /// Must be non-null on create.
    pub required: bool,
}

const fn f(name: &'static str, kind: FK) -> Field {
    Field { name, kind, writable: true, required: false }
}
const fn ro(name: &'static str, kind: FK) -> Field {
    Field { name, kind, writable: false, required: false }
}
const fn req(name: &'static str, kind: FK) -> Field {
    Field { name, kind, writable: true, required: true }
}

pub struct TypeInfo {
    /// `_type` and the envelope key.
    pub type_name: &'static str,
    /// Lower-case path used in object refs.
    pub path: &'static str,
    /// CamelCase path used in collection refs.
    pub type_path: &'static str,
    pub element_name: &'static str,
    pub prefix: Option<&'static str>,
    pub fields: Vec<Field>,
    index: HashMap<&'static str, usize>,
}

impl TypeInfo {
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.field_index(name).map(|i| &self.fields[i])
    }
    /// Case-insensitive lookup, for write bodies.
    pub fn field_index_ci(&self, name: &str) -> Option<usize> {
        self.field_index(name).or_else(|| self.fields.iter().position(|f| f.name.eq_ignore_ascii_case(name)))
    }
}

/// An endpoint's type: one concrete kind or an abstract union.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    One(Kind),
    /// `artifact` / `portfolioitem`: the member kinds and the attribute set they share.
    Abstract {
        name: &'static str,
        kinds: Vec<Kind>,
    },
}

impl Target {
    pub fn kinds(&self) -> Vec<Kind> {
        match self {
            Target::One(k) => vec![*k],
            Target::Abstract { kinds, .. } => kinds.clone(),
        }
    }
    pub fn type_name(&self) -> &'static str {
        match self {
            Target::One(k) => info(*k).type_name,
            Target::Abstract { name, .. } => name,
        }
    }
    /// Attribute definitions visible on this type (for queries and order).
    pub fn field(&self, name: &str) -> Option<Field> {
        match self {
            Target::One(k) => info(*k).field(name).copied(),
            Target::Abstract { .. } => abstract_artifact().field(name).copied(),
        }
    }
}

fn abstract_artifact() -> &'static TypeInfo {
    static A: OnceLock<TypeInfo> = OnceLock::new();
    A.get_or_init(|| build("Artifact", "artifact", "Artifact", "Artifact", None, artifact_common()))
}

pub fn info(kind: Kind) -> &'static TypeInfo {
    static ALL: OnceLock<Vec<TypeInfo>> = OnceLock::new();
    let all = ALL.get_or_init(|| ALL_KINDS.iter().map(|k| make(*k)).collect());
    &all[kind as usize]
}

/// Resolves a URL type segment (case-insensitive) to an endpoint type.
pub fn target_by_path(path: &str) -> Option<Target> {
    let p = path.to_ascii_lowercase();
    match p.as_str() {
        "artifact" => Some(Target::Abstract { name: "Artifact", kinds: ARTIFACTS.to_vec() }),
        "portfolioitem" => Some(Target::Abstract { name: "PortfolioItem", kinds: PORTFOLIO.to_vec() }),
        "hierarchicalrequirement" => Some(Target::One(Kind::HierarchicalRequirement)),
        _ => ALL_KINDS.iter().find(|k| info(**k).path == p).map(|k| Target::One(*k)),
    }
}

/// Kind by `_type` name or ElementName (case-insensitive), for write bodies and refs.
pub fn kind_by_name(name: &str) -> Option<Kind> {
    ALL_KINDS.iter().copied().find(|k| {
        let i = info(*k);
        i.type_name.eq_ignore_ascii_case(name)
            || i.element_name.eq_ignore_ascii_case(name)
            || i.path.eq_ignore_ascii_case(name)
    })
}

pub fn is_artifact(kind: Kind) -> bool {
    ARTIFACTS.contains(&kind)
}

/// The types other than artifacts a client may create and delete here.
pub fn is_creatable_other(kind: Kind) -> bool {
    matches!(kind, Kind::Tag | Kind::ConversationPost | Kind::PullRequest | Kind::Attachment | Kind::AttachmentContent)
}

/// The XML-schema-like `SchemaType` of an attribute (an approximation: Rally's own values for
/// every attribute were not available).
pub fn schema_type(kind: FK) -> String {
    match kind {
        FK::Sys(Sys::ObjectId) | FK::Int | FK::CountOf(_) => "xsd:long".into(),
        FK::Sys(_) | FK::Str | FK::Rich | FK::Enum(_) => "xsd:string".into(),
        FK::Num => "xsd:double".into(),
        FK::Bool => "xsd:boolean".into(),
        FK::Date => "xsd:dateTime".into(),
        FK::Ref(ks) => ks.first().map_or("Object", |k| info(*k).element_name).into(),
        FK::Refs(k) | FK::Coll(k, _) => format!("{}Collection", info(k).element_name),
    }
}

/// Rally's AttributeType names, for the metadata endpoints.
pub fn attribute_type(kind: FK) -> &'static str {
    match kind {
        FK::Sys(Sys::ObjectId) | FK::Int | FK::CountOf(_) => "INTEGER",
        FK::Sys(_) | FK::Str => "STRING",
        FK::Rich => "TEXT",
        FK::Num => "QUANTITY",
        FK::Bool => "BOOLEAN",
        FK::Date => "DATE",
        FK::Enum(_) => "RATING",
        FK::Ref(_) => "OBJECT",
        FK::Refs(_) | FK::Coll(..) => "COLLECTION",
    }
}
