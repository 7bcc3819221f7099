// Table rows are tuples on purpose: one line per case reads better than a struct per table.
#![allow(clippy::type_complexity)]

use super::*;
use crate::model::ArtifactType::{Defect, Feature, Task, UserStory};
use crate::model::IssueState::{Closed, InProgress, Open};

fn custom_orders() -> StateOrders {
    StateOrders {
        schedule_states: ["Idea", "Defined", "In-Progress", "Completed", "Accepted", "Released"]
            .map(String::from)
            .to_vec(),
        feature_states: ["Funnel", "Analyzing", "Implementing", "Live"].map(String::from).to_vec(),
        classified: Vec::new(),
    }
}

fn raw<'a>(schedule_state: Option<&'a str>, state: Option<&'a str>) -> RawState<'a> {
    RawState { schedule_state, state }
}

#[test]
fn read_every_state_of_every_type() {
    let d = StateOrders::default();
    let c = custom_orders();
    #[rustfmt::skip]
    let cases: Vec<(ArtifactType, Option<&str>, Option<&str>, &StateOrders, IssueState)> = vec![
        (UserStory, Some("Defined"), None, &d, Open),
        (UserStory, Some("In-Progress"), None, &d, InProgress),
        (UserStory, Some("Completed"), None, &d, Closed),
        (UserStory, Some("Accepted"), None, &d, Closed),
        (UserStory, None, None, &d, Open),
        (UserStory, Some(""), None, &d, Open),
        (UserStory, Some("Idea"), None, &c, Open),
        (UserStory, Some("Released"), None, &c, Closed),
        (UserStory, Some("Accepted"), None, &c, Closed),
        (UserStory, Some("Mystery"), None, &d, Open),
        (UserStory, Some("Released"), None, &d, Open),
        (Defect, Some("Defined"), Some("Submitted"), &d, Open),
        (Defect, Some("In-Progress"), Some("Open"), &d, InProgress),
        (Defect, Some("Completed"), Some("Fixed"), &d, Closed),
        (Defect, Some("Accepted"), Some("Open"), &d, Closed),
        (Defect, Some("Defined"), Some("Closed"), &d, Closed),
        (Defect, Some("In-Progress"), Some("Closed"), &d, Closed),
        (Defect, Some("Idea"), Some("Open"), &c, Open),
        (Defect, Some("Released"), Some("Submitted"), &c, Closed),
        (Defect, None, None, &d, Open),
        (Task, None, Some("Defined"), &d, Open),
        (Task, None, Some("In-Progress"), &d, InProgress),
        (Task, None, Some("Completed"), &d, Closed),
        (Task, None, None, &d, Open),
        (Feature, None, None, &d, Open),
        (Feature, None, Some("Discovering"), &d, Open),
        (Feature, None, Some("Developing"), &d, InProgress),
        (Feature, None, Some("Measuring"), &d, InProgress),
        (Feature, None, Some("Done"), &d, Closed),
        (Feature, None, Some("Funnel"), &c, Open),
        (Feature, None, Some("Implementing"), &c, InProgress),
        (Feature, None, Some("Live"), &c, Closed),
        (Feature, None, Some("Done"), &c, InProgress),
        (Feature, None, Some(""), &d, Open),
    ];
    for (t, ss, st, orders, want) in cases {
        assert_eq!(read_state(t, &raw(ss, st), orders), want, "{t:?} {ss:?} {st:?}");
    }
}

