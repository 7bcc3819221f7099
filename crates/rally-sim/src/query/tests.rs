use super::*;

fn cmp(path: &str, op: Op, value: Value) -> Expr {
    Expr::Cmp(Cmp { path: path.split('.').map(str::to_string).collect(), op, value })
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

fn list(items: &[&str]) -> Value {
    Value::List(items.iter().map(|s| s.to_string()).collect())
}

fn and(a: Expr, b: Expr) -> Expr {
    Expr::And(Box::new(a), Box::new(b))
}

fn or(a: Expr, b: Expr) -> Expr {
    Expr::Or(Box::new(a), Box::new(b))
}

/// Asserts a parse error that starts like Rally's and mentions every `needle`.
fn err(query: &str, needles: &[&str]) -> String {
    let e = match parse(query) {
        Ok(x) => panic!("{query:?} parsed as {x:?}"),
        Err(e) => e,
    };
    assert!(e.starts_with("Could not parse: "), "{query:?}: {e}");
    for n in needles {
        assert!(e.contains(n), "{query:?}: error {e:?} lacks {n:?}");
    }
    e
}

#[test]
fn single_comparisons_with_every_operator() {
    let ops = [
        ("=", Op::Eq),
        ("!=", Op::Ne),
        ("<", Op::Lt),
        ("<=", Op::Le),
        (">", Op::Gt),
        (">=", Op::Ge),
        ("contains", Op::Contains),
        ("!contains", Op::NotContains),
        ("CONTAINS", Op::Contains),
        ("!Contains", Op::NotContains),
    ];
    for (s, op) in ops {
        let q = format!("(Name {s} \"a b\")");
        assert_eq!(parse(&q), Ok(cmp("Name", op, text("a b"))), "{q}");
    }
}

#[test]
fn bare_and_quoted_values() {
    assert_eq!(parse("(State = Submitted)"), Ok(cmp("State", Op::Eq, text("Submitted"))));
    assert_eq!(parse("(FormattedID = US100)"), Ok(cmp("FormattedID", Op::Eq, text("US100"))));
    assert_eq!(parse(r#"(Name = "")"#), Ok(cmp("Name", Op::Eq, text(""))));
    // Bare values may hold operator characters and commas; only spaces, parens, quotes end them.
    assert_eq!(parse("(Name = a=b,c!)"), Ok(cmp("Name", Op::Eq, text("a=b,c!"))));
    assert_eq!(parse("(Blocked = true)"), Ok(cmp("Blocked", Op::Eq, text("true"))));
    // Values are case-sensitive and kept as written.
    assert_eq!(parse("(State = oPeN)"), Ok(cmp("State", Op::Eq, text("oPeN"))));
}

#[test]
fn null_is_bare_and_case_insensitive_but_quoted_null_is_text() {
    assert_eq!(parse("(Iteration = null)"), Ok(cmp("Iteration", Op::Eq, Value::Null)));
    assert_eq!(parse("(Parent != NULL)"), Ok(cmp("Parent", Op::Ne, Value::Null)));
    assert_eq!(parse(r#"(Name = "null")"#), Ok(cmp("Name", Op::Eq, text("null"))));
    assert_eq!(parse("(Name = nullx)"), Ok(cmp("Name", Op::Eq, text("nullx"))));
}

#[test]
fn today_with_offsets() {
    let today = |n| Value::Today { offset_days: n };
    assert_eq!(parse("(TargetDate <= today)"), Ok(cmp("TargetDate", Op::Le, today(0))));
    assert_eq!(parse("(TargetDate < Today+3)"), Ok(cmp("TargetDate", Op::Lt, today(3))));
    assert_eq!(parse("(TargetDate > TODAY-1)"), Ok(cmp("TargetDate", Op::Gt, today(-1))));
    assert_eq!(parse(r#"(Name = "today")"#), Ok(cmp("Name", Op::Eq, text("today"))));
    assert_eq!(parse("(Name = todays)"), Ok(cmp("Name", Op::Eq, text("todays"))));
    err("(TargetDate > today+)", &["\"today+\"", "today+N"]);
    err("(TargetDate > today+x)", &["today+x"]);
    err("(TargetDate > today+99999999999999999999)", &["at most"]);
    err("(TargetDate > today+100001)", &["at most 100000"]);
    assert!(parse("(TargetDate > today-100000)").is_ok());
}

#[test]
fn in_lists_bare_and_quoted() {
    assert_eq!(
        parse("(ScheduleState in Defined,In-Progress)"),
        Ok(cmp("ScheduleState", Op::In, list(&["Defined", "In-Progress"])))
    );
    assert_eq!(
        parse(r#"(ScheduleState IN "Defined, In-Progress ,Completed")"#),
        Ok(cmp("ScheduleState", Op::In, list(&["Defined", "In-Progress", "Completed"])))
    );
    assert_eq!(parse("(State !in Closed)"), Ok(cmp("State", Op::NotIn, list(&["Closed"]))));
    assert_eq!(parse("(State !IN null)"), Ok(cmp("State", Op::NotIn, list(&["null"]))));
    err("(State in Defined, In-Progress)", &["\"Defined,\"", "without spaces", "quote the list"]);
    err("(State in A,,B)", &["empty item", "\"A,,B\""]);
    err("(State in A,)", &["empty item"]);
    err(r#"(State in "")"#, &["empty item"]);
    err(r#"(State in "A, ,B")"#, &["empty item"]);
}

#[test]
fn dot_paths_and_identifiers() {
    assert_eq!(parse(r#"(Owner.UserName = "a@b.com")"#), Ok(cmp("Owner.UserName", Op::Eq, text("a@b.com"))));
    assert_eq!(parse("(Artifact.Parent.FormattedID = F3)"), Ok(cmp("Artifact.Parent.FormattedID", Op::Eq, text("F3"))));
    assert!(parse("(c_My_Field2 = x)").is_ok());
    assert!(parse("(_private = x)").is_ok());
    err("(1Name = x)", &["\"1Name\"", "not a valid attribute name"]);
    err("(Owner..Name = x)", &["empty segment"]);
    err("(Owner. = x)", &["empty segment"]);
    err("(Na-me = x)", &["\"Na-me\""]);
    err("(Námé = x)", &["not a valid attribute name"]);
}

#[test]
fn refs_and_dates_stay_text() {
    assert_eq!(
        parse("(Parent = /hierarchicalrequirement/123)"),
        Ok(cmp("Parent", Op::Eq, text("/hierarchicalrequirement/123")))
    );
    let url = "http://127.0.0.1:9/slm/webservice/v2.0/defect/5";
    assert_eq!(parse(&format!("(Requirement = {url})")), Ok(cmp("Requirement", Op::Eq, text(url))));
    assert_eq!(
        parse(r#"(LastUpdateDate > "2012-08-24T19:10:09.154Z")"#),
        Ok(cmp("LastUpdateDate", Op::Gt, text("2012-08-24T19:10:09.154Z")))
    );
    assert_eq!(
        parse("(CreationDate >= 2016-09-30T00:00:00Z)"),
        Ok(cmp("CreationDate", Op::Ge, text("2016-09-30T00:00:00Z")))
    );
}

#[test]
fn binary_and_or_nest_in_any_case() {
    let a = || cmp("A", Op::Eq, text("1"));
    let b = || cmp("B", Op::Eq, text("2"));
    let c = || cmp("C", Op::Eq, text("3"));
    assert_eq!(parse("((A = 1) AND (B = 2))"), Ok(and(a(), b())));
    assert_eq!(parse("((A = 1) or (B = 2))"), Ok(or(a(), b())));
    assert_eq!(parse("((A = 1) And (B = 2))"), Ok(and(a(), b())));
    assert_eq!(parse("(((A = 1) AND (B = 2)) OR (C = 3))"), Ok(or(and(a(), b()), c())));
    assert_eq!(parse("((A = 1) AND ((B = 2) OR (C = 3)))"), Ok(and(a(), or(b(), c()))));
    // Whitespace is free outside comparisons, and parentheses already separate AND from terms.
    assert_eq!(parse("  (  (A = 1)and(B = 2)  )  "), Ok(and(a(), b())));
    assert_eq!(parse("\t((A = 1)\nAND\n(B = 2))\n"), Ok(and(a(), b())));
}

#[test]
fn flat_and_or_without_outer_parens_are_errors() {
    err("((A = 1) AND (B = 2) AND (C = 3))", &["exactly two", "\"AND\"", "position 22"]);
    err("((A = 1) OR (B = 2) and (C = 3))", &["exactly two", "\"and\""]);
    err("(A = 1) AND (B = 2)", &["\"AND\"", "position 9", "((A) AND (B))"]);
    err("(A = 1) or (B = 2)", &["((A) OR (B))"]);
}

#[test]
fn missing_spaces_around_operators() {
    err(r#"(Name="x")"#, &["spaces are required", "\"Name=\"", "position 2"]);
    err("(Name=x)", &["spaces are required", "\"Name=x\""]);
    err(r#"(Name= "x")"#, &["spaces are required"]);
    err(r#"(Name ="x")"#, &["space is required", "\"=\"", "position 8"]);
    err("(Name =x)", &["spaces are required", "glues \"=\"", "\"=x\""]);
    err("(Name !=x)", &["glues \"!=\""]);
    err("(Name <=x)", &["glues \"<=\""]);
    err(r#"(Name contains"x")"#, &["space is required"]);
    err(r#"(Name"x" = y)"#, &["expected an operator"]);
}

#[test]
fn bad_operators() {
    err("(Name == x)", &["unknown operator \"==\"", "position 7", "!contains"]);
    err("(Name like x)", &["unknown operator \"like\""]);
    err("(Name between 1)", &["unknown operator"]);
    err("(Name =< x)", &["unknown operator \"=<\""]);
    err("(Name)", &["expected an operator after \"Name\"", "\")\""]);
    err("(Name = )", &["missing value", "\"=\""]);
    err("(Name =)", &["missing value"]);
    err("(Name x y)", &["unknown operator \"x\""]);
}

#[test]
fn unbalanced_parentheses() {
    err("(Name = x", &["never closed", "position 1"]);
    err("((A = 1) AND (B = 2)", &["never closed", "position 1"]);
    err("((A = 1) AND (B = 2", &["position 14"]);
    err("(Name = x))", &["unbalanced \")\"", "position 11"]);
    err(")", &["must start with \"(\""]);
    err("(", &["never closed"]);
    err("((", &["never closed"]);
    err("()", &["empty parentheses"]);
    err("((A = 1) AND ())", &["empty parentheses", "position 14"]);
}

#[test]
fn empty_and_unparenthesised_queries() {
    err("", &["empty"]);
    err("   \n ", &["empty"]);
    err("Name = x", &["must start with \"(\"", "\"Name\""]);
    err(r#""x""#, &["must start with"]);
}

#[test]
fn trailing_garbage_and_junk_inside() {
    err("(A = 1) x", &["unexpected \"x\"", "position 9", "after the end"]);
    err("(A = 1) (B = 2)", &["unexpected \"(\""]);
    err("(A = 1 extra)", &["expected \")\"", "\"extra\"", "quote values"]);
    err(r#"(A = "x"y)"#, &["right after the value", "\"y\""]);
    err(r#"(A = x"y")"#, &["right after the value"]);
    err("(A = (x))", &["cannot start with \"(\""]);
    err("((A = 1))", &["redundant parentheses", "position 1"]);
    err("((A = 1) XOR (B = 2))", &["expected AND or OR", "\"XOR\""]);
    err("((A = 1) AND B = 2)", &["expected \"(\" after \"AND\""]);
    err(r#"("A" = 1)"#, &["expected an attribute name", "'\"A\"'"]);
}

#[test]
fn unterminated_quote() {
    err(r#"(Name = "abc)"#, &["unterminated", "position 9"]);
    err(r#"(Name = "abc\")"#, &["unterminated"]);
}

#[test]
fn escaping_rule() {
    assert_eq!(parse(r#"(Name = "say \"hi\"")"#), Ok(cmp("Name", Op::Eq, text("say \"hi\""))));
    assert_eq!(parse(r#"(Name = "a\\b")"#), Ok(cmp("Name", Op::Eq, text("a\\b"))));
    assert_eq!(parse(r#"(Name = "C:\temp\n")"#), Ok(cmp("Name", Op::Eq, text("C:\\temp\\n"))));
    assert_eq!(parse(r#"(Name = "ends\\")"#), Ok(cmp("Name", Op::Eq, text("ends\\"))));
    assert_eq!(parse(r#"(Name = "(AND) OR")"#), Ok(cmp("Name", Op::Eq, text("(AND) OR"))));
    // Bare values keep backslashes literally.
    assert_eq!(parse(r"(Name = a\b)"), Ok(cmp("Name", Op::Eq, text("a\\b"))));
}

#[test]
fn quote_round_trips_awkward_text() {
    for s in ["", "plain", "a \"b\" c", "\\", "\\\"", "x\\", "\"", "tab\there", "ünï😀", "a)b(c"] {
        let q = format!("(Name = {})", quote(s));
        assert_eq!(parse(&q), Ok(cmp("Name", Op::Eq, text(s))), "{q}");
    }
}

#[test]
fn display_prints_canonical_text_that_parses_back() {
    let e = parse(r#"(((a.b = "x\"y") or (c in A,B)) AND (d <= today-2))"#).unwrap();
    let printed = e.to_string();
    assert_eq!(printed, r#"(((a.b = "x\"y") OR (c in A,B)) AND (d <= today-2))"#);
    assert_eq!(parse(&printed), Ok(e));
    let spaced = cmp("S", Op::NotIn, list(&["In Progress", "Done"]));
    assert_eq!(spaced.to_string(), r#"(S !in "In Progress,Done")"#);
    assert_eq!(parse(&spaced.to_string()), Ok(spaced));
}

#[test]
fn depth_limit_is_an_error_not_a_crash() {
    let nest = |n: usize| {
        let mut q = "(A = 1)".to_string();
        for _ in 1..n {
            q = format!("({q} AND (B = 2))");
        }
        q
    };
    assert!(parse(&nest(MAX_DEPTH)).is_ok());
    err(&nest(MAX_DEPTH + 1), &["more than 64 levels"]);
    // Far deeper input, including the right-leaning and the unbalanced kind, must also fail cleanly.
    err(&"(".repeat(100_000)[..60_000], &["more than 64 levels"]);
    let mut right = "(A = 1)".to_string();
    for _ in 0..2000 {
        right = format!("((B = 2) OR {right})");
    }
    err(&right, &["more than 64 levels"]);
}

#[test]
fn length_limit() {
    let long = format!("(Name = \"{}\")", "x".repeat(MAX_QUERY_BYTES));
    err(&long, &["bytes long", "65536"]);
    let just_fits = format!("(Name = \"{}\")", "x".repeat(MAX_QUERY_BYTES - 11));
    assert_eq!(just_fits.len(), MAX_QUERY_BYTES);
    assert!(parse(&just_fits).is_ok());
}

#[test]
fn long_tokens_are_clipped_in_messages() {
    let e = err(&format!("(Name {} x)", "=".repeat(5000)), &["unknown operator", "…"]);
    assert!(e.len() < 300, "{e}");
}
