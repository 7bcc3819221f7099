//! Custom fields: the workspace schema as far as the tracker needs it (each work item type's
//! `c_` attributes, which are required, their allowed values and maximum lengths), and the
//! checks a write's custom fields pass before any request.
//!
//! A custom field is named in JS by its display name (the AttributeDefinition's `Name`, e.g.
//! `MICS Category`), as Rally's own messages name it; on input the ElementName with or without
//! `c_` (`MICSCategory`, `c_MICSCategory`) is accepted too, in any case.

use crate::error::RallyError;
use crate::model::ArtifactType;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};

mod options;
pub use options::{parse_create_defaults, parse_custom_fields_option, CustomFieldsOption, PrLinks};

/// One custom attribute of one type.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomAttr {
    /// `c_MICSCategory`.
    pub element: String,
    /// `MICS Category`: the key in `Issue.customFields`.
    pub name: String,
    pub required: bool,
    /// Rally's AttributeType: STRING, TEXT, INTEGER, QUANTITY, BOOLEAN, DATE, WEB_LINK, …
    pub attribute_type: String,
    pub max_length: Option<usize>,
    /// A drop-down's values (the empty "null" value left out); `None` for free input.
    pub allowed: Option<Vec<String>>,
    pub read_only: bool,
}

impl CustomAttr {
    /// How closely `key` names this field: 0 its display name, 1 its ElementName, 2 the
    /// ElementName without `c_`; `None` not at all. Case is ignored (Unicode, not only ASCII).
    fn rank(&self, key: &str) -> Option<u8> {
        let k = key.trim().to_lowercase();
        let bare = self.element.strip_prefix("c_").unwrap_or(&self.element);
        [self.name.as_str(), self.element.as_str(), bare].iter().position(|n| n.to_lowercase() == k).map(|p| p as u8)
    }
}

/// The fields among `attrs` that `key` names: those of the closest kind of match only, so a
/// display name is never shadowed by another field whose ElementName is the same word.
fn named<'a>(attrs: impl Iterator<Item = &'a CustomAttr> + Clone, key: &str) -> Vec<&'a CustomAttr> {
    let Some(best) = attrs.clone().filter_map(|a| a.rank(key)).min() else {
        return Vec::new();
    };
    attrs.filter(|a| a.rank(key) == Some(best)).collect()
}

/// Whether `a`, one of `attrs`, is among the fields `names` asks for.
fn asked(attrs: &[CustomAttr], names: &[String], a: &CustomAttr) -> bool {
    names.iter().any(|n| named(attrs.iter(), n).iter().any(|m| std::ptr::eq(*m, a)))
}

/// The custom fields of the four types, from one schema read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WorkspaceSchema {
    pub types: BTreeMap<&'static str, Vec<CustomAttr>>,
}

/// An AttributeDefinition as the schema service or an `attributedefinition` query gives it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RallyAttribute {
    pub element_name: Option<String>,
    pub name: Option<String>,
    pub custom: Option<bool>,
    pub required: Option<bool>,
    pub read_only: Option<bool>,
    pub attribute_type: Option<String>,
    pub max_length: Option<f64>,
    pub constrained: Option<bool>,
    pub allowed_values: Option<AllowedValues>,
}

/// `AllowedValues`: a collection summary (its `_ref` is followed), or inline values.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum AllowedValues {
    Inline(Vec<AllowedValue>),
    Summary {
        #[serde(rename = "_ref")]
        r#ref: Option<String>,
    },
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AllowedValue {
    pub string_value: Option<String>,
}

/// A TypeDefinition row of the schema service.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RallyTypeDef {
    pub type_path: Option<String>,
    pub element_name: Option<String>,
    #[serde(default)]
    pub attributes: Vec<RallyAttribute>,
}

