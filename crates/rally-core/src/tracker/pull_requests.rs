//! `linkPR` as a native `PullRequest` object, with the discussion post as the fallback (and,
//! with `prLinks: 'both'`, as well), and the linked PR URLs `getIssue` shows.

use super::write::Found;
use super::{QuerySpec, Scope, Tracker};
use crate::cache::Located;
use crate::custom::PrLinks;
use crate::error::RallyError;
use crate::ids::{parse_issue_id, IssueId};
use crate::rally_types::{CollectionSummary, RallyPullRequest, PULL_REQUEST_FETCH};
use crate::validate;
use crate::wsapi::Op;
use serde_json::json;
use std::sync::atomic::Ordering;

/// Name, ExternalID and ExternalFormattedId of a PR URL: `owner/repo#42`, `owner/repo#42`,
/// `42` for GitHub (`/pull/42`), GitLab (`/-/merge_requests/42`), Bitbucket
/// (`/pull-requests/42`) and Azure DevOps (`/pullrequest/42`) URLs; otherwise the path.
pub fn pr_names(url: &str) -> (String, String, String) {
    let parsed = url::Url::parse(url).ok();
    let segs: Vec<String> = parsed
        .as_ref()
        .and_then(|u| u.path_segments().map(|s| s.filter(|x| !x.is_empty()).map(str::to_string).collect()))
        .unwrap_or_default();
    let marker = segs.iter().rposition(|s| {
        matches!(s.to_ascii_lowercase().as_str(), "pull" | "pulls" | "merge_requests" | "pull-requests" | "pullrequest")
    });
    if let Some(i) = marker {
        if let Some(num) = segs.get(i + 1).filter(|n| n.bytes().all(|b| b.is_ascii_digit())) {
            let repo: Vec<&str> = segs[..i].iter().map(String::as_str).filter(|s| *s != "-" && *s != "_git").collect();
            let name = if repo.is_empty() { format!("#{num}") } else { format!("{}#{num}", repo.join("/")) };
            return (clip(&name), clip(&name), num.clone());
        }
    }
    let path = segs.join("/");
    let name = if path.is_empty() { url.to_string() } else { path };
    (clip(&name), clip(url), clip(&name))
}

fn clip(s: &str) -> String {
    s.chars().take(256).collect()
}

/// Whether Rally refused the PullRequest type itself (unknown in the workspace, or not
/// creatable there), as opposed to this one request failing.
fn type_refused(e: &RallyError) -> bool {
    let RallyError::Rejected { errors, .. } = e else { return false };
    errors.iter().any(|m| {
        let m = m.to_ascii_lowercase();
        m.contains("pullrequest")
            && (m.contains("is unknown") || m.contains("cannot create") || m.contains("not allowed"))
    })
}

impl Tracker {
    pub(super) async fn link_pr_once(&self, id: &str, pr_url: &str) -> Result<(), RallyError> {
        let mode = self.settings.pr_links;
        if !mode.native() || self.no_pull_requests.load(Ordering::Relaxed) {
            return self.link_by_post(id, pr_url).await;
        }
        match self.link_natively(id, pr_url).await {
            Ok(()) if mode == PrLinks::Both => self.link_by_post(id, pr_url).await,
            Ok(()) => Ok(()),
            Err(e) if type_refused(&e) => {
                self.no_pull_requests.store(true, Ordering::Relaxed);
                self.settings.log.emit(
                    "warn",
                    "linkPR: this Rally workspace does not accept PullRequest objects; links are recorded as \
                     discussion posts instead (prLinks: 'comment' makes that the choice)"
                        .to_string(),
                );
                self.link_by_post(id, pr_url).await
            }
            // The item itself is gone: `link_pr` forgets it and looks again (`stale.rs`).
            Err(e)
                if super::stale::refused_refs(&e)
                    .iter()
                    .any(|(t, _)| crate::model::ArtifactType::from_type_name(t).is_some()) =>
            {
                Err(e)
            }
            // Rally refused this one PullRequest (a permission, a rule of the workspace): the
            // link is not lost, it goes to a post (the one 'both' makes anyway), and the
            // warning says why.
            Err(RallyError::Rejected { errors, .. }) => {
                self.settings.log.emit(
                    "warn",
                    format!(
                        "linkPR: Rally refused the PullRequest ({}); the link is recorded as a discussion post",
                        errors.join("; ")
                    ),
                );
                self.link_by_post(id, pr_url).await
            }
            Err(e) => Err(e),
        }
    }

