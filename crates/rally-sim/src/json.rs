//! An ordered JSON value for responses: Rally's key order (ref keys first, `_type` last) is
//! kept without switching serde_json's map type for the whole workspace. It writes itself
//! (no serde pass), and `Raw` splices in an already-written fragment, which is how a nested
//! ref repeated on thousands of rows is written once per request.

use std::borrow::Cow;
use std::fmt::Write;
use std::rc::Rc;

#[derive(Clone, Debug)]
pub enum J {
    Null,
    Bool(bool),
    Int(i64),
    Num(f64),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(Cow<'static, str>, J)>),
    /// Already-serialised JSON.
    Raw(Rc<str>),
}

impl J {
    pub fn obj() -> J {
        J::Obj(Vec::new())
    }
    pub fn push(&mut self, k: impl Into<Cow<'static, str>>, v: J) {
        if let J::Obj(items) = self {
            items.push((k.into(), v));
        }
    }
    pub fn with(mut self, k: impl Into<Cow<'static, str>>, v: J) -> J {
        self.push(k, v);
        self
    }
    pub fn s(v: impl Into<String>) -> J {
        J::Str(v.into())
    }
    pub fn strs<S: AsRef<str>>(v: &[S]) -> J {
        J::Arr(v.iter().map(|s| J::Str(s.as_ref().to_string())).collect())
    }
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = String::with_capacity(4096);
        self.write(&mut out);
        out.into_bytes()
    }

    pub fn to_raw(&self) -> J {
        let mut out = String::new();
        self.write(&mut out);
        J::Raw(out.into())
    }

    pub fn write(&self, out: &mut String) {
        match self {
            J::Null => out.push_str("null"),
            J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            J::Int(i) => {
                let _ = write!(out, "{i}");
            }
            J::Num(n) if !n.is_finite() => out.push_str("null"),
            // Rally writes integral floats as `2.0`.
            J::Num(n) if n.fract() == 0.0 && n.abs() < 1e15 => {
                let _ = write!(out, "{n:.1}");
            }
            J::Num(n) => {
                let _ = write!(out, "{n}");
            }
            J::Str(v) => string(out, v),
            J::Raw(r) => out.push_str(r),
            J::Arr(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.write(out);
                }
                out.push(']');
            }
            J::Obj(items) => {
                out.push('{');
                for (i, (k, v)) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    string(out, k);
                    out.push(':');
                    v.write(out);
                }
                out.push('}');
            }
        }
    }
}

/// A JSON string; `<` and `>` are escaped as `\u003C`/`\u003E`, as Rally's responses show.
fn string(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let esc: Option<&str> = match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '\n' => Some("\\n"),
            '\r' => Some("\\r"),
            '\t' => Some("\\t"),
            '<' => Some("\\u003C"),
            '>' => Some("\\u003E"),
            c if (c as u32) < 0x20 => None,
            _ => continue,
        };
        out.push_str(&s[start..i]);
        match esc {
            Some(e) => out.push_str(e),
            None => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
        }
        start = i + c.len_utf8();
    }
    out.push_str(&s[start..]);
    out.push('"');
}
