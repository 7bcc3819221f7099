//! Each type's attributes: the table the object model is built from.

use super::*;

fn sys_fields() -> Vec<Field> {
    vec![
        ro("ObjectID", FK::Sys(Sys::ObjectId)),
        ro("ObjectUUID", FK::Sys(Sys::ObjectUuid)),
        ro("VersionId", FK::Sys(Sys::VersionId)),
        ro("CreationDate", FK::Date),
    ]
}

/// Attributes every artifact has; also the attribute set of the abstract `artifact` type.
pub(super) fn artifact_common() -> Vec<Field> {
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
        ro("Attachments", FK::Coll(Kind::Attachment, "Artifact")),
    ]);
    v
}

pub(super) fn build(
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

pub(super) fn make(kind: Kind) -> TypeInfo {
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
        K::Attachment => {
            // The description of a file on an artifact; its bytes are an AttachmentContent.
            // `Size` is the byte count before base64, as the client sends it.
            let mut v = sys_fields();
            v.extend([
                ro("Subscription", Ref(&[K::Subscription])),
                ro("Workspace", Ref(&[K::Workspace])),
                req("Artifact", Ref(&ARTIFACTS)),
                req("Content", Ref(&[K::AttachmentContent])),
                req("ContentType", Str),
                f("Description", Rich),
                req("Name", Str),
                req("Size", Int),
                f("User", Ref(&[K::User])),
            ]);
            build("Attachment", "attachment", "Attachment", "Attachment", None, v)
        }
        K::AttachmentContent => {
            let mut v = sys_fields();
            v.extend([
                ro("Subscription", Ref(&[K::Subscription])),
                ro("Workspace", Ref(&[K::Workspace])),
                req("Content", Str),
            ]);
            build("AttachmentContent", "attachmentcontent", "AttachmentContent", "AttachmentContent", None, v)
        }
    }
}
