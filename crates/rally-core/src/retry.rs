//! The retry policy, as data plus one pure decision function.
//!
//! Safe to repeat: reads, updates that set absolute values, deletes. A create is repeated here
//! only when Rally cannot have acted on it (the connection was never made, or Rally said it did
//! not take the request: 429). Any other failure of a create, a 503 included (a gateway may
//! have forwarded the request before answering 503), goes to reconciliation instead, which
//! sends it again only once a lookup shows it was not made.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Read,
    /// An update that sets absolute values: repeating it gives the same result.
    Update,
    Delete,
    Create,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// No connection was made: the request never reached Rally.
    Connect,
    /// The connection broke after the request was (maybe) sent, before a full response.
    Dropped,
    /// No answer within the per-request timeout.
    Timeout,
    /// A transient-looking HTTP status.
    Status { status: u16, retry_after: Option<Duration> },
    /// 200 with a body cut short.
    Truncated,
    /// The TLS handshake failed (certificate not trusted, wrong name): retrying cannot help.
    Tls,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Retry(Duration),
    Stop,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// No retry starts once this much time has passed since the first attempt.
    pub budget: Duration,
    /// Fraction of each delay that is randomised (0 = none, 1 = full jitter).
    pub jitter: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy::with_retries(crate::config::Defaults::MAX_RETRIES)
    }
}

/// Statuses that say "try again later" rather than "this request is wrong": 429 and every 5xx
/// (500 included: Rally answers 500 for passing faults, sometimes with a JSON `Errors` body).
pub fn is_transient_status(status: u16) -> bool {
    status == 429 || (500..=599).contains(&status)
}

impl RetryPolicy {
    pub fn with_retries(max_retries: u32) -> Self {
        RetryPolicy {
            max_retries,
            base_delay: Duration::from_millis(crate::config::Defaults::RETRY_BASE_DELAY_MS),
            max_delay: Duration::from_secs(10),
            budget: Duration::from_millis(crate::config::Defaults::RETRY_BUDGET_MS),
            jitter: 0.5,
        }
    }

    /// Whether this failure of this kind of operation may be repeated at all.
    pub fn retryable(op: OpKind, failure: &Failure) -> bool {
        let transient = match failure {
            Failure::Status { status, .. } => is_transient_status(*status),
            // The write already happened, but repeating an absolute write is harmless.
            Failure::Truncated => op != OpKind::Create,
            Failure::Connect | Failure::Dropped | Failure::Timeout => true,
            Failure::Tls => false,
        };
        if !transient {
            return false;
        }
        match op {
            OpKind::Read | OpKind::Update | OpKind::Delete => true,
            // 429 is a refusal before any work; everything else may have created it.
            OpKind::Create => matches!(failure, Failure::Connect | Failure::Status { status: 429, .. }),
        }
    }

    /// `attempt` counts attempts made so far (1 after the first); `random` in [0, 1).
    pub fn decide(&self, op: OpKind, failure: &Failure, attempt: u32, elapsed: Duration, random: f64) -> Decision {
        if !Self::retryable(op, failure) || attempt > self.max_retries {
            return Decision::Stop;
        }
        let exp = self.base_delay.saturating_mul(1u32 << (attempt.saturating_sub(1)).min(16));
        let capped = exp.min(self.max_delay);
        let jitter = self.jitter.clamp(0.0, 1.0);
        let mut delay = capped.mul_f64(1.0 - jitter + jitter * random.clamp(0.0, 1.0));
        if let Failure::Status { retry_after: Some(ra), .. } = failure {
            // The server's own word wins, but is still capped so a bogus value cannot park us.
            delay = delay.max((*ra).min(self.max_delay));
        }
        if elapsed + delay > self.budget {
            return Decision::Stop;
        }
        Decision::Retry(delay)
    }
}

