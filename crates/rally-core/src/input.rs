//! The one error shape of the pure modules: a bad argument, caught before any request.

use std::fmt;

/// A rejected argument. `argument` is the name Panopticon's caller used (`title`, `labels[2]`,
/// `id`, ...), so the message can say which value to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub argument: String,
    pub message: String,
}

impl InputError {
    pub fn new(argument: impl Into<String>, message: impl Into<String>) -> Self {
        InputError { argument: argument.into(), message: message.into() }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Invalid {}: {}", self.argument, self.message)
    }
}

impl std::error::Error for InputError {}

/// A floating-point argument as a caller wrote it, for "got …" in messages: `Infinity`,
/// `-Infinity` and `NaN` as JavaScript and JSON writers spell them (Rust's `Display` says `inf`),
/// whole numbers without a fraction.
pub fn number_as_written(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x.is_infinite() {
        if x > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        format!("{x}")
    }
}

/// An integer argument or option: its name, its range, and how the range reads in a message.
/// The binding holds a JS number against the same range before it becomes an integer, and
/// words its refusal with `message`, so both say the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntArg {
    pub argument: &'static str,
    pub min: u64,
    pub max: u64,
    phrase: Phrase,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phrase {
    /// "an integer from {min} to {max}", then the note.
    FromTo(&'static str),
    /// "a positive integer up to {max}".
    UpTo,
}

impl IntArg {
    /// The refusal of `got` (the value as the caller wrote it).
    pub fn message(&self, got: &str) -> String {
        match self.phrase {
            Phrase::FromTo(note) => format!("must be an integer from {} to {}{note}, got {got}", self.min, self.max),
            Phrase::UpTo => format!("must be a positive integer up to {}, got {got}", self.max),
        }
    }

    /// `v` when it is in range.
    pub(crate) fn check(&self, v: u64) -> Result<u64, InputError> {
        if (self.min..=self.max).contains(&v) {
            Ok(v)
        } else {
            Err(InputError::new(self.argument, self.message(&v.to_string())))
        }
    }
}

/// `priority`: 0 (none) .. 4 (low).
pub const PRIORITY: IntArg = IntArg {
    argument: "priority",
    min: 0,
    max: 4,
    phrase: Phrase::FromTo(" (1 urgent, 2 high, 3 normal, 4 low, 0 none)"),
};
/// `limit` of `listIssues`.
pub const LIMIT: IntArg =
    IntArg { argument: "limit", min: 1, max: crate::validate::LIMIT_MAX as u64, phrase: Phrase::UpTo };
/// The `timeoutMs` option, in milliseconds: up to an hour.
pub const TIMEOUT_MS: IntArg = IntArg { argument: "timeoutMs", min: 1, max: 3_600_000, phrase: Phrase::FromTo("") };
pub const MAX_CONCURRENCY: IntArg = IntArg {
    argument: "maxConcurrency",
    min: 1,
    max: crate::config::Defaults::MAX_CONCURRENCY_CAP as u64,
    phrase: Phrase::FromTo(""),
};
pub const MAX_RETRIES: IntArg = IntArg {
    argument: "maxRetries",
    min: 0,
    max: crate::config::Defaults::MAX_RETRIES_CAP as u64,
    phrase: Phrase::FromTo(""),
};
/// `maxBytes` of an attachment read: up to Rally's own 50 MB attachment limit.
pub const MAX_BYTES: IntArg = IntArg {
    argument: "maxBytes",
    min: 1,
    max: crate::validate::ATTACHMENT_MAX_CAP,
    phrase: Phrase::FromTo(" (bytes)"),
};
pub const MAX_RESULTS: IntArg = IntArg {
    argument: "maxResults",
    min: 1,
    max: crate::config::Defaults::MAX_RESULTS_CAP as u64,
    phrase: Phrase::FromTo(""),
};

/// Property-test settings shared by the pure modules: 256 cases keep `cargo test` fast;
/// `PROPTEST_CASES=200000 cargo test -p rally-core --lib` runs a longer search by hand.
#[cfg(test)]
pub(crate) fn fuzz_config() -> proptest::test_runner::Config {
    // A fixed seed in `cargo test`, so CI runs the same cases every time (a new finding there
    // would fail an unrelated change); with PROPTEST_CASES set, a search by hand, a random one.
    let by_hand: Option<u32> = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok());
    let rng_seed = match by_hand {
        Some(_) => proptest::test_runner::RngSeed::Random,
        None => proptest::test_runner::RngSeed::Fixed(0x5EED_2026),
    };
    proptest::test_runner::Config { cases: by_hand.unwrap_or(256), rng_seed, ..Default::default() }
}
