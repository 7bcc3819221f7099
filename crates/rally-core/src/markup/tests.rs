use super::*;
use proptest::prelude::*;

#[test]
fn html_to_markdown_table() {
    #[rustfmt::skip]
    let cases: &[(&str, &str)] = &[
        ("", ""),
        ("   ", ""),
        ("plain text", "plain text"),
        ("<p>This is a UI - Automation config issue</p>", "This is a UI - Automation config issue"),
        ("<h1>T</h1><h2>S</h2><h3>x</h3>", "# T\n\n## S\n\n### x"),
        ("<ul><li>a<ul><li>b</li></ul></li><li>c</li></ul>", "- a\n  - b\n- c"),
        ("<ol><li>a</li><li>b<ol><li>c</li></ol></li></ol>", "1. a\n2. b\n   1. c"),
        ("<p>see <a href=\"https://x.io/a?b=1&amp;c=2\">link</a></p>", "see [link](https://x.io/a?b=1&c=2)"),
        ("<p>call <code>x()</code> now</p>", "call `x()` now"),
        ("<pre><code class=\"language-rust\">fn main() {\n  x();\n}\n</code></pre>", "```rust\nfn main() {\n  x();\n}\n```"),
        ("<pre>a &lt; b</pre>", "```\na < b\n```"),
        ("<table><thead><tr><th>A</th><th>B</th></tr></thead><tbody><tr><td>1</td><td>2 | 3</td></tr></tbody></table>",
         "| A | B |\n| --- | --- |\n| 1 | 2 \\| 3 |"),
        ("<table><tbody><tr><td>k</td><td>v</td></tr><tr><td>1</td></tr></tbody></table>", "| k | v |\n| --- | --- |\n| 1 |  |"),
        ("<table><tr><td>a<br>b</td></tr></table>", "| a b |\n| --- |"),
        ("<table></table>", ""),
        ("<p>a &amp; b&nbsp;c &#39;q&#39; &quot;d&quot;</p>", "a & b c 'q' \"d\""),
        ("<b><i>x</i></b>", "***x***"),
        ("<strong>s</strong> <em>e</em> <B>upper</B>", "**s** *e* **upper**"),
        ("a<br>b<BR/>c", "a\\\nb\\\nc"),
        ("<div>line one</div><div>line two</div><div><br></div><div>after</div>", "line one\n\nline two\n\nafter"),
        ("<div>text<br></div>", "text"),
        ("<div><p>&nbsp;</p><p>x</p></div>", "x"),
        ("<p>x</p><script>alert(1)</script><style>p{}</style>", "x"),
        ("<blockquote>q</blockquote>", "> q"),
        ("<s>del</s> <del>d2</del> <strike>s3</strike>", "~~del~~ ~~d2~~ ~~s3~~"),
        ("<span style=\"color:red\">red</span> <font>f</font>", "red f"),
        ("<p>unclosed <b>bold", "unclosed **bold**"),
        ("1 < 2 & 3 > 2", "1 < 2 & 3 > 2"),
        // `#` runs CommonMark would read as an empty heading or a closing sequence.
        ("<h1>#</h1>", "# \\#"),
        ("<h2>a ##</h2><p>#</p>", "## a \\##\n\n\\#"),
        ("<ul><li>#</li></ul><blockquote><h1>b #</h1></blockquote>", "- \\#\n\n> # b \\#"),
        ("<h1>a#</h1><p>a #</p>", "# a#\n\na #"),
        // Escapes decided on the finished Markdown, not per text node.
        ("<p>&nbsp;&gt; quoted</p>", "\\> quoted"),
        ("<p>1 &lt;<span>Fp&gt;</span> &amp;copy; &amp; 2 &lt; 3</p>", "1 \\<Fp> \\&copy; & 2 < 3"),
        ("<p><a href=\"/x\">l</a># b</p>", "[l](/x)# b"),
        ("a<br>- b", "a\\\n\\- b"),
        ("<p>a</p><p>---</p><p>1) x</p>", "a\n\n\\---\n\n1\\) x"),
        ("<ol start=\"0\"><li>z</li></ol>", "0. z"),
        ("<a href=\"a b<c\">x</a>", "[x](a%20b%3Cc)"),
        ("<a href=\"/x\">A<p>b</p></a>", "[A b](/x)"),
        ("Notes<li>more", "Notes\n\n- more"),
    ];
    for (html, md) in cases {
        assert_eq!(html_to_markdown(html), *md, "{html:?}");
    }
}

