//! Creates whose outcome is unknown: each is reconciled (looked for) before it is ever sent
//! again, and the error of one that does not settle says what is known.

use super::*;

/// How far back a reconciliation looks for a create that may have happened when Rally's clock
/// is not known yet (no response so far carried a `Date`): allows for clock skew.
const RECONCILE_WINDOW: Duration = Duration::from_secs(300);

/// What a reconciliation lookup found.
pub(in crate::tracker) enum Found<T> {
    Nothing,
    One(T),
    /// More than one candidate, named by FormattedID or ref: the lookup cannot tell which.
    Many(Vec<String>),
}

impl<T> Found<T> {
    pub(super) fn of(mut items: Vec<T>, name: impl Fn(&T) -> String) -> Found<T> {
        match items.len() {
            0 => Found::Nothing,
            1 => Found::One(items.remove(0)),
            _ => Found::Many(items.iter().map(name).collect()),
        }
    }
}

impl<T> Found<T> {
    /// What may be adopted from `items` when `since` says whether the lookup started at the
    /// first send on Rally's clock (`strict`) or earlier because that clock is not known: then
    /// even one candidate might be another client's, so it is named, never returned.
    pub(super) fn within(since: &Since, items: Vec<T>, name: impl Fn(&T) -> String) -> Found<T> {
        match Found::of(items, &name) {
            Found::One(v) if !since.strict => Found::Many(vec![name(&v)]),
            f => f,
        }
    }
}

/// Where a reconciliation lookup starts (`CreationDate >= at`), and whether that is the first
/// send itself on Rally's clock.
pub(in crate::tracker) struct Since {
    pub at: String,
    pub strict: bool,
}

impl<T> From<Option<T>> for Found<T> {
    fn from(o: Option<T>) -> Self {
        o.map_or(Found::Nothing, Found::One)
    }
}

/// How a reconciliation ended without finding the object.
enum Settled {
    NotFound,
    Ambiguous(Vec<String>),
    LookupFailed(RallyError),
}

/// A short account of a failure, for a longer message, without its operation prefix.
fn what_happened(e: &RallyError) -> String {
    match e {
        RallyError::Unavailable { last_status: Some(s), detail, .. } => format!("HTTP {s} ({detail})"),
        RallyError::Unavailable { detail, .. } => detail.clone(),
        RallyError::Timeout { timeout_ms, .. } => format!("no answer within {timeout_ms} ms"),
        RallyError::Protocol { excerpt, .. } => excerpt.clone(),
        other => other.to_string(),
    }
}

/// `/conversationpost/123` out of a full ref URL (short enough for a message).
pub(super) fn short_ref(r: &str) -> String {
    crate::ids::parse_object_ref(r).map_or_else(|| r.to_string(), |(path, oid)| format!("/{path}/{oid}"))
}

/// The ObjectID a ref (relative or full URL) names.
pub(super) fn ref_oid(r: &str) -> Option<u64> {
    crate::ids::parse_object_ref(r).map(|(_, oid)| oid)
}

