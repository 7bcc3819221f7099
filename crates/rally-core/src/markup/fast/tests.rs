//! The fast DOM builder against html5ever: wherever it accepts an input, the two trees must be
//! identical and so must the Markdown (checked both ways, so a difference in what the tree
//! walk reads would show even where the dump does not).

use super::super::{convert_with, HTML2MD};
use super::tree;
use markup5ever_rcdom::{Node, NodeData};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use std::fmt::Write;
use std::rc::Rc;

fn dump(node: &Rc<Node>, depth: usize, out: &mut String) {
    let pad = " ".repeat(depth * 2);
    match &node.data {
        NodeData::Document => out.push_str("#document\n"),
        NodeData::Element { name, attrs, template_contents, mathml_annotation_xml_integration_point } => {
            let _ = write!(out, "{pad}<{:?} {:?}", name.ns, name.local);
            for a in attrs.borrow().iter() {
                let _ = write!(out, " {:?}{:?}:{:?}={:?}", a.name.prefix, a.name.ns, a.name.local, &*a.value);
            }
            let _ = writeln!(
                out,
                "> tpl={} mathml={mathml_annotation_xml_integration_point}",
                template_contents.borrow().is_some()
            );
        }
        NodeData::Text { contents } => {
            let _ = writeln!(out, "{pad}{:?}", &**contents.borrow());
        }
        other => {
            let _ = writeln!(out, "{pad}{other:?}");
        }
    }
    for child in node.children.borrow().iter() {
        let up = child.parent.take();
        let parent_ok = up.as_ref().and_then(|w| w.upgrade()).is_some_and(|p| Rc::ptr_eq(&p, node));
        child.parent.set(up);
        assert!(parent_ok, "a child's parent pointer is not its parent");
        dump(child, depth + 1, out);
    }
}

fn dump_tree(node: &Rc<Node>) -> String {
    let mut out = String::new();
    dump(node, 0, &mut out);
    out
}

/// Checks `html` both ways; returns whether the fast builder accepted it.
fn agrees(html: &str) -> bool {
    let Some(fast) = tree(html) else { return false };
    let slow = HTML2MD.with(|c| c.html_to_tree(html)).expect("html5ever parses anything");
    assert_eq!(dump_tree(&fast), dump_tree(&slow), "tree differs for {html:?}");
    assert_eq!(convert_with(html, true), convert_with(html, false), "Markdown differs for {html:?}");
    true
}

/// The benchmark's editor-style description (`bench/lib.mjs`, RICH_DESCRIPTION).
const BENCH_RICH: &str = "<div><b>Steps to reproduce</b></div><div><ol><li>Open the <i>checkout</i> page on a phone</li><li>Add two items &amp; apply the code <code>SPRING25</code></li><li>Press <b>Pay</b></li></ol></div><div>Expected: the confirmation page.&nbsp;Actual: a spinner, then <span style=\"color:#c00\">HTTP 500</span>; see <a href=\"https://logs.example.com/q?id=42\">the log</a>.</div><div><br></div><table><tbody><tr><td>Browser</td><td>Result</td></tr><tr><td>Safari 17</td><td>fails</td></tr><tr><td>Chrome 120</td><td>works</td></tr></tbody></table><div>Tag: richbenchmarker</div>";

