//! The normalised model Panopticon sees, in its own words (`state`, `ref`, `parentId`).
//! Rally's words live in `rally_types`; `mapping` and `normalize` translate between them.

use serde::{Deserialize, Serialize};

/// Panopticon's `IssueState`: `'open' | 'in_progress' | 'closed'`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueState {
    #[default]
    Open,
    InProgress,
    Closed,
}

impl IssueState {
    pub const ALL: [IssueState; 3] = [IssueState::Open, IssueState::InProgress, IssueState::Closed];

    /// The name the tracker interface uses (`in_progress`), also in error messages.
    pub fn as_str(self) -> &'static str {
        match self {
            IssueState::Open => "open",
            IssueState::InProgress => "in_progress",
            IssueState::Closed => "closed",
        }
    }
}

/// The four Rally work item types this tracker covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum ArtifactType {
    #[default]
    UserStory,
    Defect,
    Task,
    Feature,
}

impl ArtifactType {
    pub const ALL: [ArtifactType; 4] =
        [ArtifactType::UserStory, ArtifactType::Defect, ArtifactType::Task, ArtifactType::Feature];

    /// WSAPI URL segment (object refs use it lower-cased).
    pub fn type_path(self) -> &'static str {
        match self {
            ArtifactType::UserStory => "hierarchicalrequirement",
            ArtifactType::Defect => "defect",
            ArtifactType::Task => "task",
            ArtifactType::Feature => "portfolioitem/feature",
        }
    }

    /// `_type` in responses, and the key of create/update bodies.
    pub fn type_name(self) -> &'static str {
        match self {
            ArtifactType::UserStory => "HierarchicalRequirement",
            ArtifactType::Defect => "Defect",
            ArtifactType::Task => "Task",
            ArtifactType::Feature => "PortfolioItem/Feature",
        }
    }

    /// Segment of the web UI detail URL: the UI says `userstory`, not `hierarchicalrequirement`.
    pub fn ui_segment(self) -> &'static str {
        match self {
            ArtifactType::UserStory => "userstory",
            ArtifactType::Defect => "defect",
            ArtifactType::Task => "task",
            ArtifactType::Feature => "portfolioitem/feature",
        }
    }

    /// The name the tracker interface uses (`UserStory`), also in error messages.
    pub fn as_str(self) -> &'static str {
        match self {
            ArtifactType::UserStory => "UserStory",
            ArtifactType::Defect => "Defect",
            ArtifactType::Task => "Task",
            ArtifactType::Feature => "Feature",
        }
    }

    /// Accepts a `_type`, a type path (any case) or the UI segment / JS name; a `_type` may also
    /// arrive with a leading slash from a ref.
    pub fn from_type_name(s: &str) -> Option<Self> {
        let s = s.trim().trim_matches('/');
        ArtifactType::ALL.into_iter().find(|t| {
            s.eq_ignore_ascii_case(t.type_path())
                || s.eq_ignore_ascii_case(t.type_name())
                || s.eq_ignore_ascii_case(t.ui_segment())
                || s.eq_ignore_ascii_case(t.as_str())
        })
    }
}

/// One work item as Panopticon sees it (plus our extra fields).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Issue {
    /// ObjectID, decimal.
    pub id: String,
    /// JS `ref`: the FormattedID.
    #[serde(rename = "ref")]
    pub reference: String,
    pub title: String,
    /// Markdown.
    pub description: String,
    pub state: IssueState,
    pub labels: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linked_issues: Option<Vec<String>>,
    /// 1 urgent .. 4 low.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_date: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub artifact_type: ArtifactType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_ref: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rally_state: Option<String>,
    /// The custom fields the `customFields` option asks for, by display name, in JSON form.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_fields: Option<serde_json::Map<String, serde_json::Value>>,
    /// URLs of the native PullRequest objects on the item (`getIssue` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pull_requests: Option<Vec<String>>,
    /// The item's Rally Project as a relative ref (`/project/123`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// The item's Rally Project's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_name: Option<String>,
    /// `Blocked` (stories, defects, tasks; absent on features).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked: Option<bool>,
    /// `BlockedReason`, when the item is blocked with one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked_reason: Option<String>,
    /// A task's `Estimate` (hours).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimate: Option<f64>,
    /// A task's `ToDo` (hours left).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_do: Option<f64>,
    /// A task's `Actuals` (hours spent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actuals: Option<f64>,
}

