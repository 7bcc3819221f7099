//! Reproducers for defects found by the property tests and fuzzers, end to end against the
//! simulator. Each names the property that found it.

mod common;

use common::env;
use rally_core::{IssueFilters, NewIssue};

fn labels(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("many-{i}")).collect()
}

/// Found by `props::long_conjunctions_parse`: the builder nests AND/OR one level per part, so
/// 65 labels make a query 65 parentheses deep, past the simulator's (and any sane server's)
/// nesting cap. A create with that many new labels is refused by the tag lookup.
#[tokio::test]
async fn create_with_many_new_labels() {
    let e = env().await;
    let t = e.tracker();
    let made =
        t.create_issue(NewIssue { title: "many labels".into(), labels: Some(labels(70)), ..Default::default() }).await;
    let issue = made.unwrap_or_else(|err| panic!("{} {err}", err.code()));
    assert_eq!(issue.labels.len(), 70);
}

/// Same defect on the read side: a label filter with 65+ labels.
#[tokio::test]
async fn list_with_many_labels() {
    let e = env().await;
    let got = e.tracker().list_issues(IssueFilters { labels: Some(labels(70)), ..Default::default() }).await;
    assert!(got.is_ok(), "{:?}", got.err().map(|e| format!("{} {e}", e.code())));
}

/// One save and read back: what a user sees after editing a description that came from Rally.
fn resaved(md: &str) -> String {
    rally_core::html_to_markdown(&rally_core::markdown_to_html(md))
}

/// Found by `props::html_from_rally_converts_safely_and_stably`: text followed directly by a
/// list item (`$<li>`, as pasted HTML has) reads as `$\n-` with no blank line between: empty,
/// CommonMark reads it as a setext heading (a save turns the line into `## $`); with text, the
/// next save inserts the blank line.
#[test]
fn empty_item_after_text_is_not_a_heading() {
    for html in ["Notes<li>", "Notes<li>more"] {
        let md = rally_core::html_to_markdown(html);
        assert_eq!(resaved(&md), md, "{html}");
    }
}

/// Same family, found while reducing the case above: a line that is only `---` (or `-`, or `+`)
/// after a `<br>` or in its own block is left unescaped, so it becomes a heading underline, a
/// rule or an empty list item.
#[test]
fn dash_lines_stay_text() {
    for html in ["Totals<br>---", "<div>a</div><div>---</div>", "a<br>-", "<p>a</p><p>+</p>", "<p>a</p><p>1)</p>"] {
        let md = rally_core::html_to_markdown(html);
        assert_eq!(resaved(&md), md, "{html}");
    }
}

/// A list marker after a `<br>` is escaped on the first read (`a\` + `\- b`) but the escape is
/// lost on the next: three saves turn "a / - b" into a paragraph ending in `\` and a list.
#[test]
fn marker_after_line_break_keeps_its_escape() {
    let md = rally_core::html_to_markdown("a<br>- b");
    let once = resaved(&md);
    assert_eq!(resaved(&once), once, "first {md:?}, then {once:?}");
}

