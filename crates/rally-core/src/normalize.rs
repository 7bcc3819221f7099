//! Rally objects → the Panopticon model. Pure: the caller fetches, this only translates.

use crate::ids::parse_object_ref;
use crate::mapping::{priority_from_rally, read_state, RawState, StateOrders};
use crate::markup::html_to_markdown;
use crate::model::{ArtifactType, Attachment, Comment, Issue};
use crate::rally_types::{RallyArtifact, RallyAttachment, RallyPost, RallyRef};
use std::sync::Arc;

pub mod tag_names;

pub struct NormalizeCtx<'a> {
    /// Web UI base for `url`, e.g. `https://rally1.rallydev.com` (no trailing slash needed).
    pub web_base: &'a str,
    pub orders: &'a StateOrders,
}

/// The ObjectID of a nested ref: its own `ObjectID` when fetched, else parsed from `_ref`.
pub fn ref_object_id(r: &RallyRef) -> Option<u64> {
    r.object_id.or_else(|| r.r#ref.as_deref().and_then(parse_object_ref).map(|(_, oid)| oid))
}

fn artifact_type(a: &RallyArtifact) -> Result<ArtifactType, String> {
    if let Some(t) = a.r#type.as_deref() {
        return ArtifactType::from_type_name(t).ok_or_else(|| format!("unsupported artifact type {t}"));
    }
    let (path, _) =
        a.r#ref.as_deref().and_then(parse_object_ref).ok_or("artifact has neither _type nor an object _ref")?;
    ArtifactType::from_type_name(&path).ok_or_else(|| format!("unsupported artifact type {path}"))
}

pub fn issue_from_rally(a: &RallyArtifact, ctx: &NormalizeCtx) -> Result<Issue, String> {
    issue_from_rally_with(a, ctx, |html| html_to_markdown(html).into())
}