#[test]
fn accepts_editor_markup_and_agrees() {
    #[rustfmt::skip]
    let accepted = [
        BENCH_RICH,
        "<p>As a shopper I want the <b>Checkout</b> page to be faster.</p>",
        "<p>Acceptance criteria for Search:</p><ul><li>works on mobile</li><li>keeps state after reload</li><li>has <code>aria-label</code>s</li></ul>",
        "<p>Background: see <a href=\"https://wiki.example.com/cart\">the wiki</a>.</p><p>Edge case: <code>qty = 0</code> &amp; empty cart.</p>",
        "<table><tr><th>Step</th><th>Expected</th></tr><tr><td>Open Cart</td><td>Loads in &lt; 1s</td></tr></table>",
        "  <DIV>a<BR/>b<br />c</DIV>\n",
        "<h2>T</h2>\n<pre><code class='language-rust'>fn x() {}\n</code></pre>",
        "<ol start=\"0\"><li><p>x</p></li>\n<li>y <em>z</em> <u>u</u> <s>s</s></li></ol><hr>",
        "<blockquote><p>q &#39;x&#39; &#x2A; &quot;</p></blockquote> a < b & c",
        "<table>\n<thead><tr><th align=\"right\">A</th></tr></thead>\n<tbody><tr><td style=\"text-align:center\">1 | 2</td></tr></tbody></table>",
    ];
    for html in accepted {
        assert!(agrees(html), "not accepted: {html:?}");
    }
    #[rustfmt::skip]
    let refused = [
        "<p>a<div>b</div></p>", "<p>a<p>b", "<b><i>x</b></i>", "<b>x", "<ul><li>a<li>b</ul>", "<font>x</font>",
        "<!-- c -->x", "<p>&copy;</p>", "<p>&amp</p>", "a\r\nb", "<table>x<tr><td>1</td></tr></table>",
        "<pre>\nx</pre>", "<a href=x>y</a>", "<td>x</td>", "<b><table></table></b>", "<p>x</p></p>", "<br></br>",
        "<a href=\"1\"><a href=\"2\">x</a></a>", "<div title=\"a\" title=\"b\">x</div>", "<p/>", "<h1><h2>x</h2></h1>",
    ];
    for html in refused {
        assert!(tree(html).is_none(), "accepted: {html:?}");
        agrees(html);
    }
}

/// The recorded WSAPI responses: every rich-text field in them, both ways.
#[test]
fn recorded_fixtures_agree() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/wsapi");
    let (mut seen, mut accepted) = (0, 0);
    for entry in std::fs::read_dir(&dir).expect("fixtures/wsapi") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("fixture");
        let json: serde_json::Value = serde_json::from_str(&text).expect("fixture JSON");
        let mut strings = Vec::new();
        collect_html(&json, &mut strings);
        for s in strings {
            accepted += usize::from(agrees(&s));
            seen += 1;
        }
    }
    assert!(seen > 0, "no rich-text fields in the fixtures");
    eprintln!("fixtures: {accepted} of {seen} rich-text fields built without html5ever");
}

fn collect_html(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                match v {
                    serde_json::Value::String(s) if matches!(k.as_str(), "Description" | "Notes" | "Text") => {
                        out.push(s.clone())
                    }
                    _ => collect_html(v, out),
                }
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| collect_html(v, out)),
        _ => {}
    }
}

/// Every rich-text field the simulator's seed holds (stories, defects, features, tasks,
/// discussion posts), fetched over WSAPI, both ways.
#[test]
fn simulator_seed_agrees() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    let (fields, accepted) = rt.block_on(async {
        let mut sim =
            rally_sim::start(rally_sim::SimConfig { seed: 200, ..Default::default() }).await.expect("simulator");
        let client = reqwest::Client::new();
        let mut strings = Vec::new();
        for (path, fetch) in [
            ("hierarchicalrequirement", "Description,Notes"),
            ("defect", "Description,Notes"),
            ("portfolioitem/feature", "Description,Notes"),
            ("task", "Description,Notes"),
            ("conversationpost", "Text"),
        ] {
            let url = format!("{}/{path}?fetch={fetch}&pagesize=2000", sim.base);
            let res = client.get(&url).header("zsessionid", &sim.api_key).send().await.expect("request");
            let json: serde_json::Value = res.json().await.expect("JSON");
            collect_html(&json, &mut strings);
        }
        sim.shutdown();
        let fields = strings.len();
        let accepted = strings.iter().filter(|s| agrees(s)).count();
        (fields, accepted)
    });
    assert!(fields > 50, "only {fields} rich-text fields in the seed");
    eprintln!("seed: {accepted} of {fields} rich-text fields built without html5ever");
    // Everything the seed's editor-style templates write is simple markup.
    assert_eq!(accepted, fields, "the fast builder refused some of the seed's descriptions");
}

