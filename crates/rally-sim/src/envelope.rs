//! The four response envelopes, in the key order of the recorded responses.

use crate::json::J;

fn head() -> J {
    J::obj().with("_rallyAPIMajor", J::s("2")).with("_rallyAPIMinor", J::s("0"))
}

pub fn query_result(
    errors: &[String],
    warnings: &[String],
    total: usize,
    start: usize,
    page: usize,
    rows: Vec<J>,
) -> J {
    let body = head()
        .with("Errors", J::strs(errors))
        .with("Warnings", J::strs(warnings))
        .with("TotalResultCount", J::Int(total as i64))
        .with("StartIndex", J::Int(start as i64))
        .with("PageSize", J::Int(page as i64))
        .with("Results", J::Arr(rows));
    J::obj().with("QueryResult", body)
}

/// `{"<ElementName>": {..., "Errors": [], "Warnings": []}}`. As in the recorded single GETs, the
/// object carries no `_type`: the envelope key names the type.
pub fn single(type_name: &'static str, mut obj: J, warnings: &[String]) -> J {
    if let J::Obj(items) = &mut obj {
        items.retain(|(k, _)| k != "_type");
    }
    obj.push("Errors", J::Arr(Vec::new()));
    obj.push("Warnings", J::strs(warnings));
    J::obj().with(type_name, obj)
}

/// `OperationResult`, optionally with `Object` or `Results`.
pub fn operation(errors: &[String], warnings: &[String], extra: Option<(&'static str, J)>) -> J {
    let mut body = head().with("Errors", J::strs(errors)).with("Warnings", J::strs(warnings));
    if let Some((k, v)) = extra {
        body.push(k, v);
    }
    J::obj().with("OperationResult", body)
}

/// `CreateResult`; a failed create has no `Object` key at all.
pub fn create(errors: &[String], warnings: &[String], object: Option<J>) -> J {
    let mut body = head().with("Errors", J::strs(errors)).with("Warnings", J::strs(warnings));
    if let Some(o) = object {
        body.push("Object", o);
    }
    J::obj().with("CreateResult", body)
}
