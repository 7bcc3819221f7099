//! The typed WSAPI query builder: the only way this crate makes a `query=` value.
//!
//! Rally's grammar is strict: every comparison in parentheses, spaces around the operator,
//! AND/OR strictly binary (`(((A) AND (B)) AND (C))`). Text values are always quoted, escaping
//! `"` as `\"` and `\` as `\\`, so no user text can end the value early. Attribute names are
//! `&'static str`: they come from this crate's source, never from user input.

use std::fmt::Write as _;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QValue {
    /// Always rendered quoted and escaped.
    Text(String),
    /// `/user/123` or an absolute ref; rendered bare when it is a plain ref, quoted otherwise.
    Ref(String),
    Int(i64),
    Bool(bool),
}

impl From<&str> for QValue {
    fn from(s: &str) -> Self {
        QValue::Text(s.to_string())
    }
}
impl From<String> for QValue {
    fn from(s: String) -> Self {
        QValue::Text(s)
    }
}
impl From<&String> for QValue {
    fn from(s: &String) -> Self {
        QValue::Text(s.clone())
    }
}
impl From<i64> for QValue {
    fn from(n: i64) -> Self {
        QValue::Int(n)
    }
}
impl From<bool> for QValue {
    fn from(b: bool) -> Self {
        QValue::Bool(b)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
}

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Contains => "contains",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Rhs {
    Value(QValue),
    Null,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Cmp { attr: &'static str, op: Op, rhs: Rhs },
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
}

/// A WSAPI query expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query(Node);

/// `Name`, `Owner.UserName`, `c_MyField`, `State.Name`: identifier segments joined by dots.
pub fn is_valid_attribute(attr: &str) -> bool {
    !attr.is_empty()
        && attr.split('.').all(|seg| {
            let mut chars = seg.chars();
            matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

fn cmp(attr: &'static str, op: Op, rhs: Rhs) -> Query {
    debug_assert!(is_valid_attribute(attr), "invalid query attribute {attr:?}");
    Query(Node::Cmp { attr, op, rhs })
}

impl Query {
    pub fn eq(attr: &'static str, v: impl Into<QValue>) -> Self {
        cmp(attr, Op::Eq, Rhs::Value(v.into()))
    }
    pub fn ne(attr: &'static str, v: impl Into<QValue>) -> Self {
        cmp(attr, Op::Ne, Rhs::Value(v.into()))
    }
    pub fn lt(attr: &'static str, v: impl Into<QValue>) -> Self {
        cmp(attr, Op::Lt, Rhs::Value(v.into()))
    }
    pub fn le(attr: &'static str, v: impl Into<QValue>) -> Self {
        cmp(attr, Op::Le, Rhs::Value(v.into()))
    }
    pub fn gt(attr: &'static str, v: impl Into<QValue>) -> Self {
        cmp(attr, Op::Gt, Rhs::Value(v.into()))
    }
    pub fn ge(attr: &'static str, v: impl Into<QValue>) -> Self {
        cmp(attr, Op::Ge, Rhs::Value(v.into()))
    }
    pub fn contains(attr: &'static str, v: impl Into<QValue>) -> Self {
        cmp(attr, Op::Contains, Rhs::Value(v.into()))
    }
    pub fn is_null(attr: &'static str) -> Self {
        cmp(attr, Op::Eq, Rhs::Null)
    }
    pub fn not_null(attr: &'static str) -> Self {
        cmp(attr, Op::Ne, Rhs::Null)
    }

    /// `attr` equals one of `values`, as nested ORs of `=`. Rally's `in` operator is only seen in
    /// one toolkit's live test and its quoting of list items is unknown, so the portable form
    /// wins. An empty list matches nothing: `((attr = null) AND (attr != null))`.
    pub fn in_list(attr: &'static str, values: &[&str]) -> Self {
        Query::any(values.iter().map(|v| Query::eq(attr, *v)).collect())
            .unwrap_or_else(|| Query::is_null(attr).and(Query::not_null(attr)))
    }

    pub fn and(self, other: Query) -> Self {
        Query(Node::And(Box::new(self.0), Box::new(other.0)))
    }
    pub fn or(self, other: Query) -> Self {
        Query(Node::Or(Box::new(self.0), Box::new(other.0)))
    }

    /// Binary AND of all parts as a balanced tree; `None` when there are none. Left-nesting
    /// would make 65 labels a query 65 parentheses deep, past what servers parse; balanced, the
    /// depth is ⌈log2 n⌉ (1,000 parts: 10 levels).
    pub fn all(parts: Vec<Query>) -> Option<Query> {
        balanced(parts, Query::and)
    }
    /// Binary OR of all parts as a balanced tree (see [`Query::all`]); `None` when there are none.
    pub fn any(parts: Vec<Query>) -> Option<Query> {
        balanced(parts, Query::or)
    }

    pub fn render(&self) -> String {
        let mut out = String::with_capacity(64);
        render_node(&self.0, &mut out);
        out
    }
}

impl std::fmt::Display for Query {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render())
    }
}

/// Joins `parts` pairwise, the first half (rounded up) on the left, so the shape depends only on
/// the number of parts and the rendering stays deterministic.
fn balanced(mut parts: Vec<Query>, join: fn(Query, Query) -> Query) -> Option<Query> {
    if parts.len() <= 1 {
        return parts.pop();
    }
    let right = parts.split_off(parts.len().div_ceil(2));
    Some(join(balanced(parts, join)?, balanced(right, join)?))
}

fn render_node(node: &Node, out: &mut String) {
    match node {
        Node::Cmp { attr, op, rhs } => {
            out.push('(');
            out.push_str(attr);
            out.push(' ');
            out.push_str(op.as_str());
            out.push(' ');
            match rhs {
                Rhs::Null => out.push_str("null"),
                Rhs::Value(v) => render_value(v, out),
            }
            out.push(')');
        }
        Node::And(a, b) | Node::Or(a, b) => {
            let joiner = if matches!(node, Node::And(..)) { " AND " } else { " OR " };
            out.push('(');
            render_node(a, out);
            out.push_str(joiner);
            render_node(b, out);
            out.push(')');
        }
    }
}

/// A ref is rendered bare only when it cannot be mistaken for anything else in the grammar.
fn is_plain_ref(r: &str) -> bool {
    (r.starts_with('/') || r.starts_with("http://") || r.starts_with("https://"))
        && r.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b':' | b'.' | b'-' | b'_'))
}

fn render_value(v: &QValue, out: &mut String) {
    match v {
        QValue::Text(s) => push_quoted(s, out),
        QValue::Ref(r) if is_plain_ref(r) => out.push_str(r),
        QValue::Ref(r) => push_quoted(r, out),
        QValue::Int(n) => {
            let _ = write!(out, "{n}");
        }
        QValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
    }
}

fn push_quoted(s: &str, out: &mut String) {
    out.reserve(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    #[allow(clippy::needless_borrows_for_generic_args)] // `From<&String>` is one of the cases
    fn every_operator_and_value_kind() {
        let cases: Vec<(Query, &str)> = vec![
            (Query::eq("Name", "a b"), r#"(Name = "a b")"#),
            (Query::ne("State", "Closed"), r#"(State != "Closed")"#),
            (Query::lt("ScheduleState", "Completed"), r#"(ScheduleState < "Completed")"#),
            (Query::le("ScheduleState", "Defined"), r#"(ScheduleState <= "Defined")"#),
            (Query::gt("ObjectID", 5i64), "(ObjectID > 5)"),
            (Query::ge("ObjectID", -5i64), "(ObjectID >= -5)"),
            (Query::contains("Description", "x"), r#"(Description contains "x")"#),
            (Query::is_null("State"), "(State = null)"),
            (Query::not_null("Parent"), "(Parent != null)"),
            (Query::eq("Blocked", true), "(Blocked = true)"),
            (Query::eq("Ready", false), "(Ready = false)"),
            (Query::eq("Owner", QValue::Ref("/user/123".into())), "(Owner = /user/123)"),
            (
                Query::eq("Artifact", QValue::Ref("https://h/slm/webservice/v2.0/defect/1".into())),
                "(Artifact = https://h/slm/webservice/v2.0/defect/1)",
            ),
            (Query::eq("Owner", QValue::Ref("/user/1) OR (x = 1".into())), r#"(Owner = "/user/1) OR (x = 1")"#),
            (Query::eq("Name", "null"), r#"(Name = "null")"#),
            (Query::eq("Name", "today"), r#"(Name = "today")"#),
            (Query::eq("Name", "42"), r#"(Name = "42")"#),
            (Query::eq("Name", ""), r#"(Name = "")"#),
            (Query::eq("Owner.UserName", String::from("u@x.com")), r#"(Owner.UserName = "u@x.com")"#),
            (Query::eq("c_My_Field", &String::from("v")), r#"(c_My_Field = "v")"#),
        ];
        for (q, want) in cases {
            assert_eq!(q.render(), want);
        }
    }

    #[test]
    fn escaping() {
        let cases: &[(&str, &str)] = &[
            (r#"say "hi""#, r#"(Name = "say \"hi\"")"#),
            (r"C:\temp", r#"(Name = "C:\\temp")"#),
            (r#"\""#, r#"(Name = "\\\"")"#),
            (r#"") OR (Name != ""#, r#"(Name = "\") OR (Name != \"")"#),
            ("ünïcødé ✓", "(Name = \"ünïcødé ✓\")"),
            ("line\nbreak", "(Name = \"line\nbreak\")"),
            ("(x) AND (y)", r#"(Name = "(x) AND (y)")"#),
        ];
        for (input, want) in cases {
            assert_eq!(Query::eq("Name", *input).render(), *want, "{input}");
        }
    }

    #[test]
    fn nesting_is_strictly_binary() {
        let t = |i: usize| Query::eq("Name", format!("v{i}"));
        let expected = [
            r#"(Name = "v1")"#,
            r#"((Name = "v1") AND (Name = "v2"))"#,
            r#"(((Name = "v1") AND (Name = "v2")) AND (Name = "v3"))"#,
            r#"(((Name = "v1") AND (Name = "v2")) AND ((Name = "v3") AND (Name = "v4")))"#,
            r#"((((Name = "v1") AND (Name = "v2")) AND (Name = "v3")) AND ((Name = "v4") AND (Name = "v5")))"#,
            r#"((((Name = "v1") AND (Name = "v2")) AND (Name = "v3")) AND (((Name = "v4") AND (Name = "v5")) AND (Name = "v6")))"#,
        ];
        for (n, want) in expected.iter().enumerate() {
            let parts: Vec<Query> = (1..=n + 1).map(t).collect();
            assert_eq!(Query::all(parts.clone()).unwrap().render(), *want);
            assert_eq!(Query::any(parts).unwrap().render(), want.replace(" AND ", " OR "));
        }
        // Depth grows as ⌈log2 n⌉: 1,000 parts nest 10 levels (plus the leaf's own parentheses).
        let big = Query::all((0..1000).map(t).collect()).unwrap().render();
        let (mut depth, mut deepest) = (0i32, 0i32);
        for c in big.chars() {
            depth += match c {
                '(' => 1,
                ')' => -1,
                _ => 0,
            };
            deepest = deepest.max(depth);
        }
        assert_eq!(deepest, 11);
        assert!(Query::all(vec![]).is_none());
        assert!(Query::any(vec![]).is_none());
        let mixed = t(1).or(t(2)).and(t(3).or(t(4)));
        assert_eq!(mixed.render(), r#"(((Name = "v1") OR (Name = "v2")) AND ((Name = "v3") OR (Name = "v4")))"#);
    }

    #[test]
    fn in_list_forms() {
        assert_eq!(Query::in_list("State", &["A"]).render(), r#"(State = "A")"#);
        assert_eq!(
            Query::in_list("State", &["A", "B", "C"]).render(),
            r#"(((State = "A") OR (State = "B")) OR (State = "C"))"#
        );
        assert_eq!(Query::in_list("State", &[]).render(), "((State = null) AND (State != null))");
    }

    #[test]
    fn attribute_names() {
        for ok in ["Name", "Owner.UserName", "c_X", "State.Name", "_x", "Tags.Name"] {
            assert!(is_valid_attribute(ok), "{ok}");
        }
        for bad in ["", "a b", "a.", ".a", "a..b", "1a", "Name)", "a\"", "a=b"] {
            assert!(!is_valid_attribute(bad), "{bad}");
        }
    }

    /// Reads one quoted value back by the project's quoting rule (`\"` and `\\` escapes; a backslash before anything else is literal).
    fn unescape_quoted(s: &str) -> Option<String> {
        let inner = s.strip_prefix('"')?.strip_suffix('"')?;
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next()? {
                    e @ ('"' | '\\') => out.push(e),
                    other => {
                        out.push('\\');
                        out.push(other);
                    }
                },
                '"' => return None, // an unescaped quote would end the value early
                c => out.push(c),
            }
        }
        Some(out)
    }

    proptest! {
        #![proptest_config(crate::input::fuzz_config())]
        #[test]
        fn quoted_values_read_back(s in "\\PC{0,40}|[\"\\\\a ()]{0,20}") {
            let rendered = Query::eq("Name", s.as_str()).render();
            let value = rendered.strip_prefix("(Name = ").and_then(|r| r.strip_suffix(')')).unwrap();
            prop_assert_eq!(unescape_quoted(value), Some(s));
        }
        #[test]
        fn refs_never_break_out(s in "\\PC{0,30}") {
            let rendered = Query::eq("Owner", QValue::Ref(s.clone())).render();
            let value = rendered.strip_prefix("(Owner = ").and_then(|r| r.strip_suffix(')')).unwrap();
            if value.starts_with('"') {
                prop_assert_eq!(unescape_quoted(value), Some(s));
            } else {
                prop_assert!(!value.contains([' ', '(', ')', '"']));
            }
        }
    }
}
