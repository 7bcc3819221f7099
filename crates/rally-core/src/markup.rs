//! Rich text: Rally stores HTML, Panopticon speaks Markdown.
//!
//! HTML → Markdown uses `htmd` (a turndown port on html5ever, so Rally's `<div>`-heavy and sloppy
//! HTML parses like a browser would; it converts tables to GFM, column alignment included). The
//! simple, well-formed HTML Rally's editor writes skips html5ever: `fast.rs` builds the very DOM
//! html5ever would in one pass (tests compare both trees), and anything it is not sure of goes to
//! html5ever. Markdown → HTML uses `pulldown-cmark` with GFM tables, strikethrough and task lists.
//! Raw HTML inside Markdown passes through when every tag is one Rally's editor writes
//! (`markup_raw.rs`: `<div>`, `<u>`, `<sub>`, tables …, harmless attributes only); any other tag is
//! ESCAPED: Rally rejects non-whitelisted HTML for the whole write, and escaping keeps the user's
//! text visible instead of silently dropping it. Link targets with script schemes (`javascript:`,
//! `vbscript:`, `data:`) are neutralised. Task-list items (`- [ ] todo`) are stored as the text
//! `[ ] todo` (Rally has no checkbox) and read back as task items; underline, sub- and superscript
//! (no Markdown syntax) come back as inline HTML.

use std::rc::Rc;

use htmd::element_handler::{HandlerResult, Handlers};
use htmd::{Element, Node};
use markup5ever_rcdom::NodeData;
use pulldown_cmark::{html, CowStr, Event, Options, Parser, Tag};

thread_local! {
    // Building the converter registers every element handler; do it once per thread.
    static HTML2MD: htmd::HtmlToMarkdown = htmd::HtmlToMarkdown::builder()
        .options(htmd::options::Options {
            bullet_list_marker: htmd::options::BulletListMarker::Dash,
            ul_bullet_spacing: 1,
            ol_number_spacing: 1,
            // A trailing-two-spaces break does not survive editors that trim lines.
            br_style: htmd::options::BrStyle::Backslash,
            ..Default::default()
        })
        .skip_tags(vec!["script", "style", "head", "noscript", "template"])
        .add_handler(vec!["table"], table_handler)
        .add_handler(vec!["s", "del", "strike"], strike_handler)
        .add_handler(vec!["pre"], pre_handler)
        .add_handler(vec!["em", "i"], em_handler)
        .add_handler(vec!["li"], li_handler)
        .add_handler(vec!["ul", "ol"], list_handler)
        .add_handler(vec!["a"], anchor_handler)
        .add_handler(vec!["u", "sub", "sup"], inline_html_handler)
        .build();
}

pub fn html_to_markdown(html: &str) -> String {
    fast_markdown(html).unwrap_or_else(|| convert(html))
}

/// The Markdown of an empty description or a plain paragraph, which need no parser.
pub(crate) fn fast_markdown(html: &str) -> Option<String> {
    if html.trim().is_empty() {
        return Some(String::new());
    }
    plain_paragraph(html)
}

