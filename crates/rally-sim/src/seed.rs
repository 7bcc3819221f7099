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

const INITIATIVES: [&str; 4] =
    ["Grow mobile revenue", "Modernise the platform", "Open new markets", "Cut fulfilment costs"];

/// Fewest work items a seed may ask for: one of each of the five types and a little more.
pub const MIN_ITEMS: u64 = 10;
/// Most work items a seed may ask for (as many as one `/__sim/bulk` call; about 0.5 GB).
pub const MAX_ITEMS: u64 = 200_000;

/// How many work items of each type `--seed N` makes; they always sum to N.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub initiatives: usize,
    pub features: usize,
    pub stories: usize,
    pub defects: usize,
    pub tasks: usize,
}

/// About 2% initiatives, 6% features, 35% stories, 22% defects, and tasks for the rest
/// (about 35%), each rounded to the nearest whole; at least one of each type, and from 30
/// items on at least four features so every Feature state is used.
pub fn counts(n: u64) -> Result<Counts, String> {
    if !(MIN_ITEMS..=MAX_ITEMS).contains(&n) {
        return Err(format!(
            "--seed is the number of work items to generate and must be between {MIN_ITEMS} and {MAX_ITEMS}; got {n}"
        ));
    }
    let share = |percent: u64, least: u64| ((n * percent + 50) / 100).max(least) as usize;
    let (initiatives, features) = (share(2, 1), share(6, if n >= 30 { 4 } else { 1 }));
    let (stories, defects) = (share(35, 1), share(22, 1));
    let tasks = n as usize - initiatives - features - stories - defects;
    Ok(Counts { initiatives, features, stories, defects, tasks })
}

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

