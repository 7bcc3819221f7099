//! Rally's objects as the core fetches them, in Rally's own field names.
//!
//! Every field is optional and unknown fields are ignored: what comes back depends on the fetch
//! list, 2013-era data lacks fields that later data has, and `null` is Rally's "unset".

use serde::{Deserialize, Deserializer};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

mod description;
pub use description::Description;

/// `ObjectID` of an artifact, post or nested ref: Rally sends any integer (built-in metadata
/// objects have negative ObjectIDs, and some producers write `123.0`). Work items are always
/// positive; anything else reads as absent (the `_ref` then stands in) instead of failing the
/// whole response as "could not be understood".
fn positive_oid<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let n = Option::<serde_json::Number>::deserialize(d)?;
    Ok(n.and_then(|n| {
        n.as_u64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && *f >= 1.0 && *f < 9.0e15).map(|f| f as u64))
    }))
}

/// `ObjectID` of a metadata object (type and attribute definitions, states, users, tags): any
/// integer. Rally's built-in attribute definitions have negative ones
/// (`/attributedefinition/-12345`).
pub fn any_oid<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let n = Option::<serde_json::Number>::deserialize(d)?;
    Ok(n.and_then(|n| {
        n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15).map(|f| f as i64))
    }))
}

/// The fetch list for artifacts: only what normalisation reads. `ObjectID` and `FormattedID`
/// are in it so nested refs (Parent, WorkProduct, ...) carry them too — a fetch list applies to
/// nested objects — and `Name` gives a Feature's nested `State` its name.
pub const ARTIFACT_FETCH: &str = "ObjectID,FormattedID,Name,Description,ScheduleState,State,Priority,\
TargetDate,PlannedEndDate,Owner,Tags,Parent,PortfolioItem,WorkProduct,Requirement,Project,CreationDate,LastUpdateDate,\
Blocked,BlockedReason,Estimate,ToDo,Actuals";

/// The fetch list for conversation posts. `FormattedID` lets a caller check the nested
/// `Artifact` (FormattedID matches on the abstract artifact type compare numbers only).
pub const POST_FETCH: &str = "ObjectID,Text,User,Artifact,PostNumber,CreationDate,LastUpdateDate,FormattedID";

/// A reference to another object, with whatever the fetch list added to it. The core only
/// reads the ObjectID of nested artifacts (parents), which are positive; a negative one (a
/// built-in metadata object) reads as absent instead of failing the response.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct RallyRef {
    #[serde(rename = "_ref")]
    pub r#ref: Option<String>,
    #[serde(rename = "_refObjectName")]
    pub ref_object_name: Option<String>,
    #[serde(rename = "_type")]
    pub r#type: Option<String>,
    #[serde(rename = "ObjectID", default, deserialize_with = "positive_oid")]
    pub object_id: Option<u64>,
    #[serde(rename = "FormattedID")]
    pub formatted_id: Option<String>,
    #[serde(rename = "Name")]
    pub name: Option<String>,
}

/// `{Name, _ref}` inside `Tags._tagsNameArray` (the `_ref` is relative: `/tag/<oid>`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct TagName {
    #[serde(rename = "Name")]
    pub name: Option<String>,
    #[serde(rename = "_ref")]
    pub r#ref: Option<String>,
}

/// A collection summary (`Tags`): never expanded inline, only names and a count. Its own
/// `_ref` (the collection's URL) is not kept: nothing reads it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct TagsSummary {
    #[serde(rename = "_tagsNameArray", default, deserialize_with = "interned_tag_names")]
    pub names: Arc<[TagName]>,
    /// Floats occur (`0.0`); not always consistent with the names, so not relied on.
    #[serde(rename = "Count")]
    pub count: Option<f64>,
}

/// Values that recur across the items of a list (the project, a few owners, parents, sets of
/// tags) are read into one shared copy: a kept 10,000-item list (`tracker/incremental.rs`)
/// otherwise held the same project ref 10,000 times. Per thread, keyed by a hash and checked
/// by equality (a ref renamed between two reads is a new value); at most `INTERN_MAX` values,
/// then it starts over, so it holds a few hundred KB at most.
const INTERN_MAX: usize = 1024;

struct Interner<T: ?Sized> {
    map: HashMap<u64, Arc<T>>,
}

impl<T: ?Sized + PartialEq> Interner<T> {
    fn new() -> Self {
        Interner { map: HashMap::new() }
    }

    fn share<O: std::borrow::Borrow<T> + Into<Arc<T>>>(&mut self, key: u64, value: O) -> Arc<T> {
        if let Some(kept) = self.map.get(&key) {
            if **kept == *value.borrow() {
                return kept.clone();
            }
        }
        if self.map.len() >= INTERN_MAX {
            self.map.clear();
        }
        let shared: Arc<T> = value.into();
        self.map.insert(key, shared.clone());
        shared
    }
}

