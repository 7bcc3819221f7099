//! Hot pure paths: one page of 2,000 artifacts parsed and normalised, HTML → Markdown of a
//! typical description, Markdown → HTML, and building a listIssues query.
//! Run: `cargo bench -p rally-core --bench core`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rally_core::ArtifactType;
use rally_core::QueryEnvelope;
use rally_core::RallyArtifact;
use rally_core::{html_to_markdown, markdown_to_html};
use rally_core::{issue_from_rally, NormalizeCtx};
use rally_core::{open_filter, StateOrders};
use rally_core::{QValue, Query};

const BASE: &str = "https://rally1.rallydev.com/slm/webservice/v2.0";

const DESCRIPTION: &str = "<div><b>Steps</b></div><div><ol><li>Open the <i>login</i> page</li>\
<li>Enter a user &amp; password</li><li>Press <code>Sign in</code></li></ol></div>\
<div>Expected: the dashboard.&nbsp;Actual: a 500 error, see <a href=\"https://example.com/log\">log</a>.</div>\
<div><br></div><table><tr><td>Browser</td><td>Result</td></tr><tr><td>Firefox</td><td>fails</td></tr></table>";

/// A WSAPI page shaped like a real `fetch=<ARTIFACT_FETCH>` response (ref keys included).
fn page(n: usize) -> String {
    let mut results = Vec::with_capacity(n);
    for i in 0..n {
        let oid = 800_000_000_000u64 + i as u64;
        let (ty, path, fid, state) = match i % 4 {
            0 => ("HierarchicalRequirement", "hierarchicalrequirement", format!("US{i}"), "null".to_string()),
            1 => ("Defect", "defect", format!("DE{i}"), "\"Open\"".to_string()),
            2 => ("Task", "task", format!("TA{i}"), "\"In-Progress\"".to_string()),
            _ => (
                "PortfolioItem/Feature",
                "portfolioitem/feature",
                format!("F{i}"),
                format!("{{\"_rallyAPIMajor\":\"2\",\"_ref\":\"{BASE}/state/1\",\"_refObjectName\":\"Developing\",\"Name\":\"Developing\",\"_type\":\"State\"}}"),
            ),
        };
        let refobj = |p: &str, id: u64, name: &str, extra: &str| {
            format!("{{\"_rallyAPIMajor\":\"2\",\"_rallyAPIMinor\":\"0\",\"_ref\":\"{BASE}/{p}/{id}\",\"_refObjectUUID\":\"5df3c62f-0feb-439e-8414-1b66bee93c16\",\"_objectVersion\":\"3\",\"_refObjectName\":\"{name}\"{extra}}}")
        };
        results.push(format!(
            "{{\"_rallyAPIMajor\":\"2\",\"_rallyAPIMinor\":\"0\",\"_ref\":\"{BASE}/{path}/{oid}\",\"_refObjectUUID\":\"3deebafa-d8a6-4ca7-9a1e-4599b3a56b4c\",\"_objectVersion\":\"7\",\"_refObjectName\":\"Item {i}\",\
\"ObjectID\":{oid},\"FormattedID\":\"{fid}\",\"Name\":\"Item {i} with a realistic title\",\"Description\":{desc},\
\"ScheduleState\":\"In-Progress\",\"State\":{state},\"Priority\":\"High Attention\",\"TargetDate\":null,\"PlannedEndDate\":\"2026-03-01T00:00:00.000Z\",\
\"Owner\":{owner},\"Tags\":{{\"_rallyAPIMajor\":\"2\",\"_ref\":\"{BASE}/Defect/{oid}/Tags\",\"_type\":\"Tag\",\"_tagsNameArray\":[{{\"Name\":\"backend\",\"_ref\":\"/tag/1\"}},{{\"Name\":\"p1\",\"_ref\":\"/tag/2\"}}],\"Count\":2}},\
\"Parent\":null,\"PortfolioItem\":{pi},\"WorkProduct\":{wp},\"Requirement\":null,\
\"CreationDate\":\"2025-12-04T08:13:23.201Z\",\"LastUpdateDate\":\"2025-12-04T09:37:57.738Z\",\"_type\":\"{ty}\"}}",
            desc = serde_json::to_string(DESCRIPTION).unwrap_or_default(),
            owner = refobj("user", 33534209350, "User One", ",\"_type\":\"User\""),
            pi = refobj("portfolioitem/feature", 7, "Feature", ",\"ObjectID\":7,\"FormattedID\":\"F7\",\"_type\":\"PortfolioItem/Feature\""),
            wp = refobj("hierarchicalrequirement", 9, "Story", ",\"ObjectID\":9,\"FormattedID\":\"US9\",\"_type\":\"HierarchicalRequirement\""),
        ));
    }
    format!(
        "{{\"QueryResult\":{{\"_rallyAPIMajor\":\"2\",\"_rallyAPIMinor\":\"0\",\"Errors\":[],\"Warnings\":[],\"TotalResultCount\":{n},\"StartIndex\":1,\"PageSize\":2000,\"Results\":[{}]}}}}",
        results.join(",")
    )
}