/// Common artifact setup: owner, project, workspace, dates, tags. The first items of each kind
/// (by index `i`) go to every project and every seeded user in turn, so even a small data set
/// has work in the child projects and owned by several people; the rest are drawn at random.
fn artifact(st: &mut Store, kind: Kind, name: String, ctx: &Ctx, day_ago: i64, i: usize) -> Obj {
    let mut o = st.blank(kind);
    let created = ctx.today - day_ago * DAY_MS + st.rng.below(DAY_MS as u64) as i64;
    let updated = created + st.rng.below((day_ago.max(1) * DAY_MS) as u64) as i64;
    set(&mut o, "CreationDate", FVal::Date(created));
    set(&mut o, "LastUpdateDate", FVal::Date(updated.min(ctx.today)));
    set(&mut o, "Name", s(name));
    set(&mut o, "Subscription", FVal::Ref(ctx.sub));
    set(&mut o, "Workspace", FVal::Ref(ctx.ws));
    let project = if i < ctx.projects.len() { ctx.projects[i] } else { *st.rng.pick(&ctx.projects) };
    set(&mut o, "Project", FVal::Ref(project));
    let owner = if i < USERS.len() {
        FVal::Ref(ctx.users[i])
    } else if st.rng.chance(15) {
        FVal::Null
    } else {
        FVal::Ref(*st.rng.pick(&ctx.users))
    };
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
    // Every attribute the seed defines is a built-in one (`Custom` false): Rally gives those
    // negative ObjectIDs.
    let mut o = if kind == Kind::AttributeDefinition { st.blank_builtin(kind) } else { st.blank(kind) };
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

/// Type and attribute metadata, built from the schema itself: the type definitions first, then
/// each type's attribute definitions with the allowed values of its drop-downs.
fn metadata(st: &mut Store, today: i64, ws: u64) -> Vec<(Kind, u64)> {
    let mut typedefs = Vec::new();
    // The PullRequest type and the artifacts' `PullRequests` are defined last (`late_metadata`),
    // so the ObjectIDs of the seed data stay what they were before the type existed.
    for kind in ALL_KINDS.into_iter().filter(|k| *k != Kind::PullRequest) {
        typedefs.push((kind, type_definition(st, today, ws, kind)));
    }
    let value_type = typedefs.iter().find(|(k, _)| *k == Kind::AllowedAttributeValue).map_or(0, |(_, o)| *o);
    for &(kind, td) in &typedefs {
        for fd in info(kind).fields.iter().filter(|f| f.name != "PullRequests") {
            attribute_definition(st, today, kind, td, value_type, fd);
        }
    }
    typedefs
}

fn type_definition(st: &mut Store, today: i64, ws: u64, kind: Kind) -> u64 {
    let ti = info(kind);
    let display = if kind == Kind::HierarchicalRequirement { "User Story" } else { ti.element_name };
    // What a client may do with the type here: create/delete work items, tags, posts, PRs.
    let writable =
        crate::schema::is_artifact(kind) || matches!(kind, Kind::Tag | Kind::ConversationPost | Kind::PullRequest);
    let ordinal = match kind {
        Kind::Feature => 0,
        Kind::Initiative => 1,
        _ => -1,
    };
    plain(
        st,
        Kind::TypeDefinition,
        today,
        &[
            ("Workspace", FVal::Ref(ws)),
            ("Abstract", FVal::Bool(false)),
            ("Creatable", FVal::Bool(writable)),
            ("Deletable", FVal::Bool(writable)),
            ("DisplayName", s(display)),
            ("ElementName", s(ti.element_name)),
            ("IDPrefix", ti.prefix.map_or(FVal::Null, s)),
            (
                "Name",
                s(if kind == Kind::HierarchicalRequirement { "Hierarchical Requirement" } else { ti.element_name }),
            ),
            ("Ordinal", FVal::Int(ordinal)),
            ("Queryable", FVal::Bool(true)),
            (
                "ReadOnly",
                FVal::Bool(matches!(
                    kind,
                    Kind::TypeDefinition | Kind::AttributeDefinition | Kind::AllowedAttributeValue
                )),
            ),
            ("Restorable", FVal::Bool(crate::schema::is_artifact(kind))),
            ("TypePath", s(ti.type_path)),
        ],
    )
}

fn attribute_definition(st: &mut Store, today: i64, kind: Kind, td: u64, value_type: u64, fd: &crate::schema::Field) {
    let max_length = match fd.kind {
        FK::Rich => crate::write::RICH_MAX as i64,
        FK::Str if kind == Kind::Tag && fd.name == "Name" => crate::write::TAG_MAX as i64,
        FK::Str | FK::Enum(_) => 256,
        _ => -1,
    };
    let ad = plain(
        st,
        Kind::AttributeDefinition,
        today,
        &[
            ("AllowedValueType", if matches!(fd.kind, FK::Enum(_)) { FVal::Ref(value_type) } else { FVal::Null }),
            ("AttributeType", s(crate::schema::attribute_type(fd.kind))),
            ("Constrained", FVal::Bool(matches!(fd.kind, FK::Enum(_)))),
            ("Custom", FVal::Bool(false)),
            ("ElementName", s(fd.name)),
            ("Filterable", FVal::Bool(!matches!(fd.kind, FK::Coll(..)))),
            ("Hidden", FVal::Bool(false)),
            ("MaxFractionalDigits", FVal::Int(if fd.kind == FK::Num { 2 } else { -1 })),
            ("MaxLength", FVal::Int(max_length)),
            ("Name", s(split_camel(fd.name))),
            ("ReadOnly", FVal::Bool(!fd.writable)),
            ("Required", FVal::Bool(fd.required)),
            ("SchemaType", s(crate::schema::schema_type(fd.kind))),
            ("TypeDefinition", FVal::Ref(td)),
        ],
    );
    if let FK::Enum(values) = fd.kind {
        let values = st.values(values);
        allowed_values(st, today, ad, values.iter().map(|v| v.to_string()));
    }
}

fn allowed_values(st: &mut Store, today: i64, ad: u64, values: impl Iterator<Item = String>) {
    for (i, v) in values.enumerate() {
        plain(
            st,
            Kind::AllowedAttributeValue,
            today,
            &[("AttributeDefinition", FVal::Ref(ad)), ("StringValue", s(v)), ("ValueIndex", FVal::Int(i as i64))],
        );
    }
}

/// Metadata made after the seed data: the PullRequest type (when the workspace has it) with
/// the artifacts' `PullRequests` attribute, then the custom fields (positive ObjectIDs, as
/// Rally gives attributes an administrator added).
fn late_metadata(st: &mut Store, today: i64, ws: u64, typedefs: &[(Kind, u64)]) {
    let td_of = |k: Kind| typedefs.iter().find(|(x, _)| *x == k).map_or(0, |(_, o)| *o);
    let value_type = td_of(Kind::AllowedAttributeValue);
    if st.pull_requests {
        let pr_td = type_definition(st, today, ws, Kind::PullRequest);
        for fd in &info(Kind::PullRequest).fields {
            attribute_definition(st, today, Kind::PullRequest, pr_td, value_type, fd);
        }
        for kind in crate::schema::ARTIFACTS {
            if let Some(fd) = info(kind).field("PullRequests") {
                attribute_definition(st, today, kind, td_of(kind), value_type, fd);
            }
        }
    }
    for f in st.custom.clone() {
        let mut o = st.blank(Kind::AttributeDefinition);
        let constrained = !f.allowed.is_empty();
        let fields: Vec<(&str, FVal)> = vec![
            ("CreationDate", FVal::Date(today)),
            ("AllowedValueType", if constrained { FVal::Ref(value_type) } else { FVal::Null }),
            ("AttributeType", s(f.ty.attribute_type())),
            ("Constrained", FVal::Bool(constrained)),
            ("Custom", FVal::Bool(true)),
            ("ElementName", s(f.element.clone())),
            ("Filterable", FVal::Bool(true)),
            ("Hidden", FVal::Bool(false)),
            ("MaxFractionalDigits", FVal::Int(if f.ty == crate::custom::CType::Num { 2 } else { -1 })),
            ("MaxLength", FVal::Int(f.max_length.map_or(-1, |m| m as i64))),
            ("Name", s(f.display.clone())),
            ("ReadOnly", FVal::Bool(false)),
            ("Required", FVal::Bool(f.required)),
            ("SchemaType", s(f.ty.schema_type())),
            ("TypeDefinition", FVal::Ref(td_of(f.kind))),
        ];
        for (k, v) in fields {
            set(&mut o, k, v);
        }
        let ad = o.oid;
        st.put(o);
        if constrained {
            // Rally's drop-downs hold an empty "null" value first.
            let values = std::iter::once(String::new()).chain(f.allowed.iter().cloned());
            allowed_values(st, today, ad, values);
        }
    }
}

/// What a workspace is configured with beyond the seed data.
#[derive(Clone, Debug)]
pub struct WsOptions {
    pub schedule_states: &'static [&'static str],
    pub custom: Vec<crate::custom::CustomField>,
    pub pull_requests: bool,
}

