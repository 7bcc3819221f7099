use super::*;

fn one(s: &str) -> Rule {
    let mut r = parse_spec(s).unwrap();
    assert_eq!(r.len(), 1, "{s}");
    r.remove(0)
}

#[test]
fn parses_the_documented_example() {
    let rules =
        parse_spec("503@GET /slm/webservice/v2.0/defect*#next=2; drop-after@POST */create#next=1; latency=20..80@*")
            .unwrap();
    let shown: Vec<String> = rules.iter().map(Rule::to_string).collect();
    assert_eq!(
        shown,
        ["503@GET /slm/webservice/v2.0/defect*#next=2", "drop-after@POST */create#next=1", "latency=20..80@*"]
    );
}

#[test]
fn canonical_text_parses_back() {
    for s in [
        "429@get#p=0.25",
        "errors=Concurrency conflict@DELETE /x/*",
        "latency=5",
        "html@/a*b",
        "500",
        "503-after@POST */create#next=1",
        "500-json=Boom happened@GET",
        "slow-reply=900@POST *",
    ] {
        let r = one(s);
        assert_eq!(one(&r.to_string()).to_string(), r.to_string(), "{s}");
    }
    assert_eq!(one("429@get#p=0.25").to_string(), "429=1@GET *#p=0.25,seed=1");
}

#[test]
fn errors_name_the_bad_rule() {
    let cases = [
        ("503; 418@*", "fault rule 2 \"418@*\": unknown fault"),
        ("latency=80..20", "runs backwards"),
        ("latency=abc", "whole milliseconds"),
        ("latency", "needs a value"),
        ("503#next=0", "at least 1"),
        ("503#p=1.5", "probability"),
        ("503#p=0.5,sed=3", "seed"),
        ("503#sometimes", "unknown condition"),
        ("503@", "empty match"),
        ("503@GET defect", "must start with"),
        ("503@G3T /x", "not an HTTP method"),
        ("503@GET /a /b", "METHOD PATH"),
        ("429=-1", "whole seconds"),
        ("errors=", "unknown fault"),
        ("500-json=", "unknown fault"),
        ("429-after", "unknown fault"),
        ("slow-reply", "needs a value"),
        ("slow-reply=x", "whole milliseconds"),
    ];
    for (spec, needle) in cases {
        let e = parse_spec(spec).unwrap_err();
        assert!(e.contains(needle), "{spec}: {e}");
        assert!(e.starts_with("fault rule "), "{spec}: {e}");
    }
}

#[test]
fn blank_rules_are_ignored() {
    assert!(parse_spec("").unwrap().is_empty());
    assert_eq!(parse_spec(" ; 503 ;; ").unwrap().len(), 1);
}

#[test]
fn globs_and_methods() {
    let r = one("503@POST */create");
    assert!(r.matches("POST", "/slm/webservice/v2.0/defect/create"));
    assert!(r.matches("post", "/slm/webservice/v2.0/Defect/CREATE"));
    assert!(!r.matches("GET", "/slm/webservice/v2.0/defect/create"));
    assert!(!r.matches("POST", "/slm/webservice/v2.0/defect/create/x"));
    let g = one("503@/a/*/c*");
    assert!(g.matches("DELETE", "/a/b/c"));
    assert!(g.matches("GET", "/a/b/x/cde"));
    assert!(!g.matches("GET", "/a/c"));
    assert!(one("503").matches("PATCH", "/anything"));
    assert!(one("503@GET").matches("GET", "/x"));
    assert!(glob_match(b"**a*", b"bba"));
    assert!(!glob_match(b"*a", b"ab"));
    assert!(glob_match(b"", b""));
}

#[test]
fn next_fires_exactly_n_times() {
    let mut r = one("503#next=3");
    let fired: Vec<bool> = (0..6).map(|_| r.fire()).collect();
    assert_eq!(fired, [true, true, true, false, false, false]);
    assert_eq!(r.fired, 3);
}

#[test]
fn chance_is_deterministic_per_seed_and_roughly_p() {
    let draws = |s: &str| {
        let mut r = one(s);
        (0..2000).map(|_| r.fire()).collect::<Vec<_>>()
    };
    assert_eq!(draws("503#p=0.3,seed=9"), draws("503#p=0.3,seed=9"));
    assert_ne!(draws("503#p=0.3,seed=9"), draws("503#p=0.3,seed=10"));
    let hits = draws("503#p=0.3,seed=9").into_iter().filter(|b| *b).count();
    assert!((450..750).contains(&hits), "{hits}");
    assert!(draws("503#p=0").iter().all(|b| !b));
    assert!(draws("503#p=1").iter().all(|b| *b));
}

#[test]
fn jitter_stays_in_range() {
    let mut r = one("latency=20..80");
    let delays: Vec<u64> = (0..500).map(|_| r.latency_ms()).collect();
    assert!(delays.iter().all(|d| (20..=80).contains(d)));
    assert!(delays.iter().any(|d| *d < 35) && delays.iter().any(|d| *d > 65));
    assert_eq!(one("latency=50").latency_ms(), 50);
}

proptest::proptest! {
    #[test]
    fn any_spec_text_is_accepted_or_rejected_without_panic(s in "[ -~]{0,60}") {
        if let Ok(rules) = parse_spec(&s) {
            let canonical: Vec<String> = rules.iter().map(Rule::to_string).collect();
            let again = parse_spec(&canonical.join("; ")).map(|r| r.iter().map(Rule::to_string).collect::<Vec<_>>());
            proptest::prop_assert_eq!(again, Ok(canonical));
        }
    }

    #[test]
    fn spec_like_text_round_trips(parts in proptest::collection::vec(proptest::sample::select(vec![
        "503", "429=5", "latency=1..9", "drop-after", "errors=x y", "@", "#", ";", " ", "*", "GET",
        "/slm/*", "next=2", "p=0.5", ",seed=3", "=", "..", "truncate", "html",
    ]), 0..12)) {
        let s = parts.concat();
        if let Ok(rules) = parse_spec(&s) {
            let canonical: Vec<String> = rules.iter().map(Rule::to_string).collect();
            let again = parse_spec(&canonical.join("; ")).map(|r| r.iter().map(Rule::to_string).collect::<Vec<_>>());
            proptest::prop_assert_eq!(again, Ok(canonical), "from {:?}", s);
        }
    }
}

#[test]
fn echo_and_empty_faults_parse_and_print_back() {
    for (text, canonical) in
        [("echo", "echo=200"), ("echo=401", "echo=401"), ("echo-errors", "echo-errors"), ("empty", "empty")]
    {
        let rules = parse_spec(text).unwrap();
        assert!(rules[0].to_string().starts_with(canonical), "{text}: {}", rules[0]);
    }
    assert!(parse_spec("echo=9").is_err());
}
