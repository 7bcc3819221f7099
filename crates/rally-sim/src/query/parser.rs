//! Recursive-descent parser over the tokens of [`super::lexer`].
//!
//! Grammar (strict, as Rally is):
//! ```text
//! query := expr END
//! expr  := "(" path SP op SP value ")"
//!        | "(" expr ("AND" | "OR") expr ")"      -- exactly two operands
//! ```
//! Whitespace around AND/OR is optional when a parenthesis already separates the words: a
//! recorded Rally request used `((Project.Name = …)and(Iteration.Name = …))` successfully.

use super::lexer::{clip, Kind, Token};
use super::{Cmp, Expr, Op, Value, MAX_DEPTH, MAX_TODAY_OFFSET};

pub(crate) struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

const OPS_HINT: &str = "expected one of = != < <= > >= contains !contains in !in";
const SYMBOLIC_OPS: [&str; 6] = ["!=", "<=", ">=", "=", "<", ">"];

impl Parser {
    pub fn new(tokens: Vec<Token>) -> Self {
        Parser { tokens, at: 0 }
    }

    pub fn parse_query(mut self) -> Result<Expr, String> {
        let first = self.peek().clone();
        match first.kind {
            Kind::End => return Err("the query is empty".to_string()),
            Kind::Open => {}
            _ => {
                return Err(format!(
                    "a query must start with \"(\" but found {} at position {}; every comparison \
                     is written in parentheses, e.g. (Name = \"x\")",
                    q(&first),
                    first.pos
                ))
            }
        }
        let expr = self.expr(1)?;
        let next = self.peek().clone();
        match &next.kind {
            Kind::End => Ok(expr),
            Kind::Word(w) if keyword(w).is_some() => Err(format!(
                "{} at position {} joins terms that are not enclosed in one pair of parentheses; \
                 write ((A) {} (B))",
                q(&next),
                next.pos,
                w.to_ascii_uppercase()
            )),
            Kind::Close => Err(format!("unbalanced \")\" at position {}: it closes no \"(\"", next.pos)),
            _ => Err(format!("unexpected {} at position {} after the end of the query", q(&next), next.pos)),
        }
    }

    fn peek(&self) -> &Token {
        // The lexer always ends the list with `End`, and `bump` never moves past it.
        &self.tokens[self.at.min(self.tokens.len() - 1)]
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if self.at < self.tokens.len() - 1 {
            self.at += 1;
        }
        t
    }

    /// Parses one parenthesised term; the current token is its `(`.
    fn expr(&mut self, depth: usize) -> Result<Expr, String> {
        let open = self.bump();
        if depth > MAX_DEPTH {
            return Err(format!(
                "the query nests parentheses more than {MAX_DEPTH} levels deep (at position {})",
                open.pos
            ));
        }
        let head = self.peek().clone();
        let expr = match &head.kind {
            Kind::Open => self.binary(depth, &open)?,
            Kind::Word(_) => Expr::Cmp(self.comparison()?),
            Kind::Close => {
                return Err(format!(
                    "empty parentheses at position {}: expected a comparison such as (Name = \"x\")",
                    open.pos
                ))
            }
            Kind::End => return Err(unclosed(&open)),
            Kind::Quoted(_) => {
                return Err(format!(
                    "expected an attribute name but found the quoted value {} at position {}",
                    q(&head),
                    head.pos
                ))
            }
        };
        self.close(&open, matches!(expr, Expr::Cmp(_)))?;
        Ok(expr)
    }

