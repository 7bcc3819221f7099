//! The streamed page must be the whole-body parse, chunk boundaries anywhere: the same items
//! and envelope when the body is good, and the same kind of error when it is not.

use super::*;
use crate::rally_types::RallyArtifact;
use proptest::prelude::*;
use serde_json::Value;

macro_rules! fixture {
    ($name:literal) => {
        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/wsapi/", $name)).as_slice()
    };
}

/// The recorded query responses, and bodies of other shapes a query can get back.
fn bodies() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = [
        fixture!("query-hierarchicalrequirement-fetch-true.json"),
        fixture!("query-hierarchicalrequirement-fetch-list.json"),
        fixture!("query-task-nested-fetch.json"),
        fixture!("query-defect-empty.json"),
        fixture!("query-iteration-current.json"),
        fixture!("query-subscription-workspaces-collection.json"),
        fixture!("error-could-not-read-operationresult.json"),
        fixture!("get-testcase.json"),
        fixture!("401.html"),
    ]
    .iter()
    .map(|b| b.to_vec())
    .collect();
    v.push(tricky_page());
    v
}

/// Items whose text holds everything the envelope scanner must not mistake for structure:
/// brackets, quotes, escapes, a `"Results": [` inside a string, nested `Results` keys; with
/// `Results` before the counts and `Errors` after it.
fn tricky_page() -> Vec<u8> {
    let items: Vec<Value> = (0..40)
        .map(|i| {
            serde_json::json!({
                "_ref": format!("https://rally1.rallydev.com/slm/webservice/v2.0/hierarchicalrequirement/{i}"),
                "_type": "HierarchicalRequirement",
                "ObjectID": 1000 + i,
                "FormattedID": format!("US{i}"),
                "Name": format!("a ] \"quoted\" \\ }}, {{ \"Results\": [ {i} ]"),
                "Description": "<p>x</p>".repeat(i as usize),
                "Tags": {"_tagsNameArray": [{"Name": "[a]"}], "Results": [1, 2], "Count": 1},
                "PlanEstimate": 1.5,
                "Blocked": i % 2 == 0,
                "Owner": null,
            })
        })
        .collect();
    let items = serde_json::to_string_pretty(&items).unwrap_or_default();
    format!(
        "{{\"QueryResult\": {{\"_rallyAPIMajor\": \"2\", \"Results\" :\n {items} , \"TotalResultCount\": 40, \
         \"StartIndex\": 1, \"PageSize\": 200, \"Errors\": [], \"Warnings\": [\"It is ] \\\"deprecated\\\"\"]}}}}\n"
    )
    .into_bytes()
}

fn streamed<T: DeserializeOwned>(
    body: &[u8],
    cuts: &[usize],
    batch: usize,
) -> Result<QueryEnvelope<T>, serde_json::Error> {
    let mut s = QueryStream::<T>::with_batch(batch);
    let mut at = 0;
    for &c in cuts {
        let c = c.min(body.len()).max(at);
        s.feed(&body[at..c]);
        at = c;
    }
    s.feed(&body[at..]);
    s.finish().map_err(|(e, _)| e)
}

fn whole<T: DeserializeOwned>(body: &[u8]) -> Result<QueryEnvelope<T>, serde_json::Error> {
    serde_json::from_slice(body)
}

/// Same value, or errors of the same kind (what the caller's message and retry rest on).
fn same<T: DeserializeOwned + std::fmt::Debug + PartialEq>(
    body: &[u8],
    cuts: &[usize],
    batch: usize,
) -> Result<(), String> {
    let (a, b) = (whole::<T>(body), streamed::<T>(body, cuts, batch));
    let eq = |x: &QueryEnvelope<T>, y: &QueryEnvelope<T>| {
        let (x, y) = (&x.query_result, &y.query_result);
        (&x.errors, &x.warnings, x.total_result_count, x.start_index, x.page_size, &x.results)
            == (&y.errors, &y.warnings, y.total_result_count, y.start_index, y.page_size, &y.results)
    };
    match (&a, &b) {
        (Ok(x), Ok(y)) if eq(x, y) => Ok(()),
        (Err(x), Err(y)) if x.classify() == y.classify() => Ok(()),
        _ => Err(format!("whole {a:?}\nstreamed {b:?}\n{} cuts, batch {batch}", cuts.len())),
    }
}