thread_local! {
    static REFS: RefCell<Interner<RallyRef>> = RefCell::new(Interner::new());
    static TAG_SETS: RefCell<Interner<[TagName]>> = RefCell::new(Interner::new());
}

/// A quick hash of some strings, 8 bytes at a time: a collision costs only a missed share.
fn quick_hash<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> u64 {
    let mut h: u64 = 0;
    let mut mix = |w: u64| h = (h.rotate_left(5) ^ w).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    for p in parts {
        let mut words = p.chunks_exact(8);
        for w in words.by_ref() {
            mix(u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]));
        }
        let mut last = [0u8; 8];
        last[..words.remainder().len()].copy_from_slice(words.remainder());
        mix(u64::from_le_bytes(last) ^ (p.len() as u64) << 56);
    }
    h
}

/// A nested ref, shared with an equal one read before on this thread.
pub fn share_ref(r: RallyRef) -> Arc<RallyRef> {
    let key = quick_hash([r.r#ref.as_deref().unwrap_or_default().as_bytes(), &r.object_id.unwrap_or(0).to_le_bytes()]);
    REFS.with(|i| match i.try_borrow_mut() {
        Ok(mut i) => i.share(key, r),
        Err(_) => Arc::new(r),
    })
}

fn interned_tag_names<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<[TagName]>, D::Error> {
    let names = Vec::<TagName>::deserialize(d)?;
    let key = quick_hash(
        names.iter().flat_map(|n| [n.name.as_deref(), n.r#ref.as_deref()]).map(|s| s.unwrap_or_default().as_bytes()),
    );
    Ok(TAG_SETS.with(|i| match i.try_borrow_mut() {
        Ok(mut i) => i.share(key, names),
        Err(_) => names.into(),
    }))
}

/// `Option<RallyRef>` read through `share_ref`.
struct SharedRef(Option<Arc<RallyRef>>);

impl<'de> Deserialize<'de> for SharedRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(SharedRef(Option::<RallyRef>::deserialize(d)?.map(share_ref)))
    }
}

/// `State`: a string on defects and tasks, a `State` object on portfolio items.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum StateField {
    Name(String),
    Object(Box<RallyRef>),
    /// Any other shape: ignored rather than failing the whole object.
    Other(serde::de::IgnoredAny),
}

impl StateField {
    /// The state's name, from the string or from the object's `Name` / `_refObjectName`.
    pub fn name(&self) -> Option<&str> {
        match self {
            StateField::Name(s) => Some(s.as_str()),
            StateField::Object(r) => r.name.as_deref().or(r.ref_object_name.as_deref()),
            StateField::Other(_) => None,
        }
    }
}

/// An artifact as WSAPI returns it. Deserialised by hand (below): a derived impl with the
/// flattened `custom` map would first buffer every object, nested refs included, into serde's
/// generic content tree; for a 10,000-item list that copy cost more than the parse itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RallyArtifact {
    /// `_ref`
    pub r#ref: Option<String>,
    /// `_type`
    pub r#type: Option<String>,
    /// `_refObjectName`
    pub ref_object_name: Option<String>,
    /// `_objectVersion`: Rally's version of the object, on every object it returns
    /// (`incremental.rs`).
    pub object_version: Option<String>,
    /// `ObjectID` (positive only, as `RallyRef`'s).
    pub object_id: Option<u64>,
    /// `FormattedID`
    pub formatted_id: Option<String>,
    pub name: Option<String>,
    /// Its HTML, and its Markdown once converted (`description.rs`).
    pub description: Description,
    pub schedule_state: Option<String>,
    pub state: Option<StateField>,
    pub priority: Option<String>,
    pub target_date: Option<String>,
    pub planned_end_date: Option<String>,
    pub owner: Option<Arc<RallyRef>>,
    pub tags: Option<TagsSummary>,
    pub parent: Option<Arc<RallyRef>>,
    pub portfolio_item: Option<Arc<RallyRef>>,
    pub work_product: Option<Arc<RallyRef>>,
    pub requirement: Option<Arc<RallyRef>>,
    pub project: Option<Arc<RallyRef>>,
    pub creation_date: Option<String>,
    pub last_update_date: Option<String>,
    /// The native PullRequests on the item (`getIssue` fetches it where `prLinks` is native;
    /// absent where the workspace has no PullRequest type).
    pub pull_requests: Option<CollectionSummary>,
    pub blocked: Option<bool>,
    pub blocked_reason: Option<String>,
    /// Task hours.
    pub estimate: Option<f64>,
    pub to_do: Option<f64>,
    pub actuals: Option<f64>,
    /// The `c_` fields the fetch list asked for (none unless `customFields` is set).
    pub custom: CustomValues,
}

