//! Rally WSAPI v2.0 client core.
//!
//! The public face is what the Node binding uses: `Tracker` and its options, the issue shapes,
//! `RallyError`, the connection doctor, and the integer ranges the binding holds JS numbers to.
//! The hidden re-exports below exist for the fuzz targets, property tests and benchmarks,
//! which drive the pure parts directly.

mod cache;
mod config;
mod custom;
mod diagnose;
mod error;
mod http;
mod ids;
mod input;
mod keyed_lock;
mod limiter;
mod mapping;
mod markdown_cache;
mod markup;
mod model;
mod normalize;
mod paging;
mod pr_links;
mod query;
mod rally_types;
mod retry;
mod secret;
mod tracker;
mod validate;
mod wsapi;

pub use config::{LogEvent, Logger, TrackerConfig};
pub use diagnose::{config_report, diagnose, Check, Named, Network, Problem, Report, UserInfo};
pub use error::RallyError;
pub use secret::redact;

pub use model::{
    ArtifactType, Attachment, AttachmentData, Comment, Issue, IssueFilters, IssueState, IssueUpdate, NewIssue,
};
pub use tracker::{Listed, Tracker};

/// The integer arguments and options with their ranges; the binding holds JS numbers to them.
pub mod integers {
    pub use crate::input::{
        number_as_written, IntArg, LIMIT, MAX_BYTES, MAX_CONCURRENCY, MAX_RESULTS, MAX_RETRIES, PRIORITY, TIMEOUT_MS,
    };
}

// For the fuzz targets, property tests and benchmarks only.
#[doc(hidden)]
pub use {
    ids::{parse_issue_id, parse_object_ref, IssueId},
    mapping::{open_filter, StateOrders},
    markup::{html_to_markdown, markdown_to_html, raw_html_tags},
    normalize::{issue_from_rally, NormalizeCtx},
    query::{QValue, Query},
    rally_types::RallyArtifact,
    wsapi::QueryEnvelope,
};

/// The argument checks, for the property tests.
#[doc(hidden)]
pub mod checks {
    pub use crate::validate::{due_date, labels, limit, priority, LABEL_MAX_CHARS, LIMIT_MAX};
}
