//! Tokenizer for the WSAPI query language.
//!
//! The language has only three kinds of lexemes: parentheses, quoted strings and bare words
//! (a run of characters without whitespace, parentheses or `"`). Operators, keywords, attribute
//! paths and bare values are all words; the parser decides what a word means from where it
//! stands. Each token remembers whether whitespace preceded it, because Rally requires spaces
//! around operators and the parser has to tell `Name = "x"` from `Name ="x"`.

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    Open,
    Close,
    /// A bare run of characters, as written.
    Word(String),
    /// A double-quoted value, already unescaped.
    Quoted(String),
    End,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub kind: Kind,
    /// 1-based character position of the token's first character.
    pub pos: usize,
    /// Whitespace (or the start of input) directly precedes this token.
    pub spaced: bool,
}

impl Token {
    /// The token as the user wrote it, for error messages (quoted values are re-quoted).
    pub fn shown(&self) -> String {
        match &self.kind {
            Kind::Open => "(".to_string(),
            Kind::Close => ")".to_string(),
            Kind::Word(w) => clip(w),
            Kind::Quoted(q) => format!("\"{}\"", clip(q)),
            Kind::End => "end of query".to_string(),
        }
    }
}

/// Long tokens are cut in error messages so one bad 60 KB value does not flood the response.
pub(crate) fn clip(s: &str) -> String {
    const MAX: usize = 40;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let head: String = s.chars().take(MAX).collect();
        format!("{head}…")
    }
}

/// Splits `input` into tokens, ending with one `Kind::End`.
///
/// Quoted values follow the project's escaping rule: `\"` is a quote, `\\` a backslash, and a
/// backslash before anything else is kept as it stands.
pub(crate) fn tokenize(input: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = input.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    let mut spaced = true;
    while i < chars.len() {
        let c = chars[i];
        let pos = i + 1;
        if c.is_whitespace() {
            spaced = true;
            i += 1;
            continue;
        }
        match c {
            '(' => {
                tokens.push(Token { kind: Kind::Open, pos, spaced });
                i += 1;
            }
            ')' => {
                tokens.push(Token { kind: Kind::Close, pos, spaced });
                i += 1;
            }
            '"' => {
                let (text, next) = read_quoted(&chars, i)?;
                tokens.push(Token { kind: Kind::Quoted(text), pos, spaced });
                i = next;
            }
            _ => {
                let start = i;
                while i < chars.len() && !ends_word(chars[i]) {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                tokens.push(Token { kind: Kind::Word(word), pos, spaced });
            }
        }
        spaced = false;
    }
    tokens.push(Token { kind: Kind::End, pos: chars.len() + 1, spaced });
    Ok(tokens)
}

fn ends_word(c: char) -> bool {
    c.is_whitespace() || c == '(' || c == ')' || c == '"'
}

/// Reads a quoted value whose opening quote is at `open`; returns the text and the index after
/// the closing quote.
fn read_quoted(chars: &[char], open: usize) -> Result<(String, usize), String> {
    let mut out = String::new();
    let mut i = open + 1;
    while i < chars.len() {
        match chars[i] {
            '"' => return Ok((out, i + 1)),
            '\\' => match chars.get(i + 1) {
                Some('"') => {
                    out.push('"');
                    i += 2;
                }
                Some('\\') => {
                    out.push('\\');
                    i += 2;
                }
                _ => {
                    out.push('\\');
                    i += 1;
                }
            },
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Err(format!(
        "unterminated quoted value starting at position {} (a closing \" is missing; write \\\" for a quote inside a value)",
        open + 1
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<Kind> {
        tokenize(s).unwrap().into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn splits_parens_words_and_quotes() {
        assert_eq!(
            kinds(r#"(Name = "a b")"#),
            vec![
                Kind::Open,
                Kind::Word("Name".into()),
                Kind::Word("=".into()),
                Kind::Quoted("a b".into()),
                Kind::Close,
                Kind::End
            ]
        );
    }

    #[test]
    fn records_spacing_and_positions() {
        let t = tokenize(r#"(Name ="x")"#).unwrap();
        assert_eq!((t[1].pos, t[1].spaced), (2, false));
        assert_eq!((t[2].pos, t[2].spaced), (7, true));
        assert_eq!((t[3].pos, t[3].spaced), (8, false));
    }

    #[test]
    fn positions_count_characters_not_bytes() {
        let t = tokenize("(Näme = é)").unwrap();
        assert_eq!(t[3].pos, 9);
    }

    #[test]
    fn unescapes_quote_and_backslash_only() {
        assert_eq!(kinds(r#""a\"b""#)[0], Kind::Quoted("a\"b".into()));
        assert_eq!(kinds(r#""a\\b""#)[0], Kind::Quoted("a\\b".into()));
        assert_eq!(kinds(r#""a\nb""#)[0], Kind::Quoted("a\\nb".into()));
        assert_eq!(kinds(r#""C:\dir\\""#)[0], Kind::Quoted("C:\\dir\\".into()));
    }

    #[test]
    fn unterminated_quote_names_its_start() {
        let e = tokenize(r#"(Name = "abc)"#).unwrap_err();
        assert!(e.contains("position 9"), "{e}");
        // An escaped quote does not close the value.
        assert!(tokenize(r#"(Name = "abc\")"#).is_err());
    }
}