/// A collection attribute as a fetch returns it: where to read it and how many it holds.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct CollectionSummary {
    #[serde(rename = "_ref")]
    pub r#ref: Option<String>,
    #[serde(rename = "Count")]
    pub count: Option<f64>,
}

/// `positive_oid` as a value type, for the hand-written map visitor.
struct PositiveOid(Option<u64>);

impl<'de> Deserialize<'de> for PositiveOid {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        positive_oid(d).map(PositiveOid)
    }
}

impl<'de> Deserialize<'de> for RallyArtifact {
    /// Rally's field names, case-sensitive; any other key is skipped, except `c_` ones (kept in
    /// `custom`). A key given twice keeps its last value.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RallyArtifact;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a Rally object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<RallyArtifact, A::Error> {
                let mut a = RallyArtifact::default();
                while let Some(k) = m.next_key::<std::borrow::Cow<'de, str>>()? {
                    match &*k {
                        "_ref" => a.r#ref = m.next_value()?,
                        "_type" => a.r#type = m.next_value()?,
                        "_refObjectName" => a.ref_object_name = m.next_value()?,
                        "_objectVersion" => a.object_version = m.next_value()?,
                        "ObjectID" => a.object_id = m.next_value::<PositiveOid>()?.0,
                        "FormattedID" => a.formatted_id = m.next_value()?,
                        "Name" => a.name = m.next_value()?,
                        "Description" => a.description = m.next_value()?,
                        "ScheduleState" => a.schedule_state = m.next_value()?,
                        "State" => a.state = m.next_value()?,
                        "Priority" => a.priority = m.next_value()?,
                        "TargetDate" => a.target_date = m.next_value()?,
                        "PlannedEndDate" => a.planned_end_date = m.next_value()?,
                        "Owner" => a.owner = m.next_value::<SharedRef>()?.0,
                        "Tags" => a.tags = m.next_value()?,
                        "Parent" => a.parent = m.next_value::<SharedRef>()?.0,
                        "PortfolioItem" => a.portfolio_item = m.next_value::<SharedRef>()?.0,
                        "WorkProduct" => a.work_product = m.next_value::<SharedRef>()?.0,
                        "Requirement" => a.requirement = m.next_value::<SharedRef>()?.0,
                        "Project" => a.project = m.next_value::<SharedRef>()?.0,
                        "CreationDate" => a.creation_date = m.next_value()?,
                        "LastUpdateDate" => a.last_update_date = m.next_value()?,
                        "PullRequests" => a.pull_requests = m.next_value()?,
                        "Blocked" => a.blocked = m.next_value()?,
                        "BlockedReason" => a.blocked_reason = m.next_value()?,
                        "Estimate" => a.estimate = m.next_value()?,
                        "ToDo" => a.to_do = m.next_value()?,
                        "Actuals" => a.actuals = m.next_value()?,
                        c if c.starts_with("c_") => {
                            let v = m.next_value::<serde_json::Value>()?;
                            a.custom.0.insert(k.into_owned(), v);
                        }
                        _ => {
                            m.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(a)
            }
        }
        d.deserialize_map(V)
    }
}

/// The `c_` attributes of an object; every other unknown key is skipped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomValues(pub std::collections::HashMap<String, serde_json::Value>);