    /// `(A) AND (B)` inside an already consumed `(`.
    fn binary(&mut self, depth: usize, open: &Token) -> Result<Expr, String> {
        let left = self.expr(depth + 1)?;
        let kw = self.bump();
        let is_or = match &kw.kind {
            Kind::Word(w) => match keyword(w) {
                Some(is_or) => is_or,
                None => return Err(format!("expected AND or OR at position {} but found {}", kw.pos, q(&kw))),
            },
            Kind::Close => {
                return Err(format!(
                    "redundant parentheses: the \"(\" at position {} holds a single term; a \
                     parenthesised group must be one comparison or two terms joined by AND/OR",
                    open.pos
                ))
            }
            Kind::End => return Err(unclosed(open)),
            _ => return Err(format!("expected AND or OR at position {} but found {}", kw.pos, q(&kw))),
        };
        let right_open = self.peek().clone();
        if right_open.kind != Kind::Open {
            return Err(format!(
                "expected \"(\" after {} at position {} but found {}; both sides of AND/OR are \
                 parenthesised terms",
                q(&kw),
                right_open.pos,
                q(&right_open)
            ));
        }
        let right = self.expr(depth + 1)?;
        let (l, r) = (Box::new(left), Box::new(right));
        Ok(if is_or { Expr::Or(l, r) } else { Expr::And(l, r) })
    }

    /// Expects the `)` that matches `open`.
    fn close(&mut self, open: &Token, after_value: bool) -> Result<(), String> {
        let t = self.bump();
        match &t.kind {
            Kind::Close => Ok(()),
            Kind::End => Err(unclosed(open)),
            Kind::Word(w) if keyword(w).is_some() && !after_value => Err(format!(
                "AND/OR take exactly two terms, but {} at position {} adds a third; nest them as \
                 (((A) AND (B)) AND (C))",
                q(&t),
                t.pos
            )),
            _ if after_value && !t.spaced => Err(format!(
                "unexpected {} right after the value at position {}; quote values that contain \
                 spaces, quotes or parentheses",
                q(&t),
                t.pos
            )),
            _ => Err(format!(
                "expected \")\" at position {} but found {}{}",
                t.pos,
                q(&t),
                if after_value { "; quote values that contain spaces" } else { "" }
            )),
        }
    }

    fn comparison(&mut self) -> Result<Cmp, String> {
        let name_tok = self.bump();
        let name = match &name_tok.kind {
            Kind::Word(w) => w.clone(),
            _ => unreachable_token(&name_tok)?,
        };
        let path = attribute_path(&name).map_err(|why| {
            if name.contains(['=', '<', '>', '!']) {
                format!(
                    "spaces are required around the operator in {} at position {}, e.g. \
                     (Name = \"x\")",
                    q(&name_tok),
                    name_tok.pos
                )
            } else {
                format!("{} at position {} is not a valid attribute name ({why})", q(&name_tok), name_tok.pos)
            }
        })?;

        let op_tok = self.bump();
        let op = match &op_tok.kind {
            Kind::Word(w) if op_tok.spaced => operator(w).ok_or_else(|| bad_op(w, &op_tok))?,
            Kind::Word(_) => unreachable_token(&op_tok)?,
            _ => {
                return Err(format!(
                    "expected an operator after {} at position {} but found {}",
                    q(&name_tok),
                    op_tok.pos,
                    q(&op_tok)
                ))
            }
        };

        let val_tok = self.bump();
        let value = match &val_tok.kind {
            Kind::Word(_) | Kind::Quoted(_) if !val_tok.spaced => {
                return Err(format!(
                    "a space is required between the operator {} and the value at position {}",
                    q(&op_tok),
                    val_tok.pos
                ))
            }
            Kind::Word(w) if matches!(op, Op::In | Op::NotIn) => {
                if w.ends_with(',') && matches!(self.peek().kind, Kind::Word(_)) {
                    return Err(format!(
                        "the list {} at position {} is followed by a space; write the items \
                         without spaces (A,B) or quote the list (\"A, B\")",
                        q(&val_tok),
                        val_tok.pos
                    ));
                }
                Value::List(list_items(w, false, &val_tok)?)
            }
            Kind::Quoted(s) if matches!(op, Op::In | Op::NotIn) => Value::List(list_items(s, true, &val_tok)?),
            Kind::Quoted(s) => Value::Text(s.clone()),
            Kind::Word(w) => bare_value(w, &val_tok)?,
            Kind::Open => {
                return Err(format!(
                    "a value cannot start with \"(\" (position {}); quote values that contain \
                     parentheses",
                    val_tok.pos
                ))
            }
            Kind::Close | Kind::End => {
                return Err(format!("missing value after the operator {} at position {}", q(&op_tok), op_tok.pos))
            }
        };
        Ok(Cmp { path, op, value })
    }
}