fn cases(default: u32) -> ProptestConfig {
    let by_hand = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok());
    let rng_seed = if by_hand.is_some() { RngSeed::Random } else { RngSeed::Fixed(0xFA57_2026) };
    ProptestConfig { cases: by_hand.unwrap_or(default), rng_seed, ..ProptestConfig::default() }
}

/// Text with the characters Markdown and HTML treat specially.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z0-9 ,.]{1,10}",
        2 => "( |\n|\t|  )",
        3 => "(&amp;|&lt;|&gt;|&nbsp;|&quot;|&#39;|&#x2A;|&#65;|&apos;|&|<|>|\\*|_|#|`|\\\\|\\||-|\\+|=|1\\.|1\\)|\\[ \\]|\\[x\\]|~|!|\\[|\\]|\\(|\\))",
        1 => "\\PC{1,3}",
    ]
}

/// Well-formed editor markup, nested at random (the fast builder's target), now and then
/// broken by a stray tag.
fn markup() -> impl Strategy<Value = String> {
    let leaf =
        prop_oneof![4 => text(), 1 => Just("<br>".to_string()), 1 => "(<br/>|<hr>|<BR />|</b>|<p>|<li>|<td>|</div>)"];
    leaf.prop_recursive(5, 48, 5, |inner| {
        let kids = proptest::collection::vec(inner, 0..5).prop_map(|v| v.concat());
        let tag = prop_oneof![
            "(p|div|b|strong|i|em|u|s|strike|del|code|span|sub|sup|blockquote|h1|h3|h6|pre|B|Div)",
            "(a href=\"https://x\\.example/a_b\\?q=1&amp;r=2\"|a href='/rel \\(x\\)'|a href=\"\"|a href=\"javascript:x\"|span style=\"color:#c00\"|div class=\"x\"|ol start=\"0\"|ol start=\"3\"|code class=\"language-js\")",
        ];
        prop_oneof![
            5 => (tag, kids.clone()).prop_map(|(t, k)| {
                let name = t.split(' ').next().unwrap_or_default().to_string();
                format!("<{t}>{k}</{name}>")
            }),
            2 => (
                "(ul|ol|UL|ol start=\"0\")",
                proptest::collection::vec((kids.clone(), "( |\n|)"), 0..4),
            )
                .prop_map(|(t, items)| {
                    let name = t.split(' ').next().unwrap_or_default().to_string();
                    let items: String = items.iter().map(|(k, ws)| format!("<li>{k}</li>{ws}")).collect();
                    format!("<{t}>{items}</{name}>")
                }),
            1 => (
                any::<bool>(),
                proptest::collection::vec(proptest::collection::vec(("(td|th|td align=\"right\"|th style=\"text-align:center\")", kids.clone()), 0..3), 0..3),
            )
                .prop_map(|(tbody, rows)| {
                    let rows: String = rows
                        .iter()
                        .map(|cells| {
                            let cells: String = cells
                                .iter()
                                .map(|(t, k)| format!("<{t}>{k}</{}>", t.split(' ').next().unwrap_or_default()))
                                .collect();
                            format!("<tr>{cells}</tr>\n")
                        })
                        .collect();
                    if tbody {
                        format!("<table><tbody>{rows}</tbody></table>")
                    } else {
                        format!("<table>{rows}</table>")
                    }
                }),
            2 => kids,
        ]
    })
}

proptest! {
    #![proptest_config(cases(2000))]

    #[test]
    fn fast_tree_agrees_with_html5ever(parts in proptest::collection::vec(markup(), 1..4)) {
        agrees(&parts.concat());
    }
}

/// The generator must actually reach the fast path, or the property above proves nothing.
#[test]
fn generator_reaches_the_fast_path() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::new(cases(500));
    let strategy = proptest::collection::vec(markup(), 1..4);
    let mut accepted = 0;
    for _ in 0..500 {
        let html = strategy.new_tree(&mut runner).expect("value").current().concat();
        if agrees(&html) {
            accepted += 1;
        }
    }
    assert!(accepted > 100, "only {accepted} of 500 generated inputs took the fast path");
}