#[test]
fn markdown_to_html_table() {
    #[rustfmt::skip]
    let cases: &[(&str, &str)] = &[
        ("", ""),
        ("hello", "<p>hello</p>"),
        ("# T", "<h1>T</h1>"),
        ("- a\n  - b", "<ul>\n<li>a\n<ul>\n<li>b</li>\n</ul>\n</li>\n</ul>"),
        ("| A |\n|---|\n| 1 |", "<table><thead><tr><th>A</th></tr></thead><tbody>\n<tr><td>1</td></tr>\n</tbody></table>"),
        ("a & b", "<p>a &amp; b</p>"),
        ("`x<y`", "<p><code>x&lt;y</code></p>"),
        ("~~d~~", "<p><del>d</del></p>"),
        ("a\\\nb", "<p>a<br />\nb</p>"),
        // Raw HTML: tags Rally's editor writes pass with harmless attributes only; any other
        // tag is escaped (Rally's whitelist would reject the whole write).
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("hi <b>y</b> <img src=x onerror=alert(1)>", "<p>hi <b>y</b> <img src=\"x\"></p>"),
        ("<style>p{}</style>", "&lt;style&gt;p{}&lt;/style&gt;"),
        ("<div onclick=\"x()\">note</div>", "<div>note</div>"),
        ("<iframe src=\"https://x\"></iframe>", "&lt;iframe src=\"https://x\"&gt;&lt;/iframe&gt;"),
        ("H<sub>2</sub>O <a href=\"javascript:x\">l</a>", "<p>H<sub>2</sub>O <a href=\"#\">l</a></p>"),
        // Task lists: Rally has no checkbox, the marker is text.
        ("- [ ] todo\n- [x] done", "<ul>\n<li>[ ] todo</li>\n<li>[x] done</li>\n</ul>"),
        ("[x](javascript:alert(1))", "<p><a href=\"#\">x</a></p>"),
        ("[x]( JavaScript:alert(1))", "<p><a href=\"#\">x</a></p>"),
        ("![i](data:text/html;base64,AAAA)", "<p><img src=\"#\" alt=\"i\" /></p>"),
        ("<https://example.com/x>", "<p><a href=\"https://example.com/x\">https://example.com/x</a></p>"),
        ("[ok](https://example.com/a?b=1&c=2)", "<p><a href=\"https://example.com/a?b=1&amp;c=2\">ok</a></p>"),
    ];
    for (md, html) in cases {
        assert_eq!(markdown_to_html(md), *html, "{md:?}");
    }
}

/// Markdown in the canonical form below survives md → html → md unchanged.
#[test]
fn markdown_round_trips() {
    let cases = [
        "# Title",
        "## Sub\n\ntext after",
        "- a\n- b",
        "- a\n  - b\n    - c\n- d",
        "1. a\n2. b\n   1. c",
        "[link](https://x.io/a?b=1&c=2)",
        "see `code` here",
        "```rust\nfn main() {\n    let x = \"<b>\";\n}\n```",
        "```\nplain & simple\n```",
        "| A | B |\n| --- | --- |\n| 1 | 2 |",
        "| A | B |\n| --- | --- |\n| x \\| y | `c` |",
        "**bold** and *it*",
        "***both***",
        "> quote",
        "~~gone~~",
        "line\\\nbreak",
        "para one\n\npara two",
        "it's \"quoted\" & fine",
        "* * *",
        "# T\n\n- item with [link](https://a.b/) and **bold**\n- `code`\n\n| H |\n| --- |\n| v |",
    ];
    for md in cases {
        let html = markdown_to_html(md);
        assert_eq!(html_to_markdown(&html), md, "via {html:?}");
        // And the HTML is a fixed point too.
        assert_eq!(markdown_to_html(&html_to_markdown(&html)), html, "{md:?}");
    }
}

