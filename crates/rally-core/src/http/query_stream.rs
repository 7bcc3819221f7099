//! A query page read while it arrives: the items of `QueryResult.Results` are parsed one at a
//! time as the body streams in, so a 2,000-item page (about 16 MB of JSON for rich stories) is
//! never held whole — five such pages in flight were most of a cold list's peak memory.
//!
//! Everything outside the items (counts, `Errors`, `Warnings`) is kept as the *envelope* and
//! parsed at the end with `"Results": []`. A body of another shape (an HTML page, an
//! `OperationResult`, text cut short before the items) stays whole in the envelope, so it fails
//! with the error the whole-body parse gives and is classified the same way; the envelope also
//! begins with the body's first bytes, which is what an error message quotes.

use super::response::Decode;
use crate::wsapi::QueryEnvelope;
use serde::de::DeserializeOwned;

/// Items are parsed once this many bytes wait: an item cut by a chunk boundary is read again
/// at most once per batch.
const BATCH: usize = 256 * 1024;

pub(crate) struct QueryStream<T> {
    envelope: Vec<u8>,
    mode: Mode,
    scan: Scan,
    /// Bytes of the `Results` array not parsed yet.
    pending: Vec<u8>,
    items: Vec<T>,
    batch: usize,
}

enum Mode {
    Envelope,
    Items(Item),
    /// An item that is not valid JSON or not of the type asked for; the rest is ignored.
    Failed(serde_json::Error),
}

#[derive(Clone, Copy, PartialEq)]
enum Item {
    /// Just after the `[`.
    Start,
    /// Just after an item.
    Done,
    AfterComma,
}

/// Where the envelope scanner is: JSON strings and nesting, and whether the bytes just read
/// are the `"Results":` key of the object at depth 2 (`{"QueryResult": {…}}`).
#[derive(Default)]
struct Scan {
    depth: usize,
    in_string: bool,
    escape: bool,
    /// Where the current string's text starts in the envelope.
    text_from: usize,
    after: After,
}

#[derive(Default, Clone, Copy, PartialEq)]
enum After {
    #[default]
    Other,
    String {
        results: bool,
    },
    Colon {
        results: bool,
    },
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// Whether `e` was raised at the end of `rest`, where a cut can cause it: serde_json stops
/// where it is reading, and a number cut after its `-`, `.` or `e` is a syntax error there,
/// not an end-of-input one.
fn near_end(rest: &[u8], e: &serde_json::Error) -> bool {
    let line_start = match e.line() {
        0 | 1 => 0,
        n => rest.iter().enumerate().filter(|(_, b)| **b == b'\n').nth(n - 2).map_or(rest.len(), |(i, _)| i + 1),
    };
    line_start + e.column() + 8 >= rest.len()
}

/// A serde_json syntax error, for a separator the item parser itself rejects.
fn syntax_error() -> serde_json::Error {
    serde_json::from_slice::<()>(b"]")
        .err()
        .unwrap_or_else(|| <serde_json::Error as serde::de::Error>::custom("expected `,` or `]`"))
}

impl<T: DeserializeOwned> Decode for QueryStream<T> {
    type Out = QueryEnvelope<T>;

    fn start(_: Option<u64>) -> Self {
        Self::with_batch(BATCH)
    }

    fn feed(&mut self, chunk: &[u8]) {
        match self.mode {
            Mode::Envelope => self.envelope_bytes(chunk, false),
            Mode::Items(_) => {
                self.pending.extend_from_slice(chunk);
                if self.pending.len() >= self.batch {
                    self.parse_items(false);
                }
            }
            Mode::Failed(_) => {}
        }
    }

    /// The page, or the parse error with the bytes to quote and classify.
    fn finish(mut self) -> Result<QueryEnvelope<T>, (serde_json::Error, Vec<u8>)> {
        if matches!(self.mode, Mode::Items(_)) {
            self.parse_items(true);
        }
        if let Mode::Failed(e) = self.mode {
            return Err((e, self.envelope));
        }
        match serde_json::from_slice::<QueryEnvelope<T>>(&self.envelope) {
            Ok(mut env) => {
                let rest = std::mem::replace(&mut env.query_result.results, self.items);
                env.query_result.results.extend(rest);
                Ok(env)
            }
            Err(e) => Err((e, self.envelope)),
        }
    }
}

impl<T: DeserializeOwned> QueryStream<T> {
    fn with_batch(batch: usize) -> Self {
        QueryStream {
            batch,
            envelope: Vec::with_capacity(1024),
            mode: Mode::Envelope,
            scan: Scan::default(),
            pending: Vec::new(),
            items: Vec::new(),
        }
    }