/// A file attached to a work item (Rally's `Attachment`; the bytes are its `AttachmentContent`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    /// The Attachment's ObjectID, decimal: what `get_attachment` takes.
    pub id: String,
    /// The FormattedID of the item it is attached to.
    pub issue_id: String,
    /// The file name.
    pub name: String,
    /// MIME type, as the uploader gave it.
    pub content_type: String,
    /// Bytes (before base64).
    pub size: u64,
    /// Markdown (converted from Rally's HTML).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The uploader's display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    pub created_at: String,
}

/// An attachment with its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AttachmentData {
    pub attachment: Attachment,
    pub content: Vec<u8>,
}

/// A discussion post. `issue_id` is the artifact's FormattedID.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Comment {
    pub id: String,
    pub issue_id: String,
    /// Markdown.
    pub body: String,
    pub author: String,
    pub created_at: String,
    pub updated_at: String,
}

/// `listIssues` filters.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssueFilters {
    pub state: Option<IssueState>,
    /// AND: an issue must carry every label.
    pub labels: Option<Vec<String>>,
    /// A user name, e-mail, display name, or `me`.
    pub assignee: Option<String>,
    pub team: Option<String>,
    /// Free text searched in title and description.
    pub query: Option<String>,
    pub limit: Option<u32>,
    pub include_closed: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewIssue {
    pub title: String,
    pub description: Option<String>,
    pub labels: Option<Vec<String>>,
    pub assignee: Option<String>,
    pub team: Option<String>,
    pub priority: Option<u32>,
    pub due_date: Option<String>,
    /// UserStory when absent.
    pub artifact_type: Option<ArtifactType>,
    /// Any accepted id form; required for a Task (its WorkProduct).
    pub parent: Option<String>,
    /// Custom fields by display name (or ElementName, with or without `c_`).
    pub custom_fields: Option<serde_json::Map<String, serde_json::Value>>,
    /// Blocked flag; `false` also clears the reason.
    pub blocked: Option<bool>,
    /// A reason marks the item blocked (`blocked` may be left out).
    pub blocked_reason: Option<String>,
    /// Task hours (Tasks only).
    pub estimate: Option<f64>,
    pub to_do: Option<f64>,
    pub actuals: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssueUpdate {
    pub title: Option<String>,
    pub description: Option<String>,
    pub state: Option<IssueState>,
    pub labels: Option<Vec<String>>,
    /// `''` clears the owner.
    pub assignee: Option<String>,
    pub priority: Option<u32>,
    pub due_date: Option<String>,
    /// Custom fields to set (null clears one).
    pub custom_fields: Option<serde_json::Map<String, serde_json::Value>>,
    /// Blocked flag; `false` also clears the reason.
    pub blocked: Option<bool>,
    /// A reason marks the item blocked (`blocked` may be left out).
    pub blocked_reason: Option<String>,
    /// Task hours (Tasks only).
    pub estimate: Option<f64>,
    pub to_do: Option<f64>,
    pub actuals: Option<f64>,
    /// A Rally state by name (`Accepted`): ScheduleState of a story or defect, State of a task,
    /// the State of a feature. Checked against the type's allowed values; not with `state`.
    pub rally_state: Option<String>,
    /// Tags added to the item's set (missing tags are created); not with `labels`.
    pub add_labels: Option<Vec<String>>,
    /// Tags taken off the item's set; not with `labels`.
    pub remove_labels: Option<Vec<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_round_trip() {
        for t in ArtifactType::ALL {
            for s in [t.type_path(), t.type_name(), t.as_str(), t.ui_segment()] {
                assert_eq!(ArtifactType::from_type_name(s), Some(t), "{s}");
                assert_eq!(ArtifactType::from_type_name(&s.to_uppercase()), Some(t), "{s}");
            }
        }
        assert_eq!(ArtifactType::from_type_name("/portfolioitem/feature"), Some(ArtifactType::Feature));
        assert_eq!(ArtifactType::from_type_name("PortfolioItem/Initiative"), None);
        assert_eq!(ArtifactType::from_type_name("testcase"), None);
        assert_eq!(ArtifactType::from_type_name(""), None);
    }

    #[test]
    fn serialises_with_the_interface_names() {
        let issue = Issue {
            id: "1".into(),
            reference: "US1".into(),
            state: IssueState::InProgress,
            artifact_type: ArtifactType::Feature,
            parent_id: Some("2".into()),
            ..Issue::default()
        };
        let v = serde_json::to_value(&issue).unwrap();
        assert_eq!(v["ref"], "US1");
        assert_eq!(v["state"], "in_progress");
        assert_eq!(v["artifactType"], "Feature");
        assert_eq!(v["parentId"], "2");
        assert!(v.get("assignee").is_none());
        assert!(v.get("reference").is_none());
    }
}