#[test]
fn write_every_transition() {
    use StateWrite::*;
    let d = StateOrders::default();
    let c = custom_orders();
    #[rustfmt::skip]
    let cases: Vec<(ArtifactType, Option<&str>, Option<&str>, &StateOrders, IssueState, Option<Vec<StateWrite>>)> = vec![
        (UserStory, Some("Defined"), None, &d, Open, None),
        (UserStory, Some("Defined"), None, &d, InProgress, Some(vec![ScheduleState("In-Progress")])),
        (UserStory, Some("Defined"), None, &d, Closed, Some(vec![ScheduleState("Completed")])),
        (UserStory, Some("In-Progress"), None, &d, Open, Some(vec![ScheduleState("Defined")])),
        (UserStory, Some("In-Progress"), None, &d, InProgress, None),
        (UserStory, Some("Accepted"), None, &d, Closed, None),
        (UserStory, Some("Accepted"), None, &d, Open, Some(vec![ScheduleState("Defined")])),
        (UserStory, Some("Idea"), None, &c, Open, None),
        (UserStory, Some("Released"), None, &c, Closed, None),
        (UserStory, Some("Released"), None, &c, InProgress, Some(vec![ScheduleState("In-Progress")])),
        (Defect, Some("Defined"), Some("Submitted"), &d, Closed, Some(vec![ScheduleState("Completed")])),
        (Defect, Some("Completed"), Some("Fixed"), &d, Closed, None),
        (Defect, Some("Defined"), Some("Closed"), &d, Closed, None),
        (Defect, Some("Defined"), Some("Closed"), &d, Open, Some(vec![DefectReopen])),
        (Defect, Some("Accepted"), Some("Closed"), &d, Open, Some(vec![DefectReopen])),
        (Defect, Some("Accepted"), Some("Closed"), &d, InProgress, Some(vec![DefectReopen, ScheduleState("In-Progress")])),
        (Defect, Some("Completed"), Some("Fixed"), &d, Open, Some(vec![ScheduleState("Defined")])),
        (Defect, Some("In-Progress"), Some("Open"), &d, InProgress, None),
        (Task, None, Some("Defined"), &d, Open, None),
        (Task, None, Some("Defined"), &d, InProgress, Some(vec![TaskState("In-Progress")])),
        (Task, None, Some("In-Progress"), &d, Closed, Some(vec![TaskState("Completed")])),
        (Task, None, Some("Completed"), &d, Open, Some(vec![TaskState("Defined")])),
        (Task, None, Some("Completed"), &d, Closed, None),
        (Feature, None, None, &d, Open, None),
        (Feature, None, None, &d, InProgress, Some(vec![FeatureState("Developing".into())])),
        (Feature, None, None, &d, Closed, Some(vec![FeatureState("Done".into())])),
        (Feature, None, Some("Measuring"), &d, InProgress, None),
        (Feature, None, Some("Done"), &d, Open, Some(vec![FeatureState("Discovering".into())])),
        (Feature, None, Some("Funnel"), &c, Closed, Some(vec![FeatureState("Live".into())])),
        (Feature, None, Some("Live"), &c, InProgress, Some(vec![FeatureState("Analyzing".into())])),
    ];
    for (t, ss, st, orders, target, want) in cases {
        let got = write_state(t, target, &raw(ss, st), orders);
        assert_eq!(got, want, "{t:?} {ss:?} {st:?} -> {target:?}");
        // Whatever is written must read back as the target.
        if let Some(writes) = got {
            let f = fields(&writes);
            let get = |name: &str| f.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str());
            let after = match t {
                UserStory => raw(get("ScheduleState"), None),
                Defect => raw(get("ScheduleState").or(ss), get("State").or(st)),
                Task | Feature => raw(None, get("State")),
            };
            assert_eq!(read_state(t, &after, orders), target, "{t:?} {ss:?} {st:?} -> {target:?}");
        }
    }
}

#[test]
fn fields_merge_later_writes() {
    use StateWrite::*;
    assert_eq!(
        fields(&[DefectReopen, ScheduleState("In-Progress")]),
        vec![("ScheduleState", "In-Progress".to_string()), ("State", "Open".to_string())]
    );
    assert_eq!(fields(&[TaskState("Completed")]), vec![("State", "Completed".to_string())]);
    assert_eq!(fields(&[FeatureState("Done".into())]), vec![("State", "Done".to_string())]);
    assert!(fields(&[]).is_empty());
}

