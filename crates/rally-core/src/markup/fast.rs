//! A one-pass DOM builder for the simple, well-formed HTML Rally's editor writes: `<p>`, `<div>`,
//! `<br>`, emphasis, `<code>`, `<a href>`, lists, headings, `<pre>`, plain tables, the common
//! entities. It builds exactly the tree html5ever would (document, `html`, empty `head`, `body`,
//! merged text, implied `tbody`), so the same htmd walk turns it into the same Markdown, without
//! html5ever's tokenizer and tree-construction state machine, the larger part of a conversion.
//!
//! It accepts only input where the HTML parsing rules leave nothing to recover: known tags,
//! closed in order, quoted attributes, no block inside a paragraph, no text where a table
//! expects rows. Anything else (unknown tags, comments, misnesting, unusual entities, control
//! characters) returns `None`, and the caller parses with html5ever.

use std::cell::RefCell;
use std::rc::Rc;

use html5ever::tendril::StrTendril;
use html5ever::{ns, Attribute, LocalName, QualName};
use markup5ever_rcdom::{Node, NodeData};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// HTML's formatting elements (`b`, `a` …): only safe when closed in order.
    Formatting,
    /// Other inline elements (`span`, `sub`, `sup`).
    Inline,
    P,
    /// Block containers that close an open paragraph (`div`, `blockquote`).
    Block,
    List,
    Item,
    Heading,
    Pre,
    Table,
    Section,
    Row,
    Cell,
    /// `br`, `hr`.
    Void,
}

fn kind(name: &str) -> Option<Kind> {
    Some(match name {
        "b" | "strong" | "i" | "em" | "u" | "s" | "strike" | "code" | "a" => Kind::Formatting,
        "span" | "sub" | "sup" => Kind::Inline,
        "p" => Kind::P,
        "div" | "blockquote" => Kind::Block,
        "ul" | "ol" => Kind::List,
        "li" => Kind::Item,
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => Kind::Heading,
        "pre" => Kind::Pre,
        "table" => Kind::Table,
        "tbody" | "thead" | "tfoot" => Kind::Section,
        "tr" => Kind::Row,
        "td" | "th" => Kind::Cell,
        "br" | "hr" => Kind::Void,
        _ => return None,
    })
}

struct Open {
    node: Rc<Node>,
    name: LocalName,
    kind: Kind,
    /// A `tbody` the parser adds for a `tr` straight inside `table`.
    implied: bool,
}

struct Builder {
    body: Rc<Node>,
    stack: Vec<Open>,
    text: String,
}

/// The DOM html5ever builds for `html`, or `None` when the input is not simple enough to be
/// sure of it.
pub(crate) fn tree(html: &str) -> Option<Rc<Node>> {
    // The parser skips whitespace before the first tag or text (and a byte-order mark, which
    // we leave to it).
    let html = html.trim_start_matches(is_space);
    if html.starts_with('\u{feff}') {
        return None;
    }
    let document = Node::new(NodeData::Document);
    let root = element(LocalName::from("html"), Vec::new());
    append(&document, root.clone());
    append(&root, element(LocalName::from("head"), Vec::new()));
    let body = element(LocalName::from("body"), Vec::new());
    append(&root, body.clone());
    let mut b = Builder { body, stack: Vec::new(), text: String::new() };
    let bytes = html.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'<' => {
                let next = bytes.get(i + 1).copied();
                if next.is_some_and(|c| c.is_ascii_alphabetic()) {
                    i = b.start_tag(html, i + 1)?;
                } else if next == Some(b'/') {
                    i = b.end_tag(html, i + 2)?;
                } else if matches!(next, Some(b'!' | b'?')) {
                    return None;
                } else {
                    b.text.push('<');
                    i += 1;
                }
            }
            b'&' => {
                let (c, len) = entity(&html[i..])?;
                b.text.push(c);
                i += len;
            }
            _ => {
                let end = html[i..].find(['<', '&']).map_or(html.len(), |n| i + n);
                let run = &html[i..end];
                if run.chars().any(bad_char) {
                    return None;
                }
                b.text.push_str(run);
                i = end;
            }
        }
    }
    b.flush()?;
    b.stack.is_empty().then_some(document)
}

impl Builder {
    fn current(&self) -> &Rc<Node> {
        self.stack.last().map_or(&self.body, |o| &o.node)
    }

    fn current_kind(&self) -> Option<Kind> {
        self.stack.last().map(|o| o.kind)
    }