/// Fast path for the commonest description, one paragraph of plain words (`<p>Fix it.</p>`):
/// nothing in it needs parsing or escaping, and a full html5ever parse costs microseconds per
/// issue across a 10,000-issue list. Anything else goes through `convert`; a property test
/// checks both agree.
fn plain_paragraph(html: &str) -> Option<String> {
    let t = html.trim();
    let inner = t.strip_prefix("<p>").and_then(|s| s.strip_suffix("</p>")).unwrap_or(t);
    // A leading digit, `#`, `-`, `>` ... could start a Markdown block; letters cannot.
    if !inner.chars().next()?.is_alphabetic() {
        return None;
    }
    let plain = inner.chars().all(|c| {
        c.is_alphanumeric()
            || matches!(
                c,
                ' ' | ',' | '.' | ';' | ':' | '?' | '\'' | '"' | '(' | ')' | '/' | '@' | '%' | '=' | '-' | '+' | '!'
            )
    });
    plain.then(|| inner.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn convert(html: &str) -> String {
    convert_with(html, true)
}

/// `convert`, building the DOM with `fast::tree` where it accepts the input (`fast` true) or
/// always with html5ever: the same tree either way, so the same Markdown.
fn convert_with(html: &str, fast: bool) -> String {
    let md = HTML2MD.with(|c| {
        let tree = match fast.then(|| fast::tree(html)).flatten() {
            Some(tree) => tree,
            None => c.html_to_tree(html)?,
        };
        // The placeholders must not occur in the input (they are Unicode noncharacters, so
        // real text does not have them); if they do, convert as htmd alone would.
        if depth(&tree) > MAX_DEPTH {
            return Ok(flat_text(&tree));
        }
        let marked = !html.contains([LT, AMP, MID]);
        prepare_text(&tree, marked);
        let md = c.tree_to_markdown(&tree);
        Ok::<_, std::io::Error>(if marked { restore(&md) } else { md })
    });
    match md {
        Ok(md) => tidy(&md),
        // html5ever accepts any input; an I/O error here would be internal. Keep the text.
        Err(_) => html.trim().to_string(),
    }
}

/// Element nesting past which HTML is not converted as a tree: htmd (and `prepare_text`) walk
/// the DOM recursively, and a few thousand nested `<div>`s (25 KB, under Rally's 32 KB limit)
/// overflowed the stack of the thread converting them, which ends the whole Node process. No
/// editor writes anything near this deep.
const MAX_DEPTH: usize = 200;

/// How deep the tree's elements nest, walked without recursion.
fn depth(root: &Rc<Node>) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(root.clone(), 0usize)];
    while let Some((node, d)) = stack.pop() {
        deepest = deepest.max(d);
        if deepest > MAX_DEPTH {
            break;
        }
        for child in node.children.borrow().iter() {
            stack.push((child.clone(), d + 1));
        }
    }
    deepest
}