    fn pr_query(&self, parsed: &IssueId, shown: &str, l: Option<&Located>) -> QuerySpec<'static> {
        let q = Self::of_artifact(parsed, shown, l);
        QuerySpec {
            type_path: "pullrequest",
            query: Some(q.render()),
            fetch: PULL_REQUEST_FETCH,
            order: Some("ObjectID"),
            scope: Scope::Workspace,
            types: None,
        }
    }

    /// The PullRequests on the artifact (`Artifact.FormattedID` compares numbers only across
    /// types, so the artifact is checked exactly).
    async fn pull_requests_of(
        &self,
        op: &Op,
        parsed: &IssueId,
        shown: &str,
        l: Option<&Located>,
    ) -> Result<Vec<RallyPullRequest>, RallyError> {
        let spec = self.pr_query(parsed, shown, l);
        let found = self.query_all::<RallyPullRequest>(op, &spec, self.settings.max_results).await?;
        Ok(found
            .items
            .into_iter()
            .filter(|p| {
                let a = p.artifact.as_ref();
                match (l, parsed) {
                    (Some(l), _) => {
                        a.and_then(|a| a.object_id) == Some(l.object_id)
                            || a.and_then(|a| a.formatted_id.as_deref())
                                .is_some_and(|f| f.eq_ignore_ascii_case(&l.formatted_id))
                    }
                    (None, IssueId::Formatted { .. }) => {
                        a.and_then(|a| a.formatted_id.as_deref()).is_some_and(|f| f.eq_ignore_ascii_case(shown))
                    }
                    _ => true,
                }
            })
            .collect())
    }

    /// One `PullRequest` per exact URL on the artifact: cold, the existing-PR lookup and the
    /// artifact lookup run at once, then the create (3 requests, 2 round trips); warm, lookup
    /// and create; already linked, the lookup alone. Calls for one issue in one process are
    /// serialised (the process-wide per-issue lock), so concurrent calls create one object.
    /// What both ways of linking check first, before any request: the issue id, the PR URL
    /// (as given, and normalised for exact comparison) and the operation name errors carry.
    pub(super) fn link_input(id: &str, pr_url: &str) -> Result<LinkInput, RallyError> {
        let parsed = parse_issue_id(id, "issueId")?;
        let url = validate::pr_url(pr_url)?;
        let shown = Self::shown(&parsed, id);
        let op = Op::new("linkPR", Some(&shown));
        let target = crate::pr_links::normalise(&url)
            .ok_or_else(|| RallyError::invalid("prUrl", "must be an http(s) URL (it could not be read as one)"))?;
        Ok(LinkInput { parsed, url, shown, op, target })
    }

    async fn link_natively(&self, id: &str, pr_url: &str) -> Result<(), RallyError> {
        let LinkInput { parsed, url, shown, op, target } = Self::link_input(id, pr_url)?;
        let counter = format!("pullrequest|{}", self.settings.origin);
        let made_before = crate::pr_links::posts_so_far(&counter);
        let cached = self.cached(&parsed, &shown);
        let (existing, located) = futures_util::future::join(
            self.pull_requests_of(&op, &parsed, &shown, cached.as_ref()),
            self.locate(&op, &parsed, &shown, false),
        )
        .await;
        // The type's refusal decides first: it says to fall back, whatever the artifact.
        let existing = match existing {
            Err(e) if type_refused(&e) => return Err(e),
            other => other,
        };
        let l = located?;
        let _one_at_a_time =
            crate::pr_links::lock_issue(&format!("pullrequest|{}|{}", self.settings.origin, l.object_id)).await;
        let prs = if crate::pr_links::posts_so_far(&counter) == made_before {
            existing?
        } else {
            self.pull_requests_of(&op, &parsed, &shown, Some(&l)).await?
        };
        if prs.iter().any(|p| p.url.as_deref().and_then(crate::pr_links::normalise).as_deref() == Some(target.as_str()))
        {
            return Ok(());
        }
        let (name, external_id, external_formatted) = pr_names(&url);
        let body = json!({ "PullRequest": {
            "Artifact": l.ref_path(),
            "Url": url,
            "Name": name,
            "ExternalID": external_id,
            "ExternalFormattedId": external_formatted,
            "Description": format!("Pull request {url}"),
        }});
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        // A create whose outcome is unknown is settled by looking for the URL on the artifact
        // before it is ever sent again (the same rules as every other create).
        let is_mine = |p: &RallyPullRequest| {
            p.url.as_deref().and_then(crate::pr_links::normalise).as_deref() == Some(target.as_str())
        };
        let made = self
            .create_reconciled(
                &op,
                "the pull request link",
                || self.create_once::<RallyPullRequest>(&op, "pullrequest/create", PULL_REQUEST_FETCH, &bytes),
                || async {
                    let prs = self.pull_requests_of(&op, &parsed, &shown, Some(&l)).await?;
                    // Any PullRequest with the URL is the link, however many there are.
                    Ok(Found::from(prs.into_iter().find(|p| is_mine(p))))
                },
            )
            .await;
        crate::pr_links::note_post(&counter);
        made.map(drop)
    }

    /// `Issue.pullRequests` for `getIssue`, from the item's `PullRequests` summary: none
    /// fetched (not native, or the workspace has no such type) is `None`; a count of 0 is an
    /// empty list at no cost; otherwise one read of the item's PullRequests. A failed read is
    /// `None` and a warning.
    pub(super) async fn linked_pr_urls(
        &self,
        op: &Op,
        parsed: &IssueId,
        shown: &str,
        l: &Located,
        summary: Option<&CollectionSummary>,
    ) -> Option<Vec<String>> {
        let summary = summary?;
        if summary.count == Some(0.0) {
            return Some(Vec::new());
        }
        match self.pull_requests_of(op, parsed, shown, Some(l)).await {
            Ok(prs) => Some(prs.into_iter().filter_map(|p| p.url).collect()),
            Err(e) => {
                if type_refused(&e) {
                    self.no_pull_requests.store(true, Ordering::Relaxed);
                } else {
                    self.settings.log.emit("warn", format!("getIssue: pull requests not read: {e}"));
                }
                None
            }
        }
    }
}

/// `linkPR`'s checked arguments (`Tracker::link_input`).
pub(super) struct LinkInput {
    pub(super) parsed: IssueId,
    pub(super) url: String,
    pub(super) shown: String,
    pub(super) op: Op,
    pub(super) target: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_pr_urls() {
        let n = |u: &str| pr_names(u);
        assert_eq!(n("https://github.com/acme/shop/pull/42").0, "acme/shop#42");
        assert_eq!(n("https://github.com/acme/shop/pull/42/files").2, "42");
        assert_eq!(n("https://gitlab.com/g/sub/proj/-/merge_requests/7").0, "g/sub/proj#7");
        assert_eq!(n("https://bitbucket.org/team/repo/pull-requests/3").0, "team/repo#3");
        assert_eq!(n("https://dev.azure.com/org/proj/_git/repo/pullrequest/9").0, "org/proj/repo#9");
        assert_eq!(n("https://example.com/review/abc").0, "review/abc");
    }
}
