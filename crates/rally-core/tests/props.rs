//! Property tests over the pure modules' public API, bounded and seeded for every `cargo test`
//! (`PROPTEST_CASES=100000 cargo test -p rally-core --test props` searches longer, at random).
//!
//! The first group runs the fuzz targets' own checks (`fuzz/src`, shared by path so the two
//! cannot drift) on proptest's inputs; among them, the query builder's output is read by the
//! simulator's parser — two independent readings of the grammar that must agree. The second
//! group checks the argument validators against rules restated here.

#[path = "../../../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod fuzz;

use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use rally_core::checks as validate;
use rally_core::Query;
use rally_core::{parse_issue_id, IssueId};

/// In `cargo test`, a fixed seed: the converters' stability properties keep finding new kinds
/// of drift on long searches (each goes to `regressions.rs`), and CI must not fail at random
/// on the next one. With `PROPTEST_CASES` set (a search by hand), a random seed.
fn cases(default: u32) -> ProptestConfig {
    let by_hand = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok());
    let rng_seed = if by_hand.is_some() { RngSeed::Random } else { RngSeed::Fixed(0x5EED_2026) };
    ProptestConfig { cases: by_hand.unwrap_or(default), rng_seed, ..ProptestConfig::default() }
}

/// Id-like text: the accepted forms, near misses and junk, in any case and padding.
fn id_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ \t]{0,2}[a-zA-Z]{0,5}[0-9]{0,21}[ \t]{0,2}",
        "(https?://[a-zA-Z0-9.:-]{0,12})?(/slm/webservice/v2\\.0)?(/[a-zA-Z]{1,8}){0,3}/[0-9a-f-]{0,36}(\\.js)?(\\?[a-z=&]{0,8})?",
        "https://rally1\\.rallydev\\.com/#/([0-9]{1,5}d/)?(detail/)?(userstory|defect|task|portfolioitem/feature|x)/[0-9]{0,20}(/[a-z]{0,6})?",
        "https://h/#/[0-9]{1,3}d/userstories\\?detail=(%2F|/|%2f|%[0-9A-Fa-f+]{0,2})(userstory|defect)(%2F|/)[0-9]{0,12}",
        "\\PC{0,40}",
    ]
}

/// Markdown with the constructs the converters treat specially, including script links.
fn markdown_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[a-zA-Z0-9 ]{1,12}",
        "(# |## |- |1\\. |> |    |\n|\n\n|\\| a \\| b \\|\n\\|---\\|---\\|\n)",
        "(\\*\\*|\\*|_|~~|`|\\\\|&|<|>|&amp;|&#106;|&#x6A;|\"|')",
        "<(script|img src=x onerror=alert\\(1\\)|iframe|b|/p|div style=\"x\")>",
        "\\[l\\]\\((<)?[ \t\u{1}]{0,2}(java|JaVa|jav&#x61;|java&Tab;|java\t)(script|Script):alert\\(1\\)(>)?\\)",
        "\\[l\\]\\((data:text/html,x|vbscript:x|https://ok\\.example/a_b|mailto:a@b|#x|/rel)\\)",
        "!\\[i\\]\\((javascript:x|https://img\\.example/p\\.png)\\)",
        "<(javascript:x|https://a\\.example)>",
        "\\PC{1,4}",
    ];
    proptest::collection::vec(piece, 0..24).prop_map(|v| v.concat())
}

/// HTML the way Rally's editor and API clients write it, plus damaged markup.
fn html_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[a-zA-Z0-9 ,.]{1,12}",
        "<(/?)(p|div|b|strong|i|em|u|s|del|code|pre|ul|ol|li|blockquote|h1|h2|h3|br|hr|span|table|tr|td|th|thead|tbody|font color=\"red\"|a href=\"https://x\\.example/?a=1&amp;b=2\"|a href=\"javascript:alert\\(1\\)\"|img src=\"x\" alt=\"y\"|script|style)>",
        "(&amp;|&lt;|&gt;|&nbsp;|&quot;|&#39;|&#x2A;|&bogus;|&|<|>|\\*|_|#|`|\\\\|\\||\n)",
        "\\PC{1,4}",
    ];
    proptest::collection::vec(piece, 0..30).prop_map(|v| v.concat())
}

