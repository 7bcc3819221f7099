//! The work items: initiatives, features, stories, defects, tasks and their posts; and the
//! simple objects `/__sim/bulk` adds.

use super::*;

/// PI state refs and the root project, for the work items.
pub(super) struct Items {
    pub(super) features: Vec<u64>,
    pub(super) initiatives: Vec<u64>,
    pub(super) root: u64,
}

/// Days ago of item `i` of `count`, spread evenly from `from` (the first) down to `to`.
fn spread(i: usize, count: usize, from: i64, to: i64) -> i64 {
    from - (i as i64 * (from - to)) / count.max(1) as i64
}

/// Creates the work items; returns the stories and defects (the discussed kinds).
pub(super) fn work_items(st: &mut Store, ctx: &Ctx, n: &Counts, pi: &Items) -> (Vec<u64>, Vec<u64>) {
    let today = ctx.today;
    let mut initiatives = Vec::new();
    for i in 0..n.initiatives {
        let base = INITIATIVES[i % INITIATIVES.len()];
        let name = if i < INITIATIVES.len() { base.to_string() } else { format!("{base} ({})", 2027 + i / 4) };
        let mut o = artifact(st, Kind::Initiative, name, ctx, spread(i, n.initiatives, 300, 200), i);
        set(&mut o, "Project", FVal::Ref(pi.root));
        set(&mut o, "State", FVal::Ref(pi.initiatives[(i + 1) % pi.initiatives.len()]));
        set(&mut o, "PlannedStartDate", FVal::Date(today - 120 * DAY_MS));
        set(&mut o, "PlannedEndDate", FVal::Date(today + (90 + 30 * (i % 4) as i64) * DAY_MS));
        initiatives.push(o.oid);
        st.put(o);
    }
    let mut features = Vec::new();
    for i in 0..n.features {
        let area = AREAS[i % AREAS.len()];
        let name =
            if i < AREAS.len() { format!("Revamp {area}") } else { format!("Revamp {area}, phase {}", i / 8 + 1) };
        let mut o = artifact(st, Kind::Feature, name, ctx, spread(i, n.features, 250, 150), i);
        // Features belong to the team projects; the root holds the initiatives. So the root
        // alone (scope down off) has no Feature, an empty scope clients must report well.
        let teams = &ctx.projects[1..];
        set(&mut o, "Project", FVal::Ref(teams[i % teams.len()]));
        set(&mut o, "Parent", FVal::Ref(initiatives[i % initiatives.len()]));
        // One feature in eight has no State yet, as a newly created one has not.
        set(&mut o, "State", if i % 8 == 5 { FVal::Null } else { FVal::Ref(pi.features[i % pi.features.len()]) });
        set(&mut o, "PlannedStartDate", FVal::Date(today - (60 - 5 * (i % 12) as i64) * DAY_MS));
        set(&mut o, "PlannedEndDate", FVal::Date(today + ((i % 8) as i64 * 14 - 20) * DAY_MS));
        set(&mut o, "PercentDoneByStoryCount", FVal::Num(0.0));
        features.push(o.oid);
        st.put(o);
    }
    // The first fifth of the stories are the ones other stories hang under.
    let parents = (n.stories / 5).max(1);
    let mut stories: Vec<u64> = Vec::new();
    for i in 0..n.stories {
        let area = *st.rng.pick(&AREAS);
        let verb = *st.rng.pick(&STORY_VERBS);
        let name = format!("{verb} {area} details");
        let mut o = artifact(st, Kind::HierarchicalRequirement, name, ctx, spread(i, n.stories, 200, 1), i);
        let state = crate::schema::SCHEDULE_STATES[i % 4];
        set(&mut o, "ScheduleState", s(state));
        set(&mut o, "PlanEstimate", if i % 7 == 0 { FVal::Null } else { FVal::Num((1 + st.rng.below(8)) as f64) });
        set(&mut o, "Blocked", FVal::Bool(i % 11 == 3));
        set(&mut o, "BlockedReason", if i % 11 == 3 { s("Waiting on API") } else { FVal::Null });
        if state == "Accepted" {
            set(&mut o, "AcceptedDate", FVal::Date(today - (i % 9) as i64 * DAY_MS));
        }
        if i >= parents && i % 3 == 0 {
            set(&mut o, "Parent", FVal::Ref(stories[i % parents]));
        } else if i % 2 == 0 || i % 5 == 1 {
            let f = features[i % features.len()];
            set(&mut o, "PortfolioItem", FVal::Ref(f));
            set(&mut o, "Feature", FVal::Ref(f));
        }
        stories.push(o.oid);
        st.put(o);
    }
    let mut defects = Vec::new();
    for i in 0..n.defects {
        let area = *st.rng.pick(&AREAS);
        let text = *st.rng.pick(&DEFECT_TEXT);
        let name = format!("{} {text}", capital(area));
        let mut o = artifact(st, Kind::Defect, name, ctx, spread(i, n.defects, 150, 1), i);
        let state = crate::schema::DEFECT_STATES[i % 4];
        set(&mut o, "State", s(state));
        set(&mut o, "ScheduleState", s(crate::schema::SCHEDULE_STATES[(i / 2) % 4]));
        set(&mut o, "Priority", s(crate::schema::PRIORITIES[i % 5]));
        set(&mut o, "Severity", s(crate::schema::SEVERITIES[(i + 2) % 5]));
        let target = if i % 4 == 3 { FVal::Null } else { FVal::Date(today + ((i % 21) as i64 - 10) * 3 * DAY_MS) };
        set(&mut o, "TargetDate", target);
        set(&mut o, "Requirement", if i % 3 == 0 { FVal::Ref(stories[i % stories.len()]) } else { FVal::Null });
        set(&mut o, "SubmittedBy", FVal::Ref(*st.rng.pick(&ctx.users)));
        set(&mut o, "Blocked", FVal::Bool(false));
        set(&mut o, "Environment", s(["Production", "Staging", "Test"][i % 3]));
        set(&mut o, "Resolution", s(if state == "Closed" { "Code Change" } else { "None" }));
        set(&mut o, "PlanEstimate", FVal::Null);
        if state == "Closed" {
            set(&mut o, "ClosedDate", FVal::Date(today - (i % 60) as i64 * DAY_MS));
        }
        defects.push(o.oid);
        st.put(o);
    }
    // Tasks sit on the first 3/8 of the stories (not every story is broken down) and on
    // every fourth on a defect.
    let tasked = (n.stories * 3 / 8).max(1);
    for i in 0..n.tasks {
        let wp = if i % 4 == 3 { defects[i % defects.len()] } else { stories[i % tasked] };
        let name = st.rng.pick(&TASKS).to_string();
        let mut o = artifact(st, Kind::Task, name, ctx, spread(i, n.tasks, 100, 1), i);
        let project = st.get(wp).and_then(|w| w.ref_oid("Project")).unwrap_or(pi.root);
        set(&mut o, "Project", FVal::Ref(project));
        set(&mut o, "WorkProduct", FVal::Ref(wp));
        set(&mut o, "State", s(crate::schema::TASK_STATES[i % 3]));
        let est = (1 + st.rng.below(8)) as f64;
        set(&mut o, "Estimate", FVal::Num(est));
        set(&mut o, "ToDo", FVal::Num(if i % 3 == 2 { 0.0 } else { est }));
        set(&mut o, "Actuals", FVal::Num(0.0));
        set(&mut o, "TimeSpent", FVal::Num(0.0));
        set(&mut o, "Blocked", FVal::Bool(false));
        st.put(o);
    }
    (stories, defects)
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// Adds `count` simple objects of `kind` in the root project (for benchmarks).
pub fn bulk(st: &mut Store, kind: Kind, count: usize, owner: u64) -> Result<usize, String> {
    if !matches!(kind, Kind::HierarchicalRequirement | Kind::Defect) {
        return Err("bulk supports hierarchicalrequirement and defect".into());
    }
    let now = crate::dates::now_ms();
    let (ws, sub, root) = (st.workspace, st.subscription, st.root_project);
    for i in 0..count {
        let mut o = st.blank(kind);
        let fid = o.get("FormattedID").clone();
        set(
            &mut o,
            "Name",
            s(format!(
                "Bulk item {} ({})",
                i + 1,
                match &fid {
                    FVal::Str(f) => f.as_str(),
                    _ => "",
                }
            )),
        );
        set(&mut o, "CreationDate", FVal::Date(now));
        set(&mut o, "LastUpdateDate", FVal::Date(now));
        set(&mut o, "Subscription", FVal::Ref(sub));
        set(&mut o, "Workspace", FVal::Ref(ws));
        set(&mut o, "Project", FVal::Ref(root));
        set(&mut o, "Owner", FVal::Ref(owner));
        set(&mut o, "CreatedBy", FVal::Ref(owner));
        set(&mut o, "Description", s("<p>Generated for load tests.</p>"));
        set(&mut o, "Notes", s(""));
        set(&mut o, "Tags", FVal::Refs(Vec::new()));
        set(&mut o, "ScheduleState", s(crate::schema::SCHEDULE_STATES[i % 4]));
        if kind == Kind::Defect {
            set(&mut o, "State", s("Submitted"));
            set(&mut o, "Priority", s("None"));
            set(&mut o, "Severity", s("None"));
        }
        for b in ["Ready", "Expedite", "Blocked"] {
            set(&mut o, b, FVal::Bool(false));
        }
        st.put(o);
    }
    Ok(count)
}
