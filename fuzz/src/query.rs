//! A query tree drawn from fuzz bytes, the builder calls that make it, and two readers of the
//! rendered text: a strict one written here from the grammar, and the simulator's parser.

use super::bytes::Bytes;
use rally_core::{QValue, Query};
use rally_sim::query as sim;

/// Attribute names as the client uses them (the builder only takes `&'static str`).
pub const ATTRS: [&str; 8] =
    ["Name", "FormattedID", "Owner", "Tags.Name", "c_Custom_1", "State.Name", "TargetDate", "ObjectID"];
pub const OPS: [&str; 7] = ["=", "!=", "<", "<=", ">", ">=", "contains"];
/// Deep enough for any filter the client builds, shallow enough for the simulator's depth cap.
const MAX_DEPTH: usize = 24;

#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Text(String),
    Ref(String),
    Int(i64),
    Bool(bool),
    Null,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Tree {
    Cmp(usize, usize, Val),
    And(Box<Tree>, Box<Tree>),
    Or(Box<Tree>, Box<Tree>),
}

fn text(u: &mut Bytes) -> String {
    // Half the time a string over the characters that matter to the grammar.
    if u.bool() {
        let n = u.below(13);
        let alphabet = ['"', '\\', '(', ')', ' ', 'a', 'N', '=', '/', ',', '\n', 'ü'];
        (0..n).map(|_| alphabet[u.below(alphabet.len())]).collect()
    } else {
        u.string(24)
    }
}

/// A tree from the bytes; past their end it is a single comparison, so it always ends.
pub fn tree(u: &mut Bytes, depth: usize) -> Tree {
    if depth < MAX_DEPTH && !u.exhausted() && u.below(3) == 0 {
        let a = Box::new(tree(u, depth + 1));
        let b = Box::new(tree(u, depth + 1));
        return if u.bool() { Tree::And(a, b) } else { Tree::Or(a, b) };
    }
    let attr = u.below(ATTRS.len());
    let val = match u.below(5) {
        0 => Val::Text(text(u)),
        1 => {
            let r = text(u);
            Val::Ref(if u.bool() { format!("/user/{r}") } else { r })
        }
        2 => Val::Int(u.i64()),
        3 => Val::Bool(u.bool()),
        _ => Val::Null,
    };
    // `null` only with `=` / `!=`, the only ways the builder offers it.
    let op = if val == Val::Null { u.below(2) } else { u.below(OPS.len()) };
    Tree::Cmp(attr, op, val)
}

pub fn build(t: &Tree) -> Query {
    match t {
        Tree::And(a, b) => build(a).and(build(b)),
        Tree::Or(a, b) => build(a).or(build(b)),
        Tree::Cmp(attr, op, Val::Null) => {
            if *op == 0 {
                Query::is_null(ATTRS[*attr])
            } else {
                Query::not_null(ATTRS[*attr])
            }
        }
        Tree::Cmp(attr, op, v) => {
            let v = match v {
                Val::Text(s) => QValue::Text(s.clone()),
                Val::Ref(s) => QValue::Ref(s.clone()),
                Val::Int(n) => QValue::Int(*n),
                Val::Bool(b) => QValue::Bool(*b),
                Val::Null => unreachable!("handled above"),
            };
            let a = ATTRS[*attr];
            match *op {
                0 => Query::eq(a, v),
                1 => Query::ne(a, v),
                2 => Query::lt(a, v),
                3 => Query::le(a, v),
                4 => Query::gt(a, v),
                5 => Query::ge(a, v),
                _ => Query::contains(a, v),
            }
        }
    }
}

