//! Deterministic seed data: the same seed gives the same objects, ObjectIDs included. Dates
//! are placed relative to the current UTC day so `today` queries find items on both sides.

use crate::dates::{today_start, DAY_MS};
use crate::schema::{info, Kind, ALL_KINDS, FK, PI_STATES};
use crate::store::{FVal, Obj, Rng, Store};

const USERS: [(&str, &str); 5] =
    [("Alex", "Morgan"), ("Priya", "Shah"), ("Sam", "Lee"), ("Jordan", "Kim"), ("Taylor", "Reed")];
const TAGS: [&str; 8] =
    ["backend", "frontend", "security", "performance", "customer-reported", "tech-debt", "ux", "release-blocker"];
const AREAS: [&str; 8] = ["checkout", "search", "cart", "login", "payment", "catalog", "wishlist", "order history"];
const STORY_VERBS: [&str; 8] =
    ["Show", "Let shoppers edit", "Cache", "Validate", "Export", "Paginate", "Localise", "Audit"];
const DEFECT_TEXT: [&str; 6] = [
    "crashes when empty",
    "shows wrong total",
    "times out under load",
    "loses focus on submit",
    "renders off-screen on mobile",
    "rejects valid input",
];
const TASKS: [&str; 6] =
    ["Write unit tests", "Update API docs", "Code review", "Implement backend", "QA pass", "Design UI"];
const POSTS: [&str; 5] = [
    "<p>Reproduced on staging.</p>",
    "<p>I think this needs a <b>design review</b> first.</p>",
    "<p>Fix is in <code>cart/service.rs</code>, PR coming.</p>",
    "<p>Verified, thanks!</p>",
    "<p>See <a href=\"https://example.com/runbook\">the runbook</a> &amp; logs.</p>",
];

pub struct Seeded {
    pub store: Store,
    pub owner: u64,
}

fn set(o: &mut Obj, name: &str, v: FVal) {
    if let Some(i) = info(o.kind).field_index(name) {
        o.vals[i] = v;
    }
}

fn s(v: impl Into<String>) -> FVal {
    FVal::Str(v.into())
}

fn description(rng: &mut Rng, area: &str) -> String {
    match rng.below(4) {
        0 => format!("<p>As a shopper I want the <b>{area}</b> page to be faster.</p>"),
        1 => format!(
            "<p>Acceptance criteria for {area}:</p><ul><li>works on mobile</li>\
            <li>keeps state after reload</li><li>has <code>aria-label</code>s</li></ul>"
        ),
        2 => format!(
            "<p>Background: see <a href=\"https://wiki.example.com/{}\">the wiki</a>.</p>\
            <p>Edge case: <code>qty = 0</code> &amp; empty cart.</p>",
            area.replace(' ', "-")
        ),
        _ => format!(
            "<table><tr><th>Step</th><th>Expected</th></tr><tr><td>Open {area}</td>\
            <td>Loads in &lt; 1s</td></tr></table>"
        ),
    }
}

/// Common artifact setup: owner, project, workspace, dates, tags.
fn artifact(st: &mut Store, kind: Kind, name: String, ctx: &Ctx, day_ago: i64) -> Obj {
    let mut o = st.blank(kind);
    let created = ctx.today - day_ago * DAY_MS + st.rng.below(DAY_MS as u64) as i64;
    let updated = created + st.rng.below((day_ago.max(1) * DAY_MS) as u64) as i64;
    set(&mut o, "CreationDate", FVal::Date(created));
    set(&mut o, "LastUpdateDate", FVal::Date(updated.min(ctx.today)));
    set(&mut o, "Name", s(name));
    set(&mut o, "Subscription", FVal::Ref(ctx.sub));
    set(&mut o, "Workspace", FVal::Ref(ctx.ws));
    let project = *st.rng.pick(&ctx.projects);
    set(&mut o, "Project", FVal::Ref(project));
    let owner = if st.rng.chance(15) { FVal::Null } else { FVal::Ref(*st.rng.pick(&ctx.users)) };
    set(&mut o, "Owner", owner);
    set(&mut o, "CreatedBy", FVal::Ref(*st.rng.pick(&ctx.users)));
    let area = *st.rng.pick(&AREAS);
    set(&mut o, "Description", s(description(&mut st.rng, area)));
    set(&mut o, "Notes", s(""));
    for b in ["Ready", "Expedite"] {
        set(&mut o, b, FVal::Bool(false));
    }
    set(&mut o, "DisplayColor", s("#21a2e0"));
    let mut tags = Vec::new();
    for _ in 0..st.rng.below(3) {
        let t = *st.rng.pick(&ctx.tags);
        if !tags.contains(&t) {
            tags.push(t);
        }
    }
    set(&mut o, "Tags", FVal::Refs(tags));
    o
}