impl<'de> Deserialize<'de> for CustomValues {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = CustomValues;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<CustomValues, A::Error> {
                let mut out = std::collections::HashMap::new();
                while let Some(k) = m.next_key::<std::borrow::Cow<'de, str>>()? {
                    if k.starts_with("c_") {
                        out.insert(k.into_owned(), m.next_value::<serde_json::Value>()?);
                    } else {
                        m.next_value::<serde::de::IgnoredAny>()?;
                    }
                }
                Ok(CustomValues(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// A native `PullRequest` on an artifact.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RallyPullRequest {
    #[serde(rename = "_ref")]
    pub r#ref: Option<String>,
    pub url: Option<String>,
    pub artifact: Option<RallyRef>,
}

pub const PULL_REQUEST_FETCH: &str = "ObjectID,Url,Name,Artifact,FormattedID";

/// An `Attachment` (the description of a file on an artifact).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RallyAttachment {
    #[serde(rename = "_ref")]
    pub r#ref: Option<String>,
    #[serde(rename = "ObjectID", default, deserialize_with = "positive_oid")]
    pub object_id: Option<u64>,
    pub name: Option<String>,
    pub content_type: Option<String>,
    /// Bytes before base64; Rally writes integers, some producers `12.0`.
    pub size: Option<f64>,
    pub description: Option<String>,
    pub user: Option<RallyRef>,
    pub artifact: Option<RallyRef>,
    /// The AttachmentContent.
    pub content: Option<RallyRef>,
    pub creation_date: Option<String>,
}

pub const ATTACHMENT_FETCH: &str =
    "ObjectID,Name,ContentType,Size,Description,User,Artifact,FormattedID,Content,CreationDate";

/// An `AttachmentContent`: the bytes, base64.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RallyAttachmentContent {
    pub content: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RallyPost {
    #[serde(rename = "_ref")]
    pub r#ref: Option<String>,
    #[serde(rename = "ObjectID", default, deserialize_with = "positive_oid")]
    pub object_id: Option<u64>,
    pub text: Option<String>,
    pub user: Option<RallyRef>,
    pub artifact: Option<RallyRef>,
    pub post_number: Option<u64>,
    pub creation_date: Option<String>,
    pub last_update_date: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RallyUser {
    #[serde(rename = "_ref")]
    pub r#ref: Option<String>,
    #[serde(rename = "_refObjectName")]
    pub ref_object_name: Option<String>,
    #[serde(rename = "ObjectID", default, deserialize_with = "any_oid")]
    pub object_id: Option<i64>,
    pub user_name: Option<String>,
    pub display_name: Option<String>,
    pub email_address: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RallyTag {
    #[serde(rename = "_ref")]
    pub r#ref: Option<String>,
    #[serde(rename = "ObjectID", default, deserialize_with = "any_oid")]
    pub object_id: Option<i64>,
    pub name: Option<String>,
}

/// A portfolio-item `State` object (`GET /state?...&order=OrderIndex`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RallyState {
    #[serde(rename = "_ref")]
    pub r#ref: Option<String>,
    #[serde(rename = "ObjectID", default, deserialize_with = "any_oid")]
    pub object_id: Option<i64>,
    pub name: Option<String>,
    pub order_index: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 10, item 12: Rally's built-in metadata has negative ObjectIDs; no response with one
    /// may fail to parse, and metadata types keep the value.
    #[test]
    fn any_integer_object_id_parses() {
        let state: RallyState = serde_json::from_str(r#"{"ObjectID": -12345, "Name": "Done"}"#).unwrap();
        assert_eq!(state.object_id, Some(-12345));
        let user: RallyUser = serde_json::from_str(r#"{"ObjectID": 42.0}"#).unwrap();
        assert_eq!(user.object_id, Some(42));
        let nested: RallyRef = serde_json::from_str(r#"{"_ref": "/attributedefinition/-7", "ObjectID": -7}"#).unwrap();
        assert_eq!(nested.object_id, None);
        let art: RallyArtifact =
            serde_json::from_str(r#"{"ObjectID": 75419335752, "State": {"ObjectID": -3}}"#).unwrap();
        assert_eq!(art.object_id, Some(75419335752));
        let missing: RallyTag = serde_json::from_str(r#"{"Name": "x"}"#).unwrap();
        assert_eq!(missing.object_id, None);
        assert!(serde_json::from_str::<RallyTag>(r#"{"ObjectID": "12"}"#).is_err(), "a string is no ObjectID");
    }

    /// Equal refs and tag sets read on one thread are one value; a ref that differs in any
    /// field (renamed between two reads, same `_ref`) is its own.
    #[test]
    fn recurring_refs_and_tag_sets_are_shared_and_distinct_ones_are_not() {
        let item = |project_name: &str, tags: &str| {
            serde_json::from_str::<RallyArtifact>(&format!(
                r#"{{"ObjectID": 1, "Project": {{"_ref": "https://r/slm/webservice/v2.0/project/7", "ObjectID": 7,
                     "_refObjectName": "{project_name}"}}, "Owner": null,
                     "Tags": {{"_ref": "https://r/x/Tags", "Count": 1, "_tagsNameArray": [{tags}]}}}}"#
            ))
            .unwrap()
        };
        let tags = r#"{"Name": "ui", "_ref": "/tag/3"}, {"Name": "api", "_ref": "/tag/4"}"#;
        let (a, b) = (item("Store", tags), item("Store", tags));
        let (pa, pb) = (a.project.clone().unwrap(), b.project.clone().unwrap());
        assert!(Arc::ptr_eq(&pa, &pb), "one project, one copy");
        let (ta, tb) = (a.tags.clone().unwrap().names, b.tags.clone().unwrap().names);
        assert!(Arc::ptr_eq(&ta, &tb));
        assert_eq!(ta.iter().map(|t| t.name.clone().unwrap()).collect::<Vec<_>>(), ["ui", "api"]);
        let renamed = item("Store (old)", r#"{"Name": "ui", "_ref": "/tag/3"}"#);
        assert_eq!(renamed.project.as_ref().unwrap().ref_object_name.as_deref(), Some("Store (old)"));
        assert!(!Arc::ptr_eq(&pa, renamed.project.as_ref().unwrap()));
        assert_eq!(renamed.tags.unwrap().names.len(), 1);
        assert_eq!(pa.ref_object_name.as_deref(), Some("Store"), "the shared copy is not changed");
        assert_eq!(a.owner, None);
    }
}
