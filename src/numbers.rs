//! JS numbers into the integers the core takes. A JS number may be fractional, infinite or
//! NaN; the core's ranges (`rally_core::integers`) say what each option or argument accepts,
//! and its messages say it, with the number as JS writes it.

use rally_core::integers::{number_as_written, IntArg};
use rally_core::RallyError;

/// `v` as the integer `arg` takes: whole and within its range.
pub fn integer(arg: IntArg, v: f64) -> Result<u64, RallyError> {
    // The range bounds are far below 2^53, so they compare exactly as f64.
    if v.is_finite() && v.fract() == 0.0 && v >= arg.min as f64 && v <= arg.max as f64 {
        Ok(v as u64)
    } else {
        Err(RallyError::invalid(arg.argument, arg.message(&number_as_written(v))))
    }
}

/// An optional number, checked the same way.
pub fn optional(arg: IntArg, v: Option<f64>) -> Result<Option<u64>, RallyError> {
    v.map(|v| integer(arg, v)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rally_core::integers::{LIMIT, MAX_CONCURRENCY, PRIORITY, TIMEOUT_MS};

    #[test]
    fn whole_numbers_in_range_pass_everything_else_is_refused_as_js_wrote_it() {
        let refused = |arg: IntArg, v: f64| match integer(arg, v) {
            Err(RallyError::InvalidInput { argument, message }) => {
                assert_eq!(argument, arg.argument);
                message
            }
            other => panic!("{v} for {}: {other:?}", arg.argument),
        };
        assert_eq!(integer(PRIORITY, 0.0).ok(), Some(0));
        assert_eq!(integer(PRIORITY, -0.0).ok(), Some(0));
        assert_eq!(integer(PRIORITY, 4.0).ok(), Some(4));
        assert_eq!(
            refused(PRIORITY, 1.5),
            "must be an integer from 0 to 4 (1 urgent, 2 high, 3 normal, 4 low, 0 none), got 1.5"
        );
        assert!(refused(PRIORITY, 5.0).ends_with("got 5"));
        assert!(refused(PRIORITY, -1.0).ends_with("got -1"));
        assert!(refused(PRIORITY, f64::INFINITY).ends_with("got Infinity"));
        assert!(refused(PRIORITY, f64::NEG_INFINITY).ends_with("got -Infinity"));
        assert_eq!(integer(LIMIT, 1_000_000.0).ok(), Some(1_000_000));
        assert_eq!(refused(LIMIT, f64::NAN), "must be a positive integer up to 1000000, got NaN");
        assert_eq!(refused(LIMIT, 0.5), "must be a positive integer up to 1000000, got 0.5");
        assert_eq!(refused(MAX_CONCURRENCY, 13.0), "must be an integer from 1 to 12, got 13");
        assert_eq!(refused(TIMEOUT_MS, 1e7), "must be an integer from 1 to 3600000, got 10000000");
        assert_eq!(optional(TIMEOUT_MS, None).ok(), Some(None));
    }
}
