use super::*;
use proptest::prelude::*;

/// One row: the check to run, and Ok(normalised value) or Err((argument, message fragment)).
type Row =
    (&'static str, Box<dyn Fn() -> Result<String, InputError>>, Result<&'static str, (&'static str, &'static str)>);

fn rows() -> Vec<Row> {
    let s = |v: &str| v.to_string();
    let long = |n: usize| "x".repeat(n);
    let labels_of = |v: &[&str]| labels(&v.iter().map(|x| x.to_string()).collect::<Vec<_>>()).map(|l| l.join("|"));
    #[rustfmt::skip]
    let rows: Vec<Row> = vec![
        ("title plain", Box::new(move || title("Fix login")), Ok("Fix login")),
        ("title trimmed", Box::new(move || title("  Fix  ")), Ok("Fix")),
        ("title empty", Box::new(move || title("")), Err(("title", "empty"))),
        ("title blank", Box::new(move || title(" \t\n")), Err(("title", "empty"))),
        ("title 256", Box::new(move || title(&long(256)).map(|t| t.len().to_string())), Ok("256")),
        ("title 257", Box::new(move || title(&long(257))), Err(("title", "at most 256"))),
        ("title 256 multibyte", Box::new(move || title(&"é".repeat(256)).map(|t| t.chars().count().to_string())), Ok("256")),
        ("priority 0", Box::new(move || priority(0).map(|p| p.to_string())), Ok("0")),
        ("priority 1", Box::new(move || priority(1).map(|p| p.to_string())), Ok("1")),
        ("priority 4", Box::new(move || priority(4).map(|p| p.to_string())), Ok("4")),
        ("priority 5", Box::new(move || priority(5).map(|p| p.to_string())), Err(("priority", "0 to 4"))),
        ("limit 1", Box::new(move || limit(1).map(|p| p.to_string())), Ok("1")),
        ("limit 100", Box::new(move || limit(100).map(|p| p.to_string())), Ok("100")),
        ("limit max", Box::new(move || limit(1_000_000).map(|p| p.to_string())), Ok("1000000")),
        ("limit 0", Box::new(move || limit(0).map(|p| p.to_string())), Err(("limit", "positive"))),
        ("limit huge", Box::new(move || limit(2_000_000).map(|p| p.to_string())), Err(("limit", "up to 1000000"))),
        ("due date only", Box::new(move || due_date("2026-03-01")), Ok("2026-03-01T00:00:00.000Z")),
        ("due Z millis", Box::new(move || due_date("2025-12-04T08:13:23.201Z")), Ok("2025-12-04T08:13:23.201Z")),
        ("due no seconds", Box::new(move || due_date("2026-03-01T10:30")), Ok("2026-03-01T10:30:00.000Z")),
        ("due offset", Box::new(move || due_date("2026-03-01T01:30:00+02:00")), Ok("2026-02-28T23:30:00.000Z")),
        ("due neg offset", Box::new(move || due_date("2025-12-31T23:00:00-05:00")), Ok("2026-01-01T04:00:00.000Z")),
        ("due micros", Box::new(move || due_date("2026-03-01T00:00:00.123456Z")), Ok("2026-03-01T00:00:00.123Z")),
        ("due one frac digit", Box::new(move || due_date("2026-03-01T00:00:00.5Z")), Ok("2026-03-01T00:00:00.500Z")),
        ("due leap day", Box::new(move || due_date("2028-02-29")), Ok("2028-02-29T00:00:00.000Z")),
        ("due 2000 leap", Box::new(move || due_date("2000-02-29")), Ok("2000-02-29T00:00:00.000Z")),
        ("due trimmed", Box::new(move || due_date(" 2026-01-02 ")), Ok("2026-01-02T00:00:00.000Z")),
        ("due Feb 30", Box::new(move || due_date("2026-02-30")), Err(("dueDate", "calendar"))),
        ("due Feb 29 non-leap", Box::new(move || due_date("2026-02-29")), Err(("dueDate", "calendar"))),
        ("due 1900 not leap", Box::new(move || due_date("1900-02-29")), Err(("dueDate", "calendar"))),
        ("due month 13", Box::new(move || due_date("2026-13-01")), Err(("dueDate", "calendar"))),
        ("due day 0", Box::new(move || due_date("2026-01-00")), Err(("dueDate", "calendar"))),
        ("due Apr 31", Box::new(move || due_date("2026-04-31")), Err(("dueDate", "calendar"))),
        ("due US form", Box::new(move || due_date("03/01/2026")), Err(("dueDate", "YYYY-MM-DD"))),
        ("due words", Box::new(move || due_date("tomorrow")), Err(("dueDate", "YYYY-MM-DD"))),
        ("due empty", Box::new(move || due_date("")), Err(("dueDate", "YYYY-MM-DD"))),
        ("due short", Box::new(move || due_date("2026-3-1")), Err(("dueDate", "YYYY-MM-DD"))),
        ("due hour 24", Box::new(move || due_date("2026-03-01T24:00:00Z")), Err(("dueDate", "time of day"))),
        ("due space sep", Box::new(move || due_date("2026-03-01 10:00")), Err(("dueDate", "'T'"))),
        ("due trailing", Box::new(move || due_date("2026-03-01T10:00:00Zjunk")), Err(("dueDate", "unexpected"))),
        ("due bad offset", Box::new(move || due_date("2026-03-01T10:00+5")), Err(("dueDate", "+HH:MM"))),
        ("due year 0999", Box::new(move || due_date("0999-01-01")), Err(("dueDate", "calendar"))),
        ("due dot no digits", Box::new(move || due_date("2026-03-01T10:00:00.Z")), Err(("dueDate", "digits"))),
        ("labels ok", Box::new(move || labels_of(&["a", "b"])), Ok("a|b")),
        ("labels trimmed", Box::new(move || labels_of(&[" a "])), Ok("a")),
        ("labels dedupe", Box::new(move || labels_of(&["a", "b", "a"])), Ok("a|b")),
        ("labels case kept", Box::new(move || labels_of(&["UI", "ui"])), Ok("UI|ui")),
        ("labels empty list", Box::new(move || labels_of(&[])), Ok("")),
        ("labels 100", Box::new(move || labels_of(&["a"; 100])), Ok("a")),
        ("labels 101", Box::new(move || labels_of(&["a"; 101])), Err(("labels", "at most 100"))),
        ("labels 32", Box::new(move || labels_of(&[&"y".repeat(32)]).map(|l| l.len().to_string())), Ok("32")),
        ("labels 33", Box::new(move || labels_of(&["a", "b", &"y".repeat(33)])), Err(("labels[2]", "limit is 32"))),
        ("labels amp counts 5", Box::new(move || labels_of(&[&format!("{}&", "y".repeat(27))])), Ok("yyyyyyyyyyyyyyyyyyyyyyyyyyy&")),
        ("labels amp over", Box::new(move || labels_of(&[&format!("{}&", "y".repeat(28))])), Err(("labels[0]", "33 characters"))),
        ("labels lt gt", Box::new(move || labels_of(&[&format!("<{}>", "y".repeat(25))])), Err(("labels[0]", "33 characters"))),
        ("labels empty one", Box::new(move || labels_of(&["a", ""])), Err(("labels[1]", "empty"))),
        ("labels blank one", Box::new(move || labels_of(&["  "])), Err(("labels[0]", "empty"))),
        ("description md", Box::new(move || description("**b**")), Ok("<p><strong>b</strong></p>")),
        ("description empty", Box::new(move || description("")), Ok("")),
        ("description script", Box::new(move || description("<script>x</script>")), Ok("&lt;script&gt;x&lt;/script&gt;")),
        ("description at limit", Box::new(move || description(&long(32_761)).map(|h| h.len().to_string())), Ok("32768")),
        ("description over", Box::new(move || description(&long(32_762))), Err(("description", "32769 bytes"))),
        ("description expands", Box::new(move || description(&"&".repeat(7000))), Err(("description", "Rally's limit is 32768"))),
        ("body ok", Box::new(move || comment_body("hi")), Ok("<p>hi</p>")),
        ("body empty", Box::new(move || comment_body("")), Err(("body", "empty"))),
        ("body blank", Box::new(move || comment_body(" \n ")), Err(("body", "empty"))),
        ("body over", Box::new(move || comment_body(&long(40_000))), Err(("body", "32768"))),
        ("prUrl ok", Box::new(move || pr_url("https://github.com/o/r/pull/1")), Ok("https://github.com/o/r/pull/1")),
        ("prUrl http port", Box::new(move || pr_url(" http://git.local:8080/pr/2 ")), Ok("http://git.local:8080/pr/2")),
        ("prUrl ipv6", Box::new(move || pr_url("http://[::1]:3000/p")), Ok("http://[::1]:3000/p")),
        ("prUrl upper scheme", Box::new(move || pr_url("HTTPS://x.io/p")), Ok("HTTPS://x.io/p")),
        ("prUrl ftp", Box::new(move || pr_url("ftp://x.io/p")), Err(("prUrl", "http:// or https://"))),
        ("prUrl js", Box::new(move || pr_url("javascript:alert(1)")), Err(("prUrl", "http:// or https://"))),
        ("prUrl relative", Box::new(move || pr_url("/pull/1")), Err(("prUrl", "http:// or https://"))),
        ("prUrl no host", Box::new(move || pr_url("https:///x")), Err(("prUrl", "host"))),
        ("prUrl space", Box::new(move || pr_url("https://x.io/a b")), Err(("prUrl", "spaces"))),
        ("prUrl bad port", Box::new(move || pr_url("https://x.io:ab/")), Err(("prUrl", "port"))),
        ("prUrl empty", Box::new(move || pr_url("")), Err(("prUrl", "http"))),
        ("prUrl long", Box::new(move || pr_url(&format!("https://x.io/{}", long(3000)))), Err(("prUrl", "too long"))),
        ("team ok", Box::new(move || team(" Project A ")), Ok("Project A")),
        ("team blank", Box::new(move || team("  ")), Err(("team", "empty"))),
        ("query blank", Box::new(move || search_text("  ").map(|q| q.unwrap_or_else(|| s("<none>")))), Ok("<none>")),
        ("query ok", Box::new(move || search_text(" login ").map(|q| q.unwrap_or_default())), Ok("login")),
        ("query long", Box::new(move || search_text(&long(1001)).map(|q| q.unwrap_or_default())), Err(("query", "1000"))),
        ("priority on story", Box::new(move || fields_for_type(ArtifactType::UserStory, true, false).map(|_| s("ok"))), Err(("priority", "only a Defect"))),
        ("priority on defect", Box::new(move || fields_for_type(ArtifactType::Defect, true, true).map(|_| s("ok"))), Ok("ok")),
        ("due on task", Box::new(move || fields_for_type(ArtifactType::Task, false, true).map(|_| s("ok"))), Err(("dueDate", "Feature (PlannedEndDate)"))),
        ("due on feature", Box::new(move || fields_for_type(ArtifactType::Feature, false, true).map(|_| s("ok"))), Ok("ok")),
        ("priority on feature", Box::new(move || fields_for_type(ArtifactType::Feature, true, false).map(|_| s("ok"))), Err(("priority", "Feature has no priority"))),
        ("nothing on task", Box::new(move || fields_for_type(ArtifactType::Task, false, false).map(|_| s("ok"))), Ok("ok")),
    ];
    rows
}