proptest! {
    #![proptest_config(crate::input::fuzz_config())]
    #[test]
    fn fast_path_agrees_with_full_conversion(s in "(<p>)?[a-zA-Z\u{e9}\u{4e2d}][a-zA-Z0-9 ,.;:?'\"()/@%=+!\\-\u{e9}\u{4e2d}]{0,60}(</p>)?") {
        prop_assert_eq!(html_to_markdown(&s), convert(&s).trim().to_string());
    }
    #[test]
    fn html_to_markdown_never_panics(s in "\\PC{0,200}") {
        let _ = html_to_markdown(&s);
    }
    #[test]
    fn html_like_never_panics(s in "(<(/?)(p|div|b|i|table|tr|td|th|ul|ol|li|pre|code|br|a href=\"x\"|script)>|[a-z &;|\\\\*_#`\n]){0,40}") {
        let _ = html_to_markdown(&s);
    }
    #[test]
    fn markdown_to_html_never_panics(s in "\\PC{0,200}") {
        let _ = markdown_to_html(&s);
    }
    #[test]
    fn markdown_like_never_panics_and_never_emits_raw_tags(
        s in "([#*_`|\\-\\\\>\\[\\]()!~ \n]|[a-z]{1,5}|<script>|<b>|javascript:){0,40}"
    ) {
        let html = markdown_to_html(&s);
        prop_assert!(!html.contains("<script"));
        prop_assert!(!html.contains("href=\"javascript"));
        let _ = html_to_markdown(&html);
    }
}

proptest! {
    #![proptest_config(crate::input::fuzz_config())]
    /// After one trip through HTML, Markdown is a fixed point: editing a description in
    /// Panopticon and saving it again does not drift. Scope: words, emphasis (also touching
    /// other emphasis: `*a***b**`), code spans, links, `& < > | #`, headings, lists, quotes.
    /// Known gap (found by this property over raw character soup): literal `*`, `_`, `~`,
    /// backticks or backslashes glued to emphasis or code spans can be re-escaped differently
    /// on a second trip.
    #[test]
    fn markdown_stabilises_after_one_round_trip(
        blocks in proptest::collection::vec(
            (
                "(# |## |- |1\\. |> )?",
                proptest::collection::vec(
                    "[a-z]{1,6}|\\*\\*[a-z]{1,4}\\*\\*|\\*[a-z]{1,4}\\*|_[a-z]{1,4}_|`[a-z<>&]{1,4}`|\\[[a-z]{1,3}\\]\\(https://x\\.io/[a-z]{0,3}\\)|&|[<>|#]|[a-z]{1,3}\\*\\*[a-z]{1,3}\\*\\*|\\*[a-z]{1,2}\\*\\*\\*[a-z]{1,2}\\*\\*",
                    1..8,
                ),
            ),
            0..6,
        )
    ) {
        let md = blocks
            .iter()
            .map(|(prefix, words)| format!("{prefix}{}", words.join(" ")))
            .collect::<Vec<_>>()
            .join("\n\n");
        let once = html_to_markdown(&markdown_to_html(&md));
        let twice = html_to_markdown(&markdown_to_html(&once));
        prop_assert_eq!(&twice, &once, "from {:?}", md);
    }
}

