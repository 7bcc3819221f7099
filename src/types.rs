//! The JS-facing shapes. Each mirrors a `rally_core` type; the doc comments become the TSDoc
//! of the generated `index.d.ts`. Conversions are field moves, except that JS numbers become the
//! core's integers (`numbers.rs`); every other rule lives in the core.

use crate::numbers;
use napi::threadsafe_function::ThreadsafeFunction;
use napi::Status;
use napi_derive::napi;
use rally_core as core;
use rally_core::integers;

/// Panopticon's issue state.
#[napi(string_enum = "snake_case")]
#[derive(Debug, PartialEq, Eq)]
pub enum IssueState {
    Open,
    InProgress,
    Closed,
}

/// Which tracker an issue comes from; always `'rally'` here.
#[napi(string_enum = "lowercase")]
#[derive(Debug, PartialEq, Eq)]
pub enum TrackerType {
    Rally,
}

/// The Rally work item type.
#[napi(string_enum)]
#[derive(Debug, PartialEq, Eq)]
pub enum ArtifactType {
    UserStory,
    Defect,
    Task,
    Feature,
}

/// One Rally work item in Panopticon's shape, plus Rally extras.
#[napi(object, object_from_js = false)]
pub struct Issue {
    /// The ObjectID, as a decimal string.
    pub id: String,
    /// The FormattedID (`US123`, `DE7`, `TA12`, `F3`).
    #[napi(js_name = "ref")]
    pub reference: String,
    pub title: String,
    /// Markdown (converted from Rally's HTML).
    pub description: String,
    pub state: IssueState,
    /// Tag names.
    pub labels: Vec<String>,
    /// The owner's display name.
    pub assignee: Option<String>,
    /// The issue's page in Rally's web UI.
    pub url: String,
    pub tracker: TrackerType,
    pub linked_issues: Option<Vec<String>>,
    /// 1 urgent, 2 high, 3 normal, 4 low (Defects only; from Rally's `Priority`).
    pub priority: Option<u32>,
    /// ISO date-time: a Defect's `TargetDate`, a Feature's `PlannedEndDate`.
    pub due_date: Option<String>,
    /// ISO date-time.
    pub created_at: String,
    /// ISO date-time.
    pub updated_at: String,
    pub artifact_type: ArtifactType,
    /// The parent's ObjectID (story `Parent` or `PortfolioItem`, task `WorkProduct`, defect
    /// `Requirement`, feature `Parent`).
    pub parent_id: Option<String>,
    /// The parent's FormattedID.
    pub parent_ref: Option<String>,
    /// The raw Rally state name (`ScheduleState`, or `State` for tasks, defects closed by
    /// `State`, and features).
    pub rally_state: Option<String>,
    /// The item's Rally Project as a relative ref (`/project/123`).
    pub project: Option<String>,
    /// The item's Rally Project's name.
    pub project_name: Option<String>,
    /// The custom fields the `customFields` option asks for, by display name (`MICS Category`),
    /// values in JSON form; absent without the option.
    #[napi(ts_type = "Record<string, unknown>")]
    pub custom_fields: Option<serde_json::Map<String, serde_json::Value>>,
    /// `getIssue` only (with `prLinks` other than `'comment'`): URLs of the PullRequest
    /// objects on the item.
    pub pull_requests: Option<Vec<String>>,
    /// Rally's `Blocked` flag (stories, defects and tasks; absent on features).
    pub blocked: Option<bool>,
    /// `BlockedReason`, when the item is blocked with a reason.
    pub blocked_reason: Option<String>,
    /// A Task's `Estimate`, in hours.
    pub estimate: Option<f64>,
    /// A Task's `ToDo` (hours left).
    pub to_do: Option<f64>,
    /// A Task's `Actuals` (hours spent).
    pub actuals: Option<f64>,
}

