//! Properties of the rich-text converters.

use rally_core::{html_to_markdown, markdown_to_html};

/// The tags `markdown_to_html` may emit (CommonMark + GFM tables and strikethrough), plus the
/// raw HTML tags it lets through (`rally_core::raw_html_tags`). Anything else would be
/// raw HTML from the user's text, which must have been escaped.
const TAGS: &[&str] = &[
    "p",
    "em",
    "strong",
    "a",
    "code",
    "pre",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "li",
    "blockquote",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "del",
    "br",
    "hr",
    "img",
];
const ATTRS: &[&str] = &["href", "src", "alt", "title", "start", "style", "class", "align", "colspan", "rowspan"];

/// Every tag is one of `TAGS` with attributes from `ATTRS`; no link or image target runs script
/// once a browser has decoded the attribute and dropped the characters URL parsing ignores.
pub fn assert_safe_html(html: &str, input: &str) {
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        let after = &rest[i + 1..];
        let end = after.find('>').unwrap_or_else(|| panic!("unclosed tag in {html:?} (from {input:?})"));
        let tag = &after[..end];
        let body = tag.strip_prefix('/').unwrap_or(tag).trim_end_matches('/').trim_end();
        let name_len = body.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(body.len());
        let name = &body[..name_len];
        assert!(
            TAGS.contains(&name) || rally_core::raw_html_tags().any(|t| t == name),
            "tag <{tag}> in {html:?} (from {input:?})"
        );
        check_attributes(&body[name_len..], html, input);
        rest = &after[end + 1..];
    }
}

fn check_attributes(mut attrs: &str, html: &str, input: &str) {
    loop {
        attrs = attrs.trim_start();
        if attrs.is_empty() {
            return;
        }
        let eq = attrs.find("=\"").unwrap_or_else(|| panic!("attribute syntax {attrs:?} in {html:?} (from {input:?})"));
        let name = &attrs[..eq];
        assert!(ATTRS.contains(&name), "attribute {name:?} in {html:?} (from {input:?})");
        let value_and_rest = &attrs[eq + 2..];
        let close = value_and_rest.find('"').unwrap_or_else(|| panic!("unterminated attribute in {html:?}"));
        let value = &value_and_rest[..close];
        if name == "href" || name == "src" {
            let url = browser_view(value);
            for scheme in ["javascript:", "vbscript:", "data:"] {
                assert!(!url.starts_with(scheme), "script link {value:?} in {html:?} (from {input:?})");
            }
        }
        attrs = &value_and_rest[close + 1..];
    }
}

