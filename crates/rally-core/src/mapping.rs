//! Rally ↔ Panopticon mapping: states, priorities and the state filters pushed into WSAPI.
//! Everything here is a table; the tests below are the tables written out.

use crate::model::{ArtifactType, IssueState};
use crate::query::{QValue, Query};

const DEFINED: &str = "Defined";
const IN_PROGRESS: &str = "In-Progress";
const COMPLETED: &str = "Completed";
const DEFECT_CLOSED: &str = "Closed";
const DEFECT_OPEN: &str = "Open";

/// The workspace's state orders: ScheduleState values (a custom one may precede `Defined` or
/// follow `Accepted`) and the Feature `State` names by `OrderIndex`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateOrders {
    pub schedule_states: Vec<String>,
    pub feature_states: Vec<String>,
    /// Custom ScheduleState values missing from `schedule_states` (its lookup failed) whose
    /// state Rally's own comparisons told us: the same `<= Defined` / `>= Completed` tests the
    /// state filters send, so a value reads as the state whose filter matches it.
    pub classified: Vec<(String, IssueState)>,
}

impl Default for StateOrders {
    fn default() -> Self {
        let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect();
        StateOrders {
            schedule_states: v(&[DEFINED, IN_PROGRESS, COMPLETED, "Accepted"]),
            feature_states: v(&["Discovering", "Developing", "Measuring", "Done"]),
            classified: Vec::new(),
        }
    }
}

/// Whether a ScheduleState value is outside the standard four: only such a value needs the
/// workspace's discovered order to be read (before `Defined` → open, after `Accepted` → closed).
pub fn is_custom_schedule_state(s: &str) -> bool {
    !s.is_empty() && ![DEFINED, IN_PROGRESS, COMPLETED, "Accepted"].contains(&s)
}

impl StateOrders {
    fn schedule_rank(&self, s: &str) -> Option<usize> {
        self.schedule_states.iter().position(|x| x == s)
    }
    fn feature_first(&self) -> Option<&str> {
        self.feature_states.first().map(String::as_str)
    }
    fn feature_last(&self) -> Option<&str> {
        self.feature_states.last().map(String::as_str)
    }
}

/// The raw state fields of one artifact: `ScheduleState`, and `State` (defect/task string,
/// feature `State.Name`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RawState<'a> {
    pub schedule_state: Option<&'a str>,
    pub state: Option<&'a str>,
}

/// ScheduleState → IssueState, by the same value order the state filters use (Rally compares
/// drop-down values by their order): before `In-Progress` → open, after → closed. A value
/// missing from the workspace's order reads as `classified` says (Rally's answer to the
/// filters' own comparisons), and, failing that too, as open.
fn read_schedule_state(s: Option<&str>, orders: &StateOrders) -> IssueState {
    let Some(s) = s.filter(|s| !s.is_empty()) else {
        return IssueState::Open;
    };
    if s == IN_PROGRESS {
        return IssueState::InProgress;
    }
    if s == COMPLETED || s == "Accepted" {
        return IssueState::Closed;
    }
    match (orders.schedule_rank(s), orders.schedule_rank(IN_PROGRESS)) {
        (Some(rank), Some(ip)) if rank > ip => IssueState::Closed,
        (Some(_), _) => IssueState::Open,
        (None, _) => orders.classified.iter().find(|(v, _)| v == s).map_or(IssueState::Open, |(_, st)| *st),
    }
}

pub fn read_state(t: ArtifactType, raw: &RawState, orders: &StateOrders) -> IssueState {
    match t {
        ArtifactType::UserStory => read_schedule_state(raw.schedule_state, orders),
        ArtifactType::Defect => {
            if raw.state == Some(DEFECT_CLOSED) {
                IssueState::Closed
            } else {
                read_schedule_state(raw.schedule_state, orders)
            }
        }
        ArtifactType::Task => match raw.state {
            Some(IN_PROGRESS) => IssueState::InProgress,
            Some(COMPLETED) => IssueState::Closed,
            _ => IssueState::Open,
        },
        ArtifactType::Feature => match raw.state.filter(|s| !s.is_empty()) {
            None => IssueState::Open,
            Some(s) if Some(s) == orders.feature_first() => IssueState::Open,
            Some(s) if Some(s) == orders.feature_last() => IssueState::Closed,
            Some(_) => IssueState::InProgress,
        },
    }
}

/// One field write of a transition. A transition is a list applied in order; a later write of
/// the same field wins (`fields()` does that merge).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateWrite {
    ScheduleState(&'static str),
    /// Task `State`.
    TaskState(&'static str),
    /// Defect: `ScheduleState` `Defined` and `State` `Open`.
    DefectReopen,
    /// Feature `State` by NAME; the caller resolves it to a `/state/<oid>` ref.
    FeatureState(String),
}

/// The WSAPI fields a transition sets: (field, value). For a Feature the `State` value is a
/// state name to be resolved to a ref.
pub fn fields(writes: &[StateWrite]) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = Vec::new();
    let mut set = |field: &'static str, value: &str| match out.iter_mut().find(|(f, _)| *f == field) {
        Some(slot) => slot.1 = value.to_string(),
        None => out.push((field, value.to_string())),
    };
    for w in writes {
        match w {
            StateWrite::ScheduleState(v) => set("ScheduleState", v),
            StateWrite::TaskState(v) => set("State", v),
            StateWrite::DefectReopen => {
                set("ScheduleState", DEFINED);
                set("State", DEFECT_OPEN);
            }
            StateWrite::FeatureState(name) => set("State", name),
        }
    }
    out
}