#[test]
fn a_page_read_in_one_piece_or_byte_by_byte_is_the_whole_parse() {
    for body in bodies() {
        let bytewise: Vec<usize> = (0..body.len()).collect();
        for batch in [1, 7, 4096, BATCH] {
            same::<Value>(&body, &[], batch).unwrap();
            same::<Value>(&body, &bytewise, batch).unwrap();
            same::<RallyArtifact>(&body, &bytewise, batch).unwrap();
        }
    }
    let page: QueryEnvelope<RallyArtifact> = streamed(&tricky_page(), &[100, 5000], 64).unwrap();
    assert_eq!(page.query_result.results.len(), 40);
    assert_eq!(page.query_result.total(), 40);
    assert_eq!(page.query_result.warnings, vec!["It is ] \"deprecated\"".to_string()]);
    assert_eq!(page.query_result.results[3].object_id, Some(1003));
}

#[test]
fn an_error_keeps_the_body_head_to_quote() {
    let html = fixture!("401.html");
    let mut s = <QueryStream<Value> as Decode>::start(None);
    s.feed(html);
    let (_, seen) = s.finish().map(|_| ()).unwrap_err();
    assert_eq!(seen, html, "a body of another shape is kept whole");
    let page = tricky_page();
    let mut s = QueryStream::<Value>::with_batch(16);
    s.feed(&page[..page.len() / 2]);
    let (e, seen) = s.finish().map(|_| ()).unwrap_err();
    assert!(e.is_eof(), "{e}");
    assert!(seen.starts_with(b"{\"QueryResult\": {\"_rallyAPIMajor\": \"2\", \"Results\" :"));
    assert!(seen.len() < 200, "the items read are not kept: {} bytes", seen.len());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Any chunking and batch size: the same page.
    #[test]
    fn any_chunking_is_the_whole_parse(
        which in 0usize..10, cuts in proptest::collection::vec(0usize..20_000, 0..40), batch in 1usize..3000,
    ) {
        let bodies = bodies();
        let body = &bodies[which % bodies.len()];
        let mut cuts = cuts;
        cuts.sort_unstable();
        prop_assert!(same::<Value>(body, &cuts, batch).is_ok(), "{}", same::<Value>(body, &cuts, batch).unwrap_err());
        prop_assert!(same::<RallyArtifact>(body, &cuts, batch).is_ok(), "{}", same::<RallyArtifact>(body, &cuts, batch).unwrap_err());
    }

    /// A body cut anywhere, or with one byte changed, or one byte dropped: the same outcome
    /// and the same kind of error (cut short, syntax, shape) as parsing it whole.
    #[test]
    fn damaged_bodies_fail_as_the_whole_parse_does(
        which in 0usize..10, at in 0usize..20_000, byte in proptest::sample::select(b"{}[],:\"\\ 0a}]".to_vec()),
        how in 0u8..3, cuts in proptest::collection::vec(0usize..20_000, 0..10), batch in 1usize..500,
    ) {
        let bodies = bodies();
        let mut body = bodies[which % bodies.len()].clone();
        let at = at % body.len().max(1);
        match how {
            0 => body.truncate(at),
            1 => { if let Some(b) = body.get_mut(at) { *b = byte } }
            _ => { if at < body.len() { body.remove(at); } }
        }
        let mut cuts = cuts;
        cuts.sort_unstable();
        prop_assert!(same::<Value>(&body, &cuts, batch).is_ok(), "{}", same::<Value>(&body, &cuts, batch).unwrap_err());
        prop_assert!(same::<RallyArtifact>(&body, &cuts, batch).is_ok(), "{}", same::<RallyArtifact>(&body, &cuts, batch).unwrap_err());
    }
}