#[test]
fn validation_table() {
    let rows = rows();
    assert!(rows.len() >= 40);
    for (name, check, want) in rows {
        match (check(), want) {
            (Ok(got), Ok(want)) => assert_eq!(got, want, "{name}"),
            (Err(e), Err((arg, fragment))) => {
                assert_eq!(e.argument, arg, "{name}");
                assert!(e.message.contains(fragment), "{name}: {:?} lacks {fragment:?}", e.message);
            }
            (got, want) => panic!("{name}: got {got:?}, want {want:?}"),
        }
    }
}

proptest! {
    #![proptest_config(crate::input::fuzz_config())]
    #[test]
    fn valid_dates_normalise_and_reparse(y in 1000i64..=9999, m in 1u32..=12, d in 1u32..=31) {
        let text = format!("{y:04}-{m:02}-{d:02}");
        match due_date(&text) {
            Ok(iso) => {
                prop_assert!(d <= date_tests::days_in_month(y, m));
                prop_assert_eq!(&iso, &format!("{text}T00:00:00.000Z"));
                prop_assert_eq!(due_date(&iso).unwrap(), iso);
            }
            Err(e) => {
                prop_assert!(d > date_tests::days_in_month(y, m));
                prop_assert_eq!(e.argument, "dueDate");
            }
        }
    }
    #[test]
    fn due_date_never_panics(s in "\\PC{0,40}|[0-9T:.Z+-]{0,30}") {
        let _ = due_date(&s);
    }
}

mod date_tests {
    /// The month table written out, independent of the code under test.
    pub fn days_in_month(y: i64, m: u32) -> u32 {
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let table = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        table.get(m as usize - 1).copied().unwrap_or(0)
    }
}