pub fn seed(seed: u64, extra_users: &[String], ws_opts: &WsOptions) -> Result<Seeded, String> {
    let mut st = Store::new(seed);
    st.schedule_states = ws_opts.schedule_states;
    st.custom = ws_opts.custom.clone();
    st.pull_requests = ws_opts.pull_requests;
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
    // Every user has a profile naming the workspace and the root project as defaults, which is
    // where toolkits (pyral) look when no workspace or project is given.
    for &u in &users {
        let profile = plain(
            &mut st,
            Kind::UserProfile,
            today,
            &[
                ("DefaultProject", FVal::Ref(root)),
                ("DefaultWorkspace", FVal::Ref(ws)),
                ("EmailNotificationEnabled", FVal::Bool(false)),
                ("TimeZone", s("UTC")),
            ],
        );
        if let Some(mut user) = st.get(u).cloned() {
            set(&mut user, "UserProfile", FVal::Ref(profile));
            st.put(user);
        }
    }
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
    let n = counts(seed)?;
    let items = Items { features: feature_states, initiatives: initiative_states, root };
    let (stories, defects) = work_items(&mut st, &ctx, &n, &items);
    let discussed: Vec<u64> = stories.iter().step_by(3).chain(defects.iter().step_by(2)).copied().collect();
    for (n, art) in discussed.iter().enumerate() {
        for k in 0..(1 + n % 3) {
            let text = *st.rng.pick(&POSTS);
            // Minutes apart, wrapped at a day so a large seed keeps every post in the past.
            let created = today - (30 - k as i64) * DAY_MS + (n % 1440) as i64 * 60_000;
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
    late_metadata(&mut st, today, ws, &typedefs);
    Ok(Seeded { store: st, owner })
}

/// PI state refs and the root project, for the work items.
struct Items {
    features: Vec<u64>,
    initiatives: Vec<u64>,
    root: u64,
}

/// Days ago of item `i` of `count`, spread evenly from `from` (the first) down to `to`.
fn spread(i: usize, count: usize, from: i64, to: i64) -> i64 {
    from - (i as i64 * (from - to)) / count.max(1) as i64
}

/// Creates the work items; returns the stories and defects (the discussed kinds).
fn work_items(st: &mut Store, ctx: &Ctx, n: &Counts, pi: &Items) -> (Vec<u64>, Vec<u64>) {
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
