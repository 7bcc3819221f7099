use super::*;
use proptest::prelude::*;

fn f(prefix: &str, number: u64) -> IssueId {
    IssueId::Formatted { prefix: prefix.into(), number }
}
fn r(t: &str, oid: u64) -> IssueId {
    IssueId::Ref { type_path: Some(t.into()), object_id: oid }
}

#[test]
fn accepted_forms() {
    let cases: Vec<(&str, IssueId)> = vec![
        ("US12", f("US", 12)),
        ("us12", f("US", 12)),
        (" DE7 ", f("DE", 7)),
        ("\tta41951\n", f("TA", 41951)),
        ("F54443", f("F", 54443)),
        ("S3", f("S", 3)),
        ("OP3985", f("OP", 3985)),
        ("US007", f("US", 7)),
        ("838568308171", IssueId::ObjectId(838568308171)),
        (" 42 ", IssueId::ObjectId(42)),
        ("/defect/123", r("defect", 123)),
        ("/Defect/123", r("defect", 123)),
        ("/hierarchicalrequirement/75419335752", r("hierarchicalrequirement", 75419335752)),
        ("/portfolioitem/feature/123", r("portfolioitem/feature", 123)),
        ("/PortfolioItem/Feature/123", r("portfolioitem/feature", 123)),
        ("/defect/123.js", r("defect", 123)),
        ("https://rally1.rallydev.com/slm/webservice/v2.0/defect/838568308171", r("defect", 838568308171)),
        ("http://127.0.0.1:4000/slm/webservice/v2.0/task/5", r("task", 5)),
        (
            "https://rally1.rallydev.com/slm/webservice/v2.0/portfolioitem/feature/9?fetch=true",
            r("portfolioitem/feature", 9),
        ),
        ("/slm/webservice/v2.0/defect/77", r("defect", 77)),
        ("https://rally1.rallydev.com/#/detail/userstory/123", r("hierarchicalrequirement", 123)),
        ("https://rally1.rallydev.com/#/detail/defect/123?fdp=true", r("defect", 123)),
        ("https://rally1.rallydev.com/slm/#/detail/defect/456", r("defect", 456)),
        ("https://rally1.rallydev.com/#/123456d/detail/defect/789", r("defect", 789)),
        ("#/123456d/detail/defect/789", r("defect", 789)),
        ("https://rally1.rallydev.com/#/123ud/detail/portfolioitem/feature/55", r("portfolioitem/feature", 55)),
        ("https://rally1.rallydev.com/#/detail/task/31/discussion", r("task", 31)),
        ("https://rally1.rallydev.com/#/123d/userstories?detail=%2Fuserstory%2F123", r("hierarchicalrequirement", 123)),
        ("https://rally1.rallydev.com/#/123d/custom/1?detail=%2Fdefect%2F8&x=1", r("defect", 8)),
        ("https://rally1.rallydev.com/#/?detail=/userstory/5&fdp=true", r("hierarchicalrequirement", 5)),
        ("/userstory/9", r("hierarchicalrequirement", 9)),
        ("HTTP://h\u{e9}te/slm/webservice/v2.0/defect/3", r("defect", 3)),
        ("/testcase/9", r("testcase", 9)),
        ("/PortfolioItem/Initiative/4", r("portfolioitem/initiative", 4)),
    ];
    for (input, want) in cases {
        assert_eq!(parse_issue_id(input, "id"), Ok(want), "{input:?}");
    }
}