/// The text of a tree too deep to convert, walked without recursion: its text nodes in order,
/// each run of whitespace one space.
fn flat_text(root: &Rc<Node>) -> String {
    let mut out = String::new();
    let mut stack = vec![root.clone()];
    while let Some(node) = stack.pop() {
        if let NodeData::Text { contents } = &node.data {
            out.push_str(&contents.borrow());
            out.push(' ');
        }
        stack.extend(node.children.borrow().iter().rev().cloned());
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Placeholders for text characters whose escape depends on what surrounds them in the final
/// Markdown, which htmd (escaping one text node at a time) cannot see: `<` and `&` (a tag or an
/// entity may be completed by the next node: `1 &lt;<span>Fp&gt;</span>`), and `MID` before a
/// node that starts with a block marker but usually sits mid-line (`[l](/x)# b`).
const LT: char = '\u{fdd0}';
const AMP: char = '\u{fdd1}';
const MID: char = '\u{fdd2}';

/// htmd escapes a text node by its first character, then trims the spaces a block starts with:
/// `<p> &gt; x</p>` came out as `> x`, a quote. Trim first (HTML ignores that whitespace, and
/// Markdown has no leading spaces), so the escape sees the character that will start the line.
/// With `mark`, also put in the placeholders [`restore`] resolves.
fn prepare_text(node: &Rc<Node>, mark: bool) {
    let children = node.children.borrow();
    let block = tag_name(node).is_none_or(|t| htmd_block(&t));
    let mut line_start = block;
    for child in children.iter() {
        match &child.data {
            NodeData::Text { contents } => {
                let mut text = contents.borrow_mut();
                if line_start {
                    let lead = text.len() - text.trim_start_matches([' ', '\t', '\n', '\r', '\x0c', '\u{a0}']).len();
                    text.pop_front(u32::try_from(lead).unwrap_or(0));
                }
                if mark && !text.is_empty() {
                    let marker_first = text
                        .starts_with(['=', '~', '>', '-', '+', '#', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
                    let mut new = String::with_capacity(text.len() + 4);
                    if marker_first && !line_start {
                        new.push(MID);
                    }
                    new.extend(text.chars().map(|c| match c {
                        '<' => LT,
                        '&' => AMP,
                        c => c,
                    }));
                    text.clear();
                    text.push_slice(&new);
                }
                line_start = line_start && text.is_empty();
            }
            NodeData::Element { .. } => {
                let name = tag_name(child).unwrap_or_default();
                // Whitespace and characters are content as they are in preformatted text.
                if !matches!(name.as_str(), "pre" | "code" | "textarea") {
                    prepare_text(child, mark);
                }
                line_start = name == "br" || htmd_block(&name);
            }
            _ => {}
        }
    }
}

/// Resolves the placeholders against the finished Markdown: `<` escaped where it would open a
/// tag, `&` where it would start an entity, and a marker that ended up starting a line escaped.
fn restore(md: &str) -> String {
    let mut out = String::with_capacity(md.len() + 8);
    for (i, line) in md.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let mut line = line.to_string();
        let body_at = container_prefix_len(&line);
        if line[body_at..].starts_with(MID) {
            let rest = line[body_at + MID.len_utf8()..].to_string();
            let escaped = escape_block_start(&rest).unwrap_or(rest);
            line = format!("{}{escaped}", &line[..body_at]);
        }
        let chars: Vec<char> = line.chars().filter(|&c| c != MID).collect();
        for (j, &c) in chars.iter().enumerate() {
            let next = chars.get(j + 1).copied();
            match c {
                LT => {
                    if next.is_some_and(|n| n.is_ascii_alphabetic() || matches!(n, '/' | '!' | '?')) {
                        out.push('\\');
                    }
                    out.push('<');
                }
                AMP => {
                    let tail: String =
                        chars[j + 1..].iter().take(40).map(|&c| if c == AMP { '&' } else { c }).collect();
                    let name = tail.strip_prefix('#').unwrap_or(&tail);
                    let len = name.len() - name.trim_start_matches(|c: char| c.is_ascii_alphanumeric()).len();
                    if len > 0 && name[len..].starts_with(';') {
                        out.push('\\');
                    }
                    out.push('&');
                }
                c => out.push(c),
            }
        }
    }
    out
}

fn htmd_block(tag: &str) -> bool {
    matches!(
        tag,
        "html"
            | "body"
            | "p"
            | "div"
            | "li"
            | "ul"
            | "ol"
            | "blockquote"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "td"
            | "th"
            | "tr"
            | "table"
            | "section"
            | "article"
            | "header"
            | "footer"
            | "main"
            | "nav"
            | "aside"
            | "pre"
            | "dd"
            | "dt"
            | "dl"
            | "figure"
            | "figcaption"
            | "details"
            | "summary"
    )
}

/// Rally's editor leaves `&nbsp;` and `<div><br></div>` spacer lines everywhere: make them plain
/// spaces and blank lines, drop hard breaks that end a paragraph, and collapse blank runs.
/// Fenced code is left alone.
fn tidy(md: &str) -> String {
    let mut out = String::with_capacity(md.len());
    let mut in_fence = false;
    let mut blank_run = 0;
    let lines: Vec<&str> = md.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
        }
        let after_break = !in_fence && i > 0 && ends_with_hard_break(lines[i - 1]);
        // htmd escapes a text node by its first character; an `&nbsp;` there hides a marker
        // (`&nbsp;&gt;`) that becomes a line start once the space is trimmed.
        let nbsp_lead = !in_fence && line[container_prefix_len(line)..].starts_with('\u{a0}');
        let mut line = if in_fence { (*line).to_string() } else { line.replace('\u{a0}', " ") };
        // `<br>\n` in the source leaves one space before the next line's text.
        if after_break && line.starts_with(' ') && !line.starts_with("  ") {
            line.remove(0);
        }
        if !in_fence {
            // After a hard break the line continues a paragraph: only quote markers and
            // indentation are structure, a leading `-`/`#`/`1.` is text and needs its escape.
            let prefix = if after_break { quote_prefix_len(&line) } else { container_prefix_len(&line) };
            if after_break || nbsp_lead || rule_like(&line[prefix..]) || paren_item(&line[prefix..]) {
                if let Some(escaped) = escape_block_start(&line[prefix..]) {
                    line = format!("{}{escaped}", &line[..prefix]);
                }
            }
        }
        if !in_fence && !line.trim_start().starts_with("```") {
            let next_blank = lines.get(i + 1).is_none_or(|n| n.trim().is_empty());
            if next_blank && ends_with_hard_break(&line) {
                line.pop();
            }
            line.truncate(line.trim_end().len());
            if let Some(fixed) = escape_heading_hashes(&line) {
                line = fixed;
            }
        }
        // A quote-only line separates paragraphs inside a quote; anywhere else it is an empty
        // quote, which reads back as nothing.
        let quote_line = |l: Option<&&str>| l.is_some_and(|l| l.trim_start().starts_with('>'));
        if !in_fence
            && line.trim().chars().all(|c| c == '>' || c.is_whitespace())
            && line.contains('>')
            && !(i > 0 && quote_line(lines.get(i - 1)) && quote_line(lines.get(i + 1)))
        {
            line.clear();
        }
        if line.trim().is_empty() && !in_fence {
            blank_run += 1;
            if blank_run > 1 {
                continue;
            }
            line.clear();
        } else {
            blank_run = 0;
        }
        out.push_str(&line);
        out.push('\n');
    }
    out.trim().to_string()
}

/// htmd leaves two `#` runs unescaped that CommonMark reads as heading syntax, losing the
/// text: a block that is only `#`s (`<p>#</p>` → `#`, an empty heading) and a heading whose
/// text ends in a space and `#`s (`<h1>a #</h1>` → `# a #`, a closing sequence). A backslash
/// before the run keeps it text. Container prefixes (`> `, `- `, `1. `) are looked through.
fn escape_heading_hashes(line: &str) -> Option<String> {
    let rest = &line[container_prefix_len(line)..];
    let start = line.len() - rest.len();
    let level = rest.len() - rest.trim_start_matches('#').len();
    if !(1..=6).contains(&level) {
        return None;
    }
    let text = &rest[level..];
    let run_at = if text.is_empty() {
        start
    } else if text.starts_with(' ') || text.starts_with('\t') {
        let body = text.trim_start();
        let run = body.len() - body.trim_end_matches('#').len();
        let before = body[..body.len() - run].chars().next_back();
        if run == 0 || !(before.is_none() || before == Some(' ') || before == Some('\t')) {
            return None;
        }
        line.len() - run
    } else {
        return None;
    };
    Some(format!("{}\\{}", &line[..run_at], &line[run_at..]))
}

/// Length of the container markers (`> `, `- `, `1. `) and indentation that open `line`.
fn container_prefix_len(line: &str) -> usize {
    let mut rest = line;
    loop {
        let t = rest.trim_start_matches(' ');
        let digits = t.len() - t.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let marker = if t.starts_with('>') {
            1
        } else if t.starts_with("- ") || t.starts_with("* ") || t.starts_with("+ ") {
            2
        } else if (1..=9).contains(&digits) && t[digits..].starts_with(". ") {
            // htmd numbers items `1.`; a `1)` is the user's text.
            digits + 2
        } else {
            return line.len() - t.len();
        };
        rest = &t[marker..];
    }
}

/// Length of the quote markers and indentation that open a continuation line.
fn quote_prefix_len(line: &str) -> usize {
    line.len() - line.trim_start_matches([' ', '>']).len()
}

/// A line of only `-`, `=` or `+` (htmd writes rules as `* * *` and headings as `#`, so such a
/// line is always text): unescaped it is a setext underline, a rule or an empty item.
fn rule_like(body: &str) -> bool {
    let t = body.trim();
    !t.is_empty() && ['-', '=', '+'].iter().any(|&c| t.chars().all(|x| x == c || x == ' '))
}

/// `1)` or `1) x`: an ordered-list marker htmd leaves unescaped (it escapes only `1.`).
fn paren_item(body: &str) -> bool {
    let digits = body.len() - body.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    (1..=9).contains(&digits) && (body[digits..] == *")" || body[digits..].starts_with(") "))
}

/// `body` (a line after its container prefix) with a leading block marker escaped, if it has
/// one: `>`, an ATX `#` run, a bullet, an ordered-list number, a setext underline or a fence.
fn escape_block_start(body: &str) -> Option<String> {
    let t = body.trim_start_matches(' ');
    let next_is_gap = |n: usize| t[n..].is_empty() || t[n..].starts_with([' ', '\t']);
    let digits = t.len() - t.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let hashes = t.len() - t.trim_start_matches('#').len();
    let quote_fence_or_underline = t.starts_with(['>', '=']) || t.starts_with("~~~") || t.starts_with("```");
    let bullet_or_rule = t.starts_with(['-', '+', '*']) && (next_is_gap(1) || rule_like(t));
    let heading = (1..=6).contains(&hashes) && next_is_gap(hashes);
    let at = if quote_fence_or_underline || bullet_or_rule || heading {
        0
    } else if (1..=9).contains(&digits) && t[digits..].starts_with(['.', ')']) && next_is_gap(digits + 1) {
        digits
    } else {
        return None;
    };
    Some(format!("{}\\{}", &t[..at], &t[at..]))
}

/// An `<li>` outside any list (pasted HTML has them after text) still reads as an item; with
/// only a line break before it, CommonMark would take an empty one for a setext underline and
/// the next save would add the blank line. Give it blank lines of its own.
fn li_handler(handlers: &dyn Handlers, element: Element) -> Option<HandlerResult> {
    let in_list =
        parent(element.node).and_then(|p| tag_name(&p)).is_some_and(|t| matches!(t.as_str(), "ul" | "ol" | "menu"));
    let in_heading = ancestors(element.node)
        .any(|a| tag_name(&a).is_some_and(|t| matches!(t.as_str(), "h1" | "h2" | "h3" | "h4" | "h5" | "h6")));
    let result = handlers.fallback(element)?;
    // An item with nothing to show (`<li><blockquote></blockquote></li>`) would be a lone `-`
    // or `1.`, which the next save reads as text, a rule or a setext underline: leave it out.
    let marker_only = result.content.trim();
    let digits = marker_only.len() - marker_only.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if marker_only.is_empty() || marker_only == "-" || (digits > 0 && &marker_only[digits..] == ".") {
        return Some(String::new().into());
    }
    // Text straight inside a nested list (`<ul>x</ul>`, no `<li>`) comes back unindented, a
    // lazy continuation line that a save joins to the item's text: make it a paragraph of the
    // item.
    let mut content = String::with_capacity(result.content.len() + 8);
    let bullet = result.content.trim_start_matches('\n').starts_with("- ");
    // htmd writes no soft line breaks (text newlines become spaces, `<br>` a `\`), so inside
    // an item one text line right under another is such a block.
    let bullet = bullet && !result.content.contains("```");
    let mut prev = "";
    for (i, line) in result.content.split('\n').enumerate() {
        if i > 0 {
            content.push('\n');
        }
        let t = line.trim_start();
        let structural = t.starts_with(['-', '|', '>']) || t.starts_with(|c: char| c.is_ascii_digit());
        if bullet && !t.is_empty() && !prev.trim().is_empty() && !ends_with_hard_break(prev) && !structural {
            // A paragraph of its own, as the HTML had it in its own block.
            content.push('\n');
            if !line.starts_with(' ') {
                content.push_str("  ");
            }
        }
        content.push_str(line);
        prev = line;
    }
    if in_list {
        return Some(content.into());
    }
    let content = content.trim_matches('\n');
    if in_heading {
        // A heading is one line: the item is text there, and its marker must stay text.
        return Some(format!(" \\{} ", content.trim()).into());
    }
    Some(format!("\n\n{content}\n\n").into())
}

/// A task-list item (`- [ ] todo`, stored as the text `[ ] todo`): htmd escapes the brackets
/// (`- \[ \] todo`), which reads back as literal text. Unescape a `[ ]`, `[x]` or `[X]` that
/// opens an item's first line and is followed by text: Markdown reads it as the task marker.
fn unescape_task_marker(item: &str) -> Option<String> {
    let lead = item.len() - item.trim_start_matches('\n').len();
    let body = &item[lead..];
    let indent = body.len() - body.trim_start_matches(' ').len();
    let t = &body[indent..];
    let digits = t.len() - t.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let marker = if t.starts_with("- ") {
        2
    } else if (1..=9).contains(&digits) && t[digits..].starts_with(". ") {
        digits + 2
    } else {
        return None;
    };
    let rest = &t[marker..];
    let state = ["\\[ \\] ", "\\[x\\] ", "\\[X\\] "].iter().find(|m| rest.starts_with(**m))?;
    let text = &rest[state.len()..];
    if text.trim().is_empty() {
        return None;
    }
    let unescaped = state.replace('\\', "");
    Some(format!("{}{}{unescaped}{text}", &item[..lead + indent], &t[..marker]))
}

/// `<u>`, `<sub>`, `<sup>` have no Markdown syntax: keep them as inline HTML around their
/// Markdown content (it goes back to Rally as the same tags).
fn inline_html_handler(handlers: &dyn Handlers, element: Element) -> Option<HandlerResult> {
    let content = handlers.walk_children(element.node).content;
    let inner = content.trim();
    if inner.is_empty() || inner.contains('\n') {
        return (!content.is_empty()).then(|| content.clone().into());
    }
    let tag = tag_name(element.node)?;
    let lead = content.get(..content.len() - content.trim_start().len()).unwrap_or_default();
    let trail = content.get(content.trim_end().len()..).unwrap_or_default();
    Some(format!("{lead}<{tag}>{inner}</{tag}>{trail}").into())
}

/// Two fixes to htmd's lists. It numbers from 1 when `start="0"` (it takes 0 for "missing"),
/// and Markdown can say `0.`. And text straight inside a list (`<ol>A<li>a`) comes out on the
/// line above the first item, where a save joins them: give the items a blank line before.
fn list_handler(handlers: &dyn Handlers, element: Element) -> Option<HandlerResult> {
    let from_zero = element.attrs.iter().any(|a| &a.name.local == "start" && a.value.trim() == "0");
    let result = handlers.fallback(element)?;
    let mut out = String::with_capacity(result.content.len() + 8);
    let mut prev_item_or_blank = true;
    for (i, line) in result.content.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        // Our own items sit at most two columns in (number alignment); nested ones deeper.
        let indent = line.len() - line.trim_start_matches(' ').len();
        let t = &line[indent..];
        let digits = t.len() - t.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let numbered = digits > 0 && t[digits..].starts_with(". ");
        let item = indent <= 2 && (numbered || t.starts_with("- ") || t == "-");
        if item && !prev_item_or_blank {
            out.push('\n');
        }
        prev_item_or_blank = item || t.is_empty() || indent > 0;
        let task = if item { unescape_task_marker(line) } else { None };
        let line = task.as_deref().unwrap_or(line);
        match t[..digits].parse::<u64>() {
            Ok(n) if from_zero && item && numbered && n > 0 => {
                out.push_str(&format!("{}{}{}", &line[..indent], n - 1, &line[indent + digits..]));
            }
            _ => out.push_str(line),
        }
    }
    Some(out.into())
}

