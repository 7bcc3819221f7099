//! Deterministic seed data: the same seed gives the same objects, ObjectIDs included. Dates
//! are placed relative to the current UTC day so `today` queries find items on both sides.

use crate::dates::{today_start, DAY_MS};
use crate::schema::{info, Kind, ALL_KINDS, FK, PI_STATES};
use crate::store::{FVal, Obj, Rng, Store};

mod attachments;
mod items;
mod metadata;
pub use items::bulk;
use items::{work_items, Items};
use metadata::{late_metadata, metadata};

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
    if let Some(first) = defects.first() {
        attachments::seed(&mut st, today, *first, users[0]);
    }
    Ok(Seeded { store: st, owner })
}
