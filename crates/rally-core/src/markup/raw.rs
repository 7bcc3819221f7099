//! Raw HTML written inside Markdown (`<div>…</div>`, `<u>x</u>`, `<sub>2</sub>`): passed to
//! Rally as HTML when the tag is one Rally's own rich-text editor writes (formatting, lists,
//! tables, links, images), with only harmless attributes; anything else (`<script>`,
//! `<iframe>`, `<details>`, event handlers, `style`, script links, comments) stays escaped
//! text, visible and inert, as all raw HTML used to be: Rally refuses a whole write whose HTML
//! it does not accept, so only tags its editor itself produces go through.
//!
//! The text between tags is HTML already (an HTML block's text is not Markdown), so it is kept,
//! with a bare `&`, `<` or `>` escaped and entities left as they are.

/// Tags passed through, and the attributes each may keep.
const ALLOWED: &[(&str, &[&str])] = &[
    ("a", &["href", "title"]),
    ("b", &[]),
    ("blockquote", &[]),
    ("br", &[]),
    ("code", &[]),
    ("del", &[]),
    ("div", &[]),
    ("em", &[]),
    ("h1", &[]),
    ("h2", &[]),
    ("h3", &[]),
    ("h4", &[]),
    ("h5", &[]),
    ("h6", &[]),
    ("hr", &[]),
    ("i", &[]),
    ("img", &["src", "alt", "title"]),
    ("li", &[]),
    ("ol", &["start"]),
    ("p", &[]),
    ("pre", &[]),
    ("s", &[]),
    ("span", &[]),
    ("strike", &[]),
    ("strong", &[]),
    ("sub", &[]),
    ("sup", &[]),
    ("table", &[]),
    ("tbody", &[]),
    ("td", &["align", "colspan", "rowspan"]),
    ("th", &["align", "colspan", "rowspan"]),
    ("thead", &[]),
    ("tr", &[]),
    ("u", &[]),
    ("ul", &[]),
];

/// Tags the fuzz targets and property tests accept in `markdown_to_html`'s output on top of
/// CommonMark's own.
pub fn allowed_tags() -> impl Iterator<Item = &'static str> {
    ALLOWED.iter().map(|(t, _)| *t)
}

/// One tag, parsed: `<name attr="v" …>`, `</name>` or `<name …/>`.
struct Tag<'a> {
    name: String,
    closing: bool,
    attrs: Vec<(String, String)>,
    raw: &'a str,
}

fn decode_entities(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut rest = v;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let semi = after.find(';').filter(|&j| j <= 10);
        let ch = semi.and_then(|j| {
            let e = &after[..j];
            match e {
                "amp" => Some('&'),
                "quot" => Some('"'),
                "apos" => Some('\''),
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
            }
        });
        match (ch, semi) {
            (Some(c), Some(j)) => {
                out.push(c);
                rest = &after[j + 1..];
            }
            _ => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A URL a browser would run as script (after decoding, as it reads the attribute).
fn script_url(decoded: &str) -> bool {
    let t: String = decoded
        .trim_start_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .take(16)
        .collect::<String>()
        .to_ascii_lowercase();
    ["javascript:", "vbscript:", "data:"].iter().any(|s| t.starts_with(s))
}

fn attr_escape(v: &str) -> String {
    v.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Parses a tag at the start of `s` (which starts with `<`); `None` if it is not one.
fn parse_tag(s: &str) -> Option<Tag<'_>> {
    let b = s.as_bytes();
    let mut i = 1;
    let closing = b.get(i) == Some(&b'/');
    if closing {
        i += 1;
    }
    let start = i;
    while i < b.len() && b[i].is_ascii_alphanumeric() {
        i += 1;
    }
    if i == start || !b[start].is_ascii_alphabetic() {
        return None;
    }
    let name = s[start..i].to_ascii_lowercase();
    let mut attrs = Vec::new();
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        match b.get(i)? {
            b'>' => return Some(Tag { name, closing, attrs, raw: &s[..=i] }),
            b'/' if b.get(i + 1) == Some(&b'>') => {
                return Some(Tag { name, closing, attrs, raw: &s[..i + 2] });
            }
            _ if closing => return None,
            _ => {}
        }
        let n0 = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && !matches!(b[i], b'=' | b'>' | b'/' | b'"' | b'\'') {
            i += 1;
        }
        if i == n0 {
            return None;
        }
        let attr = s[n0..i].to_ascii_lowercase();
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        if b.get(i) == Some(&b'=') {
            i += 1;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            match b.get(i)? {
                q @ (b'"' | b'\'') => {
                    let end = s[i + 1..].find(*q as char)? + i + 1;
                    value = s[i + 1..end].to_string();
                    i = end + 1;
                }
                _ => {
                    let v0 = i;
                    while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' {
                        i += 1;
                    }
                    value = s[v0..i].to_string();
                }
            }
        }
        attrs.push((attr, decode_entities(&value)));
    }
}