/// A link around blocks (`<a href="/x">A<p>b</p></a>`, valid HTML5) would have its text span a
/// blank line, which Markdown does not read as a link: keep the link, its text on one line.
/// Link targets with spaces or angle brackets are percent-encoded first (htmd wraps spaces in
/// `<...>`, where a `<` or `>` breaks the link).
fn anchor_handler(handlers: &dyn Handlers, element: Element) -> Option<HandlerResult> {
    for attr in element.attrs.iter() {
        if &attr.name.local == "href" && attr.value.contains([' ', '<', '>']) {
            let encoded = attr.value.replace(' ', "%20").replace('<', "%3C").replace('>', "%3E");
            // The attribute list is borrowed immutably here; rebuild the link text ourselves.
            let content = handlers.walk_children(element.node).content;
            let text = one_line(&content);
            let encoded = encoded.replace('(', "\\(").replace(')', "\\)");
            return Some(format!("[{text}]({encoded})").into());
        }
    }
    let result = handlers.fallback(element)?;
    let md = &result.content;
    match md.rfind("](") {
        Some(i) if md[..i].contains('\n') => {
            let (text, target) = md.split_at(i);
            Some(format!("{}{target}", one_line(text)).into())
        }
        _ => Some(result),
    }
}

fn one_line(text: &str) -> String {
    text.split('\n').map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ")
}

