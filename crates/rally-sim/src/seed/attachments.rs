//! The seeded attachments: a log file and a screenshot on the first defect (DE1), as a defect
//! report carries them.

use super::*;

pub(super) const LOG_NAME: &str = "checkout-error.log";
pub(super) const LOG_TEXT: &str = "2026-11-30T09:12:04Z INFO  checkout: cart 8812 submitted\n\
2026-11-30T09:12:34Z ERROR checkout: payment gateway timed out after 30000 ms\n\
2026-11-30T09:12:34Z WARN  checkout: order 8812 left in state PENDING\n";

pub(super) const PNG_NAME: &str = "screenshot.png";
/// A 2x2 RGB PNG (red, green / blue, white), 75 bytes.
pub(super) const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x00, 0x00, 0x02, 0x08, 0x02, 0x00, 0x00, 0x00, 0xfd, 0xd4, 0x9a, 0x73, 0x00, 0x00, 0x00, 0x12, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xc0, 0x00, 0xc2, 0x0c, 0xff, 0x81, 0x00, 0x00, 0x1f, 0xee,
    0x05, 0xfb, 0x0b, 0xd9, 0x68, 0x8b, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

pub(super) fn seed(st: &mut Store, today: i64, artifact: u64, user: u64) {
    let (sub, ws) = (st.subscription, st.workspace);
    let files: [(&str, &str, &[u8], &str); 2] = [
        (LOG_NAME, "text/plain", LOG_TEXT.as_bytes(), "Server log of the failed checkout"),
        (PNG_NAME, "image/png", PNG, "What the customer saw"),
    ];
    for (name, content_type, bytes, description) in files {
        let content = plain(
            st,
            Kind::AttachmentContent,
            today,
            &[
                ("Subscription", FVal::Ref(sub)),
                ("Workspace", FVal::Ref(ws)),
                ("Content", s(crate::write::base64(bytes))),
            ],
        );
        plain(
            st,
            Kind::Attachment,
            today,
            &[
                ("CreationDate", FVal::Date(today - DAY_MS)),
                ("Subscription", FVal::Ref(sub)),
                ("Workspace", FVal::Ref(ws)),
                ("Artifact", FVal::Ref(artifact)),
                ("Content", FVal::Ref(content)),
                ("ContentType", s(content_type)),
                ("Description", s(description)),
                ("Name", s(name)),
                ("Size", FVal::Int(bytes.len() as i64)),
                ("User", FVal::Ref(user)),
            ],
        );
    }
}
