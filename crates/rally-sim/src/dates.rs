//! UTC dates as milliseconds since the Unix epoch: parsing, ISO-8601 output and day math.
//! Hand-written (a few dozen lines) so the crate needs no date library.

pub const DAY_MS: i64 = 86_400_000;

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

/// `2025-12-04T08:13:23.201Z`
pub fn format(ms: i64) -> String {
    let days = ms.div_euclid(DAY_MS);
    let rem = ms.rem_euclid(DAY_MS);
    let (y, m, d) = civil_from_days(days);
    let (h, mi, s, milli) = (rem / 3_600_000, rem / 60_000 % 60, rem / 1000 % 60, rem % 1000);
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{milli:03}Z")
}

/// Rally's humanised `_CreatedAt` for old objects: `Nov 15, 2016`.
pub fn humanised(ms: i64, now: i64) -> String {
    if now - ms < 60_000 {
        return "just now".to_string();
    }
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let (y, m, d) = civil_from_days(ms.div_euclid(DAY_MS));
    format!("{} {d}, {y}", MONTHS[(m - 1) as usize])
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

pub fn today_start() -> i64 {
    now_ms().div_euclid(DAY_MS) * DAY_MS
}

fn num(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A parsed date: the instant, and whether only a day was given.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Parsed {
    pub ms: i64,
    pub day_only: bool,
}

/// Accepts `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS[.fff]]` with `Z`, `±HH:MM` or no zone (UTC).
pub fn parse(s: &str) -> Option<Parsed> {
    let s = s.trim();
    let (date, time) = match s.find(['T', 't']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mut parts = date.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d) = (num(y)? as i64, num(m)?, num(d)?);
    if !(1..=12).contains(&m) || d == 0 || d > 31 {
        return None;
    }
    let days = days_from_civil(y, m, d);
    if civil_from_days(days) != (y, m, d) {
        return None;
    }
    let Some(time) = time else {
        return Some(Parsed { ms: days * DAY_MS, day_only: true });
    };
    let (clock, offset_min) = if let Some(c) = time.strip_suffix(['Z', 'z']) {
        (c, 0i64)
    } else if let Some(i) = time.rfind(['+', '-']) {
        let (c, z) = (&time[..i], &time[i + 1..]);
        let sign = if time.as_bytes()[i] == b'-' { -1 } else { 1 };
        let (zh, zm) = z.split_once(':').unwrap_or((z, "00"));
        if zh.len() != 2 || zm.len() != 2 {
            return None;
        }
        (c, sign * (num(zh)? as i64 * 60 + num(zm)? as i64))
    } else {
        (time, 0)
    };
    let (hms, frac) = clock.split_once('.').unwrap_or((clock, ""));
    let mut hp = hms.split(':');
    let h = num(hp.next()?)?;
    let mi = num(hp.next()?)?;
    let sec = match hp.next() {
        Some(x) => num(x)?,
        None => 0,
    };
    if hp.next().is_some() || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let milli = if frac.is_empty() {
        0
    } else {
        let digits: String = frac.chars().chain("000".chars()).take(3).collect();
        if !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        num(&digits)? as i64
    };
    let ms = days * DAY_MS + (h as i64 * 3600 + mi as i64 * 60 + sec as i64) * 1000 + milli - offset_min * 60_000;
    Some(Parsed { ms, day_only: false })
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn round_trip() {
        let p = parse("2025-12-04T08:13:23.201Z").unwrap();
        assert_eq!(format(p.ms), "2025-12-04T08:13:23.201Z");
        assert!(parse("2025-02-30").is_none());
        assert!(parse("2017-04-29 20:23:51.188960").is_none());
        assert_eq!(format(parse("2024-02-29").unwrap().ms), "2024-02-29T00:00:00.000Z");
        assert_eq!(format(parse("2024-01-01T01:00:00+01:00").unwrap().ms), "2024-01-01T00:00:00.000Z");
    }
}