fn ends_with_hard_break(line: &str) -> bool {
    (line.len() - line.trim_end_matches('\\').len()) % 2 == 1
}

fn element_children<'a>(node: &'a Rc<Node>, tags: &'a [&str]) -> Vec<Rc<Node>> {
    node.children
        .borrow()
        .iter()
        .filter(|c| matches!(&c.data, NodeData::Element { name, .. } if tags.contains(&name.local.as_ref())))
        .cloned()
        .collect()
}

fn tag_name(node: &Rc<Node>) -> Option<String> {
    match &node.data {
        NodeData::Element { name, .. } => Some(name.local.as_ref().to_string()),
        _ => None,
    }
}

/// Any HTML table → a GFM table; the first row becomes the header row (GFM requires one).
fn table_handler(handlers: &dyn Handlers, element: Element) -> Option<HandlerResult> {
    let mut rows: Vec<Rc<Node>> = Vec::new();
    for child in element_children(element.node, &["thead", "tbody", "tfoot", "tr"]) {
        if tag_name(&child).as_deref() == Some("tr") {
            rows.push(child);
        } else {
            rows.extend(element_children(&child, &["tr"]));
        }
    }
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|tr| {
            element_children(tr, &["td", "th"])
                .iter()
                .map(|cell| table_cell(&handlers.walk_children(cell).content))
                .collect()
        })
        .filter(|row: &Vec<String>| !row.is_empty())
        .collect();
    let columns = cells.iter().map(Vec::len).max().unwrap_or(0);
    // GFM keeps one alignment per column: the first cell of the column that states one.
    let align: Vec<&str> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|tr| element_children(tr, &["td", "th"]).get(c).and_then(cell_alignment))
                .next()
                .unwrap_or(" --- |")
        })
        .collect();
    if columns == 0 {
        let content = handlers.walk_children(element.node).content;
        let content = content.trim_matches('\n');
        return (!content.is_empty()).then(|| format!("\n\n{content}\n\n").into());
    }
    let mut md = String::from("\n\n");
    for (i, row) in cells.iter().enumerate() {
        md.push('|');
        for c in 0..columns {
            md.push(' ');
            md.push_str(row.get(c).map(String::as_str).unwrap_or(""));
            md.push_str(" |");
        }
        md.push('\n');
        if i == 0 {
            md.push('|');
            md.push_str(&align.concat());
            md.push('\n');
        }
    }
    md.push('\n');
    Some(md.into())
}