/// What a browser makes of an attribute value as a URL: entities decoded, leading C0 controls
/// and spaces dropped, tab/CR/LF removed anywhere, scheme compared without case.
fn browser_view(value: &str) -> String {
    let mut decoded = String::new();
    let mut rest = value;
    while let Some(i) = rest.find('&') {
        decoded.push_str(&rest[..i]);
        let after = &rest[i..];
        let semi = after.find(';').filter(|&j| j <= 10);
        let entity = semi.map(|j| &after[1..j]);
        let ch = entity.and_then(|e| match e {
            "amp" => Some('&'),
            "quot" => Some('"'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "colon" => Some(':'),
            "Tab" => Some('\t'),
            "NewLine" => Some('\n'),
            _ => {
                let num = e.strip_prefix('#')?;
                let n = match num.strip_prefix(['x', 'X']) {
                    Some(h) => u32::from_str_radix(h, 16).ok()?,
                    None => num.parse().ok()?,
                };
                char::from_u32(n)
            }
        });
        match (ch, semi) {
            (Some(c), Some(j)) => {
                decoded.push(c);
                rest = &after[j + 1..];
            }
            _ => {
                decoded.push('&');
                rest = &after[1..];
            }
        }
    }
    decoded.push_str(rest);
    let trimmed = decoded.trim_start_matches(|c: char| c <= ' ');
    trimmed.chars().filter(|c| !matches!(c, '\t' | '\n' | '\r')).collect::<String>().to_ascii_lowercase()
}

/// Saving Markdown that came from Rally and reading it back gives the same Markdown. Scope: the
/// converters document a gap for literal `*`, `_`, `~`, backticks and backslashes glued to
/// emphasis or code, so text with those characters is left out; so are the open defects
/// reproduced in rally-core's `tests/regressions.rs` (see [`known_drift`]).
pub fn assert_stable(md: &str) {
    if md.contains(['*', '_', '~', '`', '\\']) || known_drift(md) {
        return;
    }
    // Runs of spaces collapse like HTML collapses them (`&nbsp;` reads as a space): not drift.
    let squeeze = |s: &str| {
        s.lines()
            .map(|l| l.split(' ').filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let again = html_to_markdown(&markdown_to_html(md));
    assert_eq!(squeeze(&again), squeeze(md), "Markdown drifts on a second save (html {:?})", markdown_to_html(md));
}

/// Open defects (rally-core `tests/regressions.rs`): a line of only `-`, `+`, `=`, `*`, `_`, `#` or `1.` (read
/// back as a setext underline, a rule or an empty item), a block marker at the start of the
/// line after a hard break (its escape is lost on the next trip), and a block-marker character
/// right after a link or starting a link's text (escaped on the next trip as if it started a
/// line), a link around blocks, a list item right under a text line, link targets in angle
/// brackets, lists numbered from 0, text that looks like a tag or an entity, and control
/// characters.
pub fn known_drift(md: &str) -> bool {
    let lines: Vec<&str> = md.lines().collect();
    let bare_rule = |l: &str| {
        let t = l.trim();
        let number_only =
            t.strip_suffix(['.', ')']).is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        number_only
            || (!t.is_empty() && ['-', '=', '*', '_', '+', '#'].iter().any(|&c| t.chars().all(|x| x == c || x == ' ')))
    };
    let marker = |l: &str| {
        let t = l.trim_start().trim_start_matches('\\');
        t.starts_with(['-', '+', '*', '#', '>', '=']) || {
            let digits = t.len() - t.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            digits > 0 && t[digits..].trim_start_matches('\\').starts_with(['.', ')'])
        }
    };
    let after_link =
        md.as_bytes().windows(2).any(|w| matches!(w[0], b')' | b'[') && b"#-+>=0123456789".contains(&w[1]));
    // A block inside a link (`<a><p>b</p></a>`) gives link text across a blank line: no link.
    let split_link = md.split("\n\n").any(|b| b.find("](").is_some_and(|i| !b[..i].contains('[')));
    // A stray `<li>` after text: the item follows the text line with no blank line between.
    let item_after_text =
        lines.windows(2).any(|w| !w[0].trim().is_empty() && !marker(w[0]) && w[1].trim_start().starts_with('-'));
    // `[x](<a b>)`: a destination in angle brackets reads back percent-encoded (or, with `<`
    // inside, not as a link at all); an ordered list numbered from 0 reads back from 1.
    let angle_link = md.contains("](<");
    let from_zero = lines.iter().any(|l| l.trim_start().starts_with("0.") || l.trim_start().starts_with("0)"));
    // Text like `<Fp>` (or `<?`, `<!`) is left unescaped on the first read, escaped on the next.
    let tag_like = md
        .as_bytes()
        .windows(2)
        .any(|w| w[0] == b'<' && (w[1].is_ascii_alphabetic() || matches!(w[1], b'/' | b'?' | b'!')));
    // Literal text like `&copy;` is not escaped, so it reads back as the character (`©`).
    let entity_like = md.match_indices('&').any(|(i, _)| {
        let rest = &md[i + 1..];
        let name = rest.trim_start_matches('#').trim_start_matches(|c: char| c.is_ascii_alphanumeric());
        name.len() < rest.len() && name.starts_with(';')
    });
    // Control characters (other than line ends and tabs) are dropped or moved by the parsers.
    let controls = md.chars().any(|c| c.is_control() && c != '\n' && c != '\t');
    // Cosmetic, not defects: a link target with characters a URL encodes (`|` → `%7C`) is
    // written back encoded, and a list mixing tight and loose items is written back loose.
    let encoded_target = md.split("](").skip(1).any(|rest| {
        let target = rest.split(')').next().unwrap_or_default();
        target.chars().any(|c| !c.is_ascii_graphic() || matches!(c, '|' | '"' | '\\' | '^' | '{' | '}' | '`' | '%'))
    });
    let item = |l: &str| {
        let t = l.trim_start();
        t.starts_with(['-', '+', '*'])
            || t.split_once(['.', ')']).is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    };
    let tight = lines.windows(2).any(|w| item(w[0]) && item(w[1]));
    let loose = lines.windows(3).any(|w| item(w[0]) && w[1].trim().is_empty() && item(w[2]));
    // Also cosmetic: a heading directly above another line gets a blank line after it, a
    // heading whose text starts with a block marker (`#`, `+`, ...) gets it escaped on the next
    // read, and `><` is written back as `> <`.
    let heading = |l: &str| l.starts_with('#');
    let heading_then_line = lines.windows(2).any(|w| heading(w[0]) && !w[1].trim().is_empty());
    let marker_in_heading = lines.iter().any(|l| heading(l) && marker(l.trim_start_matches('#').trim_start()));
    let tight_quote = lines.iter().any(|l| l.starts_with('>') && !l.starts_with("> ") && l.len() > 1);
    after_link
        || heading_then_line
        || marker_in_heading
        || tight_quote
        || encoded_target
        || (tight && loose)
        || entity_like
        || controls
        || tag_like
        || angle_link
        || from_zero
        || split_link
        || item_after_text
        || lines.iter().any(|l| bare_rule(l))
        || lines.windows(2).any(|w| w[0].ends_with('\\') && marker(w[1]))
}
