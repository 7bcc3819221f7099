//! Rally WSAPI v2.0 client core.

pub mod ids;
pub mod input;
pub mod mapping;
pub mod model;
pub mod markup;
pub mod normalize;
pub mod query;
pub mod rally_types;
pub mod validate;

pub use model::{ArtifactType, Comment, Issue, IssueFilters, IssueState, IssueUpdate, NewIssue};
