//! The workspace's state orders, discovered once per tracker and only when an operation needs
//! them: the ScheduleState values when a story or defect carries one outside the standard four
//! (so the common case costs nothing), the Feature states whenever a feature is read, listed,
//! written or filtered (the write needs their `/state/<oid>` refs anyway; one lookup serves
//! both). Concurrent callers share one in-flight lookup. A read never fails for want of
//! metadata: a failed lookup falls back to the defaults with a warning.

use super::{located_of, QuerySpec, Scope, Tracker};
use crate::cache::Located;
use crate::error::RallyError;
use crate::mapping::{is_custom_schedule_state, schedule_state_probes, StateOrders};
use crate::model::{ArtifactType, IssueState};
use crate::query::Query;
use crate::rally_types::{RallyArtifact, RallyState};
use crate::wsapi::{Op, QueryResult};
use futures_util::future::join_all;
use serde::Deserialize;

/// What mapping some artifacts needs beyond the default orders.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Need {
    /// The custom ScheduleState values seen, each with a type that carries it (where to ask
    /// Rally about it if the order cannot be read). Empty: no ScheduleState lookup.
    pub schedule: Vec<(ArtifactType, String)>,
    pub feature: bool,
}

impl Need {
    pub const FEATURE: Need = Need { schedule: Vec::new(), feature: true };

    pub fn of_located(l: &Located) -> Need {
        let mut need = Need::default();
        need.add(l.artifact_type, l.schedule_state.as_deref(), l.state.as_deref());
        need
    }

    fn add(&mut self, t: ArtifactType, schedule_state: Option<&str>, state: Option<&str>) {
        let custom = schedule_state.filter(|s| is_custom_schedule_state(s));
        let custom = match t {
            ArtifactType::UserStory => custom,
            // A Closed defect is closed whatever its ScheduleState.
            ArtifactType::Defect if state != Some("Closed") => custom,
            ArtifactType::Feature => {
                self.feature = true;
                None
            }
            _ => None,
        };
        if let Some(v) = custom {
            if !self.schedule.iter().any(|(_, seen)| seen == v) {
                self.schedule.push((t, v.to_string()));
            }
        }
    }

    /// Runs over every item of a list before it is normalised, so it allocates nothing
    /// unless an item lacks `_type` or carries a custom ScheduleState.
    pub fn of<'a>(artifacts: impl IntoIterator<Item = &'a RallyArtifact>) -> Need {
        let mut need = Need::default();
        for a in artifacts {
            let t = match a.r#type.as_deref() {
                Some(name) => ArtifactType::from_type_name(name),
                None => located_of(a).map(|l| l.artifact_type),
            };
            let Some(t) = t else { continue };
            need.add(t, a.schedule_state.as_deref(), a.state.as_ref().and_then(|s| s.name()));
        }
        need
    }
}

/// A lookup outcome worth keeping: the values, or `None` when Rally answered but the answer
/// cannot be used (then the defaults apply for the tracker's life; asking again would only
/// repeat the same answer). Transient failures are not kept, so a later call tries again.
pub(super) type Discovered<T> = Option<Vec<T>>;

/// A type or attribute definition. Built-in attribute definitions have negative ObjectIDs in
/// Rally (`/attributedefinition/-12345`), so the id is signed.
#[derive(Deserialize)]
struct Def {
    #[serde(rename = "ObjectID", default, deserialize_with = "crate::rally_types::any_oid")]
    object_id: Option<i64>,
    #[serde(rename = "ElementName")]
    element_name: Option<String>,
}

#[derive(Deserialize)]
struct Allowed {
    #[serde(rename = "StringValue")]
    string_value: Option<String>,
    #[serde(rename = "ValueIndex")]
    value_index: Option<f64>,
}

fn transient(e: &RallyError) -> bool {
    matches!(e, RallyError::Unavailable { .. } | RallyError::Timeout { .. })
}

