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

/// A number as the JS caller wrote it, for "got …" in messages: `Infinity`, `-Infinity` and
/// `NaN` as JS spells them (Rust's `Display` says `inf`), integers without a fraction.
pub fn js_number(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x.is_infinite() {
        if x > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        format!("{x}")
    }
}

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
