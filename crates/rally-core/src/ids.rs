//! Every id form Panopticon users type or paste, parsed into one `IssueId`.
//!
//! Accepted: FormattedID in any case (`us12`, ` DE7 `), a numeric ObjectID, a WSAPI ref
//! (relative `/defect/123` or absolute `https://host/slm/webservice/v2.0/defect/123`) and a Rally
//! web URL (`https://rally1.rallydev.com/#/detail/userstory/123`, `#/123d/detail/defect/7`,
//! `#/123d/userstories?detail=%2Fuserstory%2F123`). UUID refs are refused: the rest of the
//! client addresses objects by ObjectID, so a UUID would need its own lookup path.

use crate::input::InputError;
use crate::model::ArtifactType;

/// Longest id text we look at; anything longer is not an id (and bounds the work done).
const MAX_ID_LEN: usize = 2048;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssueId {
    /// `US12`: prefix upper-cased, number without leading zeros.
    Formatted {
        prefix: String,
        number: u64,
    },
    ObjectId(u64),
    /// From a ref or URL; `type_path` lower-case (`hierarchicalrequirement`, `portfolioitem/feature`).
    Ref {
        type_path: Option<String>,
        object_id: u64,
    },
}

impl IssueId {
    pub fn formatted(&self) -> Option<String> {
        match self {
            IssueId::Formatted { prefix, number } => Some(format!("{prefix}{number}")),
            _ => None,
        }
    }

    /// The ObjectID when the id names one directly.
    pub fn object_id(&self) -> Option<u64> {
        match self {
            IssueId::ObjectId(oid) | IssueId::Ref { object_id: oid, .. } => Some(*oid),
            IssueId::Formatted { .. } => None,
        }
    }

    /// The artifact type the id implies, when it implies one of ours.
    pub fn artifact_type(&self) -> Option<ArtifactType> {
        match self {
            IssueId::Formatted { prefix, .. } => prefix_type(prefix),
            IssueId::Ref { type_path: Some(p), .. } => ArtifactType::from_type_name(p),
            _ => None,
        }
    }
}

/// Default FormattedID prefixes. Others are workspace-specific and looked up by the caller.
pub fn prefix_type(prefix: &str) -> Option<ArtifactType> {
    match prefix.to_ascii_uppercase().as_str() {
        "US" | "S" => Some(ArtifactType::UserStory),
        "DE" => Some(ArtifactType::Defect),
        "TA" => Some(ArtifactType::Task),
        "F" => Some(ArtifactType::Feature),
        _ => None,
    }
}

pub fn parse_issue_id(input: &str, argument: &str) -> Result<IssueId, InputError> {
    let err = |msg: String| InputError::new(argument, msg);
    let s = input.trim();
    if s.is_empty() {
        return Err(err("must not be empty".into()));
    }
    if s.len() > MAX_ID_LEN {
        return Err(err(format!("is too long to be an id ({} characters)", s.len())));
    }
    let shown = excerpt(s);
    let hint = "expected a FormattedID (US12), an ObjectID, a ref (/defect/123) or a Rally URL";

    if s.bytes().all(|b| b.is_ascii_digit()) {
        let oid = parse_oid(s).map_err(|m| err(format!("{m}: {shown}")))?;
        return Ok(IssueId::ObjectId(oid));
    }
    if let Some((prefix, digits)) = split_formatted(s) {
        let number = digits.parse::<u64>().map_err(|_| err(format!("FormattedID number is too large: {shown}")))?;
        return Ok(IssueId::Formatted { prefix: prefix.to_ascii_uppercase(), number });
    }
    if let Some((page, frag)) = s.split_once('#') {
        // A web URL, or its fragment alone (`#/123d/detail/defect/7`); with anything else
        // before the `#` (`see #/foo/12`, `hptps://x#/...`) the text is not a link at all.
        let host = strip_scheme(page).map(|rest| rest.split('/').next().unwrap_or_default());
        let url = host.is_some_and(|h| !h.is_empty()) && !page.contains(char::is_whitespace);
        if !page.is_empty() && !url {
            return Err(err(format!("{hint}, got {shown}")));
        }
        let id = parse_web_fragment(frag).map_err(|m| err(format!("{m}: {shown}")))?;
        return match &id {
            IssueId::Ref { type_path: Some(t), .. } if !is_artifact_type(t) => {
                Err(err(format!("Rally URL does not name an artifact type: {shown}")))
            }
            _ => Ok(id),
        };
    }
    let path = if s.starts_with('/') {
        s
    } else if let Some(rest) = strip_scheme(s) {
        match rest.find('/') {
            Some(i) => &rest[i..],
            None => return Err(err(format!("{hint}, got {shown}"))),
        }
    } else {
        return Err(err(format!("{hint}, got {shown}")));
    };
    let (type_path, object_id) = parse_ref_path(path).map_err(|m| err(format!("{m}: {shown}")))?;
    if !is_artifact_type(&type_path) {
        return Err(err(format!("not a ref to an artifact (type {}): {shown}", excerpt(&type_path))));
    }
    Ok(IssueId::Ref { type_path: Some(canonical_type_path(type_path)), object_id })
}

/// Rally's work-item types: ours under any alias, the other artifact types a parent or a pasted
/// link may name, and every portfolio item level. Anything else (`/user/1`, `/issues/12`) is
/// not an issue, and sending it would only come back as a rejection.
fn is_artifact_type(type_path: &str) -> bool {
    ArtifactType::from_type_name(type_path).is_some()
        || type_path.strip_prefix("portfolioitem/").is_some_and(|t| !t.is_empty())
        || matches!(type_path, "testcase" | "defectsuite" | "testset")
}