impl Tracker {
    /// The process's first filtered feature list: the feature query without its state
    /// condition (`rest`) and the Feature state lookup, at once, then the state condition
    /// applied here by the labels' own mapping (`read_state`, which agrees with the filters).
    /// `filter(orders)` gives the real query (the key its answer is kept under for incremental
    /// lists) and which states are wanted. `None` when that cannot stand in for the real query
    /// (the states could not be read, or the features fill more than one page): the caller
    /// then runs the real query, one round later, as before.
    pub(super) async fn features_alongside_states<W: Fn(crate::model::IssueState) -> bool>(
        &self,
        op: &Op,
        rest: Option<Query>,
        scope: Scope<'_>,
        limit: usize,
        filter: impl FnOnce(&StateOrders) -> (Option<Query>, W),
    ) -> Result<Option<crate::paging::Fetched<std::sync::Arc<RallyArtifact>>>, RallyError> {
        let t = ArtifactType::Feature;
        let started = std::time::Instant::now();
        let fetch = self.artifact_fetch(op).await?;
        let spec = QuerySpec::list(t.type_path(), rest, &fetch, scope);
        let size = crate::paging::MAX_PAGE_SIZE;
        let (page, orders) = futures_util::future::join(
            self.query_page::<RallyArtifact>(op, &spec, 1, size),
            self.orders(op, Need::FEATURE),
        )
        .await;
        let page = page?;
        if orders.feature_states.is_empty() || page.results.len() < page.total() {
            return Ok(None);
        }
        let (query, wanted) = filter(&orders);
        let mut items: Vec<std::sync::Arc<RallyArtifact>> = page
            .results
            .into_iter()
            .filter(|a| {
                let raw =
                    crate::mapping::RawState { schedule_state: None, state: a.state.as_ref().and_then(|s| s.name()) };
                wanted(crate::mapping::read_state(t, &raw, &orders))
            })
            .map(std::sync::Arc::new)
            .collect();
        let total = items.len();
        items.truncate(limit.max(1));
        let list = crate::paging::Fetched { items, total };
        self.keep_list(t.type_path(), &query, scope, limit, &list, started);
        Ok(Some(list))
    }

    /// The orders for mapping: the defaults, with the parts `need` names discovered.
    pub(super) async fn orders(&self, op: &Op, need: Need) -> StateOrders {
        let mut orders = StateOrders::default();
        if !need.schedule.is_empty() {
            match self.schedule_states(op).await {
                Some(v) => orders.schedule_states = v.to_vec(),
                // Without the order, the labels must still agree with the state filters: ask
                // Rally the filters' own comparisons about each value (`classify`).
                None => orders.classified = self.classify(op, &need.schedule).await,
            }
        }
        if need.feature {
            if let Some(v) = self.feature_states(op).await {
                orders.feature_states = v.iter().map(|(name, _)| name.clone()).collect();
            }
        }
        orders
    }

    /// Places custom ScheduleState values whose order is unknown by Rally's own comparisons:
    /// for each value, the open and closed tests of `state_filter` (`<= Defined`,
    /// `>= Completed`), restricted to items with that value, asked as one-item queries over
    /// the workspace. A value is then exactly in the state whose filter matches it. Answers
    /// are kept for the tracker's life; a value no query matches (its items were edited away)
    /// or a failed query is not kept and reads as open this time.
    async fn classify(&self, op: &Op, values: &[(ArtifactType, String)]) -> Vec<(String, IssueState)> {
        let known: Vec<(String, IssueState)> = {
            let cache = self.resolved.classified.lock().unwrap_or_else(|p| p.into_inner());
            values.iter().filter_map(|(_, v)| cache.get(v).map(|s| (v.clone(), *s))).collect()
        };
        let unknown: Vec<&(ArtifactType, String)> =
            values.iter().filter(|(_, v)| !known.iter().any(|(k, _)| k == v)).collect();
        let lookup = Op::new(op.name, None);
        let asks = unknown
            .iter()
            .flat_map(|(t, v)| schedule_state_probes(v).into_iter().map(move |(q, state)| (*t, v.clone(), q, state)));
        let answers = join_all(asks.map(|(t, v, q, state)| {
            let lookup = &lookup;
            async move {
                let spec = QuerySpec {
                    type_path: t.type_path(),
                    query: Some(q.render()),
                    fetch: "ObjectID",
                    order: None,
                    scope: Scope::Workspace,
                    types: None,
                };
                let r = self.query_page::<serde::de::IgnoredAny>(lookup, &spec, 1, 1).await;
                (v, state, r.map(|r| r.total() > 0))
            }
        }))
        .await;
        let mut out = known;
        let mut cache = self.resolved.classified.lock().unwrap_or_else(|p| p.into_inner());
        for (v, state, matched) in answers {
            match matched {
                Ok(true) => {
                    cache.insert(v.clone(), state);
                    out.push((v, state));
                }
                Ok(false) => {}
                Err(e) => self.discovery_failed(op, &format!("the state of ScheduleState {v:?}"), &e),
            }
        }
        out
    }

