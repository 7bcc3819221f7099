//! Custom fields of the workspace (`c_` attributes) and the `--custom-field` spec that defines
//! them. Values live beside the built-in ones on each object (`Obj::custom`), keyed by the
//! ElementName (`c_Team`).

use crate::schema::{kind_by_name, Kind};
use serde_json::Value;

/// What a custom field holds, as Rally's AttributeType names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CType {
    /// STRING: one line; a drop-down when it has allowed values.
    Str,
    /// TEXT: rich text.
    Text,
    Int,
    /// QUANTITY (a decimal).
    Num,
    Bool,
    Date,
}

impl CType {
    pub fn attribute_type(self) -> &'static str {
        match self {
            CType::Str => "STRING",
            CType::Text => "TEXT",
            CType::Int => "INTEGER",
            CType::Num => "QUANTITY",
            CType::Bool => "BOOLEAN",
            CType::Date => "DATE",
        }
    }
    pub fn schema_type(self) -> &'static str {
        match self {
            CType::Str | CType::Text => "xsd:string",
            CType::Int => "xsd:long",
            CType::Num => "xsd:double",
            CType::Bool => "xsd:boolean",
            CType::Date => "xsd:dateTime",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct CustomField {
    pub kind: Kind,
    /// `c_Team`.
    pub element: String,
    /// The display name (`Name` of the AttributeDefinition): `Team`, `MICS Category`.
    pub display: String,
    pub ty: CType,
    pub required: bool,
    /// Allowed values of a drop-down (empty: free text).
    pub allowed: Vec<String>,
    pub max_length: Option<usize>,
}

/// One `--custom-field` spec: `Type:Name:type[:required][:allowed=A,B][:max=N][:display=Text]`.
/// `Type` is a type name (`HierarchicalRequirement`, `UserStory`, `Defect`, `Task`,
/// `PortfolioItem/Feature`, `Feature`); `Name` is the ElementName with or without `c_`;
/// `type` is `string`, `text`, `integer`, `decimal`, `boolean` or `date`.
pub fn parse_spec(spec: &str) -> Result<CustomField, String> {
    let bad = |m: &str| format!("--custom-field {spec:?}: {m}");
    let parts: Vec<&str> = spec.split(':').collect();
    if parts.len() < 3 {
        return Err(bad("want Type:Name:type[:required][:allowed=A,B][:max=N][:display=Text]"));
    }
    let type_name = parts[0].trim();
    let kind = if type_name.eq_ignore_ascii_case("userstory") {
        Some(Kind::HierarchicalRequirement)
    } else {
        kind_by_name(type_name)
    }
    .filter(|k| crate::schema::is_artifact(*k))
    .ok_or_else(|| {
        bad("the type must be a work item type (HierarchicalRequirement, Defect, Task, PortfolioItem/Feature)")
    })?;
    let raw = parts[1].trim();
    let bare = raw.strip_prefix("c_").unwrap_or(raw);
    if bare.is_empty() || !bare.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(bad("the name must be letters, digits and underscores"));
    }
    let ty = match parts[2].trim().to_ascii_lowercase().as_str() {
        "string" => CType::Str,
        "text" => CType::Text,
        "integer" | "int" => CType::Int,
        "decimal" | "quantity" | "number" => CType::Num,
        "boolean" | "bool" => CType::Bool,
        "date" => CType::Date,
        other => return Err(bad(&format!("unknown type {other:?}"))),
    };
    let mut f = CustomField {
        kind,
        element: format!("c_{bare}"),
        display: bare.to_string(),
        ty,
        required: false,
        allowed: Vec::new(),
        max_length: if matches!(ty, CType::Str) { Some(256) } else { None },
    };
    // `allowed=` takes the rest of its part (values are separated by commas, not colons).
    for p in &parts[3..] {
        let p = p.trim();
        if p.eq_ignore_ascii_case("required") {
            f.required = true;
        } else if let Some(v) = p.strip_prefix("allowed=") {
            if ty != CType::Str {
                return Err(bad("allowed values need a string field"));
            }
            f.allowed = v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
        } else if let Some(v) = p.strip_prefix("max=") {
            f.max_length = Some(v.trim().parse().map_err(|_| bad("max= wants a number"))?);
        } else if let Some(v) = p.strip_prefix("display=") {
            f.display = v.trim().to_string();
        } else {
            return Err(bad(&format!("unknown part {p:?}")));
        }
    }
    Ok(f)
}