struct Ctx {
    today: i64,
    sub: u64,
    ws: u64,
    projects: Vec<u64>,
    users: Vec<u64>,
    tags: Vec<u64>,
}

fn plain(st: &mut Store, kind: Kind, ctx_today: i64, fields: &[(&str, FVal)]) -> u64 {
    let mut o = st.blank(kind);
    set(&mut o, "CreationDate", FVal::Date(ctx_today - 400 * DAY_MS));
    for (k, v) in fields {
        set(&mut o, k, v.clone());
    }
    let oid = o.oid;
    st.put(o);
    oid
}

fn split_camel(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.char_indices() {
        if i > 0 && c.is_ascii_uppercase() && !name[..i].ends_with(|p: char| p.is_ascii_uppercase()) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// Type and attribute metadata, built from the schema itself.
fn metadata(st: &mut Store, today: i64, ws: u64) -> Vec<(Kind, u64)> {
    let mut typedefs = Vec::new();
    for kind in ALL_KINDS {
        let ti = info(kind);
        let display = if kind == Kind::HierarchicalRequirement { "User Story" } else { ti.element_name };
        let td = plain(
            st,
            Kind::TypeDefinition,
            today,
            &[
                ("Workspace", FVal::Ref(ws)),
                ("Abstract", FVal::Bool(false)),
                ("DisplayName", s(display)),
                ("ElementName", s(ti.element_name)),
                ("IDPrefix", ti.prefix.map_or(FVal::Null, s)),
                (
                    "Name",
                    s(if kind == Kind::HierarchicalRequirement { "Hierarchical Requirement" } else { ti.element_name }),
                ),
                ("TypePath", s(ti.type_path)),
            ],
        );
        typedefs.push((kind, td));
        for fd in &ti.fields {
            let ad = plain(
                st,
                Kind::AttributeDefinition,
                today,
                &[
                    ("AttributeType", s(crate::schema::attribute_type(fd.kind))),
                    ("Constrained", FVal::Bool(matches!(fd.kind, FK::Enum(_)))),
                    ("Custom", FVal::Bool(false)),
                    ("ElementName", s(fd.name)),
                    ("Name", s(split_camel(fd.name))),
                    ("ReadOnly", FVal::Bool(!fd.writable)),
                    ("Required", FVal::Bool(fd.required)),
                    ("TypeDefinition", FVal::Ref(td)),
                ],
            );
            if let FK::Enum(values) = fd.kind {
                let values = st.values(values);
                for (i, v) in values.iter().enumerate() {
                    plain(
                        st,
                        Kind::AllowedAttributeValue,
                        today,
                        &[
                            ("AttributeDefinition", FVal::Ref(ad)),
                            ("StringValue", s(*v)),
                            ("ValueIndex", FVal::Int(i as i64)),
                        ],
                    );
                }
            }
        }
    }
    typedefs
}

pub fn seed(seed: u64, extra_users: &[String], schedule_states: &'static [&'static str]) -> Seeded {
    let mut st = Store::new(seed);
    st.schedule_states = schedule_states;
    let today = today_start();
    let sub = plain(
        &mut st,
        Kind::Subscription,
        today,
        &[("Name", s("Acme Retail")), ("SubscriptionID", FVal::Int(40_000 + (seed % 9_000) as i64))],
    );
    let mut users = Vec::new();
    let mut names: Vec<(String, String, String)> =
        USERS.iter().map(|(f, l)| (f.to_string(), l.to_string(), String::new())).collect();
    for u in extra_users {
        if !names.iter().any(|(f, l, _)| format!("{}.{}@acme.example", f, l).to_lowercase() == *u) {
            names.push((String::new(), String::new(), u.clone()));
        }
    }
    for (first, last, explicit) in names {
        let user_name =
            if explicit.is_empty() { format!("{first}.{last}@acme.example").to_lowercase() } else { explicit.clone() };
        let display = if explicit.is_empty() { format!("{first} {last}") } else { String::new() };
        users.push(plain(
            &mut st,
            Kind::User,
            today,
            &[
                ("Subscription", FVal::Ref(sub)),
                ("Disabled", FVal::Bool(false)),
                ("DisplayName", s(display)),
                ("EmailAddress", s(user_name.clone())),
                ("FirstName", s(first)),
                ("LastName", s(last)),
                ("UserName", s(user_name)),
            ],
        ));
    }
    let owner = users[0];
    let ws = plain(
        &mut st,
        Kind::Workspace,
        today,
        &[
            ("Subscription", FVal::Ref(sub)),
            ("Description", s("<p>Everything the store teams work on.</p>")),
            ("Name", s("Acme Store")),
            ("Owner", FVal::Ref(owner)),
            ("State", s("Open")),
        ],
    );
    let project = |st: &mut Store, name: &str, parent: FVal| {
        plain(
            st,
            Kind::Project,
            today,
            &[
                ("Subscription", FVal::Ref(sub)),
                ("Workspace", FVal::Ref(ws)),
                ("Name", s(name)),
                ("Description", s("")),
                ("Owner", FVal::Ref(owner)),
                ("Parent", parent),
                ("State", s("Open")),
            ],
        )
    };
    let root = project(&mut st, "Online Store", FVal::Null);
    let checkout = project(&mut st, "Checkout Team", FVal::Ref(root));
    let search = project(&mut st, "Search Team", FVal::Ref(root));
    st.workspace = ws;
    st.subscription = sub;
    st.root_project = root;
    let typedefs = metadata(&mut st, today, ws);
    let td = |k: Kind| typedefs.iter().find(|(x, _)| *x == k).map(|(_, o)| *o).unwrap_or(0);
    let mut feature_states = Vec::new();
    for (pi, list) in [(Kind::Feature, &mut feature_states), (Kind::Initiative, &mut Vec::new())] {
        for (i, name) in PI_STATES.iter().enumerate() {
            list.push(plain(
                &mut st,
                Kind::State,
                today,
                &[
                    ("Workspace", FVal::Ref(ws)),
                    ("Description", s(format!("{name} stage"))),
                    ("Name", s(*name)),
                    ("OrderIndex", FVal::Int(i as i64 + 1)),
                    ("TypeDef", FVal::Ref(td(pi))),
                ],
            ));
        }
    }
    let initiative_states: Vec<u64> =
        st.all(Kind::State).filter(|o| o.ref_oid("TypeDef") == Some(td(Kind::Initiative))).map(|o| o.oid).collect();
    let tags: Vec<u64> = TAGS
        .iter()
        .map(|t| {
            plain(
                &mut st,
                Kind::Tag,
                today,
                &[("Workspace", FVal::Ref(ws)), ("Archived", FVal::Bool(false)), ("Name", s(*t))],
            )
        })
        .collect();
    let ctx = Ctx { today, sub, ws, projects: vec![root, checkout, checkout, search], users: users.clone(), tags };

    let mut initiatives = Vec::new();
    for (i, name) in ["Grow mobile revenue", "Modernise the platform"].iter().enumerate() {
        let mut o = artifact(&mut st, Kind::Initiative, name.to_string(), &ctx, 300 - i as i64 * 20);
        set(&mut o, "Project", FVal::Ref(root));
        set(&mut o, "State", FVal::Ref(initiative_states[1]));
        set(&mut o, "PlannedStartDate", FVal::Date(today - 120 * DAY_MS));
        set(&mut o, "PlannedEndDate", FVal::Date(today + (90 + 30 * i as i64) * DAY_MS));
        initiatives.push(o.oid);
        st.put(o);
    }
    let mut features = Vec::new();
    for i in 0..6 {
        let area = AREAS[i % AREAS.len()];
        let mut o = artifact(&mut st, Kind::Feature, format!("Revamp {area}"), &ctx, 250 - i as i64 * 10);
        set(&mut o, "Parent", FVal::Ref(initiatives[i % 2]));
        set(&mut o, "State", if i == 5 { FVal::Null } else { FVal::Ref(feature_states[i % 4]) });
        set(&mut o, "PlannedStartDate", FVal::Date(today - (60 - 5 * i as i64) * DAY_MS));
        set(&mut o, "PlannedEndDate", FVal::Date(today + (i as i64 * 14 - 20) * DAY_MS));
        set(&mut o, "PercentDoneByStoryCount", FVal::Num(0.0));
        features.push(o.oid);
        st.put(o);
    }
    let mut stories: Vec<u64> = Vec::new();
    for i in 0..40 {
        let area = *st.rng.pick(&AREAS);
        let verb = *st.rng.pick(&STORY_VERBS);
        let mut o = artifact(
            &mut st,
            Kind::HierarchicalRequirement,
            format!("{verb} {area} details"),
            &ctx,
            200 - i as i64 * 4,
        );
        let state = crate::schema::SCHEDULE_STATES[(i % 4) as usize];
        set(&mut o, "ScheduleState", s(state));
        set(&mut o, "PlanEstimate", if i % 7 == 0 { FVal::Null } else { FVal::Num((1 + st.rng.below(8)) as f64) });
        set(&mut o, "Blocked", FVal::Bool(i % 11 == 3));
        set(&mut o, "BlockedReason", if i % 11 == 3 { s("Waiting on API") } else { FVal::Null });
        if state == "Accepted" {
            set(&mut o, "AcceptedDate", FVal::Date(today - (i % 9) as i64 * DAY_MS));
        }
        if i >= 8 && i % 3 == 0 {
            set(&mut o, "Parent", FVal::Ref(stories[(i as usize) % 8]));
        } else if i % 2 == 0 || i % 5 == 1 {
            let f = features[i as usize % features.len()];
            set(&mut o, "PortfolioItem", FVal::Ref(f));
            set(&mut o, "Feature", FVal::Ref(f));
        }
        stories.push(o.oid);
        st.put(o);
    }
    let mut defects = Vec::new();
    for i in 0..25 {
        let area = *st.rng.pick(&AREAS);
        let text = *st.rng.pick(&DEFECT_TEXT);
        let mut o = artifact(&mut st, Kind::Defect, format!("{} {text}", capital(area)), &ctx, 150 - i as i64 * 5);
        let state = crate::schema::DEFECT_STATES[i % 4];
        set(&mut o, "State", s(state));
        set(&mut o, "ScheduleState", s(crate::schema::SCHEDULE_STATES[(i / 2) % 4]));
        set(&mut o, "Priority", s(crate::schema::PRIORITIES[i % 5]));
        set(&mut o, "Severity", s(crate::schema::SEVERITIES[(i + 2) % 5]));
        set(
            &mut o,
            "TargetDate",
            if i % 4 == 3 { FVal::Null } else { FVal::Date(today + (i as i64 - 10) * 3 * DAY_MS) },
        );
        set(&mut o, "Requirement", if i % 3 == 0 { FVal::Ref(stories[i]) } else { FVal::Null });
        set(&mut o, "SubmittedBy", FVal::Ref(*st.rng.pick(&users)));
        set(&mut o, "Blocked", FVal::Bool(false));
        set(&mut o, "Environment", s(["Production", "Staging", "Test"][i % 3]));
        set(&mut o, "Resolution", s(if state == "Closed" { "Code Change" } else { "None" }));
        set(&mut o, "PlanEstimate", FVal::Null);
        if state == "Closed" {
            set(&mut o, "ClosedDate", FVal::Date(today - i as i64 * DAY_MS));
        }
        defects.push(o.oid);
        st.put(o);
    }
    for i in 0..40 {
        let wp = if i % 4 == 3 { defects[i % defects.len()] } else { stories[i % 15] };
        let name = st.rng.pick(&TASKS).to_string();
        let mut o = artifact(&mut st, Kind::Task, name, &ctx, 100 - i as i64 * 2);
        let project = st.get(wp).and_then(|w| w.ref_oid("Project")).unwrap_or(root);
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
    let discussed: Vec<u64> = stories.iter().step_by(3).chain(defects.iter().step_by(2)).copied().collect();
    for (n, art) in discussed.iter().enumerate() {
        for k in 0..(1 + n % 3) {
            let text = *st.rng.pick(&POSTS);
            let created = today - (30 - k as i64) * DAY_MS + n as i64 * 60_000;
            plain(
                &mut st,
                Kind::ConversationPost,
                today,
                &[
                    ("CreationDate", FVal::Date(created)),
                    ("Subscription", FVal::Ref(sub)),
                    ("Workspace", FVal::Ref(ws)),
                    ("Artifact", FVal::Ref(*art)),
                    ("PostNumber", FVal::Int(k as i64 + 1)),
                    ("Text", s(text)),
                    ("User", FVal::Ref(users[(n + k) % users.len()])),
                ],
            );
        }
    }
    Seeded { store: st, owner }
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