/// Found by `props::markdown_converts_to_safe_html_and_stabilises`: a `#` or `-` between two
/// links is escaped on the next read (`[l](/x)# [l](/y)` → `[l](/x)\# [l](/y)`), as if it
/// started a line, so a save adds a backslash to the Markdown (the rendered text is the same).
/// Also a link whose text starts with a marker (`<a href="/x"><li>#</a>` reads as `[- #](/x)`).
#[test]
fn marker_after_link_is_not_escaped() {
    for md in ["[l](/x)# [l](/y)", "[https://a.example](https://a.example)- [l](/y)"] {
        assert_eq!(resaved(md), md);
    }
    let md = rally_core::html_to_markdown(r#"<a href="/x"><li>#</a>"#);
    assert_eq!(resaved(&md), md);
}

/// Found by `props::html_from_rally_converts_safely_and_stably`: a link around a block
/// (`<a href="/x">A<p>b</p></a>`, valid HTML5) reads as `[A\n\nb](/x)`, which Markdown does not
/// read as a link: after a save the link is gone and `[A` and `b](/x)` are literal text.
#[test]
fn link_around_a_block_survives_a_save() {
    let md = rally_core::html_to_markdown(r#"<a href="/x">A<p>b</p></a>"#);
    assert!(rally_core::markdown_to_html(&md).contains("href=\"/x\""), "{md:?}");
}

/// Found by the `html_to_markdown` fuzz target: an `href` with `<` in it is written as
/// `[x](<a b<c>)`, which is not a link in Markdown, so a save turns the link into plain text.
/// (With spaces only, `[x](<file name.pdf>)` is a link and survives, percent-encoded.)
#[test]
fn link_target_with_angle_bracket_survives_a_save() {
    let md = rally_core::html_to_markdown(r#"<a href="a b<c">x</a>"#);
    assert!(rally_core::markdown_to_html(&md).contains("<a href="), "{md:?}");
}

/// Found by the `markdown_to_html` fuzz target: `0. zero` gives `<ol start="0">`, which reads
/// back as `1. zero` (the start number 0 is dropped; other start numbers survive).
#[test]
fn list_numbered_from_zero_keeps_its_number() {
    assert_eq!(resaved("0. zero"), "0. zero");
}

/// Found by the `issue_id` fuzz target: any text with `#/<word>/<digits>` is taken for a Rally
/// web URL, whatever precedes the `#` (`hptps://rm/7 Psl#/webservice/1490` is the ref
/// `/webservice/1490`), though the ref form of the same id is refused. Such an id must be
/// refused as input, before any request.
#[tokio::test]
async fn junk_before_a_hash_is_not_a_web_url() {
    for junk in ["hptps://rm/7 Psl#/webservice/1490", "see #/foo/12"] {
        let e = env().await;
        let err = e.tracker().get_issue(junk).await.expect_err(junk);
        assert_eq!(err.code(), "RALLY_INVALID_INPUT", "{junk}: {err}");
        assert_eq!(e.total().await, 0, "{junk}: requests made");
    }
}

/// Found by the `html_to_markdown` fuzz target: a `&lt;` that ends one text node, before an
/// element whose text starts with a letter (`1 &lt;<span>Fp&gt;</span>`), reads as `1 <Fp>`
/// unescaped; a save keeps it as text (raw HTML is escaped), and the next read escapes it
/// (`1 \<Fp>`), so the Markdown changes on the second save.
#[test]
fn tag_like_text_reads_the_same_after_a_save() {
    let md = rally_core::html_to_markdown("<p>1 &lt;<span>Fp&gt;</span> it</p>");
    assert_eq!(resaved(&md), md);
}

/// Found while checking the proxy options for docs/reliability.md: a `socks5://` proxy passes
/// config validation, but the HTTP client is built without SOCKS support, so the proxy is never
/// contacted and every call fails with "could not connect to <server>". Either refuse the
/// scheme in the constructor (naming `proxy`) or support it.
#[tokio::test]
async fn a_socks5_proxy_is_used_or_refused() {
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let cfg = rally_core::TrackerConfig {
        api_key: "_socksTestKey".into(),
        server: Some("https://rally.example.com".into()),
        proxy: Some(format!("socks5://127.0.0.1:{port}")),
        max_retries: Some(0),
        timeout: Some(std::time::Duration::from_millis(1500)),
        ..Default::default()
    };
    let t = match rally_core::Tracker::new(cfg) {
        Err(e) => {
            return assert_eq!((e.code(), e.details()["argument"].as_str()), ("RALLY_INVALID_INPUT", Some("proxy")))
        }
        Ok(t) => t,
    };
    let greeting = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.ok()?;
        let mut b = [0u8; 1];
        s.read_exact(&mut b).await.ok().map(|_| b[0])
    });
    let _ = t.get_issue("US1").await;
    let seen = tokio::time::timeout(std::time::Duration::from_millis(500), greeting).await;
    assert!(matches!(seen, Ok(Ok(Some(5)))), "the SOCKS5 proxy was never contacted");
}

/// Found by the `html_to_markdown` fuzz target: literal text that looks like an HTML entity
/// (`&amp;copy;` in Rally, i.e. the text `&copy;`) reads as `&copy;` unescaped, which Markdown
/// decodes: after a save the description says `©`. (`&mp;` → `∓` was the fuzzer's case.)
#[test]
fn entity_like_text_stays_literal() {
    let md = rally_core::html_to_markdown("<p>write &amp;copy; or &amp;mp; literally</p>");
    let html = rally_core::markdown_to_html(&md);
    assert!(html.contains("&amp;copy;") && html.contains("&amp;mp;"), "{md:?} → {html:?}");
}

/// Found by `props::html_from_rally_converts_safely_and_stably`: a line that starts with a
/// non-breaking space and `>` (quoted mail pasted into Rally) reads as `> x` with the `>`
/// unescaped, so a save turns the text into a block quote; a lone `&nbsp;&gt;` reads as `>`
/// and a save loses it altogether.
#[test]
fn nbsp_before_a_quote_marker_keeps_the_text() {
    for html in ["<p>&nbsp;&gt; quoted</p>", "<p>&nbsp;&gt;</p>"] {
        let md = rally_core::html_to_markdown(html);
        let back = rally_core::markdown_to_html(&md);
        assert!(back.contains("&gt;") && !back.contains("blockquote"), "{html} → {md:?} → {back:?}");
    }
}

/// Found by the `issue_id` fuzz target: a refused ref quoted its whole type segment, so a
/// 1,500-character id gave a 1,600-character message.
#[test]
fn refused_ref_quotes_only_an_excerpt() {
    let id = format!("/{}/3", "N".repeat(1500));
    let e = rally_core::parse_issue_id(&id, "id").expect_err("not an artifact ref");
    assert!(e.message.len() < 400, "{} chars: {}", e.message.len(), e.message);
    assert_eq!(e.argument, "id");
}

/// The Warnings of a single-object GET were read and dropped, while query warnings are logged:
/// Rally's word that a request is deprecated or changed never reached the logger.
#[tokio::test]
async fn warnings_of_a_single_object_get_are_logged_like_query_warnings() {
    use std::sync::{Arc, Mutex};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let body = r#"{"Defect": {"_ref": "/defect/123", "_type": "Defect", "ObjectID": 123, "FormattedID": "DE1",
            "Name": "x", "Errors": [], "Warnings": ["The attribute Foo is deprecated."]}}"#;
        while let Ok((mut s, _)) = listener.accept().await {
            let mut seen = Vec::new();
            let mut buf = [0u8; 4096];
            while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => seen.extend_from_slice(&buf[..n]),
                }
            }
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(format!("{head}{body}").as_bytes()).await;
        }
    });
    let events = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = events.clone();
    let cfg = rally_core::TrackerConfig {
        api_key: "_warningTestKey".into(),
        server: Some(format!("http://127.0.0.1:{port}")),
        workspace: Some("/workspace/1".into()),
        max_retries: Some(0),
        logger: Some(Arc::new(move |e: &rally_core::LogEvent| sink.lock().unwrap().push(e.message.clone()))),
        ..Default::default()
    };
    let t = rally_core::Tracker::new(cfg).unwrap();
    let _ = t.get_issue("/defect/123").await;
    let logged = events.lock().unwrap().clone();
    assert!(logged.iter().any(|m| m.contains("The attribute Foo is deprecated.")), "{logged:#?}");
}