impl RallyAttribute {
    /// The custom attribute, when it is one (`Custom`, or a `c_` ElementName).
    pub fn to_custom(&self, allowed: Option<Vec<String>>) -> Option<CustomAttr> {
        let element = self.element_name.clone()?;
        if !(self.custom == Some(true) || element.starts_with("c_")) {
            return None;
        }
        let name = self
            .name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| element.strip_prefix("c_").unwrap_or(&element).to_string());
        Some(CustomAttr {
            element,
            name,
            required: self.required == Some(true),
            attribute_type: self.attribute_type.clone().unwrap_or_default().to_ascii_uppercase(),
            max_length: self.max_length.filter(|m| *m > 0.0).map(|m| m as usize),
            allowed,
            read_only: self.read_only == Some(true),
        })
    }

    /// The allowed values given inline; `None` when they must be fetched (or there are none).
    pub fn inline_allowed(&self) -> Option<Vec<String>> {
        match &self.allowed_values {
            Some(AllowedValues::Inline(v)) => {
                Some(v.iter().filter_map(|a| a.string_value.clone()).filter(|s| !s.is_empty()).collect())
            }
            _ => None,
        }
    }

    /// The ref to follow for the allowed values of a constrained attribute.
    pub fn allowed_ref(&self) -> Option<&str> {
        if self.constrained != Some(true) {
            return None;
        }
        match &self.allowed_values {
            Some(AllowedValues::Summary { r#ref: Some(r) }) => Some(r.as_str()),
            _ => None,
        }
    }
}

/// The type a schema row describes, among our four.
pub fn artifact_type_of(td: &RallyTypeDef) -> Option<ArtifactType> {
    td.type_path.as_deref().or(td.element_name.as_deref()).and_then(ArtifactType::from_type_name)
}

impl WorkspaceSchema {
    pub fn of(&self, t: ArtifactType) -> &[CustomAttr] {
        self.types.get(t.as_str()).map_or(&[], Vec::as_slice)
    }

    /// Every ElementName to fetch for `option` (any type), sorted and without repeats.
    pub fn elements(&self, option: &CustomFieldsOption) -> Vec<String> {
        let mut out: Vec<String> = self
            .types
            .values()
            .flat_map(|attrs| {
                attrs.iter().filter(move |a| match option {
                    CustomFieldsOption::None => false,
                    CustomFieldsOption::All => true,
                    CustomFieldsOption::Named(names) => asked(attrs, names, a),
                })
            })
            .map(|a| a.element.clone())
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Names in `customFields` that no type has.
    pub fn unknown_names(&self, option: &CustomFieldsOption) -> Vec<String> {
        match option {
            CustomFieldsOption::Named(names) => {
                names.iter().filter(|n| self.types.values().all(|a| named(a.iter(), n).is_empty())).cloned().collect()
            }
            _ => Vec::new(),
        }
    }

    /// Every display name of custom fields of any type, for messages.
    pub fn all_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.types.values().flatten().map(|a| a.name.clone()).collect();
        v.sort();
        v.dedup();
        v
    }

    /// `Issue.customFields` of an item of type `t` from its fetched `c_` values.
    pub fn read(
        &self,
        t: ArtifactType,
        option: &CustomFieldsOption,
        values: &HashMap<String, Value>,
    ) -> Option<Map<String, Value>> {
        if option.is_none() {
            return None;
        }
        let mut out = Map::new();
        let attrs = self.of(t);
        for a in attrs {
            let wanted = match option {
                CustomFieldsOption::All => true,
                CustomFieldsOption::Named(names) => asked(attrs, names, a),
                CustomFieldsOption::None => false,
            };
            if wanted {
                out.insert(a.name.clone(), json_form(values.get(&a.element).unwrap_or(&Value::Null)));
            }
        }
        Some(out)
    }

    /// The `c_` fields of a write of type `t`: `given` (the caller's) over `defaults` (the
    /// `createDefaults` of the type, creates only), each checked against the schema. On a
    /// create, every required custom field must have a value. Any problem is an
    /// `RALLY_INVALID_INPUT` naming the field and its valid choices; no request is made.
    pub fn check_write(
        &self,
        t: ArtifactType,
        given: Option<&Map<String, Value>>,
        defaults: Option<&Map<String, Value>>,
        creating: bool,
        argument: &str,
    ) -> Result<Map<String, Value>, RallyError> {
        let attrs = self.of(t);
        let mut out = Map::new();
        let sources = [(defaults, "createDefaults"), (given, argument)];
        for (fields, arg) in sources {
            for (k, v) in fields.into_iter().flatten() {
                let Some(&a) = named(attrs.iter(), k).first() else {
                    let known: Vec<&str> = attrs.iter().map(|a| a.name.as_str()).collect();
                    let choices = if known.is_empty() {
                        format!("a {} has no custom fields in this workspace", t.as_str())
                    } else {
                        format!("the custom fields of a {} are: {}", t.as_str(), known.join(", "))
                    };
                    return Err(RallyError::invalid(arg, format!("unknown custom field {k:?}; {choices}")));
                };
                if a.read_only {
                    return Err(RallyError::invalid(arg, format!("custom field {:?} is read-only", a.name)));
                }
                out.insert(a.element.clone(), check_value(a, v, arg)?);
            }
        }
        if creating {
            let missing: Vec<&CustomAttr> = attrs
                .iter()
                .filter(|a| a.required && out.get(&a.element).is_none_or(|v| v.is_null() || v == ""))
                .collect();
            if let Some(first) = missing.first() {
                let names: Vec<String> = missing.iter().map(|a| describe(a)).collect();
                return Err(RallyError::invalid(
                    format!("{argument}.{}", first.name),
                    format!(
                        "this workspace requires {} on every new {}; pass it in customFields or set \
                         createDefaults.{}",
                        names.join(" and "),
                        t.as_str(),
                        t.as_str()
                    ),
                ));
            }
        }
        Ok(out)
    }
}

/// `"Team" (one of: Red, Blue)`, for messages.
pub fn describe(a: &CustomAttr) -> String {
    match &a.allowed {
        Some(v) if !v.is_empty() => format!("{:?} (one of: {})", a.name, v.join(", ")),
        _ => format!("{:?} ({})", a.name, a.attribute_type.to_ascii_lowercase()),
    }
}

/// A value given for `a`, checked and in the form a write body sends.
fn check_value(a: &CustomAttr, v: &Value, arg: &str) -> Result<Value, RallyError> {
    let bad = |m: String| RallyError::invalid(format!("{arg}.{}", a.name), m);
    if v.is_null() {
        if a.required {
            return Err(bad(format!("{:?} is required in this workspace and cannot be cleared", a.name)));
        }
        return Ok(Value::Null);
    }
    match a.attribute_type.as_str() {
        "INTEGER" | "QUANTITY" => {
            let n = match v {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s.trim().parse::<f64>().ok(),
                _ => None,
            };
            let Some(n) = n.filter(|n| n.is_finite()) else {
                return Err(bad(format!("{:?} takes a number, got {v}", a.name)));
            };
            if a.attribute_type == "INTEGER" && n.fract() != 0.0 {
                return Err(bad(format!("{:?} takes a whole number, got {v}", a.name)));
            }
            if a.attribute_type == "INTEGER" {
                return Ok(Value::from(n as i64));
            }
            Ok(serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number))
        }
        "BOOLEAN" => match v {
            Value::Bool(_) => Ok(v.clone()),
            _ => Err(bad(format!("{:?} takes true or false, got {v}", a.name))),
        },
        "DATE" => match v.as_str().map(crate::validate::due_date) {
            Some(Ok(d)) => Ok(Value::String(d)),
            _ => Err(bad(format!("{:?} takes a date (YYYY-MM-DD or ISO date-time), got {v}", a.name))),
        },
        "WEB_LINK" => match v {
            Value::Object(_) => Ok(v.clone()),
            Value::String(s) => Ok(serde_json::json!({ "LinkID": s, "DisplayString": s })),
            _ => Err(bad(format!("{:?} takes a link: {{ LinkID, DisplayString }}", a.name))),
        },
        _ => {
            let s = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => return Err(bad(format!("{:?} takes text, got {v}", a.name))),
            };
            if let Some(allowed) = a.allowed.as_ref().filter(|l| !l.is_empty()) {
                if !allowed.contains(&s) {
                    return Err(bad(format!(
                        "{s:?} is not an allowed value of {:?}; the valid choices are: {}",
                        a.name,
                        allowed.join(", ")
                    )));
                }
            }
            if let Some(max) = a.max_length.filter(|m| s.chars().count() > *m) {
                return Err(bad(format!("{:?} takes at most {max} characters, got {}", a.name, s.chars().count())));
            }
            Ok(Value::String(s))
        }
    }
}

/// A fetched `c_` value in JSON form: a multi-value drop-down (a collection summary) as the
/// list of its names; a web link as `{ LinkID, DisplayString }` (an empty one as null);
/// anything else as sent.
pub fn json_form(v: &Value) -> Value {
    match v {
        Value::Object(m) if m.contains_key("_tagsNameArray") => Value::Array(
            m["_tagsNameArray"].as_array().into_iter().flatten().filter_map(|x| x.get("Name").cloned()).collect(),
        ),
        Value::Object(m) if m.is_empty() => Value::Null,
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, x) in m {
                if !k.starts_with('_') {
                    out.insert(k.clone(), x.clone());
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests;