/// Issue 10, item 9: a raw HTML block in Markdown goes to Rally as HTML (not escaped text) and
/// comes back as what it shows; unsafe tags stay visible text.
#[test]
fn raw_html_blocks_keep_their_meaning() {
    let cases = [
        ("<div>Heads up: the build is red</div>", "Heads up: the build is red"),
        ("before\n\n<div>\n<b>bold</b> inside\n</div>\n\nafter", "before\n\n**bold** inside\n\nafter"),
        ("<p align=\"center\">centred</p>", "centred"),
        ("<table><tr><td>a</td><td>b</td></tr></table>", "| a | b |\n| --- | --- |"),
        ("<script>x()</script>", "\\<script>x()\\</script>"),
    ];
    for (md, want) in cases {
        let html = markdown_to_html(md);
        assert!(!html.contains("&lt;div") && !html.contains("&lt;b&gt;"), "{md:?} escaped: {html:?}");
        assert_eq!(html_to_markdown(&html), want, "{md:?} via {html:?}");
    }
}

/// Issue 10, item 9: GFM task lists, table column alignment and inline HTML survive
/// Markdown → Rally HTML → Markdown, and the HTML is a fixed point.
#[test]
fn task_lists_alignment_and_inline_html_round_trip() {
    let cases = [
        "- [ ] todo\n- [x] done\n- plain",
        "1. [ ] first\n2. [x] second",
        "- a\n  - [ ] nested task",
        "| L | C | R | N |\n| :--- | :---: | ---: | --- |\n| 1 | 2 | 3 | 4 |",
        "H<sub>2</sub>O is <u>water</u>, x<sup>2</sup>",
    ];
    let mut failures = Vec::new();
    for md in cases {
        let html = markdown_to_html(md);
        let back = html_to_markdown(&html);
        if back != md {
            failures.push(format!("{md:?} came back as {back:?} (via {html:?})"));
        } else if markdown_to_html(&back) != html {
            failures.push(format!("{md:?}: the HTML is not a fixed point"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // A `[ ]` that is not at the start of an item stays escaped text.
    assert_eq!(html_to_markdown("<p>[ ] not a task</p>"), "\\[ \\] not a task");
}

/// Found by `markdown_stabilises_after_one_round_trip`: an item holding only an empty quote
/// came back as a lone `\-` line glued to the next item, and a second save moved it apart.
#[test]
fn an_empty_list_item_is_left_out_and_the_list_is_stable() {
    for md in ["- >\n\n- a", "1. >\n2. a", "- a\n-\n- b"] {
        let once = html_to_markdown(&markdown_to_html(md));
        let twice = html_to_markdown(&markdown_to_html(&once));
        assert_eq!(once, twice, "from {md:?}");
        assert!(!once.contains("\\-"), "{md:?} gave {once:?}");
    }
}

/// HTML nested thousands deep (25 KB, under Rally's 32 KB limit, written by any client) is
/// converted to its text instead of overflowing the converting thread's stack, which ended the
/// whole Node process reading the item.
#[test]
fn deeply_nested_html_becomes_its_text_without_overflowing_the_stack() {
    for (open, close) in
        [("<div>", "</div>"), ("<b>", "</b>"), ("<blockquote>", "</blockquote>"), ("<ul><li>", "</li></ul>")]
    {
        let html = format!("{}deep &amp; down{}", open.repeat(5000), close.repeat(5000));
        // On a thread with the stack a converting thread has (2 MB, Rust's and tokio's default).
        let md = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || html_to_markdown(&html))
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(md, "deep & down", "{open}");
    }
    // Nesting up to the limit is converted as a tree, on the same stack.
    let html = format!("{}<b>x</b>{}", "<div>".repeat(MAX_DEPTH - 10), "</div>".repeat(MAX_DEPTH - 10));
    let md =
        std::thread::Builder::new().stack_size(2 << 20).spawn(move || html_to_markdown(&html)).unwrap().join().unwrap();
    assert_eq!(md, "**x**");
    assert_eq!(html_to_markdown("<blockquote><blockquote><p><b>x</b></p></blockquote></blockquote>"), "> > **x**");
}