    fn open(&self, k: Kind) -> bool {
        self.stack.iter().any(|o| o.kind == k)
    }

    /// Appends pending text to the current node (the parser merges adjacent text). Only
    /// whitespace may sit between table parts; other text there is moved out of the table.
    fn flush(&mut self) -> Option<()> {
        if self.text.is_empty() {
            return Some(());
        }
        if matches!(self.current_kind(), Some(Kind::Table | Kind::Section | Kind::Row))
            && !self.text.chars().all(is_space)
        {
            return None;
        }
        let text = StrTendril::from(std::mem::take(&mut self.text).as_str());
        let parent = self.current().clone();
        let last = parent.children.borrow().last().cloned();
        if let Some(NodeData::Text { contents }) = last.as_ref().map(|n| &n.data) {
            contents.borrow_mut().push_tendril(&text);
        } else {
            append(&parent, Node::new(NodeData::Text { contents: RefCell::new(text) }));
        }
        Some(())
    }

    /// Reads a start tag whose name begins at `at`; returns the index after its `>`.
    fn start_tag(&mut self, html: &str, at: usize) -> Option<usize> {
        let bytes = html.as_bytes();
        let mut i = at;
        while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
            i += 1;
        }
        let name = html[at..i].to_ascii_lowercase();
        let k = kind(&name)?;
        let mut attrs: Vec<Attribute> = Vec::new();
        let self_closing;
        loop {
            let spaced = i < bytes.len() && is_space(char::from(bytes[i]));
            while i < bytes.len() && is_space(char::from(bytes[i])) {
                i += 1;
            }
            match bytes.get(i)? {
                b'>' => {
                    self_closing = false;
                    i += 1;
                    break;
                }
                b'/' if bytes.get(i + 1) == Some(&b'>') => {
                    self_closing = true;
                    i += 2;
                    break;
                }
                c if spaced && c.is_ascii_alphabetic() => {
                    let start = i;
                    while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'-') {
                        i += 1;
                    }
                    let attr = html[start..i].to_ascii_lowercase();
                    if bytes.get(i) != Some(&b'=') {
                        return None;
                    }
                    let quote = *bytes.get(i + 1)?;
                    if quote != b'"' && quote != b'\'' {
                        return None;
                    }
                    let value_at = i + 2;
                    let len = html[value_at..].find(char::from(quote))?;
                    let value = decode(&html[value_at..value_at + len])?;
                    i = value_at + len + 1;
                    if attrs.iter().any(|a| *a.name.local == *attr) {
                        return None;
                    }
                    attrs.push(Attribute {
                        name: QualName::new(None, ns!(), LocalName::from(attr.as_str())),
                        value: StrTendril::from(value.as_str()),
                    });
                }
                _ => return None,
            }
        }
        if self_closing && k != Kind::Void {
            return None;
        }
        self.flush()?;
        self.check_start(&name, k)?;
        // `<pre>` drops a newline right after it; leave that to the parser.
        if k == Kind::Pre && bytes.get(i) == Some(&b'\n') {
            return None;
        }
        let name = LocalName::from(name.as_str());
        if k == Kind::Row && self.current_kind() == Some(Kind::Table) {
            let tbody = element(LocalName::from("tbody"), Vec::new());
            append(self.current(), tbody.clone());
            self.stack.push(Open { node: tbody, name: LocalName::from("tbody"), kind: Kind::Section, implied: true });
        }
        let node = element(name.clone(), attrs);
        append(self.current(), node.clone());
        if k != Kind::Void {
            self.stack.push(Open { node, name, kind: k, implied: false });
        }
        Some(i)
    }

    /// Whether a `name` start tag here adds just one element where it stands.
    fn check_start(&self, name: &str, k: Kind) -> Option<()> {
        let cur = self.current_kind();
        // Between table parts only the next part may start.
        if matches!(cur, Some(Kind::Table | Kind::Section | Kind::Row)) {
            let fits = match cur {
                Some(Kind::Table) => matches!(k, Kind::Section | Kind::Row),
                Some(Kind::Section) => k == Kind::Row,
                _ => k == Kind::Cell,
            };
            return fits.then_some(());
        }
        if matches!(k, Kind::Section | Kind::Row | Kind::Cell) {
            return None;
        }
        // A block start closes an open paragraph (and a table may not, in quirks mode).
        let inline = matches!(k, Kind::Formatting | Kind::Inline) || (k == Kind::Void && name == "br");
        let block = !inline;
        if block && self.open(Kind::P) {
            return None;
        }
        let ok = match k {
            // Same-name nesting brings in the parser's limit of three and `<a>`'s own rules.
            Kind::Formatting => !self.stack.iter().any(|o| &*o.name == name),
            Kind::Item => matches!(cur, Some(Kind::List)),
            Kind::Heading => !self.open(Kind::Heading),
            Kind::Pre => !self.open(Kind::Pre),
            // Tables only among blocks: no formatting to reconstruct, no nested table.
            Kind::Table => self.stack.iter().all(|o| matches!(o.kind, Kind::Block | Kind::List | Kind::Item)),
            _ => true,
        };
        ok.then_some(())
    }

    /// Reads an end tag whose name begins at `at`; it must close the current element.
    fn end_tag(&mut self, html: &str, at: usize) -> Option<usize> {
        let bytes = html.as_bytes();
        let mut i = at;
        while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
            i += 1;
        }
        if i == at {
            return None;
        }
        let name = html[at..i].to_ascii_lowercase();
        while i < bytes.len() && is_space(char::from(bytes[i])) {
            i += 1;
        }
        if bytes.get(i) != Some(&b'>') {
            return None;
        }
        self.flush()?;
        let top = self.stack.last()?;
        if *top.name == *name {
            self.stack.pop();
        } else if name == "table" && top.implied {
            self.stack.pop();
            let table = self.stack.pop()?;
            debug_assert!(&*table.name == "table");
        } else {
            return None;
        }
        Some(i + 1)
    }
}