/// A value as written: quoted (already unescaped) or bare.
#[derive(Debug, Clone, PartialEq)]
pub enum Written {
    Quoted(String),
    Bare(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    Cmp(String, String, Written),
    And(Box<Parsed>, Box<Parsed>),
    Or(Box<Parsed>, Box<Parsed>),
}

/// Reads the builder's output strictly: `(attr op value)` or `(x AND y)` / `(x OR y)`, single
/// spaces, `\"` and `\\` escapes in quotes (any other backslash literal), nothing left over.
pub fn parse_back(s: &str) -> Option<Parsed> {
    let chars: Vec<char> = s.chars().collect();
    let mut pos = 0;
    let p = node(&chars, &mut pos)?;
    (pos == chars.len()).then_some(p)
}

fn eat(c: &[char], pos: &mut usize, lit: &str) -> bool {
    let n = lit.chars().count();
    if c.get(*pos..*pos + n).is_some_and(|w| w.iter().copied().eq(lit.chars())) {
        *pos += n;
        true
    } else {
        false
    }
}

fn node(c: &[char], pos: &mut usize) -> Option<Parsed> {
    if !eat(c, pos, "(") {
        return None;
    }
    if c.get(*pos) == Some(&'(') {
        let a = node(c, pos)?;
        let and = if eat(c, pos, " AND ") {
            true
        } else if eat(c, pos, " OR ") {
            false
        } else {
            return None;
        };
        let b = node(c, pos)?;
        eat(c, pos, ")").then_some(())?;
        let (a, b) = (Box::new(a), Box::new(b));
        return Some(if and { Parsed::And(a, b) } else { Parsed::Or(a, b) });
    }
    let word = |pos: &mut usize| {
        let start = *pos;
        while c.get(*pos).is_some_and(|ch| !matches!(ch, ' ' | '(' | ')' | '"')) {
            *pos += 1;
        }
        (*pos > start).then(|| c[start..*pos].iter().collect::<String>())
    };
    let attr = word(pos)?;
    eat(c, pos, " ").then_some(())?;
    let op = word(pos)?;
    eat(c, pos, " ").then_some(())?;
    let value = if eat(c, pos, "\"") {
        let mut v = String::new();
        loop {
            match *c.get(*pos)? {
                '"' => break,
                '\\' => match c.get(*pos + 1) {
                    Some(&e @ ('"' | '\\')) => {
                        v.push(e);
                        *pos += 1;
                    }
                    _ => v.push('\\'),
                },
                ch => v.push(ch),
            }
            *pos += 1;
        }
        *pos += 1;
        Written::Quoted(v)
    } else {
        Written::Bare(word(pos)?)
    };
    eat(c, pos, ")").then_some(())?;
    Some(Parsed::Cmp(attr, op, value))
}

/// Whether the read-back tree says what the generated tree meant.
pub fn matches(t: &Tree, p: &Parsed) -> bool {
    match (t, p) {
        (Tree::And(a, b), Parsed::And(x, y)) | (Tree::Or(a, b), Parsed::Or(x, y)) => matches(a, x) && matches(b, y),
        (Tree::Cmp(attr, op, v), Parsed::Cmp(pa, po, w)) => {
            let value_ok = match (v, w) {
                // Text is always quoted: bare `null`, `today` or `5` would mean something else.
                (Val::Text(s), Written::Quoted(q)) => s == q,
                (Val::Ref(s), Written::Quoted(q) | Written::Bare(q)) => s == q,
                (Val::Int(n), Written::Bare(b)) => n.to_string() == *b,
                (Val::Bool(x), Written::Bare(b)) => x.to_string() == *b,
                (Val::Null, Written::Bare(b)) => b == "null",
                _ => false,
            };
            ATTRS[*attr] == pa && OPS[*op] == po && value_ok
        }
        _ => false,
    }
}

/// The simulator's tree for the generated one.
pub fn expected_sim(t: &Tree) -> sim::Expr {
    match t {
        Tree::And(a, b) => sim::Expr::And(Box::new(expected_sim(a)), Box::new(expected_sim(b))),
        Tree::Or(a, b) => sim::Expr::Or(Box::new(expected_sim(a)), Box::new(expected_sim(b))),
        Tree::Cmp(attr, op, v) => sim::Expr::Cmp(sim::Cmp {
            path: ATTRS[*attr].split('.').map(String::from).collect(),
            op: [sim::Op::Eq, sim::Op::Ne, sim::Op::Lt, sim::Op::Le, sim::Op::Gt, sim::Op::Ge, sim::Op::Contains][*op],
            value: match v {
                Val::Text(s) | Val::Ref(s) => sim::Value::Text(s.clone()),
                Val::Int(n) => sim::Value::Text(n.to_string()),
                Val::Bool(b) => sim::Value::Text(b.to_string()),
                Val::Null => sim::Value::Null,
            },
        }),
    }
}