/// Renders a token for a message: `"AND"`, `")"`, `end of query`.
fn q(t: &Token) -> String {
    match t.kind {
        Kind::End => t.shown(),
        Kind::Quoted(_) => format!("'{}'", t.shown()),
        _ => format!("\"{}\"", t.shown()),
    }
}

fn unclosed(open: &Token) -> String {
    format!("unbalanced parentheses: the \"(\" at position {} is never closed", open.pos)
}

/// Guards a branch that the lexer makes impossible, without panicking if that ever changes.
fn unreachable_token<T>(t: &Token) -> Result<T, String> {
    Err(format!("unexpected {} at position {}", q(t), t.pos))
}

/// `Some(false)` for AND, `Some(true)` for OR (Rally accepts any case).
fn keyword(w: &str) -> Option<bool> {
    if w.eq_ignore_ascii_case("and") {
        Some(false)
    } else if w.eq_ignore_ascii_case("or") {
        Some(true)
    } else {
        None
    }
}

fn operator(w: &str) -> Option<Op> {
    Some(match w.to_ascii_lowercase().as_str() {
        "=" => Op::Eq,
        "!=" => Op::Ne,
        "<" => Op::Lt,
        "<=" => Op::Le,
        ">" => Op::Gt,
        ">=" => Op::Ge,
        "contains" => Op::Contains,
        "!contains" => Op::NotContains,
        "in" => Op::In,
        "!in" => Op::NotIn,
        _ => return None,
    })
}

fn bad_op(w: &str, t: &Token) -> String {
    let glued = SYMBOLIC_OPS.iter().find(|op| {
        w.strip_prefix(**op).and_then(|rest| rest.chars().next()).is_some_and(|c| !matches!(c, '=' | '<' | '>' | '!'))
    });
    match glued {
        Some(op) => format!(
            "spaces are required around the operator: {} at position {} glues \"{op}\" to the value",
            q(t),
            t.pos
        ),
        None => format!("unknown operator {} at position {}; {OPS_HINT}", q(t), t.pos),
    }
}

fn attribute_path(name: &str) -> Result<Vec<String>, &'static str> {
    let mut path = Vec::new();
    for seg in name.split('.') {
        let mut chars = seg.chars();
        match chars.next() {
            None => return Err("empty segment in a dotted path"),
            Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
            Some(_) => return Err("names start with a letter or \"_\""),
        }
        if !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err("names hold only letters, digits and \"_\"");
        }
        path.push(seg.to_string());
    }
    Ok(path)
}

fn list_items(raw: &str, quoted: bool, t: &Token) -> Result<Vec<String>, String> {
    let items: Vec<String> = raw.split(',').map(|s| if quoted { s.trim() } else { s }.to_string()).collect();
    if items.iter().any(String::is_empty) {
        return Err(format!("empty item in the list {} at position {}", q(t), t.pos));
    }
    Ok(items)
}

/// A bare token: `null`, `today[+-N]` (any case), or text kept as written.
fn bare_value(w: &str, t: &Token) -> Result<Value, String> {
    if w.eq_ignore_ascii_case("null") {
        return Ok(Value::Null);
    }
    let lower = w.to_ascii_lowercase();
    let Some(rest) = lower.strip_prefix("today") else {
        return Ok(Value::Text(w.to_string()));
    };
    let (sign, digits) = match rest.chars().next() {
        None => return Ok(Value::Today { offset_days: 0 }),
        Some('+') => (1, &rest[1..]),
        Some('-') => (-1, &rest[1..]),
        Some(_) => return Ok(Value::Text(w.to_string())),
    };
    let bad = || {
        format!(
            "bad date offset in \"{}\" at position {}; expected today, today+N or today-N \
             with N at most {MAX_TODAY_OFFSET}",
            clip(w),
            t.pos
        )
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let n: i64 = digits.parse().map_err(|_| bad())?;
    if n > MAX_TODAY_OFFSET {
        return Err(bad());
    }
    Ok(Value::Today { offset_days: sign * n })
}