fn schedule_target(target: IssueState) -> &'static str {
    match target {
        IssueState::Open => DEFINED,
        IssueState::InProgress => IN_PROGRESS,
        IssueState::Closed => COMPLETED,
    }
}

/// The writes that move an artifact to `target`; `None` when it is already there (no write).
/// Features: first / second / last state of the order (with fewer than three states,
/// in_progress takes the second and open/closed the ends; an empty order uses the defaults).
pub fn write_state(
    t: ArtifactType,
    target: IssueState,
    raw: &RawState,
    orders: &StateOrders,
) -> Option<Vec<StateWrite>> {
    if read_state(t, raw, orders) == target {
        return None;
    }
    let writes = match t {
        ArtifactType::UserStory => vec![StateWrite::ScheduleState(schedule_target(target))],
        ArtifactType::Defect => {
            let reopen = raw.state == Some(DEFECT_CLOSED) && target != IssueState::Closed;
            match (reopen, target) {
                (true, IssueState::Open) => vec![StateWrite::DefectReopen],
                (true, _) => vec![StateWrite::DefectReopen, StateWrite::ScheduleState(schedule_target(target))],
                (false, _) => vec![StateWrite::ScheduleState(schedule_target(target))],
            }
        }
        ArtifactType::Task => vec![StateWrite::TaskState(schedule_target(target))],
        ArtifactType::Feature => {
            let defaults = StateOrders::default();
            let names =
                if orders.feature_states.is_empty() { &defaults.feature_states } else { &orders.feature_states };
            let pick = match target {
                IssueState::Open => names.first(),
                IssueState::InProgress => names.get(1).or(names.first()),
                IssueState::Closed => names.last(),
            };
            vec![StateWrite::FeatureState(pick.cloned().unwrap_or_default())]
        }
    };
    Some(writes)
}

/// Defect `Priority` (or a custom drop-down) → Panopticon's 1 (urgent) .. 4 (low).
pub fn priority_from_rally(v: &str) -> Option<u32> {
    let v = v.trim().to_ascii_lowercase();
    match v.as_str() {
        "resolve immediately" | "urgent" | "critical" | "highest" | "blocker" | "p1" => Some(1),
        "high attention" | "high" | "p2" => Some(2),
        "normal" | "medium" | "p3" => Some(3),
        "low" | "lowest" | "p4" => Some(4),
        _ => None,
    }
}

/// Panopticon priority → Defect `Priority`. 0 clears it (`None`); out-of-range values are
/// rejected by `validate` before they get here and also map to `None`.
pub fn priority_to_rally(p: u32) -> &'static str {
    match p {
        1 => "Resolve Immediately",
        2 => "High Attention",
        3 => "Normal",
        4 => "Low",
        _ => "None",
    }
}

fn text(s: &str) -> QValue {
    QValue::Text(s.to_string())
}

/// "Not closed", pushed into WSAPI. Drop-down comparisons use Rally's value order, so custom
/// states before `Defined` are included and custom ones after `Accepted` are not.
pub fn open_filter(t: ArtifactType, orders: &StateOrders) -> Query {
    match t {
        ArtifactType::UserStory => Query::lt("ScheduleState", text(COMPLETED)),
        ArtifactType::Defect => {
            Query::lt("ScheduleState", text(COMPLETED)).and(Query::ne("State", text(DEFECT_CLOSED)))
        }
        ArtifactType::Task => Query::ne("State", text(COMPLETED)),
        ArtifactType::Feature => match orders.feature_last() {
            Some(last) => Query::is_null("State").or(Query::ne("State.Name", text(last))),
            None => Query::is_null("State").or(Query::not_null("State")),
        },
    }
}

/// The comparisons that place a custom ScheduleState value when the workspace's order could not
/// be read: `(value, state)` for the open and closed branches of `state_filter`. A value
/// matching neither (Rally puts custom values only before `Defined` or after `Accepted`) stays
/// unclassified.
pub fn schedule_state_probes(value: &str) -> [(Query, IssueState); 2] {
    let is = || Query::eq("ScheduleState", text(value));
    [
        (is().and(Query::le("ScheduleState", text(DEFINED))), IssueState::Open),
        (is().and(Query::ge("ScheduleState", text(COMPLETED))), IssueState::Closed),
    ]
}

/// Exactly the artifacts `read_state` maps to `s`.
pub fn state_filter(t: ArtifactType, s: IssueState, orders: &StateOrders) -> Query {
    let schedule = |s: IssueState| match s {
        IssueState::Open => Query::le("ScheduleState", text(DEFINED)),
        IssueState::InProgress => Query::eq("ScheduleState", text(IN_PROGRESS)),
        IssueState::Closed => Query::ge("ScheduleState", text(COMPLETED)),
    };
    match t {
        ArtifactType::UserStory => schedule(s),
        ArtifactType::Defect => match s {
            IssueState::Closed => schedule(s).or(Query::eq("State", text(DEFECT_CLOSED))),
            _ => schedule(s).and(Query::ne("State", text(DEFECT_CLOSED))),
        },
        ArtifactType::Task => Query::eq("State", text(schedule_target(s))),
        ArtifactType::Feature => {
            let first = orders.feature_first().unwrap_or_default();
            let last = orders.feature_last().unwrap_or_default();
            match s {
                IssueState::Open => Query::is_null("State").or(Query::eq("State.Name", text(first))),
                IssueState::Closed => Query::eq("State.Name", text(last)),
                IssueState::InProgress => Query::not_null("State")
                    .and(Query::ne("State.Name", text(first)))
                    .and(Query::ne("State.Name", text(last))),
            }
        }
    }
}

#[cfg(test)]
mod tests;