#[test]
fn rejected_forms() {
    let cases: &[(&str, &str)] = &[
        ("", "empty"),
        ("   ", "empty"),
        ("US", "expected"),
        ("12US", "expected"),
        ("US-12", "expected"),
        ("US 12", "expected"),
        ("US12x", "expected"),
        ("0", "positive"),
        ("99999999999999999999999", "too large"),
        ("US99999999999999999999999", "too large"),
        ("/defect/", "not a ref"),
        // Shapes that are no accepted form are refused here, never sent.
        ("/foo/12", "not a ref to an artifact"),
        ("/user/12", "not a ref to an artifact"),
        ("https://example.com/issues/12", "not a ref to an artifact"),
        ("https://rally1.rallydev.com/#/detail/user/12", "artifact type"),
        ("see #/foo/12", "expected"),
        ("hptps://rm/7 Psl#/webservice/1490", "expected"),
        ("/defect/abc", "not a numeric"),
        ("/defect/123/tags", "not a ref"),
        ("/a/b/c/1", "not a ref"),
        ("/", "no type"),
        ("/123", "not a ref"),
        ("/defect/5df3c62f-0feb-439e-8414-1b66bee93c16", "UUID"),
        ("https://rally1.rallydev.com/#/detail/userstory/5df3c62f-0feb-439e-8414-1b66bee93c16", "UUID"),
        ("https://rally1.rallydev.com", "expected"),
        ("https://rally1.rallydev.com/#/dashboard", "does not name"),
        ("#/123d/userstories?detail=%2", "percent"),
        ("ftp://host/defect/1", "expected"),
        ("(FormattedID = US1)", "expected"),
        ("US1\" OR \"x", "expected"),
    ];
    for (input, needle) in cases {
        let e = parse_issue_id(input, "issueId").expect_err(input);
        assert_eq!(e.argument, "issueId");
        assert!(e.message.contains(needle), "{input:?}: {}", e.message);
    }
    let long = "9".repeat(5000);
    assert!(parse_issue_id(&long, "id").unwrap_err().message.contains("too long"));
}

#[test]
fn formatted_and_types() {
    assert_eq!(parse_issue_id("us012", "id").unwrap().formatted().as_deref(), Some("US12"));
    assert_eq!(IssueId::ObjectId(1).formatted(), None);
    assert_eq!(parse_issue_id("de3", "id").unwrap().artifact_type(), Some(ArtifactType::Defect));
    assert_eq!(parse_issue_id("/portfolioitem/feature/3", "id").unwrap().artifact_type(), Some(ArtifactType::Feature));
    assert_eq!(parse_issue_id("/testcase/3", "id").unwrap().artifact_type(), None);
    assert_eq!(parse_issue_id("/testcase/3", "id").unwrap().object_id(), Some(3));
    for (p, t) in [
        ("US", Some(ArtifactType::UserStory)),
        ("s", Some(ArtifactType::UserStory)),
        ("DE", Some(ArtifactType::Defect)),
        ("ta", Some(ArtifactType::Task)),
        ("F", Some(ArtifactType::Feature)),
        ("TC", None),
        ("I", None),
        ("", None),
    ] {
        assert_eq!(prefix_type(p), t, "{p}");
    }
}

#[test]
fn object_refs_from_responses() {
    let cases: &[(&str, Option<(&str, u64)>)] = &[
        ("https://rally1.rallydev.com/slm/webservice/v2.0/user/33534209350", Some(("user", 33534209350))),
        ("https://rally1.rallydev.com/slm/webservice/v2.0/portfolioitem/feature/1", Some(("portfolioitem/feature", 1))),
        ("/tag/89908209336", Some(("tag", 89908209336))),
        ("http://127.0.0.1:9/slm/webservice/v2.0/HierarchicalRequirement/4", Some(("hierarchicalrequirement", 4))),
        ("https://rally1.rallydev.com/slm/webservice/v2.0/HierarchicalRequirement/75419335752/Tags", None),
        ("/hierarchicalrequirement/3deebafa-d8a6-4ca7-9a1e-4599b3a56b4c", None),
        ("", None),
        ("garbage", None),
    ];
    for (input, want) in cases {
        let got = parse_object_ref(input);
        assert_eq!(got.as_ref().map(|(t, o)| (t.as_str(), *o)), *want, "{input}");
    }
}

proptest! {
    #![proptest_config(crate::input::fuzz_config())]
    #[test]
    fn never_panics(s in "\\PC{0,64}") {
        let _ = parse_issue_id(&s, "id");
        let _ = parse_object_ref(&s);
    }
    #[test]
    fn never_panics_on_url_like(s in "(https?://[a-z.]{0,8})?(/slm)?(/#)?(/[a-zA-Z0-9%?=&.-]{0,12}){0,5}") {
        let _ = parse_issue_id(&s, "id");
        let _ = parse_object_ref(&s);
    }
    #[test]
    fn formatted_ids_round_trip(prefix in "[A-Za-z]{1,4}", n in 1u64..u64::MAX) {
        let id = parse_issue_id(&format!(" {prefix}{n} "), "id").unwrap();
        prop_assert_eq!(id.formatted(), Some(format!("{}{}", prefix.to_ascii_uppercase(), n)));
    }
}
