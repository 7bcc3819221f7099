//! `dueDate`: `YYYY-MM-DD` or an ISO date-time, checked against the calendar and normalised to
//! the form Rally stores (`YYYY-MM-DDTHH:MM:SS.mmmZ`, UTC). A date-time without a zone is UTC.

use crate::input::InputError;

fn bad(v: &str, why: &str) -> InputError {
    let shown: String = v.chars().take(40).collect();
    InputError::new("dueDate", format!("must be YYYY-MM-DD or an ISO date-time ({why}), got {shown:?}"))
}

struct Cursor<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, n: usize) -> Option<u32> {
        let part = self.s.get(self.pos..self.pos + n)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.pos += n;
        Some(part.iter().fold(0, |acc, b| acc * 10 + u32::from(b - b'0')))
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.s.get(self.pos) == Some(&c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn done(&self) -> bool {
        self.pos == self.s.len()
    }
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

pub fn due_date(v: &str) -> Result<String, InputError> {
    let t = v.trim();
    let mut c = Cursor { s: t.as_bytes(), pos: 0 };
    let (Some(y), true, Some(mo), true, Some(d)) = (c.digits(4), c.eat(b'-'), c.digits(2), c.eat(b'-'), c.digits(2))
    else {
        return Err(bad(t, "the date part must be YYYY-MM-DD"));
    };
    let y = i64::from(y);
    if !(1000..=9999).contains(&y) || !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) {
        return Err(bad(t, "no such calendar date"));
    }
    let (mut hh, mut mi, mut ss, mut ms, mut offset_min) = (0u32, 0u32, 0u32, 0u32, 0i64);
    if !c.done() {
        if !(c.eat(b'T') || c.eat(b't')) {
            return Err(bad(t, "a time must follow a 'T'"));
        }
        let (Some(h), true, Some(m)) = (c.digits(2), c.eat(b':'), c.digits(2)) else {
            return Err(bad(t, "the time must be HH:MM[:SS[.fff]]"));
        };
        (hh, mi) = (h, m);
        if c.eat(b':') {
            ss = c.digits(2).ok_or_else(|| bad(t, "seconds must be two digits"))?;
            if c.eat(b'.') {
                let start = c.pos;
                while c.s.get(c.pos).is_some_and(u8::is_ascii_digit) && c.pos - start < 9 {
                    c.pos += 1;
                }
                let frac = &t[start..c.pos];
                if frac.is_empty() {
                    return Err(bad(t, "a '.' must be followed by digits"));
                }
                let padded = format!("{frac:0<3}");
                ms = padded[..3].parse().map_err(|_| bad(t, "bad fraction"))?;
            }
        }
        if c.eat(b'Z') || c.eat(b'z') {
        } else if let Some(sign) = [b'+', b'-'].into_iter().find(|s| c.eat(*s)) {
            let (Some(oh), true, Some(om)) = (c.digits(2), c.eat(b':'), c.digits(2)) else {
                return Err(bad(t, "the zone offset must be +HH:MM"));
            };
            if oh > 23 || om > 59 {
                return Err(bad(t, "no such zone offset"));
            }
            let off = i64::from(oh * 60 + om);
            offset_min = if sign == b'+' { off } else { -off };
        }
        if !c.done() {
            return Err(bad(t, "unexpected text after the time"));
        }
        if hh > 23 || mi > 59 || ss > 59 {
            return Err(bad(t, "no such time of day"));
        }
    }
    let minutes = days_from_civil(y, mo, d) * 1440 + i64::from(hh * 60 + mi) - offset_min;
    let (y, mo, d) = civil_from_days(minutes.div_euclid(1440));
    let (hh, mi) = (minutes.rem_euclid(1440) / 60, minutes.rem_euclid(60));
    if !(1000..=9999).contains(&y) {
        return Err(bad(t, "year out of range"));
    }
    Ok(format!("{y:04}-{mo:02}-{d:02}T{hh:02}:{mi:02}:{ss:02}.{ms:03}Z"))
}