    fn discovery_failed(&self, op: &Op, what: &str, e: &RallyError) {
        self.settings.log.emit("warn", format!("{}: {what} could not be read ({e}); using the defaults", op.label()));
    }

    /// ScheduleState values in order (the empty "no value" entry skipped), `None` = defaults.
    pub(super) async fn schedule_states(&self, op: &Op) -> Option<&[String]> {
        let cell = self.resolved.schedule_states.get_or_try_init(|| async {
            match self.read_schedule_states(op).await {
                Ok(v) if !v.is_empty() => Ok(Some(v)),
                Ok(_) => {
                    let none =
                        RallyError::Protocol { operation: op.label(), excerpt: "no ScheduleState values".into() };
                    self.discovery_failed(op, "the ScheduleState values", &none);
                    Ok(None)
                }
                Err(e) if transient(&e) => Err(e),
                Err(e) => {
                    self.discovery_failed(op, "the ScheduleState values", &e);
                    Ok(None)
                }
            }
        });
        match cell.await {
            Ok(v) => v.as_deref(),
            Err(e) => {
                self.discovery_failed(op, "the ScheduleState values", &e);
                None
            }
        }
    }

    /// Feature states `(name, /state/<oid>)` by `OrderIndex`. Errors are returned (a write
    /// cannot go on without the ref); readers go through `orders`, which falls back.
    pub(super) async fn feature_states_or_err(&self, op: &Op) -> Result<Vec<(String, String)>, RallyError> {
        let cell = self.feature_states_cell();
        let found = cell
            .get_or_try_init(|| async {
                match self.read_feature_states(op).await {
                    Ok(v) if !v.is_empty() => Ok(Some(v)),
                    Ok(_) => {
                        let none = RallyError::Protocol { operation: op.label(), excerpt: "no Feature states".into() };
                        self.discovery_failed(op, "the Feature states", &none);
                        Ok(None)
                    }
                    Err(e) if transient(&e) => Err(e),
                    Err(e) => {
                        self.discovery_failed(op, "the Feature states", &e);
                        Ok(None)
                    }
                }
            })
            .await?;
        found.clone().ok_or_else(|| RallyError::Rejected {
            operation: op.label(),
            errors: vec!["the workspace's Feature states could not be read (GET /state)".into()],
        })
    }