/// A discussion post.
#[napi(object, object_from_js = false)]
pub struct Comment {
    pub id: String,
    /// The FormattedID of the issue the post belongs to.
    pub issue_id: String,
    /// Markdown (converted from Rally's HTML).
    pub body: String,
    /// The author's display name.
    pub author: String,
    pub created_at: String,
    pub updated_at: String,
}

/// `listIssues` filters; all optional.
#[napi(object, object_to_js = false)]
pub struct IssueFilters {
    /// Only issues in this state (wins over `includeClosed`).
    pub state: Option<IssueState>,
    /// Issues carrying every one of these tags.
    pub labels: Option<Vec<String>>,
    /// A user name, e-mail or display name; `'me'` is the API key's owner.
    pub assignee: Option<String>,
    /// A project ref, ObjectID or name.
    pub team: Option<String>,
    /// Text searched in title and description.
    pub query: Option<String>,
    /// At most this many issues; without it every match (up to `maxResults`).
    pub limit: Option<f64>,
    /// Include closed issues (default false).
    pub include_closed: Option<bool>,
}

/// `createIssue` input.
#[napi(object, object_to_js = false)]
pub struct NewIssue {
    pub title: String,
    /// Markdown.
    pub description: Option<String>,
    pub labels: Option<Vec<String>>,
    /// A user name, e-mail or display name.
    pub assignee: Option<String>,
    /// The project (ref, ObjectID or name); default: the configured `project`.
    pub team: Option<String>,
    /// 1 urgent .. 4 low, 0 none; Defects only.
    pub priority: Option<f64>,
    /// `YYYY-MM-DD` or ISO date-time; Defects and Features only.
    pub due_date: Option<String>,
    /// Default `'UserStory'`.
    pub artifact_type: Option<ArtifactType>,
    /// The parent issue, in any id form; required for a Task.
    pub parent: Option<String>,
    /// Custom fields by display name (or ElementName, with or without `c_`); checked against
    /// the workspace schema before the create, over `createDefaults`.
    #[napi(ts_type = "Record<string, unknown>")]
    pub custom_fields: Option<serde_json::Map<String, serde_json::Value>>,
    /// Sets or clears Rally's `Blocked` flag; `false` also clears the reason. Not on Features.
    pub blocked: Option<bool>,
    /// A reason also sets `blocked` (a reason with `blocked: false` is refused).
    pub blocked_reason: Option<String>,
    /// Task hours (Tasks only): `Estimate`.
    pub estimate: Option<f64>,
    /// Task hours left: `ToDo` (Rally starts it at the estimate).
    pub to_do: Option<f64>,
    /// Task hours spent: `Actuals`.
    pub actuals: Option<f64>,
}

/// `updateIssue` input: only the fields given change.
#[napi(object, object_to_js = false)]
pub struct IssueUpdate {
    pub title: Option<String>,
    /// Markdown.
    pub description: Option<String>,
    pub state: Option<IssueState>,
    /// The complete new tag set.
    pub labels: Option<Vec<String>>,
    /// A user name, e-mail or display name; `''` clears the owner.
    pub assignee: Option<String>,
    pub priority: Option<f64>,
    pub due_date: Option<String>,
    /// Custom fields to set (`null` clears one), checked against the workspace schema first.
    #[napi(ts_type = "Record<string, unknown>")]
    pub custom_fields: Option<serde_json::Map<String, serde_json::Value>>,
    /// Sets or clears Rally's `Blocked` flag; `false` also clears the reason. Not on Features.
    pub blocked: Option<bool>,
    /// A reason also sets `blocked` (a reason with `blocked: false` is refused).
    pub blocked_reason: Option<String>,
    /// Task hours (Tasks only): `Estimate`.
    pub estimate: Option<f64>,
    /// Task hours left: `ToDo` (Rally starts it at the estimate).
    pub to_do: Option<f64>,
    /// Task hours spent: `Actuals`.
    pub actuals: Option<f64>,
    /// A Rally state by name (`'Accepted'`): a story's or defect's ScheduleState, a task's
    /// State, a feature's State. Checked against the type's allowed values; not with `state`.
    pub rally_state: Option<String>,
    /// Tags to add to the item's set (a missing tag is created); not with `labels`.
    pub add_labels: Option<Vec<String>>,
    /// Tags to take off the item's set; not with `labels`.
    pub remove_labels: Option<Vec<String>>,
}