fn element(name: LocalName, attrs: Vec<Attribute>) -> Rc<Node> {
    Node::new(NodeData::Element {
        name: QualName::new(None, ns!(html), name),
        attrs: RefCell::new(attrs),
        template_contents: RefCell::new(None),
        mathml_annotation_xml_integration_point: false,
    })
}

fn append(parent: &Rc<Node>, child: Rc<Node>) {
    child.parent.set(Some(Rc::downgrade(parent)));
    parent.children.borrow_mut().push(child);
}

/// HTML's whitespace (a carriage return never gets this far: `bad_char`).
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0c')
}

/// Characters the parser changes or reports: NUL, CR (newline normalisation), controls, and
/// the byte-order mark.
fn bad_char(c: char) -> bool {
    (c.is_control() && !matches!(c, '\t' | '\n' | '\x0c')) || c == '\u{feff}'
}

/// An attribute value with its character references resolved.
fn decode(value: &str) -> Option<String> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let (c, len) = entity(&rest[at..])?;
        out.push(c);
        rest = &rest[at + len..];
    }
    out.push_str(rest);
    (!out.chars().any(bad_char)).then_some(out)
}

/// The character `s` (starting at `&`) stands for and the length it takes: the common named
/// references with their `;`, numeric references to ordinary characters, or a lone `&`. Any
/// other name (HTML knows two thousand, some without `;`) is left to the parser.
fn entity(s: &str) -> Option<(char, usize)> {
    let rest = &s[1..];
    match rest.chars().next() {
        Some('#') => {
            let (digits, radix, skip) = match rest[1..].strip_prefix(['x', 'X']) {
                Some(hex) => (hex, 16, 2),
                None => (&rest[1..], 10, 1),
            };
            let len = digits.len() - digits.trim_start_matches(|c: char| c.is_digit(radix)).len();
            if !(1..=6).contains(&len) || !digits[len..].starts_with(';') {
                return None;
            }
            let n = u32::from_str_radix(&digits[..len], radix).ok()?;
            let ordinary =
                matches!(n, 0x20..=0x7e | 0xa0..=0xd7ff | 0xe000..=0xfdcf | 0xfdf0..=0xfefe | 0xff00..=0xfffd);
            let c = char::from_u32(n).filter(|_| ordinary)?;
            Some((c, 1 + skip + len + 1))
        }
        Some(c) if c.is_ascii_alphanumeric() => {
            let named =
                [("amp;", '&'), ("lt;", '<'), ("gt;", '>'), ("quot;", '"'), ("apos;", '\''), ("nbsp;", '\u{a0}')];
            named.iter().find(|(n, _)| rest.starts_with(n)).map(|(n, c)| (*c, 1 + n.len()))
        }
        _ => Some(('&', 1)),
    }
}

#[cfg(test)]
mod tests;
