//! What Rally does on a write beyond storing the fields: the Blocked flag and its reason, a
//! task's To Do hours, an attachment's bytes. What of this is confirmed is in the README
//! ("Attachments, Blocked, task hours").

use super::*;

/// The largest attachment Rally takes (pyral refuses files over this before sending).
pub const ATTACHMENT_MAX: i64 = 50 * 1024 * 1024;

/// Applies the rules to `o` after the body was applied; `fields` is the body as sent.
pub(super) fn after_write(o: &mut Obj, fields: &serde_json::Map<String, Value>, caller: &Caller) -> Result<(), String> {
    let sent = |name: &str| fields.keys().any(|k| k.eq_ignore_ascii_case(name));
    let t = info(o.kind).type_name;
    if info(o.kind).field("Blocked").is_some() {
        // A reason marks the item blocked; unblocking clears the reason (as Rally's UI does).
        let reason = o.str("BlockedReason").is_some_and(|r| !r.trim().is_empty());
        if sent("BlockedReason") && reason && !sent("Blocked") {
            set(o, "Blocked", FVal::Bool(true));
        }
        if *o.get("Blocked") != FVal::Bool(true) {
            set(o, "BlockedReason", FVal::Null);
        }
    }
    if o.kind == Kind::Task && sent("Estimate") && !sent("ToDo") && is_null(o, "ToDo") {
        // To Do starts as the estimate.
        let estimate = o.get("Estimate").clone();
        set(o, "ToDo", estimate);
    }
    if o.kind == Kind::Task {
        for h in ["Estimate", "ToDo", "Actuals"] {
            if matches!(o.get(h), FVal::Num(x) if *x < 0.0) {
                return Err(format!("Validation error: {t}.{h} cannot be negative"));
            }
        }
    }
    if o.kind == Kind::AttachmentContent && sent("Content") && !o.str("Content").is_some_and(is_base64) {
        return Err("Validation error: AttachmentContent.Content must be base64 encoded".into());
    }
    if o.kind == Kind::Attachment {
        if is_null(o, "User") {
            set(o, "User", FVal::Ref(caller.user));
        }
        match o.get("Size") {
            FVal::Int(n) if *n < 0 => return Err("Validation error: Attachment.Size cannot be negative".into()),
            FVal::Int(n) if *n > ATTACHMENT_MAX => {
                return Err(format!("Validation error: Attachment.Size exceeds the maximum of {ATTACHMENT_MAX} bytes"));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Standard base64 with padding (what Rally's toolkits send); whitespace is not allowed.
fn is_base64(s: &str) -> bool {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(4) {
        return false;
    }
    let pad = b.iter().rev().take_while(|c| **c == b'=').count();
    pad <= 2 && b[..b.len() - pad].iter().all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
}

/// Standard base64 with padding, for the seeded attachments.
pub fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n =
            (u32::from(c[0]) << 16) | (u32::from(*c.get(1).unwrap_or(&0)) << 8) | u32::from(*c.get(2).unwrap_or(&0));
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            out.push(if i <= c.len() { A[(n >> shift) as usize & 63] as char } else { '=' });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_the_standard_alphabet() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(&[0xfb, 0xff]), "+/8=");
        assert!(is_base64("Zm9v") && is_base64("Zg==") && is_base64(""));
        assert!(!is_base64("Zm9") && !is_base64("Zm 9v") && !is_base64("Z===") && !is_base64("Zm9v\n"));
    }
}