/// A cell's alignment as a GFM delimiter cell: from `align="…"` or a `text-align` style (what
/// pulldown-cmark and Rally's editor write), `None` when it states none.
fn cell_alignment(cell: &Rc<Node>) -> Option<&'static str> {
    let NodeData::Element { attrs, .. } = &cell.data else { return None };
    let attrs = attrs.borrow();
    let stated = attrs.iter().find_map(|a| match a.name.local.as_ref() {
        "align" => Some(a.value.trim().to_ascii_lowercase()),
        "style" => {
            let style = a.value.to_ascii_lowercase();
            let at = style.find("text-align")?;
            let value = style[at + "text-align".len()..].trim_start().strip_prefix(':')?;
            Some(value.split(';').next().unwrap_or_default().trim().to_string())
        }
        _ => None,
    })?;
    match stated.as_str() {
        "left" => Some(" :--- |"),
        "right" => Some(" ---: |"),
        "center" => Some(" :---: |"),
        _ => None,
    }
}

/// A cell is one line in GFM: inner line breaks become spaces, pipes are escaped.
fn table_cell(content: &str) -> String {
    // `\` + newline is a hard break from `<br>`: inside a cell it becomes a space.
    let one_line = content.replace("\\\n", " ");
    let one_line = one_line.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = String::with_capacity(one_line.len());
    let mut backslashes = 0;
    for ch in one_line.chars() {
        if ch == '|' && backslashes % 2 == 0 {
            out.push('\\');
        }
        backslashes = if ch == '\\' { backslashes + 1 } else { 0 };
        out.push(ch);
    }
    out
}