/// What the `logger` callback receives. The message never contains the API key.
#[napi(object)]
pub struct LogEvent {
    /// `'debug'` or `'warn'`.
    pub level: String,
    pub message: String,
}

/// The JS logger, callable from any thread; weak, so it never keeps Node's event loop alive.
pub type JsLogger = ThreadsafeFunction<LogEvent, (), LogEvent, Status, false, true>;

/// `new RallyTracker(config)` options. Only `apiKey` is required.
#[napi(object, object_to_js = false)]
pub struct RallyTrackerConfig {
    /// Rally API key (`_abc123…`). Never printed, logged or put in errors.
    pub api_key: String,
    /// Host (`rally1.rallydev.com`) or URL; default `rally1.rallydev.com`.
    pub server: Option<String>,
    /// `/workspace/123`, a full ref URL or an ObjectID; default: the key owner's default workspace.
    pub workspace: Option<String>,
    /// `/project/123`, a full ref URL or an ObjectID; default: the whole workspace.
    pub project: Option<String>,
    /// Include child projects (default true).
    pub project_scope_down: Option<bool>,
    /// Include parent projects (default false).
    pub project_scope_up: Option<bool>,
    /// The types `listIssues` covers (default all four).
    pub artifact_types: Option<Vec<ArtifactType>>,
    /// Per-request timeout in ms (default 30000).
    pub timeout_ms: Option<f64>,
    /// Requests in flight at once, 1–12 (default 8).
    pub max_concurrency: Option<f64>,
    /// Retries of safe requests after transient failures (default 3).
    pub max_retries: Option<f64>,
    /// Cap on an unlimited `listIssues` (default 10000).
    pub max_results: Option<f64>,
    /// `http://host:port` proxy; `HTTPS_PROXY`/`NO_PROXY` are honoured without it.
    pub proxy: Option<String>,
    /// Extra trusted CA certificates, PEM.
    pub ca_certs: Option<Vec<String>>,
    /// Allow `http://` to a non-loopback host (default false).
    pub allow_insecure_http: Option<bool>,
    /// Receives debug and warning events.
    #[napi(ts_type = "(event: LogEvent) => void")]
    pub logger: Option<JsLogger>,
    /// Custom fields `Issue.customFields` carries: `'all'` or a list of names (default none).
    #[napi(ts_type = "string[] | 'all'")]
    pub custom_fields: Option<serde_json::Value>,
    /// Custom field values every create of a type gets (for fields the workspace requires).
    #[napi(ts_type = "Partial<Record<ArtifactType, Record<string, unknown>>>")]
    pub create_defaults: Option<serde_json::Value>,
    /// How `linkPR` records a link (default `'pullRequest'`, a discussion post where Rally refuses it).
    #[napi(ts_type = "'pullRequest' | 'comment' | 'both'")]
    pub pr_links: Option<String>,
}

impl From<IssueState> for core::IssueState {
    fn from(s: IssueState) -> Self {
        match s {
            IssueState::Open => core::IssueState::Open,
            IssueState::InProgress => core::IssueState::InProgress,
            IssueState::Closed => core::IssueState::Closed,
        }
    }
}

impl From<core::IssueState> for IssueState {
    fn from(s: core::IssueState) -> Self {
        match s {
            core::IssueState::Open => IssueState::Open,
            core::IssueState::InProgress => IssueState::InProgress,
            core::IssueState::Closed => IssueState::Closed,
        }
    }
}

impl From<ArtifactType> for core::ArtifactType {
    fn from(t: ArtifactType) -> Self {
        match t {
            ArtifactType::UserStory => core::ArtifactType::UserStory,
            ArtifactType::Defect => core::ArtifactType::Defect,
            ArtifactType::Task => core::ArtifactType::Task,
            ArtifactType::Feature => core::ArtifactType::Feature,
        }
    }
}