/// `Retry-After` as seconds (the HTTP-date form is rare for APIs and ignored).
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    let secs: f64 = v.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(3600.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ZERO: Duration = Duration::ZERO;

    fn st(status: u16) -> Failure {
        Failure::Status { status, retry_after: None }
    }

    #[test]
    fn what_is_retried_table() {
        use OpKind::*;
        let cases: &[(OpKind, Failure, bool)] = &[
            (Read, Failure::Connect, true),
            (Read, Failure::Dropped, true),
            (Read, Failure::Timeout, true),
            (Read, Failure::Truncated, true),
            (Read, st(429), true),
            (Read, st(502), true),
            (Read, st(503), true),
            (Read, st(504), true),
            (Read, st(524), true),
            (Read, st(500), true),
            (Read, st(501), true),
            (Update, st(500), true),
            (Delete, st(500), true),
            (Create, st(500), false),
            (Read, st(401), false),
            (Read, st(404), false),
            (Update, st(503), true),
            (Update, Failure::Dropped, true),
            (Update, Failure::Truncated, true),
            (Delete, Failure::Timeout, true),
            (Create, Failure::Connect, true),
            (Create, st(429), true),
            (Create, st(503), false),
            (Create, st(502), false),
            (Create, st(524), false),
            (Create, Failure::Dropped, false),
            (Create, Failure::Timeout, false),
            (Create, Failure::Truncated, false),
            (Read, Failure::Tls, false),
        ];
        for (op, f, want) in cases {
            assert_eq!(RetryPolicy::retryable(*op, f), *want, "{op:?} {f:?}");
        }
    }

    #[test]
    fn backoff_grows_caps_and_stops() {
        let p = RetryPolicy { jitter: 0.0, ..RetryPolicy::with_retries(5) };
        let d = |a| p.decide(OpKind::Read, &st(503), a, ZERO, 0.5);
        assert_eq!(d(1), Decision::Retry(Duration::from_millis(200)));
        assert_eq!(d(2), Decision::Retry(Duration::from_millis(400)));
        assert_eq!(d(3), Decision::Retry(Duration::from_millis(800)));
        assert_eq!(d(6), Decision::Stop);
        let p = RetryPolicy { jitter: 0.0, max_retries: 40, ..p };
        assert_eq!(p.decide(OpKind::Read, &st(503), 30, ZERO, 0.0), Decision::Retry(p.max_delay));
        assert_eq!(p.decide(OpKind::Read, &st(503), 1, p.budget, 0.0), Decision::Stop);
        assert_eq!(p.decide(OpKind::Read, &st(401), 1, ZERO, 0.0), Decision::Stop);
    }

    #[test]
    fn jitter_stays_in_range_and_retry_after_wins() {
        let p = RetryPolicy::with_retries(3);
        for r in [0.0, 0.3, 0.999] {
            match p.decide(OpKind::Read, &Failure::Connect, 2, ZERO, r) {
                Decision::Retry(d) => {
                    assert!(d >= Duration::from_millis(200) && d <= Duration::from_millis(400), "{d:?}")
                }
                Decision::Stop => panic!("should retry"),
            }
        }
        let f = Failure::Status { status: 429, retry_after: Some(Duration::from_secs(2)) };
        assert_eq!(p.decide(OpKind::Read, &f, 1, ZERO, 0.0), Decision::Retry(Duration::from_secs(2)));
        let f = Failure::Status { status: 429, retry_after: Some(Duration::from_secs(999)) };
        assert_eq!(p.decide(OpKind::Read, &f, 1, ZERO, 0.0), Decision::Retry(p.max_delay));
        assert_eq!(parse_retry_after(" 3 "), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(
            p.decide(OpKind::Read, &Failure::Connect, 1, ZERO, 0.0),
            Decision::Retry(Duration::from_millis(100))
        );
        let none = RetryPolicy::with_retries(0);
        assert_eq!(none.decide(OpKind::Read, &Failure::Connect, 1, ZERO, 0.0), Decision::Stop);
    }
}