/// `issue_from_rally` with the description's HTML → Markdown done by `markdown` (a cache in
/// front of `html_to_markdown`; it must return what `html_to_markdown` would), unless `a`
/// was converted before: the Markdown stays with the item (`rally_types/description.rs`).
pub fn issue_from_rally_with(
    a: &RallyArtifact,
    ctx: &NormalizeCtx,
    markdown: impl FnOnce(&str) -> Arc<str>,
) -> Result<Issue, String> {
    let t = artifact_type(a)?;
    let oid = a
        .object_id
        .or_else(|| a.r#ref.as_deref().and_then(parse_object_ref).map(|(_, oid)| oid))
        .ok_or("artifact has no ObjectID")?;
    let reference = a.formatted_id.clone().ok_or_else(|| format!("artifact {oid} has no FormattedID"))?;

    let state_name = a.state.as_ref().and_then(|s| s.name());
    let raw = RawState {
        schedule_state: match t {
            ArtifactType::UserStory | ArtifactType::Defect => a.schedule_state.as_deref(),
            _ => None,
        },
        state: match t {
            ArtifactType::Defect | ArtifactType::Task | ArtifactType::Feature => state_name,
            ArtifactType::UserStory => None,
        },
    };
    let state = read_state(t, &raw, ctx.orders);
    // The raw value that decided `state`: a Closed defect says so even if its
    // ScheduleState lags behind.
    let rally_state = match t {
        ArtifactType::UserStory => raw.schedule_state,
        ArtifactType::Defect if raw.state == Some("Closed") => raw.state,
        ArtifactType::Defect => raw.schedule_state.or(raw.state),
        ArtifactType::Task | ArtifactType::Feature => raw.state,
    };

    let parent = match t {
        ArtifactType::UserStory => a.parent.as_deref().or(a.portfolio_item.as_deref()),
        ArtifactType::Task => a.work_product.as_deref(),
        ArtifactType::Defect => a.requirement.as_deref(),
        ArtifactType::Feature => a.parent.as_deref(),
    };
    let due_date = match t {
        ArtifactType::Defect => a.target_date.clone(),
        ArtifactType::Feature => a.planned_end_date.clone(),
        _ => None,
    };
    let priority = match t {
        ArtifactType::Defect => a.priority.as_deref().and_then(priority_from_rally),
        _ => None,
    };
    let labels = a
        .tags
        .as_ref()
        .map(|tags| tags.names.iter().filter_map(|n| n.name.as_deref().map(tag_names::shown)).collect())
        .unwrap_or_default();

    Ok(Issue {
        id: oid.to_string(),
        reference,
        title: a.name.clone().or_else(|| a.ref_object_name.clone()).unwrap_or_default(),
        description: a.description.markdown(markdown).map(|m| m.to_string()).unwrap_or_default(),
        state,
        labels,
        assignee: a.owner.as_ref().and_then(|o| o.ref_object_name.clone()),
        url: format!("{}/#/detail/{}/{}", ctx.web_base.trim_end_matches('/'), t.ui_segment(), oid),
        linked_issues: None,
        priority,
        due_date,
        // A fetch without dates leaves these empty rather than failing the whole list.
        created_at: a.creation_date.clone().unwrap_or_default(),
        updated_at: a.last_update_date.clone().unwrap_or_default(),
        artifact_type: t,
        parent_id: parent.and_then(ref_object_id).map(|oid| oid.to_string()),
        parent_ref: parent.and_then(|p| p.formatted_id.clone()),
        rally_state: rally_state.map(str::to_string),
        custom_fields: None,
        pull_requests: None,
        blocked: match t {
            ArtifactType::Feature => None,
            _ => a.blocked,
        },
        blocked_reason: match t {
            ArtifactType::Feature => None,
            _ => a.blocked_reason.clone().filter(|r| !r.trim().is_empty()),
        },
        estimate: a.estimate.filter(|_| t == ArtifactType::Task),
        to_do: a.to_do.filter(|_| t == ArtifactType::Task),
        actuals: a.actuals.filter(|_| t == ArtifactType::Task),
        project: a.project.as_deref().and_then(ref_object_id).map(|oid| format!("/project/{oid}")),
        project_name: a.project.as_ref().and_then(|p| p.ref_object_name.clone().or_else(|| p.name.clone())),
    })
}

/// `issue_ref` is the artifact's FormattedID (the post's nested Artifact may not carry it).
pub fn comment_from_rally(p: &RallyPost, issue_ref: &str) -> Result<Comment, String> {
    let oid = p
        .object_id
        .or_else(|| p.r#ref.as_deref().and_then(parse_object_ref).map(|(_, oid)| oid))
        .ok_or("conversation post has no ObjectID")?;
    let created_at = p.creation_date.clone().unwrap_or_default();
    Ok(Comment {
        id: oid.to_string(),
        issue_id: issue_ref.to_string(),
        body: p.text.as_deref().map(html_to_markdown).unwrap_or_default(),
        author: p.user.as_ref().and_then(|u| u.ref_object_name.clone()).unwrap_or_default(),
        // Posts are not edited through WSAPI; without LastUpdateDate the creation time stands.
        updated_at: p.last_update_date.clone().unwrap_or_else(|| created_at.clone()),
        created_at,
    })
}

/// `issue_ref` is the artifact's FormattedID, for an attachment whose nested Artifact lacks it.
pub fn attachment_from_rally(a: &RallyAttachment, issue_ref: &str) -> Result<Attachment, String> {
    let oid = a
        .object_id
        .or_else(|| a.r#ref.as_deref().and_then(parse_object_ref).map(|(_, oid)| oid))
        .ok_or("attachment has no ObjectID")?;
    let size = a.size.filter(|s| s.is_finite() && *s >= 0.0).map_or(0, |s| s as u64);
    Ok(Attachment {
        id: oid.to_string(),
        issue_id: a.artifact.as_ref().and_then(|r| r.formatted_id.clone()).unwrap_or_else(|| issue_ref.to_string()),
        name: a.name.clone().unwrap_or_default(),
        content_type: a.content_type.clone().unwrap_or_default(),
        size,
        description: a.description.as_deref().filter(|d| !d.trim().is_empty()).map(html_to_markdown),
        author: a.user.as_ref().and_then(|u| u.ref_object_name.clone()),
        created_at: a.creation_date.clone().unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests;