/// Our four types by their WSAPI path, whatever alias was typed (`/userstory/1` is the UI's
/// word for `/hierarchicalrequirement/1`); other types stay as given, lower-cased.
fn canonical_type_path(path: String) -> String {
    match ArtifactType::from_type_name(&path) {
        Some(t) => t.type_path().to_string(),
        None => path,
    }
}

/// Parses a `_ref` from a response (absolute or relative) into (lower-case type path, ObjectID).
/// Collection refs (`/Defect/1/Tags`) and UUID refs give `None`.
pub fn parse_object_ref(r: &str) -> Option<(String, u64)> {
    let r = r.trim();
    let path = if r.starts_with('/') {
        r
    } else {
        let rest = strip_scheme(r)?;
        &rest[rest.find('/')?..]
    };
    parse_ref_path(path).ok()
}

/// `US12` → ("US", "12"). Prefix: ASCII letters; number: ASCII digits; nothing else.
fn split_formatted(s: &str) -> Option<(&str, &str)> {
    let split = s.find(|c: char| !c.is_ascii_alphabetic())?;
    let (prefix, digits) = s.split_at(split);
    if prefix.is_empty() || prefix.len() > 16 || digits.is_empty() {
        return None;
    }
    digits.bytes().all(|b| b.is_ascii_digit()).then_some((prefix, digits))
}

fn strip_scheme(s: &str) -> Option<&str> {
    let has =
        |scheme: &str| s.as_bytes().get(..scheme.len()).is_some_and(|p| p.eq_ignore_ascii_case(scheme.as_bytes()));
    if has("https://") {
        s.get(8..)
    } else if has("http://") {
        s.get(7..)
    } else {
        None
    }
}

fn parse_oid(digits: &str) -> Result<u64, String> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("not a numeric ObjectID".into());
    }
    match digits.parse::<u64>() {
        Ok(0) => Err("ObjectID must be positive".into()),
        Ok(n) => Ok(n),
        Err(_) => Err("ObjectID is too large".into()),
    }
}

fn is_type_segment(seg: &str) -> bool {
    let mut chars = seg.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic()) && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn looks_like_uuid(seg: &str) -> bool {
    let hex = seg.bytes().filter(|b| b.is_ascii_hexdigit()).count();
    hex == 32 && seg.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

/// A WSAPI ref path: `[/slm/webservice/v2.0]/<type>[/<subtype>]/<oid>[.js]`, query string ignored.
fn parse_ref_path(path: &str) -> Result<(String, u64), String> {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let lower = path.to_ascii_lowercase();
    let tail = match lower.find("/webservice/") {
        Some(i) => {
            // Skip `webservice/<version>/`.
            let after = &path[i + "/webservice/".len()..];
            match after.find('/') {
                Some(j) => &after[j..],
                None => return Err("ref has no type".into()),
            }
        }
        None => path,
    };
    let segs: Vec<&str> = tail.split('/').filter(|p| !p.is_empty()).collect();
    let (last, types) = match segs.split_last() {
        Some(x) => x,
        None => return Err("ref has no type or ObjectID".into()),
    };
    let last = last.strip_suffix(".js").unwrap_or(last);
    if looks_like_uuid(last) {
        return Err("UUID refs are not supported, use the ObjectID or FormattedID".into());
    }
    let valid_types = match types {
        [t] => is_type_segment(t),
        [pi, t] => pi.eq_ignore_ascii_case("portfolioitem") && is_type_segment(t),
        _ => false,
    };
    if !valid_types {
        return Err("not a ref to an artifact (expected /<type>/<ObjectID>)".into());
    }
    let oid = parse_oid(last)?;
    Ok((types.join("/").to_ascii_lowercase(), oid))
}

/// The part after `#` of a Rally web URL.
fn parse_web_fragment(frag: &str) -> Result<IssueId, String> {
    let (path, query) = match frag.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (frag, None),
    };
    // `#/<project>d/userstories?detail=%2Fuserstory%2F123`
    if let Some(q) = query {
        for pair in q.split('&') {
            if let Some(v) = pair.strip_prefix("detail=") {
                let decoded = percent_decode(v).ok_or("bad percent-encoding in the URL")?;
                return ui_path_to_id(&decoded);
            }
        }
    }
    ui_path_to_id(path)
}

/// `.../detail/<ui segment(s)>/<oid>[/more]`, or a bare `/<ui segment>/<oid>` from `detail=`.
fn ui_path_to_id(path: &str) -> Result<IssueId, String> {
    let segs: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let start = segs.iter().position(|s| s.eq_ignore_ascii_case("detail")).map_or(0, |i| i + 1);
    let rest = segs.get(start..).unwrap_or_default();
    let (ty, oid) = match rest {
        [pi, sub, oid, ..] if pi.eq_ignore_ascii_case("portfolioitem") => {
            (format!("portfolioitem/{}", sub.to_ascii_lowercase()), *oid)
        }
        [ty, oid, ..] => (ty.to_ascii_lowercase(), *oid),
        _ => return Err("Rally URL does not name an artifact (expected #/detail/<type>/<ObjectID>)".into()),
    };
    if !is_type_segment(ty.trim_start_matches("portfolioitem/")) {
        return Err("Rally URL does not name an artifact type".into());
    }
    if looks_like_uuid(oid) {
        return Err("UUID refs are not supported, use the ObjectID or FormattedID".into());
    }
    let object_id = parse_oid(oid)?;
    Ok(IssueId::Ref { type_path: Some(canonical_type_path(ty)), object_id })
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Error messages quote the input, but never more than a line of it.
fn excerpt(s: &str) -> String {
    const MAX: usize = 80;
    if s.chars().count() <= MAX {
        format!("\"{s}\"")
    } else {
        let cut: String = s.chars().take(MAX).collect();
        format!("\"{cut}…\"")
    }
}

#[cfg(test)]
mod tests;
