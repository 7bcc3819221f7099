//! Rally WSAPI v2.0 client core.

pub mod cache;
pub mod config;
pub mod custom;
pub mod diagnose;
pub mod error;
pub mod http;
pub mod ids;
pub mod input;
pub mod keyed_lock;
pub mod limiter;
pub mod mapping;
pub mod markdown_cache;
pub mod markup;
pub mod model;
pub mod normalize;
pub mod paging;
pub mod pr_links;
pub mod query;
pub mod rally_types;
pub mod retry;
pub mod secret;
pub mod tracker;
pub mod validate;
pub mod wsapi;

pub use config::{LogEvent, Logger, TrackerConfig};
pub use error::RallyError;
pub use model::{ArtifactType, Comment, Issue, IssueFilters, IssueState, IssueUpdate, NewIssue};
pub use tracker::Tracker;
