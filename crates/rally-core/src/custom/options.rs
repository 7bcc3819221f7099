//! The options about custom fields and links: `customFields`, `createDefaults`, `prLinks`.

use crate::error::RallyError;
use crate::model::ArtifactType;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Which custom fields `Issue.customFields` carries (`customFields` option).
#[derive(Debug, Clone, PartialEq, Default)]
pub enum CustomFieldsOption {
    #[default]
    None,
    All,
    /// As the caller named them (display name, ElementName, with or without `c_`).
    Named(Vec<String>),
}

impl CustomFieldsOption {
    pub fn is_none(&self) -> bool {
        matches!(self, CustomFieldsOption::None)
    }
}

/// How `linkPR` records a link (`prLinks` option).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PrLinks {
    /// A native `PullRequest` object, where Rally's UI and reports show pull requests: the
    /// default (falls back to a post where the workspace refuses the object).
    #[default]
    PullRequest,
    /// A discussion post holding the URL.
    Comment,
    /// Both: the PullRequest object for Rally's UI and reports, the post for people.
    Both,
}

impl PrLinks {
    pub fn parse(s: &str) -> Option<PrLinks> {
        match s {
            "pullRequest" => Some(PrLinks::PullRequest),
            "comment" => Some(PrLinks::Comment),
            "both" => Some(PrLinks::Both),
            _ => None,
        }
    }
    pub fn native(self) -> bool {
        matches!(self, PrLinks::PullRequest | PrLinks::Both)
    }
}

/// The `createDefaults` option: `{ UserStory: { Team: 'Red' } }`, keyed by artifact type.
pub fn parse_create_defaults(v: &Value) -> Result<HashMap<ArtifactType, Map<String, Value>>, RallyError> {
    let Value::Object(m) = v else {
        return Err(RallyError::invalid("createDefaults", "must be an object keyed by artifact type"));
    };
    let mut out = HashMap::new();
    for (k, fields) in m {
        let t = ArtifactType::from_type_name(k).ok_or_else(|| {
            RallyError::invalid(
                format!("createDefaults.{k}"),
                "is not an artifact type; use UserStory, Defect, Task or Feature",
            )
        })?;
        let Value::Object(f) = fields else {
            return Err(RallyError::invalid(format!("createDefaults.{k}"), "must be an object of field: value"));
        };
        out.insert(t, f.clone());
    }
    Ok(out)
}

/// The `customFields` option: `'all'` or a list of names.
pub fn parse_custom_fields_option(v: &Value) -> Result<CustomFieldsOption, RallyError> {
    match v {
        Value::Null => Ok(CustomFieldsOption::None),
        Value::String(s) if s == "all" => Ok(CustomFieldsOption::All),
        Value::Array(items) => {
            let mut names = Vec::new();
            for (i, x) in items.iter().enumerate() {
                match x.as_str().map(str::trim).filter(|s| !s.is_empty()) {
                    Some(s) => names.push(s.to_string()),
                    None => return Err(RallyError::invalid(format!("customFields[{i}]"), "must be a field name")),
                }
            }
            Ok(if names.is_empty() { CustomFieldsOption::None } else { CustomFieldsOption::Named(names) })
        }
        _ => Err(RallyError::invalid("customFields", "must be 'all' or a list of custom field names")),
    }
}