fn strike_handler(handlers: &dyn Handlers, element: Element) -> Option<HandlerResult> {
    let content = handlers.walk_children(element.node).content;
    let trimmed = content.trim();
    (!trimmed.is_empty()).then(|| format!("~~{trimmed}~~").into())
}

fn safe_url(url: CowStr<'_>) -> CowStr<'_> {
    let lower: String = url.trim_start().chars().take(12).collect::<String>().to_ascii_lowercase();
    let lower: String = lower.chars().filter(|c| !c.is_whitespace() && !c.is_control()).collect();
    if ["javascript:", "vbscript:", "data:"].iter().any(|s| lower.starts_with(s)) {
        CowStr::Borrowed("#")
    } else {
        url
    }
}

pub fn markdown_to_html(md: &str) -> String {
    if md.trim().is_empty() {
        return String::new();
    }
    let opts = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let events = Parser::new_ext(md, opts).map(|ev| match ev {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::InlineHtml(raw::raw_html(&raw).into()),
        // Rally has no checkbox: the marker is stored as text, and read back as the marker.
        Event::TaskListMarker(done) => Event::Text(if done { "[x] " } else { "[ ] " }.into()),
        Event::Start(Tag::Link { link_type, dest_url, title, id }) => {
            Event::Start(Tag::Link { link_type, dest_url: safe_url(dest_url), title, id })
        }
        Event::Start(Tag::Image { link_type, dest_url, title, id }) => {
            Event::Start(Tag::Image { link_type, dest_url: safe_url(dest_url), title, id })
        }
        other => other,
    });
    let mut out = String::with_capacity(md.len() + md.len() / 2);
    html::push_html(&mut out, events);
    out.truncate(out.trim_end().len());
    out
}

#[cfg(test)]
mod tests;

mod fast;
mod raw;

/// The tags raw HTML in Markdown may keep on its way to Rally (for the fuzz targets' checks).
pub fn raw_html_tags() -> impl Iterator<Item = &'static str> {
    raw::allowed_tags()
}