/// Checks `v` against the field and gives the value to store (`Null` clears it).
pub fn convert(f: &CustomField, type_name: &str, v: &Value) -> Result<Value, String> {
    let shown = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let bad = || format!("Validation error: {type_name}.{} contains an invalid value: \"{shown}\"", f.element);
    if v.is_null() {
        return Ok(Value::Null);
    }
    Ok(match f.ty {
        CType::Str | CType::Text => {
            let s = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => return Err(bad()),
            };
            if !f.allowed.is_empty() && !s.is_empty() && !f.allowed.contains(&s) {
                return Err(bad());
            }
            if let Some(max) = f.max_length.filter(|m| s.chars().count() > *m) {
                return Err(format!(
                    "Validation error: {type_name}.{} exceeds the maximum length of {max} characters",
                    f.element
                ));
            }
            if s.is_empty() {
                Value::Null
            } else {
                Value::String(s)
            }
        }
        CType::Int | CType::Num => {
            let x = match v {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s.trim().parse::<f64>().ok(),
                _ => None,
            }
            .ok_or_else(bad)?;
            if f.ty == CType::Int {
                Value::from(x as i64)
            } else {
                serde_json::Number::from_f64(x).map(Value::Number).ok_or_else(bad)?
            }
        }
        CType::Bool => match v {
            Value::Bool(b) => Value::Bool(*b),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Value::Bool(true),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Value::Bool(false),
            _ => return Err(bad()),
        },
        CType::Date => match v {
            Value::String(s) => match crate::dates::parse(s) {
                Some(p) => Value::String(crate::dates::format(p.ms)),
                None => {
                    return Err(format!(
                    "Could not parse: Cannot convert \"{s}\" into a date.  You must use the ISO8601 date+time format."
                ))
                }
            },
            _ => return Err(bad()),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        let f = parse_spec("HierarchicalRequirement:c_Team:string:required:allowed=Red,Blue").unwrap();
        assert_eq!((f.kind, f.element.as_str(), f.display.as_str()), (Kind::HierarchicalRequirement, "c_Team", "Team"));
        assert!(f.required);
        assert_eq!(f.allowed, ["Red", "Blue"]);
        let g = parse_spec("Defect:MICSCategory:string:display=MICS Category:max=10").unwrap();
        assert_eq!(
            (g.element.as_str(), g.display.as_str(), g.max_length),
            ("c_MICSCategory", "MICS Category", Some(10))
        );
        assert_eq!(parse_spec("UserStory:c_Points:integer").unwrap().kind, Kind::HierarchicalRequirement);
        assert!(parse_spec("Tag:c_X:string").is_err());
        assert!(parse_spec("Defect:c_X:colour").is_err());
        assert!(parse_spec("Defect:c_X:integer:allowed=1,2").is_err());
        assert!(parse_spec("Defect:c_X").is_err());
    }

    #[test]
    fn values() {
        let f = parse_spec("Defect:c_Team:string:allowed=Red,Blue").unwrap();
        assert_eq!(convert(&f, "Defect", &Value::from("Red")).unwrap(), Value::from("Red"));
        let e = convert(&f, "Defect", &Value::from("Green")).unwrap_err();
        assert!(e.contains("c_Team") && e.contains("Green"), "{e}");
        let n = parse_spec("Defect:c_N:integer").unwrap();
        assert_eq!(convert(&n, "Defect", &Value::from("42")).unwrap(), Value::from(42));
        assert!(convert(&n, "Defect", &Value::from("x")).is_err());
    }
}