/// What `Tracker` deserialises a query page into (Errors, Warnings, counts and results).
type Envelope = QueryEnvelope<RallyArtifact>;

/// The pure part of `listIssues` over 10,000 stories: five 2,000-item pages parsed from bytes (as
/// the HTTP layer hands them over), merged, sorted newest first, normalised. What the Node
/// benchmark's addon CPU figure adds on top: HTTP, the cache updates, and building JS objects.
fn list_pure(pages: &[Vec<u8>], ctx: &NormalizeCtx) -> Option<usize> {
    let mut all: Vec<RallyArtifact> = Vec::new();
    for p in pages {
        let env: Envelope = serde_json::from_slice(black_box(p)).ok()?;
        all.extend(env.query_result.results);
    }
    all.sort_by(|a, b| b.last_update_date.cmp(&a.last_update_date).then_with(|| a.object_id.cmp(&b.object_id)));
    let issues: Result<Vec<_>, _> = all.iter().map(|a| issue_from_rally(a, ctx)).collect();
    issues.ok().map(|v| v.len())
}

fn benches(c: &mut Criterion) {
    let body = page(2000);
    let orders = StateOrders::default();
    let ctx = NormalizeCtx { web_base: "https://rally1.rallydev.com", orders: &orders };

    let mut g = c.benchmark_group("page_2000");
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.sample_size(20);
    g.bench_function("parse", |b| {
        b.iter(|| serde_json::from_slice::<Envelope>(black_box(body.as_bytes())).map(|e| e.query_result.results.len()))
    });
    g.bench_function("parse_and_normalise", |b| {
        b.iter(|| {
            let env: Envelope = serde_json::from_slice(black_box(body.as_bytes())).ok()?;
            let issues: Result<Vec<_>, _> =
                env.query_result.results.iter().map(|a| issue_from_rally(a, &ctx)).collect();
            issues.ok().map(|v| v.len())
        })
    });
    g.finish();

    let pages: Vec<Vec<u8>> = (0..5).map(|_| page(2000).into_bytes()).collect();
    let mut g = c.benchmark_group("list_10000");
    g.throughput(Throughput::Elements(10_000));
    g.sample_size(10);
    g.bench_function("parse_sort_normalise", |b| b.iter(|| list_pure(&pages, &ctx)));
    g.finish();

    c.bench_function("html_to_markdown/description", |b| b.iter(|| html_to_markdown(black_box(DESCRIPTION))));
    // The recorded defect's description: the common short case.
    let short = "<p>This is a UI - Automation config issue</p>";
    c.bench_function("html_to_markdown/short", |b| b.iter(|| html_to_markdown(black_box(short))));
    // What rally-sim's bulk-created stories carry (the Node benchmark's 10,000-story list).
    let sim = "<p>Generated for load tests.</p>";
    c.bench_function("html_to_markdown/sim_bulk", |b| b.iter(|| html_to_markdown(black_box(sim))));
    let md = html_to_markdown(DESCRIPTION);
    c.bench_function("markdown_to_html/description", |b| b.iter(|| markdown_to_html(black_box(&md))));

    c.bench_function("query/list_issues", |b| {
        b.iter(|| {
            let parts = vec![
                open_filter(ArtifactType::Defect, &orders),
                Query::eq("Owner", QValue::Ref("/user/33534209350".into())),
                Query::eq("Tags.Name", black_box("backend")),
                Query::eq("Tags.Name", black_box("needs \"review\"")),
                Query::contains("Name", black_box("login")).or(Query::contains("Description", black_box("login"))),
            ];
            Query::all(parts).map(|q| q.render())
        })
    });
}

criterion_group!(core, benches);
criterion_main!(core);