/// The tag as it goes to Rally, or `None` when it must stay text.
fn sanitize(tag: &Tag) -> Option<String> {
    let (_, keep) = ALLOWED.iter().find(|(t, _)| *t == tag.name)?;
    if tag.closing {
        return Some(format!("</{}>", tag.name));
    }
    let mut out = format!("<{}", tag.name);
    for (name, value) in &tag.attrs {
        if !keep.contains(&name.as_str()) {
            continue;
        }
        if matches!(name.as_str(), "href" | "src") && script_url(value) {
            out.push_str(&format!(" {name}=\"#\""));
            continue;
        }
        out.push_str(&format!(" {name}=\"{}\"", attr_escape(value)));
    }
    out.push('>');
    Some(out)
}

fn escape_text(t: &str, out: &mut String) {
    // Entities stay (the text is HTML); a bare `&` and angle brackets become entities.
    let mut rest = t;
    while let Some(i) = rest.find(['&', '<', '>']) {
        out.push_str(&rest[..i]);
        match rest.as_bytes()[i] {
            b'<' => out.push_str("&lt;"),
            b'>' => out.push_str("&gt;"),
            _ => {
                let after = &rest[i + 1..];
                let name = after.strip_prefix('#').unwrap_or(after);
                let len = name.len() - name.trim_start_matches(|c: char| c.is_ascii_alphanumeric()).len();
                if len > 0 && name[len..].starts_with(';') {
                    out.push('&');
                } else {
                    out.push_str("&amp;");
                }
            }
        }
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
}

/// Raw HTML from Markdown → what goes to Rally: every tag either allowed (and rewritten with
/// its allowed attributes only) or escaped as text.
pub fn raw_html(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len() + 16);
    let mut rest = raw;
    while let Some(i) = rest.find('<') {
        escape_text(&rest[..i], &mut out);
        let at = &rest[i..];
        match parse_tag(at) {
            Some(tag) => {
                match sanitize(&tag) {
                    Some(clean) => out.push_str(&clean),
                    None => escape_text(tag.raw, &mut out),
                }
                rest = &at[tag.raw.len()..];
            }
            None => {
                out.push_str("&lt;");
                rest = &at[1..];
            }
        }
    }
    escape_text(rest, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowed_tags_pass_with_allowed_attributes_only() {
        let cases = [
            ("<div>hi</div>", "<div>hi</div>"),
            ("<u>x</u> &amp; <sub>2</sub>", "<u>x</u> &amp; <sub>2</sub>"),
            ("<div style=\"color:red\" onclick=\"x()\">a</div>", "<div>a</div>"),
            (
                "<a href=\"https://x.example/?a=1&amp;b=2\" target=_blank>l</a>",
                "<a href=\"https://x.example/?a=1&amp;b=2\">l</a>",
            ),
            ("<a href='jav&#x61;script:alert(1)'>l</a>", "<a href=\"#\">l</a>"),
            ("<img src=x onerror=alert(1)>", "<img src=\"x\">"),
            ("<br/>", "<br>"),
            ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
            ("<iframe src=x>", "&lt;iframe src=x&gt;"),
            ("<!-- c -->", "&lt;!-- c --&gt;"),
            ("a < b & c > d", "a &lt; b &amp; c &gt; d"),
            ("<div", "&lt;div"),
        ];
        for (raw, want) in cases {
            assert_eq!(raw_html(raw), want, "{raw}");
        }
    }
}