/// Rich text compared by what it says: tags dropped, common entities decoded, whitespace
/// collapsed (Rally may re-serialise the HTML it stores).
pub(super) fn text_key(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let decoded = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&");
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `2025-12-04T08:13:23.201Z` for a point in time (no date crate needed for one format).
pub(crate) fn iso_utc(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = crate::validate::civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

/// `e` with its attempt count replaced by the requests actually sent.
pub(in crate::tracker) fn with_attempts(e: RallyError, sent: u32) -> RallyError {
    match e {
        RallyError::Unavailable { operation, last_status, detail, .. } => {
            RallyError::Unavailable { operation, attempts: sent, last_status, detail }
        }
        RallyError::Timeout { operation, timeout_ms, detail, .. } => {
            RallyError::Timeout { operation, attempts: sent, timeout_ms, detail }
        }
        other => other,
    }
}

impl Tracker {
    /// The earliest `CreationDate` a lost create started at `started` can have, on Rally's
    /// clock: the first send itself. `Date` has whole seconds, so the estimate of Rally's clock
    /// is at most a second early, never late: what the create made is always found, and an
    /// identical item made over a second before the send never is (it is another client's,
    /// or this user's in Rally's UI). Before any response told Rally's clock, the lookup starts
    /// `RECONCILE_WINDOW` earlier and what it finds is only named (`Found::within`).
    pub(super) fn reconcile_since(&self, started: SystemTime) -> Since {
        match self.http.on_server_clock(started) {
            Some(t) => Since { at: iso_utc(t), strict: true },
            None => Since { at: iso_utc(started.checked_sub(RECONCILE_WINDOW).unwrap_or(UNIX_EPOCH)), strict: false },
        }
    }

    /// One create request; errors in the envelope are final (Rally answered).
    pub(in crate::tracker) async fn create_once<T: serde::de::DeserializeOwned>(
        &self,
        op: &Op,
        path: &str,
        fetch: &str,
        body: &[u8],
    ) -> Result<T, CallError> {
        let req = Request {
            method: Method::POST,
            path,
            params: self.workspace_params(fetch),
            body: Some(body.to_vec()),
            kind: OpKind::Create,
        };
        let (env, attempts): (CreateEnvelope<T>, u32) = self.http.call_counted(op, req).await?;
        let r = env.create_result;
        if !r.errors.is_empty() {
            return Err(CallError { error: classify_lookup_errors(op, &r.errors), maybe_applied: false, attempts });
        }
        self.log_warnings(op, &r.warnings);
        r.object.ok_or_else(|| CallError {
            error: RallyError::Protocol { operation: op.label(), excerpt: "the create returned no Object".into() },
            maybe_applied: false,
            attempts,
        })
    }

    /// Sends a create until its outcome is known. After every failure that may have reached
    /// Rally (any 5xx, 503 included; a dropped connection; a timeout; a cut-off reply) `find`
    /// looks for what it would have made, after the policy's backoff so a late write has time
    /// to show. One match is the result; several are reported, never guessed between; none
    /// lets the create be sent again, within the policy's retry count. So at most one send can
    /// have landed.
    ///
    /// Time is bounded: each send may take `timeoutMs`, each lookup (with its own retries) gets
    /// one `timeoutMs` in all, and a lookup that gets no answer ends the create. So a Rally that
    /// stops answering costs two timeouts (the create, one lookup), and the worst case is
    /// `(maxRetries + 2) × timeoutMs` plus backoff. The error says what is known: refused every
    /// time and found nothing → not created; otherwise it MAY have been, with RALLY_TIMEOUT when
    /// what happened last was no answer in time.
    pub(in crate::tracker) async fn create_reconciled<T, S, SF, F, FF>(
        &self,
        op: &Op,
        what: &str,
        send: S,
        find: F,
    ) -> Result<T, RallyError>
    where
        S: Fn() -> SF,
        SF: Future<Output = Result<T, CallError>>,
        F: Fn() -> FF,
        FF: Future<Output = Result<Found<T>, RallyError>>,
    {
        let first = Instant::now();
        let timeout = self.http.settings().timeout;
        let mut sent = 0u32;
        // Every failure so far was Rally answering 503, and the lookup after it found nothing.
        let mut refused_only = true;
        loop {
            let e = match send().await {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            sent = sent.saturating_add(e.attempts.max(1));
            if !e.maybe_applied {
                return Err(with_attempts(e.error, sent));
            }
            refused_only &= matches!(e.error, RallyError::Unavailable { last_status: Some(503), .. });
            let delay = self.http.resend_delay(sent, first.elapsed());
            if let Some(d) = delay {
                tokio::time::sleep(d).await;
            }
            let looked = match tokio::time::timeout(timeout, find()).await {
                Ok(found) => found,
                Err(_) => Err(RallyError::Timeout {
                    operation: op.label(),
                    attempts: 1,
                    timeout_ms: timeout.as_millis() as u64,
                    detail: String::new(),
                }),
            };
            let settled = match looked {
                Ok(Found::One(v)) => return Ok(v),
                Ok(Found::Many(refs)) => Settled::Ambiguous(refs),
                Ok(Found::Nothing) if delay.is_some() => continue,
                Ok(Found::Nothing) => Settled::NotFound,
                Err(lookup) => Settled::LookupFailed(lookup),
            };
            return Err(self.unsettled(op, what, e.error, sent, refused_only, settled));
        }
    }

    /// The error of a create that did not come back, true to what happened. `attempts`: every
    /// create request sent, over all rounds of reconciliation.
    fn unsettled(
        &self,
        op: &Op,
        what: &str,
        cause: RallyError,
        attempts: u32,
        refused_only: bool,
        settled: Settled,
    ) -> RallyError {
        let cause = with_attempts(cause, attempts);
        let last_status = match &cause {
            RallyError::Unavailable { last_status, .. } => *last_status,
            _ => None,
        };
        let happened = match &cause {
            RallyError::Timeout { .. } => "no answer in time".to_string(),
            other => what_happened(other),
        };
        // A timeout's own message already says "no answer in time"; other causes lead the detail.
        let lead = if matches!(cause, RallyError::Timeout { .. }) { String::new() } else { format!("{happened}; ") };
        let timed_out = matches!(cause, RallyError::Timeout { .. })
            || matches!(&settled, Settled::LookupFailed(RallyError::Timeout { .. }));
        let operation = op.label();
        let detail = match settled {
            Settled::Ambiguous(refs) => {
                let detail = format!(
                    "{happened}; {} items match everything the create set ({}), so which one it made, if any, \
                     cannot be told; check them in Rally before retrying",
                    refs.len(),
                    refs.join(", ")
                );
                return RallyError::Unavailable { operation, attempts, last_status, detail };
            }
            Settled::NotFound if refused_only => {
                let detail = format!(
                    "Rally answered 503 (service unavailable) to each of the {attempts} create request(s), and a \
                     lookup after each did not find {what}: it was not created; try again later"
                );
                return RallyError::Unavailable { operation, attempts, last_status, detail };
            }
            Settled::NotFound => format!(
                "{lead}the request had been sent, so {what} MAY have been created although a lookup did not \
                 find it; check Rally before retrying"
            ),
            Settled::LookupFailed(lookup) => format!(
                "{lead}the request had been sent, so {what} MAY have been created, and the lookup that would \
                 tell failed ({}); check Rally before retrying",
                what_happened(&lookup)
            ),
        };
        if timed_out {
            let timeout_ms = self.http.settings().timeout.as_millis() as u64;
            RallyError::Timeout { operation, attempts, timeout_ms, detail }
        } else {
            RallyError::Unavailable { operation, attempts, last_status, detail }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates() {
        assert_eq!(iso_utc(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_utc(UNIX_EPOCH + Duration::from_millis(1_764_836_003_201)), "2025-12-04T08:13:23.201Z");
        assert_eq!(iso_utc(UNIX_EPOCH + Duration::from_secs(951_782_400)), "2000-02-29T00:00:00.000Z");
    }
}
