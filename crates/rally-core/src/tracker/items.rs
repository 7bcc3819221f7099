//! What an item holds beyond the interface: its children and tasks, its attachments and their
//! bytes. One request each once the item is located (children: one per child type, at once).

use super::*;
use crate::model::{Attachment, AttachmentData};
use crate::normalize::attachment_from_rally;
use crate::rally_types::{RallyAttachment, RallyAttachmentContent, ATTACHMENT_FETCH};
use base64::Engine;

impl Tracker {
    /// The item's children, oldest first per type: a story's child stories, defects and
    /// tasks; a defect's tasks; a feature's stories; a task has none.
    pub async fn get_children(&self, id: &str) -> Result<Vec<Issue>, RallyError> {
        let parsed = parse_issue_id(id, "id")?;
        let shown = Self::shown(&parsed, id);
        let op = Op::new("getChildren", Some(&shown));
        let l = self.locate(&op, &parsed, &shown, false).await?;
        let kinds: &[(ArtifactType, &str)] = match l.artifact_type {
            ArtifactType::UserStory => &[
                (ArtifactType::UserStory, "Parent"),
                (ArtifactType::Defect, "Requirement"),
                (ArtifactType::Task, "WorkProduct"),
            ],
            ArtifactType::Defect => &[(ArtifactType::Task, "WorkProduct")],
            ArtifactType::Feature => &[(ArtifactType::UserStory, "PortfolioItem")],
            ArtifactType::Task => &[],
        };
        let fetch = self.artifact_fetch(&op).await?;
        let parent = l.ref_path();
        let lists = futures_util::future::try_join_all(kinds.iter().map(|(t, field)| {
            let (op, fetch, parent) = (&op, &fetch, &parent);
            async move {
                let query = Query::eq(field, QValue::Ref(parent.clone())).render();
                let spec = QuerySpec {
                    type_path: t.type_path(),
                    query: Some(query),
                    fetch,
                    order: Some("ObjectID"),
                    scope: Scope::Workspace,
                    types: None,
                };
                self.query_all::<RallyArtifact>(op, &spec, self.settings.max_results).await
            }
        }))
        .await?;
        let all: Vec<RallyArtifact> = lists.into_iter().flat_map(|f| f.items).collect();
        let orders = self.orders(&op, states::Need::of(all.iter())).await;
        all.iter().map(|a| self.normalize_with(&op, a, &orders)).collect()
    }

    /// The item's attachments (names, types, sizes; no bytes), oldest first.
    pub async fn list_attachments(&self, id: &str) -> Result<Vec<Attachment>, RallyError> {
        let parsed = parse_issue_id(id, "issueId")?;
        let shown = Self::shown(&parsed, id);
        let op = Op::new("listAttachments", Some(&shown));
        let l = self.locate(&op, &parsed, &shown, false).await?;
        let spec = QuerySpec {
            type_path: "attachment",
            query: Some(Query::eq("Artifact", QValue::Ref(l.ref_path())).render()),
            fetch: ATTACHMENT_FETCH,
            order: Some("ObjectID"),
            scope: Scope::Workspace,
            types: None,
        };
        let found: Fetched<RallyAttachment> = self.query_all(&op, &spec, self.settings.max_results).await?;
        found.items.iter().map(|a| attachment_from_rally(a, &l.formatted_id).map_err(|m| protocol(&op, &m))).collect()
    }