    fn feature_states_cell(&self) -> std::sync::Arc<super::resolve::FeatureStates> {
        self.resolved.feature_states.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub(super) fn feature_states_known(&self) -> bool {
        self.feature_states_cell().initialized()
    }

    /// Forgets the Feature states when one of them is `/state/<oid>` (Rally refused it).
    pub(super) fn forget_feature_states(&self, oid: u64) -> bool {
        let mut cell = self.resolved.feature_states.lock().unwrap_or_else(|p| p.into_inner());
        let r = format!("/state/{oid}");
        let holds = cell.get().and_then(Option::as_ref).is_some_and(|v| v.iter().any(|(_, s)| *s == r));
        if holds {
            *cell = std::sync::Arc::default();
        }
        holds
    }

    async fn feature_states(&self, op: &Op) -> Option<Vec<(String, String)>> {
        match self.feature_states_or_err(op).await {
            Ok(v) => Some(v),
            Err(e) => {
                if transient(&e) {
                    self.discovery_failed(op, "the Feature states", &e);
                }
                None
            }
        }
    }

    async fn read_feature_states(&self, op: &Op) -> Result<Vec<(String, String)>, RallyError> {
        let spec = QuerySpec {
            type_path: "state",
            query: Some(Query::eq("TypeDef.Name", "Feature").render()),
            fetch: "ObjectID,Name,OrderIndex",
            order: Some("OrderIndex"),
            scope: Scope::Configured,
            types: None,
        };
        let r: QueryResult<RallyState> = self.query_page(&Op::new(op.name, None), &spec, 1, 200).await?;
        let mut states: Vec<&RallyState> = r.results.iter().collect();
        // Already ordered by the query; sorting again costs nothing and does not trust it.
        states.sort_by(|a, b| a.order_index.partial_cmp(&b.order_index).unwrap_or(std::cmp::Ordering::Equal));
        Ok(states
            .into_iter()
            .filter_map(|s| {
                Some((s.name.clone()?, super::resolve::relative_ref(s.r#ref.as_deref(), "state", s.object_id)?))
            })
            .collect())
    }

    /// typedefinition `HierarchicalRequirement` → its Attributes → `ScheduleState` → the
    /// AllowedValues collection: three requests, once per tracker, and only when a custom
    /// value was seen.
    async fn read_schedule_states(&self, op: &Op) -> Result<Vec<String>, RallyError> {
        self.read_allowed_values(op, "HierarchicalRequirement", "ScheduleState").await
    }

    /// The allowed values of `attribute` of the type at `type_path`, in value order, the
    /// empty "no value" entry skipped.
    pub(super) async fn read_allowed_values(
        &self,
        op: &Op,
        type_path: &str,
        attribute: &str,
    ) -> Result<Vec<String>, RallyError> {
        let lookup = Op::new(op.name, None);
        let missing = |what: &str| RallyError::Protocol { operation: lookup.label(), excerpt: format!("no {what}") };
        let types = QuerySpec {
            type_path: "typedefinition",
            query: Some(Query::eq("TypePath", type_path).render()),
            fetch: "ObjectID,ElementName,TypePath",
            order: None,
            scope: Scope::Configured,
            types: None,
        };
        let r: QueryResult<Def> = self.query_page(&lookup, &types, 1, 20).await?;
        let type_oid = r
            .results
            .iter()
            .find_map(|d| d.object_id)
            .ok_or_else(|| missing(&format!("{type_path} type definition")))?;
        let attributes_path = format!("TypeDefinition/{type_oid}/Attributes");
        let attributes = QuerySpec {
            type_path: &attributes_path,
            query: None,
            fetch: "ObjectID,ElementName",
            order: None,
            scope: Scope::Configured,
            types: None,
        };
        // Every attribute in one page rather than a query on the collection: a story type has
        // a few dozen (plus custom fields), well under one page.
        let r: QueryResult<Def> = self.query_page(&lookup, &attributes, 1, 2000).await?;
        let attr_oid = r
            .results
            .iter()
            .find(|d| d.element_name.as_deref() == Some(attribute))
            .and_then(|d| d.object_id)
            .ok_or_else(|| missing(&format!("{attribute} attribute")))?;
        let values_path = format!("AttributeDefinition/{attr_oid}/AllowedValues");
        let values = QuerySpec {
            type_path: &values_path,
            query: None,
            fetch: "StringValue,ValueIndex",
            order: None,
            scope: Scope::Configured,
            types: None,
        };
        let r: QueryResult<Allowed> = self.query_page(&lookup, &values, 1, 200).await?;
        let mut allowed: Vec<&Allowed> = r.results.iter().collect();
        // The collection comes in value order; ValueIndex, where present, says so explicitly.
        allowed.sort_by(|a, b| a.value_index.partial_cmp(&b.value_index).unwrap_or(std::cmp::Ordering::Equal));
        Ok(allowed.into_iter().filter_map(|a| a.string_value.clone()).filter(|v| !v.is_empty()).collect())
    }
}