/// Query-like text for the simulator's parser: well-formed pieces in random order.
fn query_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "(\\(|\\)|\\( | \\)| AND | OR | and | or )",
        "(Name|Owner\\.UserName|FormattedID|Tags\\.Name|c_X|State|1a|a\\.\\.b)",
        "( = | != | < | <= | > | >= | contains | !contains | in | !in |=| =|== )",
        "(\"[a-z \\\\\"(),]{0,8}\"|null|NULL|today|today\\+3|today-99999999999|[a-z0-9/]{1,6}|A,B|\"a, b\")",
        "\\PC{1,3}",
    ];
    proptest::collection::vec(piece, 0..20).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn builder_reads_back_and_simulator_agrees(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        fuzz::check_query_builder(&bytes);
    }

    #[test]
    fn issue_ids_read_back_from_their_canonical_form(s in id_text()) {
        fuzz::check_issue_id(s.as_bytes());
    }

    #[test]
    fn html_from_rally_converts_safely_and_stably(s in html_text()) {
        fuzz::check_html_to_markdown(s.as_bytes());
    }

    #[test]
    fn markdown_converts_to_safe_html_and_stabilises(s in markdown_text()) {
        fuzz::check_markdown_to_html(s.as_bytes());
    }

    #[test]
    fn simulator_query_parser_prints_back(s in query_text()) {
        fuzz::check_sim_query(s.as_bytes());
    }

    /// Every ref and web-URL spelling of an artifact names the same (type, ObjectID).
    #[test]
    fn every_spelling_of_a_ref_names_the_same_artifact(
        oid in 1u64..=u64::MAX,
        ty in prop_oneof![
            Just(("hierarchicalrequirement", "hierarchicalrequirement")),
            Just(("userstory", "hierarchicalrequirement")),
            Just(("defect", "defect")),
            Just(("task", "task")),
            Just(("portfolioitem/feature", "portfolioitem/feature")),
        ],
        form in 0usize..6,
        upper in any::<bool>(),
        pad in "[ \t]{0,3}",
    ) {
        let (typed, canonical) = ty;
        let typed = if upper { typed.to_ascii_uppercase() } else { typed.to_string() };
        let text = match form {
            0 => format!("/{typed}/{oid}"),
            1 => format!("https://rally1.rallydev.com/slm/webservice/v2.0/{typed}/{oid}"),
            2 => format!("http://127.0.0.1:9/slm/webservice/v2.0/{typed}/{oid}.js?fetch=true"),
            3 => format!("https://rally1.rallydev.com/#/detail/{typed}/{oid}"),
            4 => format!("https://rally1.rallydev.com/#/123d/detail/{typed}/{oid}/discussion"),
            _ => format!("https://rally1.rallydev.com/#/123d/x?detail=%2F{}%2F{oid}", typed.replace('/', "%2F")),
        };
        let got = parse_issue_id(&format!("{pad}{text}{pad}"), "id");
        prop_assert_eq!(got, Ok(IssueId::Ref { type_path: Some(canonical.to_string()), object_id: oid }), "{}", text);
    }

    /// `priority`: exactly 0–4.
    #[test]
    fn priority_accepts_exactly_0_to_4(v in prop_oneof![any::<u32>(), 0u32..8]) {
        let want = v <= 4;
        match validate::priority(v) {
            Ok(p) => prop_assert!(want && p == v, "{} accepted as {}", v, p),
            Err(e) => prop_assert!(!want && e.argument == "priority", "{} refused: {}", v, e),
        }
    }

    /// `limit`: positive, up to the documented cap.
    #[test]
    fn limit_accepts_exactly_positive_integers(v in prop_oneof![any::<u32>(), 0u32..3_000_000]) {
        let want = (1..=validate::LIMIT_MAX).contains(&v);
        match validate::limit(v) {
            Ok(n) => prop_assert!(want && n == v, "{} accepted as {}", v, n),
            Err(e) => prop_assert!(!want && e.argument == "limit", "{} refused: {}", v, e),
        }
    }

    /// `dueDate` as `YYYY-MM-DD`: accepted exactly when the day exists (leap years included),
    /// and stored as that day at midnight UTC.
    #[test]
    fn due_dates_follow_the_calendar(y in 1900u32..2200, m in 0u32..14, d in 0u32..33) {
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let days = match m {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => 0,
        };
        let text = format!("{y:04}-{m:02}-{d:02}");
        match validate::due_date(&text) {
            Ok(stored) => {
                prop_assert!(d >= 1 && d <= days, "{} accepted", text);
                prop_assert_eq!(stored, format!("{text}T00:00:00.000Z"));
            }
            Err(e) => prop_assert!((d < 1 || d > days) && e.argument == "dueDate", "{} refused: {}", text, e),
        }
    }

    /// Labels: the first empty or over-long one is named by index; valid sets come back trimmed
    /// and de-duplicated, in order.
    #[test]
    fn labels_name_the_first_bad_one(labels in proptest::collection::vec("[ ]?[a-z&<]{0,36}[ ]?", 0..6)) {
        let stored = |l: &str| l.chars().map(|c| match c { '&' => 5, '<' => 4, _ => 1 }).sum::<usize>();
        let bad = labels.iter().position(|l| l.trim().is_empty() || stored(l.trim()) > validate::LABEL_MAX_CHARS);
        match (validate::labels(&labels), bad) {
            (Err(e), Some(i)) => prop_assert_eq!(e.argument, format!("labels[{i}]")),
            (Ok(got), None) => {
                let mut want: Vec<String> = Vec::new();
                for l in &labels {
                    if !want.iter().any(|w| w == l.trim()) {
                        want.push(l.trim().to_string());
                    }
                }
                prop_assert_eq!(got, want);
            }
            (got, bad) => prop_assert!(false, "{:?}: got {:?}, first bad {:?}", labels, got, bad),
        }
    }
}

/// The client joins one comparison per label (and per missing tag name) into one query; the
/// simulator refuses nesting deeper than 64, so however many parts, the builder must stay
/// within that (found with 65 labels; reproducers in `tests/regressions.rs`).
#[test]
fn long_conjunctions_parse() {
    for n in [1usize, 2, 10, 40, 63, 64, 65, 100, 1000] {
        let q = Query::all((0..n).map(|i| Query::eq("Tags.Name", format!("label {i}"))).collect()).unwrap();
        let text = q.render();
        assert!(rally_sim::query::parse(&text).is_ok(), "{n} comparisons: {:?}", rally_sim::query::parse(&text).err());
    }
}