    /// One attachment with its bytes (decoded from base64). `max_bytes` (default 10 MB, at
    /// most 50 MB) caps what is read: a larger attachment is refused before its content is
    /// requested. `id` is the Attachment's ObjectID or ref.
    pub async fn get_attachment(&self, id: &str, max_bytes: Option<u64>) -> Result<AttachmentData, RallyError> {
        let cap = validate::attachment_cap(max_bytes)?;
        let oid = attachment_oid(id)?;
        let shown = format!("attachment {oid}");
        let op = Op::new("getAttachment", Some(&shown));
        let a: RallyAttachment = self.get_object(&op, &format!("attachment/{oid}"), ATTACHMENT_FETCH).await?;
        let attachment = attachment_from_rally(&a, "").map_err(|m| protocol(&op, &m))?;
        let too_big = |size: u64| {
            RallyError::invalid(
                "maxBytes",
                format!("{shown} ({}) is {size} bytes, over the cap of {cap} bytes", attachment.name),
            )
        };
        if attachment.size > cap {
            return Err(too_big(attachment.size));
        }
        let content_oid = a
            .content
            .as_ref()
            .and_then(|c| {
                c.object_id.or_else(|| c.r#ref.as_deref().and_then(crate::ids::parse_object_ref).map(|r| r.1))
            })
            .ok_or_else(|| protocol(&op, "the attachment has no Content"))?;
        let c: RallyAttachmentContent =
            self.get_object(&op, &format!("attachmentcontent/{content_oid}"), "Content").await?;
        let text: String = c.content.unwrap_or_default().chars().filter(|ch| !ch.is_ascii_whitespace()).collect();
        // Base64 is 4/3 of the bytes: refuse a body past the cap without decoding it.
        if (text.len() as u64) / 4 * 3 > cap + 2 {
            return Err(too_big((text.len() as u64) / 4 * 3));
        }
        let content = base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map_err(|e| protocol(&op, &format!("the content is not base64: {e}")))?;
        if content.len() as u64 > cap {
            return Err(too_big(content.len() as u64));
        }
        Ok(AttachmentData { attachment, content })
    }

    /// GET `<path>?fetch=…`: one object, or the error its envelope carries.
    async fn get_object<T: DeserializeOwned>(&self, op: &Op, path: &str, fetch: &str) -> Result<T, RallyError> {
        let req =
            Request { method: Method::GET, path, params: self.workspace_params(fetch), body: None, kind: OpKind::Read };
        match self.http.call::<GetEnvelope<T>>(op, req).await? {
            GetEnvelope::Object { object, errors, warnings, .. } if errors.is_empty() => {
                self.log_warnings(op, &warnings);
                Ok(object)
            }
            GetEnvelope::Object { errors, .. } => Err(classify_errors(op, &errors)),
            GetEnvelope::Failed(r) => Err(classify_errors(op, &r.errors)),
        }
    }
}

fn protocol(op: &Op, message: &str) -> RallyError {
    RallyError::Protocol { operation: op.label(), excerpt: crate::error::excerpt(message.as_bytes()) }
}

/// An Attachment's ObjectID from `123` or a ref (`/attachment/123`, a full WSAPI URL).
fn attachment_oid(id: &str) -> Result<u64, RallyError> {
    let t = id.trim();
    let bad = || {
        RallyError::invalid(
            "attachmentId",
            format!("expected an Attachment ObjectID or ref, got {:?}", t.chars().take(80).collect::<String>()),
        )
    };
    if let Ok(n) = t.parse::<u64>() {
        return if n > 0 { Ok(n) } else { Err(bad()) };
    }
    match crate::ids::parse_object_ref(t) {
        Some((ty, oid)) if ty.eq_ignore_ascii_case("attachment") => Ok(oid),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn attachment_ids_are_object_ids_or_attachment_refs() {
        assert_eq!(super::attachment_oid(" 12 ").ok(), Some(12));
        assert_eq!(super::attachment_oid("/attachment/34").ok(), Some(34));
        assert_eq!(
            super::attachment_oid("https://rally1.rallydev.com/slm/webservice/v2.0/attachment/56").ok(),
            Some(56)
        );
        for bad in ["", "0", "US12", "/defect/12", "-3"] {
            let e = super::attachment_oid(bad).unwrap_err();
            assert_eq!(e.code(), "RALLY_INVALID_INPUT", "{bad}");
            assert!(e.to_string().contains("attachmentId"), "{e}");
        }
    }
}