/// `<pre>` without `<code>` inside (htmd only fences `<pre><code>`) is still a code block.
fn pre_handler(handlers: &dyn Handlers, element: Element) -> Option<HandlerResult> {
    if !element_children(element.node, &["code"]).is_empty() {
        return handlers.fallback(element);
    }
    let content = handlers.walk_children(element.node).content;
    let content = content.trim_matches('\n');
    (!content.trim().is_empty()).then(|| format!("\n\n```\n{content}\n```\n\n").into())
}

fn ancestors(node: &Rc<Node>) -> impl Iterator<Item = Rc<Node>> {
    std::iter::successors(parent(node), parent)
}

fn parent(node: &Rc<Node>) -> Option<Rc<Node>> {
    let weak = node.parent.take();
    let parent = weak.as_ref().and_then(|w| w.upgrade());
    node.parent.set(weak);
    parent
}

/// `_` can stand in for `*` only where it can open and close: next to other emphasis (where
/// `*a***b**` would re-parse as one run) and not inside a word (`a_b_` is no emphasis).
fn underscore_fits(node: &Rc<Node>) -> bool {
    let Some(parent) = parent(node) else { return false };
    let siblings = parent.children.borrow();
    let Some(i) = siblings.iter().position(|c| Rc::ptr_eq(c, node)) else { return false };
    let prev = i.checked_sub(1).and_then(|p| siblings.get(p));
    let next = siblings.get(i + 1);
    let is_emphasis =
        |n: Option<&Rc<Node>>| n.and_then(tag_name).is_some_and(|t| matches!(t.as_str(), "em" | "i" | "strong" | "b"));
    let text_edge = |n: Option<&Rc<Node>>, last: bool| -> Option<char> {
        match &n?.data {
            NodeData::Text { contents } => {
                let t = contents.borrow();
                if last {
                    t.chars().next_back()
                } else {
                    t.chars().next()
                }
            }
            _ => None,
        }
    };
    let word_before = text_edge(prev, true).is_some_and(char::is_alphanumeric);
    let word_after = text_edge(next, false).is_some_and(char::is_alphanumeric);
    (is_emphasis(prev) || is_emphasis(next)) && !word_before && !word_after
}

/// `*x*`, except next to other emphasis: `*a***b**` would re-parse as one run, so `_a_**b**`.
fn em_handler(handlers: &dyn Handlers, element: Element) -> Option<HandlerResult> {
    let content = handlers.walk_children(element.node).content;
    let inner = content.trim();
    if inner.is_empty() {
        return (!content.is_empty()).then(|| content.clone().into());
    }
    let marker = if underscore_fits(element.node) { "_" } else { "*" };
    let lead = content.get(..content.len() - content.trim_start().len()).unwrap_or_default();
    let trail = content.get(content.trim_end().len()..).unwrap_or_default();
    Some(format!("{lead}{marker}{inner}{marker}{trail}").into())
}