    fn envelope_bytes(&mut self, bytes: &[u8], at_end: bool) {
        let used = self.scan_envelope(bytes);
        if matches!(self.mode, Mode::Items(_)) {
            self.pending.extend_from_slice(&bytes[used..]);
            if at_end || self.pending.len() >= self.batch {
                self.parse_items(at_end);
            }
        }
    }

    /// Copies `bytes` into the envelope up to and including the `[` of `"Results": [` at
    /// depth 2 (then the mode is `Items`); returns how many bytes it took.
    fn scan_envelope(&mut self, bytes: &[u8]) -> usize {
        let s = &mut self.scan;
        for (i, &b) in bytes.iter().enumerate() {
            if s.in_string {
                if s.escape {
                    s.escape = false;
                } else if b == b'\\' {
                    s.escape = true;
                } else if b == b'"' {
                    s.in_string = false;
                    s.after = After::String { results: s.depth == 2 && &self.envelope[s.text_from..] == b"Results" };
                }
                self.envelope.push(b);
                continue;
            }
            self.envelope.push(b);
            match b {
                b'"' => {
                    s.in_string = true;
                    s.text_from = self.envelope.len();
                }
                b'[' if s.depth == 2 && s.after == (After::Colon { results: true }) => {
                    s.after = After::Other;
                    self.mode = Mode::Items(Item::Start);
                    return i + 1;
                }
                b'{' | b'[' => {
                    s.depth += 1;
                    s.after = After::Other;
                }
                b'}' | b']' => {
                    s.depth = s.depth.saturating_sub(1);
                    s.after = After::Other;
                }
                b':' => {
                    s.after = match s.after {
                        After::String { results } => After::Colon { results },
                        _ => After::Other,
                    }
                }
                b if is_ws(b) => {}
                _ => s.after = After::Other,
            }
        }
        bytes.len()
    }

    /// Parses the complete items waiting in `pending`; at the array's `]` the rest goes back
    /// to the envelope. `at_end`: no more bytes will come, so an item that reaches the end of
    /// what arrived is whole (before that, a number there might go on in the next chunk).
    fn parse_items(&mut self, at_end: bool) {
        let Mode::Items(mut state) = self.mode else { return };
        let buf = &self.pending;
        let mut pos = 0;
        let mut closed = false;
        let mut failed = None;
        loop {
            while pos < buf.len() && is_ws(buf[pos]) {
                pos += 1;
            }
            let Some(&b) = buf.get(pos) else { break };
            match (state, b) {
                (Item::Start | Item::Done, b']') => {
                    pos += 1;
                    closed = true;
                    break;
                }
                (Item::Done, b',') => {
                    pos += 1;
                    state = Item::AfterComma;
                }
                (Item::Done, _) | (Item::AfterComma, b']') => {
                    failed = Some(syntax_error());
                    break;
                }
                (Item::Start | Item::AfterComma, _) => {
                    let mut it = serde_json::Deserializer::from_slice(&buf[pos..]).into_iter::<T>();
                    match it.next() {
                        Some(Ok(v)) if at_end || pos + it.byte_offset() < buf.len() => {
                            self.items.push(v);
                            pos += it.byte_offset();
                            state = Item::Done;
                        }
                        Some(Err(e)) if at_end || !(e.is_eof() || near_end(&buf[pos..], &e)) => {
                            failed = Some(e);
                            break;
                        }
                        // Cut by the end of what has arrived: read again with more.
                        _ => break,
                    }
                }
            }
        }
        if let Some(e) = failed {
            // The whole-body parse reports the first fault in the body: one before the items
            // (which may also have misled the scanner) comes before this one. The envelope so
            // far is that prefix verbatim; when it is sound its parse only runs out of input.
            let e = match serde_json::from_slice::<QueryEnvelope<T>>(&self.envelope) {
                Err(first) if !first.is_eof() => first,
                _ => e,
            };
            self.mode = Mode::Failed(e);
            self.pending = Vec::new();
        } else if closed {
            let rest = std::mem::take(&mut self.pending);
            self.envelope.push(b']');
            self.mode = Mode::Envelope;
            self.envelope_bytes(&rest[pos..], at_end);
        } else {
            self.mode = Mode::Items(state);
            self.pending.drain(..pos);
        }
    }
}

#[cfg(test)]
mod tests;
