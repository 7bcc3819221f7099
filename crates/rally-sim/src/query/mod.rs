//! The Rally WSAPI query language: `((Owner.UserName = "a@b.com") AND (State != Closed))`.
//!
//! [`parse`] is as strict as Rally: every comparison sits in parentheses, AND/OR join exactly
//! two parenthesised terms, and operators are separated by spaces. Values are not interpreted
//! beyond `null`, `today[+-N]` and `in` lists: refs, dates, numbers and drop-down values stay
//! text for the evaluator, which knows the attribute's type.
//!
//! Quoted values use the project's escaping rule: `\"` stands for `"`, `\\` for `\`, and a
//! backslash before any other character is kept literally. [`quote`] produces that form, and
//! an [`Expr`] prints back (via `Display`) to text that parses to the same tree.

mod lexer;
mod parser;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use std::fmt;

/// Deepest nesting of parentheses accepted; deeper input is an error, not a stack overflow.
pub const MAX_DEPTH: usize = 64;
/// Longest query accepted, in bytes (a URL of this size is already beyond most proxies).
pub const MAX_QUERY_BYTES: usize = 64 * 1024;
/// Largest `N` in `today+N` / `today-N`, so date arithmetic on it can never overflow.
pub const MAX_TODAY_OFFSET: i64 = 100_000;

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Cmp(Cmp),
}

/// One comparison `path op value`, e.g. `Owner.UserName = "a@b.com"`.
#[derive(Debug, Clone, PartialEq)]
pub struct Cmp {
    /// Dot-separated attribute names as written: `Owner.UserName` → `["Owner", "UserName"]`.
    pub path: Vec<String>,
    pub op: Op,
    pub value: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
    NotContains,
    In,
    NotIn,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Bare `null` in any case; `"null"` quoted is `Text("null")`.
    Null,
    /// A quoted value (unescaped) or a bare token, exactly as written otherwise.
    Text(String),
    /// The items of an `in`/`!in` list: `in A,B` or `in "A, B"` (items trimmed).
    List(Vec<String>),
    /// Bare `today`, `today+3`, `today-1` in any case.
    Today { offset_days: i64 },
}

/// Parses a WSAPI `query=` value. The error is the full text Rally puts in `Errors`,
/// `Could not parse: <detail>`, with positions counted in characters from 1.
///
/// # Errors
/// Any departure from the grammar, nesting deeper than [`MAX_DEPTH`], or input longer than
/// [`MAX_QUERY_BYTES`].
pub fn parse(query: &str) -> Result<Expr, String> {
    if query.len() > MAX_QUERY_BYTES {
        return Err(format!(
            "Could not parse: the query is {} bytes long; at most {MAX_QUERY_BYTES} are accepted",
            query.len()
        ));
    }
    lexer::tokenize(query)
        .and_then(|tokens| parser::Parser::new(tokens).parse_query())
        .map_err(|detail| format!("Could not parse: {detail}"))
}

/// Quotes `s` as a query value, escaping `"` and `\`.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Contains => "contains",
            Op::NotContains => "!contains",
            Op::In => "in",
            Op::NotIn => "!in",
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Value {
    /// Text is always quoted, so it never reads back as `null` or `today`. A list is written
    /// bare when every item allows it, else as one quoted string; items with commas or
    /// surrounding spaces cannot be expressed in the language at all.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Text(s) => f.write_str(&quote(s)),
            Value::Today { offset_days: 0 } => f.write_str("today"),
            Value::Today { offset_days } => write!(f, "today{offset_days:+}"),
            Value::List(items) => {
                let bare = items.iter().all(|i| {
                    !i.is_empty() && !i.chars().any(|c| c.is_whitespace() || matches!(c, '(' | ')' | '"' | ','))
                });
                if bare {
                    f.write_str(&items.join(","))
                } else {
                    f.write_str(&quote(&items.join(",")))
                }
            }
        }
    }
}

impl fmt::Display for Cmp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.path.join("."), self.op, self.value)
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::And(a, b) => write!(f, "({a} AND {b})"),
            Expr::Or(a, b) => write!(f, "({a} OR {b})"),
            Expr::Cmp(c) => write!(f, "({c})"),
        }
    }
}
