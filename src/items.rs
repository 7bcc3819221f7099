//! The tracker's extras beyond `IssueTracker`: an item's children and tasks, its attachments
//! and their bytes (what `rally-mcp` serves).

use crate::error::promise;
use crate::{numbers, Issue, RallyTracker};
use napi::bindgen_prelude::{Buffer, PromiseRaw};
use napi::Env;
use napi_derive::napi;
use rally_core as core;

/// A file attached to a work item (Rally's `Attachment`).
#[napi(object, object_from_js = false)]
pub struct Attachment {
    /// The Attachment's ObjectID: what `getAttachment` takes.
    pub id: String,
    /// The FormattedID of the item it is attached to.
    pub issue_id: String,
    /// The file name.
    pub name: String,
    /// MIME type, as the uploader gave it.
    pub content_type: String,
    /// Bytes.
    pub size: f64,
    /// Markdown (converted from Rally's HTML).
    pub description: Option<String>,
    /// The uploader's display name.
    pub author: Option<String>,
    pub created_at: String,
}

/// An attachment with its bytes (decoded from Rally's base64).
#[napi(object, object_from_js = false)]
pub struct AttachmentContent {
    pub attachment: Attachment,
    #[napi(ts_type = "Uint8Array")]
    pub content: Buffer,
}

impl From<core::Attachment> for Attachment {
    fn from(a: core::Attachment) -> Self {
        Attachment {
            id: a.id,
            issue_id: a.issue_id,
            name: a.name,
            content_type: a.content_type,
            size: a.size as f64,
            description: a.description,
            author: a.author,
            created_at: a.created_at,
        }
    }
}

#[napi]
impl RallyTracker {
    /// The item's children, oldest first per type: a story's child stories, then its defects,
    /// then its tasks; a defect's tasks; a feature's stories; a task has none.
    #[napi]
    pub fn get_children<'env>(&self, env: &'env Env, id: String) -> napi::Result<PromiseRaw<'env, Vec<Issue>>> {
        let t = self.inner.clone();
        promise(env, async move { Ok(t.get_children(&id).await?.into_iter().map(Into::into).collect()) })
    }

    /// The item's attachments (no bytes), oldest first.
    #[napi]
    pub fn list_attachments<'env>(
        &self,
        env: &'env Env,
        issue_id: String,
    ) -> napi::Result<PromiseRaw<'env, Vec<Attachment>>> {
        let t = self.inner.clone();
        promise(env, async move { Ok(t.list_attachments(&issue_id).await?.into_iter().map(Into::into).collect()) })
    }

    /// One attachment with its bytes. `maxBytes` (default 10 MB, at most 50 MB) caps the read:
    /// a larger attachment is refused (`RALLY_INVALID_INPUT` naming `maxBytes`) before its
    /// content is requested.
    #[napi]
    pub fn get_attachment<'env>(
        &self,
        env: &'env Env,
        attachment_id: String,
        max_bytes: Option<f64>,
    ) -> napi::Result<PromiseRaw<'env, AttachmentContent>> {
        let t = self.inner.clone();
        promise(env, async move {
            let cap = numbers::optional(core::integers::MAX_BYTES, max_bytes)?;
            let d = t.get_attachment(&attachment_id, cap).await?;
            Ok(AttachmentContent { attachment: d.attachment.into(), content: Buffer::from(d.content) })
        })
    }
}