impl From<core::ArtifactType> for ArtifactType {
    fn from(t: core::ArtifactType) -> Self {
        match t {
            core::ArtifactType::UserStory => ArtifactType::UserStory,
            core::ArtifactType::Defect => ArtifactType::Defect,
            core::ArtifactType::Task => ArtifactType::Task,
            core::ArtifactType::Feature => ArtifactType::Feature,
        }
    }
}

impl From<core::Issue> for Issue {
    fn from(i: core::Issue) -> Self {
        Issue {
            id: i.id,
            reference: i.reference,
            title: i.title,
            description: i.description,
            state: i.state.into(),
            labels: i.labels,
            assignee: i.assignee,
            url: i.url,
            tracker: TrackerType::Rally,
            linked_issues: i.linked_issues,
            priority: i.priority,
            due_date: i.due_date,
            created_at: i.created_at,
            updated_at: i.updated_at,
            artifact_type: i.artifact_type.into(),
            parent_id: i.parent_id,
            parent_ref: i.parent_ref,
            rally_state: i.rally_state,
            project: i.project,
            project_name: i.project_name,
            custom_fields: i.custom_fields,
            pull_requests: i.pull_requests,
            blocked: i.blocked,
            blocked_reason: i.blocked_reason,
            estimate: i.estimate,
            to_do: i.to_do,
            actuals: i.actuals,
        }
    }
}

impl From<core::Comment> for Comment {
    fn from(c: core::Comment) -> Self {
        Comment {
            id: c.id,
            issue_id: c.issue_id,
            body: c.body,
            author: c.author,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

impl TryFrom<IssueFilters> for core::IssueFilters {
    type Error = core::RallyError;
    fn try_from(f: IssueFilters) -> Result<Self, Self::Error> {
        Ok(core::IssueFilters {
            state: f.state.map(Into::into),
            labels: f.labels,
            assignee: f.assignee,
            team: f.team,
            query: f.query,
            limit: small(numbers::optional(integers::LIMIT, f.limit)?),
            include_closed: f.include_closed,
        })
    }
}

impl TryFrom<NewIssue> for core::NewIssue {
    type Error = core::RallyError;
    fn try_from(n: NewIssue) -> Result<Self, Self::Error> {
        Ok(core::NewIssue {
            title: n.title,
            description: n.description,
            labels: n.labels,
            assignee: n.assignee,
            team: n.team,
            priority: small(numbers::optional(integers::PRIORITY, n.priority)?),
            due_date: n.due_date,
            artifact_type: n.artifact_type.map(Into::into),
            parent: n.parent,
            custom_fields: n.custom_fields,
            blocked: n.blocked,
            blocked_reason: n.blocked_reason,
            estimate: n.estimate,
            to_do: n.to_do,
            actuals: n.actuals,
        })
    }
}

impl TryFrom<IssueUpdate> for core::IssueUpdate {
    type Error = core::RallyError;
    fn try_from(u: IssueUpdate) -> Result<Self, Self::Error> {
        Ok(core::IssueUpdate {
            title: u.title,
            description: u.description,
            state: u.state.map(Into::into),
            labels: u.labels,
            assignee: u.assignee,
            priority: small(numbers::optional(integers::PRIORITY, u.priority)?),
            due_date: u.due_date,
            custom_fields: u.custom_fields,
            blocked: u.blocked,
            blocked_reason: u.blocked_reason,
            estimate: u.estimate,
            to_do: u.to_do,
            actuals: u.actuals,
            rally_state: u.rally_state,
            add_labels: u.add_labels,
            remove_labels: u.remove_labels,
        })
    }
}

/// A checked count into the `u32` the core takes (every range fits; saturating regardless).
fn small(n: Option<u64>) -> Option<u32> {
    n.map(|n| u32::try_from(n).unwrap_or(u32::MAX))
}
