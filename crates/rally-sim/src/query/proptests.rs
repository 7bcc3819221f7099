//! Property tests: the parser never panics, and printed trees parse back to themselves.

use super::*;
use proptest::prelude::*;

fn path() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec("[A-Za-z_][A-Za-z0-9_]{0,8}", 1..4)
}

fn op() -> impl Strategy<Value = Op> {
    prop::sample::select(vec![
        Op::Eq,
        Op::Ne,
        Op::Lt,
        Op::Le,
        Op::Gt,
        Op::Ge,
        Op::Contains,
        Op::NotContains,
        Op::In,
        Op::NotIn,
    ])
}

/// List items the language can express: non-empty, no comma, no surrounding whitespace.
fn list_item() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9_-]{1,10}".boxed(),
        "[^,]{1,10}".prop_map(|s| s.trim().to_string()).prop_filter("non-empty after trim", |s| !s.is_empty()).boxed(),
    ]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<String>().prop_map(Value::Text),
        "[ -~]{0,12}".prop_map(Value::Text),
        prop::sample::select(vec!["null", "today", "today+1", "\\", "\"", "a\\\"b"])
            .prop_map(|s| Value::Text(s.to_string())),
        (-MAX_TODAY_OFFSET..=MAX_TODAY_OFFSET).prop_map(|offset_days| Value::Today { offset_days }),
    ]
}

fn comparison() -> impl Strategy<Value = Expr> {
    (path(), op()).prop_flat_map(|(path, op)| {
        let value = if matches!(op, Op::In | Op::NotIn) {
            prop::collection::vec(list_item(), 1..5).prop_map(Value::List).boxed()
        } else {
            scalar().boxed()
        };
        value.prop_map(move |value| Expr::Cmp(Cmp { path: path.clone(), op, value }))
    })
}

fn tree() -> impl Strategy<Value = Expr> {
    comparison().prop_recursive(10, 64, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Expr::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner).prop_map(|(a, b)| Expr::Or(Box::new(a), Box::new(b))),
        ]
    })
}

/// Text made of the language's own pieces, so random input often gets deep into the parser.
fn query_soup() -> impl Strategy<Value = String> {
    let pieces = vec![
        "(",
        ")",
        "((",
        "))",
        " ",
        "  ",
        "AND",
        "or",
        "=",
        "!=",
        "<=",
        ">",
        "contains",
        "!in",
        "in",
        "\"",
        "\\",
        "\\\"",
        "x",
        "Owner.UserName",
        "null",
        "today+3",
        "today-",
        ",",
        "A,B",
        "\"a b\"",
        ".",
        "9",
        "é",
        "\n",
    ];
    prop::collection::vec(prop::sample::select(pieces), 0..40).prop_map(|v| v.concat())
}

/// Whatever parses must print to text that parses to the same tree.
fn check_stable(input: &str) -> Result<(), TestCaseError> {
    if let Ok(e) = parse(input) {
        let printed = e.to_string();
        prop_assert_eq!(parse(&printed), Ok(e), "input {:?} printed {:?}", input, printed);
    } else if let Err(msg) = parse(input) {
        prop_assert!(msg.starts_with("Could not parse: "), "{}", msg);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn printed_trees_parse_back(e in tree()) {
        let printed = e.to_string();
        prop_assert_eq!(parse(&printed), Ok(e), "printed {:?}", printed);
    }

    #[test]
    fn arbitrary_strings_never_panic(s in any::<String>()) {
        check_stable(&s)?;
    }

    #[test]
    fn query_like_soup_never_panics(s in query_soup()) {
        check_stable(&s)?;
    }

    #[test]
    fn damaged_valid_queries_never_panic(e in tree(), cut in any::<prop::sample::Index>(),
                                         insert in prop::sample::select(vec!["", "(", ")", "\"", " ", "AND "])) {
        let printed: Vec<char> = e.to_string().chars().collect();
        let at = cut.index(printed.len());
        let mut damaged: String = printed[..at].iter().collect();
        damaged.push_str(insert);
        damaged.extend(&printed[(at + 1).min(printed.len())..]);
        check_stable(&damaged)?;
    }
}
