//! The properties the fuzz targets check, one `check_*` function per target. Each takes the raw
//! fuzz input and panics when a property fails, so libFuzzer reports it as a crash with the
//! input saved under `fuzz/artifacts/<target>/`. Nothing here needs libFuzzer: rally-core's
//! `tests/props.rs` runs the same checks on proptest's inputs in every `cargo test`.

pub mod bytes;
pub mod markup;
pub mod query;

use rally_core::{parse_issue_id, parse_object_ref, IssueId};

/// Query builder: a random tree renders to text that (a) a strict reader of the grammar written
/// here reads back to the same tree and (b) the simulator's parser reads to the same tree.
pub fn check_query_builder(data: &[u8]) {
    let tree = query::tree(&mut bytes::Bytes::new(data), 0);
    let rendered = query::build(&tree).render();
    let back = query::parse_back(&rendered).unwrap_or_else(|| panic!("rendered query does not read back: {rendered}"));
    assert!(query::matches(&tree, &back), "read back differs\n tree: {tree:?}\n text: {rendered}\n back: {back:?}");
    match rally_sim::query::parse(&rendered) {
        Ok(expr) => assert_eq!(expr, query::expected_sim(&tree), "simulator reads {rendered} differently"),
        Err(e) => panic!("simulator refuses the builder's query {rendered}: {e}"),
    }
}

/// Id parser: never panics; errors name the argument and quote at most an excerpt; every
/// accepted id reads back identically from its canonical text and with surrounding spaces.
pub fn check_issue_id(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let _ = parse_object_ref(s);
    // Refs from responses may name any type; only our four must read back.
    if let Some((type_path, oid)) =
        parse_object_ref(s).filter(|(t, _)| rally_core::ArtifactType::from_type_name(t).is_some())
    {
        assert_eq!(parse_object_ref(&format!("/{type_path}/{oid}")), Some((type_path.clone(), oid)), "{s:?}");
    }
    match parse_issue_id(s, "id") {
        Err(e) => {
            assert_eq!(e.argument, "id");
            assert!(e.message.len() < 400, "error message of {} bytes for {s:?}", e.message.len());
        }
        Ok(id) => {
            let canonical = match &id {
                IssueId::Formatted { prefix, number } => format!("{prefix}{number}"),
                IssueId::ObjectId(n) => n.to_string(),
                IssueId::Ref { type_path: Some(t), object_id } => format!("/{t}/{object_id}"),
                IssueId::Ref { type_path: None, object_id } => object_id.to_string(),
            };
            let again = parse_issue_id(&canonical, "id").unwrap_or_else(|e| panic!("{canonical:?} refused: {e}"));
            let same = match (&id, &again) {
                (IssueId::Ref { type_path: None, object_id }, IssueId::ObjectId(n)) => object_id == n,
                _ => id == again,
            };
            assert!(same, "{s:?} → {id:?}, but its canonical {canonical:?} → {again:?}");
            assert_eq!(parse_issue_id(&format!(" \t{s}\n "), "id").ok(), Some(id), "padding changes {s:?}");
        }
    }
}

/// HTML → Markdown: never panics; the Markdown, sent back, is HTML of the safe subset.
pub fn check_html_to_markdown(data: &[u8]) {
    let Ok(html) = std::str::from_utf8(data) else { return };
    let md = rally_core::html_to_markdown(html);
    markup::assert_safe_html(&rally_core::markdown_to_html(&md), &md);
    // A non-breaking space before a block marker loses the marker's escape: an open defect
    // (rally-core `tests/regressions.rs`), so such input is left out of the stability check.
    if !(html.contains("&nbsp;") || html.contains("&#160;") || html.contains('\u{a0}')) {
        markup::assert_stable(&md);
    }
}

/// Markdown → HTML: never panics; the HTML has only the tags and link schemes Rally accepts;
/// after one trip through HTML the Markdown is a fixed point.
pub fn check_markdown_to_html(data: &[u8]) {
    let Ok(md) = std::str::from_utf8(data) else { return };
    markup::assert_safe_html(&rally_core::markdown_to_html(md), md);
    markup::assert_stable(&rally_core::html_to_markdown(&rally_core::markdown_to_html(md)));
}

/// The simulator's query parser: never panics; errors are Rally's `Could not parse: …`; an
/// accepted query prints back (`Display`) to text that parses to the same tree.
pub fn check_sim_query(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else { return };
    match rally_sim::query::parse(s) {
        Err(e) => assert!(e.starts_with("Could not parse: "), "{e}"),
        Ok(expr) => {
            let printed = expr.to_string();
            match rally_sim::query::parse(&printed) {
                Ok(again) => assert_eq!(again, expr, "{s:?} printed as {printed:?}"),
                Err(e) => panic!("{s:?} parsed, but its print {printed:?} does not: {e}"),
            }
        }
    }
}