#[test]
fn feature_writes_with_short_orders() {
    let empty = StateOrders { feature_states: vec![], ..StateOrders::default() };
    assert_eq!(
        write_state(Feature, Closed, &raw(None, None), &empty),
        Some(vec![StateWrite::FeatureState("Done".into())])
    );
    let two = StateOrders { feature_states: vec!["A".into(), "B".into()], ..StateOrders::default() };
    assert_eq!(
        write_state(Feature, InProgress, &raw(None, None), &two),
        Some(vec![StateWrite::FeatureState("B".into())])
    );
}

#[test]
fn priorities_both_ways() {
    let from: &[(&str, Option<u32>)] = &[
        ("Resolve Immediately", Some(1)),
        ("High Attention", Some(2)),
        ("Normal", Some(3)),
        ("Low", Some(4)),
        ("None", None),
        ("", None),
        ("Urgent", Some(1)),
        ("critical", Some(1)),
        (" High ", Some(2)),
        ("Medium", Some(3)),
        ("P1", Some(1)),
        ("p4", Some(4)),
        ("Whenever", None),
    ];
    for (v, want) in from {
        assert_eq!(priority_from_rally(v), *want, "{v}");
    }
    let to = [(0, "None"), (1, "Resolve Immediately"), (2, "High Attention"), (3, "Normal"), (4, "Low"), (9, "None")];
    for (p, want) in to {
        assert_eq!(priority_to_rally(p), want);
        if (1..=4).contains(&p) {
            assert_eq!(priority_from_rally(want), Some(p));
        }
    }
}

#[test]
fn open_filters() {
    let d = StateOrders::default();
    let c = custom_orders();
    let cases = [
        (UserStory, &d, r#"(ScheduleState < "Completed")"#),
        (Defect, &d, r#"((ScheduleState < "Completed") AND (State != "Closed"))"#),
        (Task, &d, r#"(State != "Completed")"#),
        (Feature, &d, r#"((State = null) OR (State.Name != "Done"))"#),
        (Feature, &c, r#"((State = null) OR (State.Name != "Live"))"#),
    ];
    for (t, o, want) in cases {
        assert_eq!(open_filter(t, o).render(), want, "{t:?}");
    }
}

#[test]
fn state_filters() {
    let d = StateOrders::default();
    #[rustfmt::skip]
    let cases = [
        (UserStory, Open, r#"(ScheduleState <= "Defined")"#),
        (UserStory, InProgress, r#"(ScheduleState = "In-Progress")"#),
        (UserStory, Closed, r#"(ScheduleState >= "Completed")"#),
        (Defect, Open, r#"((ScheduleState <= "Defined") AND (State != "Closed"))"#),
        (Defect, InProgress, r#"((ScheduleState = "In-Progress") AND (State != "Closed"))"#),
        (Defect, Closed, r#"((ScheduleState >= "Completed") OR (State = "Closed"))"#),
        (Task, Open, r#"(State = "Defined")"#),
        (Task, InProgress, r#"(State = "In-Progress")"#),
        (Task, Closed, r#"(State = "Completed")"#),
        (Feature, Open, r#"((State = null) OR (State.Name = "Discovering"))"#),
        (Feature, InProgress, r#"(((State != null) AND (State.Name != "Discovering")) AND (State.Name != "Done"))"#),
        (Feature, Closed, r#"(State.Name = "Done")"#),
    ];
    for (t, s, want) in cases {
        assert_eq!(state_filter(t, s, &d).render(), want, "{t:?} {s:?}");
    }
}

#[test]
fn only_values_outside_the_standard_four_are_custom() {
    for s in ["Defined", "In-Progress", "Completed", "Accepted", ""] {
        assert!(!is_custom_schedule_state(s), "{s}");
    }
    for s in ["Idea", "Released", "accepted", "Defined "] {
        assert!(is_custom_schedule_state(s), "{s}");
    }
}
