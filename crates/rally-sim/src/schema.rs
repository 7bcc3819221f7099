//! The object model: which types exist, which attributes each has and of what kind.
//!
//! Values of an object live in a `Vec` aligned with its type's field list, so reading an
//! attribute is an index, and a query resolves attribute names once per type.

use std::collections::HashMap;
use std::sync::OnceLock;

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
}

pub const ALL_KINDS: [Kind; 17] = [
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

fn sys_fields() -> Vec<Field> {
    vec![
        ro("ObjectID", FK::Sys(Sys::ObjectId)),
        ro("ObjectUUID", FK::Sys(Sys::ObjectUuid)),
        ro("VersionId", FK::Sys(Sys::VersionId)),
        ro("CreationDate", FK::Date),
    ]
}

/// Attributes every artifact has; also the attribute set of the abstract `artifact` type.
fn artifact_common() -> Vec<Field> {
    let mut v = sys_fields();
    v.extend([
        ro("Subscription", FK::Ref(&[Kind::Subscription])),
        f("Workspace", FK::Ref(&[Kind::Workspace])),
        f("CreatedBy", FK::Ref(&[Kind::User])),
        f("Description", FK::Rich),
        ro("Discussion", FK::Coll(Kind::ConversationPost, "Artifact")),
        f("DisplayColor", FK::Str),
        f("Expedite", FK::Bool),
        ro("FormattedID", FK::Str),
        ro("LastUpdateDate", FK::Date),
        req("Name", FK::Str),
        f("Notes", FK::Rich),
        f("Owner", FK::Ref(&[Kind::User])),
        f("Project", FK::Ref(&[Kind::Project])),
        f("Ready", FK::Bool),
        f("Tags", FK::Refs(Kind::Tag)),
        ro("PullRequests", FK::Coll(Kind::PullRequest, "Artifact")),
    ]);
    v
}

fn build(
    type_name: &'static str,
    path: &'static str,
    type_path: &'static str,
    element_name: &'static str,
    prefix: Option<&'static str>,
    fields: Vec<Field>,
) -> TypeInfo {
    let index = fields.iter().enumerate().map(|(i, f)| (f.name, i)).collect();
    TypeInfo { type_name, path, type_path, element_name, prefix, fields, index }
}

fn make(kind: Kind) -> TypeInfo {
    use Kind as K;
    use FK::*;
    match kind {
        K::Subscription => {
            let mut v = sys_fields();
            v.extend([f("Name", Str), ro("SubscriptionID", Int), ro("Workspaces", Coll(K::Workspace, "Subscription"))]);
            build("Subscription", "subscription", "Subscription", "Subscription", None, v)
        }
        K::Workspace => {
            let mut v = sys_fields();
            v.extend([
                ro("Subscription", Ref(&[K::Subscription])),
                f("Description", Rich),
                f("Name", Str),
                f("Owner", Ref(&[K::User])),
                ro("Projects", Coll(K::Project, "Workspace")),
                f("State", Str),
                ro("TypeDefinitions", Coll(K::TypeDefinition, "Workspace")),
            ]);
            build("Workspace", "workspace", "Workspace", "Workspace", None, v)
        }
        K::Project => {
            let mut v = sys_fields();
            v.extend([
                ro("Subscription", Ref(&[K::Subscription])),
                ro("Workspace", Ref(&[K::Workspace])),
                ro("Children", Coll(K::Project, "Parent")),
                f("Description", Rich),
                req("Name", Str),
                f("Owner", Ref(&[K::User])),
                f("Parent", Ref(&[K::Project])),
                f("State", Str),
            ]);
            build("Project", "project", "Project", "Project", None, v)
        }
        K::User => {
            let mut v = sys_fields();
            v.extend([
                ro("Subscription", Ref(&[K::Subscription])),
                f("Disabled", Bool),
                f("DisplayName", Str),
                f("EmailAddress", Str),
                f("FirstName", Str),
                f("LastName", Str),
                ro("UserName", Str),
                ro("UserProfile", Ref(&[K::UserProfile])),
            ]);
            build("User", "user", "User", "User", None, v)
        }
        K::Tag => {
            let mut v = sys_fields();
            v.extend([ro("Workspace", Ref(&[K::Workspace])), f("Archived", Bool), req("Name", Str)]);
            build("Tag", "tag", "Tag", "Tag", None, v)
        }
        K::State => {
            let mut v = sys_fields();
            v.extend([
                ro("Workspace", Ref(&[K::Workspace])),
                f("Description", Str),
                req("Name", Str),
                f("OrderIndex", Int),
                ro("TypeDef", Ref(&[K::TypeDefinition])),
            ]);
            build("State", "state", "State", "State", None, v)
        }
        K::TypeDefinition => {
            let mut v = sys_fields();
            v.extend([
                ro("Workspace", Ref(&[K::Workspace])),
                ro("Abstract", Bool),
                ro("Attributes", Coll(K::AttributeDefinition, "TypeDefinition")),
                ro("Creatable", Bool),
                ro("Deletable", Bool),
                ro("DisplayName", Str),
                ro("ElementName", Str),
                ro("IDPrefix", Str),
                ro("Name", Str),
                ro("Ordinal", Int),
                ro("Parent", Ref(&[K::TypeDefinition])),
                ro("Queryable", Bool),
                ro("ReadOnly", Bool),
                ro("Restorable", Bool),
                ro("TypePath", Str),
            ]);
            build("TypeDefinition", "typedefinition", "TypeDefinition", "TypeDefinition", None, v)
        }
        K::AttributeDefinition => {
            let mut v = sys_fields();
            v.extend([
                ro("AllowedValueType", Ref(&[K::TypeDefinition])),
                ro("AllowedValues", Coll(K::AllowedAttributeValue, "AttributeDefinition")),
                ro("AttributeType", Str),
                ro("Constrained", Bool),
                ro("Custom", Bool),
                ro("ElementName", Str),
                ro("Filterable", Bool),
                ro("Hidden", Bool),
                ro("MaxFractionalDigits", Int),
                ro("MaxLength", Int),
                ro("Name", Str),
                ro("ReadOnly", Bool),
                ro("Required", Bool),
                ro("SchemaType", Str),
                ro("TypeDefinition", Ref(&[K::TypeDefinition])),
            ]);
            build("AttributeDefinition", "attributedefinition", "AttributeDefinition", "AttributeDefinition", None, v)
        }
        K::AllowedAttributeValue => {
            let mut v = sys_fields();
            v.extend([
                ro("AttributeDefinition", Ref(&[K::AttributeDefinition])),
                ro("StringValue", Str),
                ro("ValueIndex", Int),
            ]);
            build(
                "AllowedAttributeValue",
                "allowedattributevalue",
                "AllowedAttributeValue",
                "AllowedAttributeValue",
                None,
                v,
            )
        }
        K::HierarchicalRequirement => {
            let mut v = artifact_common();
            v.extend([
                f("AcceptedDate", Date),
                f("Blocked", Bool),
                f("BlockedReason", Str),
                ro("Children", Coll(K::HierarchicalRequirement, "Parent")),
                ro("Defects", Coll(K::Defect, "Requirement")),
                ro("DirectChildrenCount", CountOf("Children")),
                ro("Feature", Ref(&[K::Feature])),
                f("InProgressDate", Date),
                f("Parent", Ref(&[K::HierarchicalRequirement])),
                f("PlanEstimate", Num),
                f("PortfolioItem", Ref(&[K::Feature])),
                f("ScheduleState", Enum(SCHEDULE_STATES)),
                ro("Tasks", Coll(K::Task, "WorkProduct")),
            ]);
            build(
                "HierarchicalRequirement",
                "hierarchicalrequirement",
                "HierarchicalRequirement",
                "HierarchicalRequirement",
                Some("US"),
                v,
            )
        }
        K::Defect => {
            let mut v = artifact_common();
            v.extend([
                f("AcceptedDate", Date),
                f("Blocked", Bool),
                f("BlockedReason", Str),
                f("ClosedDate", Date),
                f("Environment", Str),
                f("OpenedDate", Date),
                f("PlanEstimate", Num),
                f("Priority", Enum(PRIORITIES)),
                f("Requirement", Ref(&[K::HierarchicalRequirement])),
                f("Resolution", Str),
                f("ScheduleState", Enum(SCHEDULE_STATES)),
                f("Severity", Enum(SEVERITIES)),
                f("State", Enum(DEFECT_STATES)),
                f("SubmittedBy", Ref(&[K::User])),
                f("TargetDate", Date),
                ro("Tasks", Coll(K::Task, "WorkProduct")),
            ]);
            build("Defect", "defect", "Defect", "Defect", Some("DE"), v)
        }
        K::Task => {
            let mut v = artifact_common();
            v.extend([
                f("Actuals", Num),
                f("Blocked", Bool),
                f("BlockedReason", Str),
                f("Estimate", Num),
                f("State", Enum(TASK_STATES)),
                f("TimeSpent", Num),
                f("ToDo", Num),
                req("WorkProduct", Ref(&WORK_PRODUCTS)),
            ]);
            build("Task", "task", "Task", "Task", Some("TA"), v)
        }
        K::Feature => {
            let mut v = artifact_common();
            v.extend([
                f("ActualEndDate", Date),
                f("ActualStartDate", Date),
                ro("DirectChildrenCount", CountOf("UserStories")),
                f("Parent", Ref(&[K::Initiative])),
                ro("PercentDoneByStoryCount", Num),
                f("PlannedEndDate", Date),
                f("PlannedStartDate", Date),
                f("State", Ref(&[K::State])),
                ro("UserStories", Coll(K::HierarchicalRequirement, "PortfolioItem")),
            ]);
            build("PortfolioItem/Feature", "portfolioitem/feature", "PortfolioItem/Feature", "Feature", Some("F"), v)
        }
        K::Initiative => {
            let mut v = artifact_common();
            v.extend([
                f("ActualEndDate", Date),
                f("ActualStartDate", Date),
                ro("Children", Coll(K::Feature, "Parent")),
                ro("DirectChildrenCount", CountOf("Children")),
                f("PlannedEndDate", Date),
                f("PlannedStartDate", Date),
                f("State", Ref(&[K::State])),
            ]);
            build(
                "PortfolioItem/Initiative",
                "portfolioitem/initiative",
                "PortfolioItem/Initiative",
                "Initiative",
                Some("I"),
                v,
            )
        }
        K::ConversationPost => {
            let mut v = sys_fields();
            v.extend([
                ro("Subscription", Ref(&[K::Subscription])),
                ro("Workspace", Ref(&[K::Workspace])),
                req("Artifact", Ref(&ARTIFACTS)),
                ro("PostNumber", Int),
                req("Text", Rich),
                ro("User", Ref(&[K::User])),
            ]);
            build("ConversationPost", "conversationpost", "ConversationPost", "ConversationPost", None, v)
        }
        K::UserProfile => {
            // What toolkits read at connect: the user's default workspace and project.
            let mut v = sys_fields();
            v.extend([
                f("DefaultProject", Ref(&[K::Project])),
                f("DefaultWorkspace", Ref(&[K::Workspace])),
                f("EmailNotificationEnabled", Bool),
                f("TimeZone", Str),
            ]);
            build("UserProfile", "userprofile", "UserProfile", "UserProfile", None, v)
        }
        K::PullRequest => {
            // What Rally's VCS connectors write: the pull request of a repository, on an artifact.
            let mut v = sys_fields();
            v.extend([
                ro("Subscription", Ref(&[K::Subscription])),
                ro("Workspace", Ref(&[K::Workspace])),
                req("Artifact", Ref(&ARTIFACTS)),
                f("Description", Rich),
                req("ExternalFormattedId", Str),
                req("ExternalID", Str),
                req("Name", Str),
                req("Url", Str),
            ]);
            build("PullRequest", "pullrequest", "PullRequest", "PullRequest", None, v)
        }
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
