//! Reads: `getIssue`, `getComments`, `listIssues`.

use super::*;

impl Tracker {
    pub async fn get_issue(&self, id: &str) -> Result<Issue, RallyError> {
        let parsed = parse_issue_id(id, "id")?;
        let shown = Self::shown(&parsed, id);
        let op = Op::new("getIssue", Some(&shown));
        // With native PR links the item's PullRequests summary comes along; only an item that
        // has some costs a second request (`pull_requests.rs`). Lists never read them.
        let with_prs = self.settings.pr_links.native() && !self.no_pull_requests.load(Ordering::Relaxed);
        let (a, ()) = futures_util::future::join(
            self.fetch_artifact_with(&op, &parsed, &shown, with_prs),
            self.warm_orders(&op, parsed.artifact_type()),
        )
        .await;
        let a = a?;
        let Some(located) = located_of(&a) else {
            return Err(RallyError::invalid("id", format!("{shown} is not a UserStory, Defect, Task or Feature")));
        };
        let (issue, prs) = futures_util::future::join(
            self.normalize(&op, &a),
            self.linked_pr_urls(&op, &parsed, &shown, &located, a.pull_requests.as_ref().filter(|_| with_prs)),
        )
        .await;
        let mut issue = issue?;
        issue.pull_requests = prs;
        Ok(issue)
    }

    pub async fn get_comments(&self, id: &str) -> Result<Vec<Comment>, RallyError> {
        let parsed = parse_issue_id(id, "issueId")?;
        let shown = Self::shown(&parsed, id);
        let op = Op::new("getComments", Some(&shown));
        let cached = self.cached(&parsed, &shown);
        let query = Self::of_artifact(&parsed, &shown, cached.as_ref());
        let spec = QuerySpec {
            type_path: "conversationpost",
            query: Some(query.render()),
            fetch: POST_FETCH,
            order: Some("PostNumber,ObjectID"),
            scope: Scope::Workspace,
            types: None,
        };
        let posts: Fetched<RallyPost> = self.query_all(&op, &spec, self.settings.max_results).await?;
        // `Artifact.FormattedID` compares numbers only (US12 matches DE12): keep exact matches.
        let mine: Vec<&RallyPost> = posts
            .items
            .iter()
            .filter(|p| {
                let art = p.artifact.as_ref();
                match (&parsed, &cached) {
                    (IssueId::Formatted { .. }, None) => {
                        art.and_then(|a| a.formatted_id.as_deref()).is_some_and(|f| f.eq_ignore_ascii_case(&shown))
                    }
                    _ => true,
                }
            })
            .collect();
        let issue_ref = match (&cached, mine.first()) {
            (Some(l), Some(_)) => l.formatted_id.clone(),
            (None, Some(p)) => {
                p.artifact.as_ref().and_then(|a| a.formatted_id.clone()).unwrap_or_else(|| shown.clone())
            }
            // No posts: an empty answer cannot tell "no comments" from "no such issue" (nor
            // from an issue deleted since the cache saw it), so one read settles it.
            (_, None) => {
                let found = self.locate(&op, &parsed, &shown, cached.is_some()).await;
                if let (Some(l), Err(RallyError::NotFound { .. })) = (&cached, &found) {
                    self.cache.forget(l.object_id);
                }
                found?.formatted_id
            }
        };
        mine.into_iter()
            .map(|p| {
                comment_from_rally(p, &issue_ref).map_err(|m| RallyError::Protocol {
                    operation: op.label(),
                    excerpt: crate::error::excerpt(m.as_bytes()),
                })
            })
            .collect()
    }

    pub async fn list_issues(&self, f: IssueFilters) -> Result<Vec<Issue>, RallyError> {
        let mut listed = self.list(f).await?;
        Ok(std::iter::from_fn(|| self.take_issue(&mut listed)).collect())
    }

    /// The next issue of a list, normalised now (`None`: none left). An artifact that does
    /// not normalise is skipped with a warning, as `list_issues` skips it.
    pub fn take_issue(&self, listed: &mut Listed) -> Option<Issue> {
        for a in listed.items.by_ref() {
            // Each artifact is let go once normalised: a long list never holds both whole.
            match self.normalize_with(&listed.op, &a, &listed.orders) {
                Ok(i) => return Some(i),
                Err(e) => self.settings.log.emit("warn", format!("listIssues: skipped an artifact: {e}")),
            }
        }
        None
    }

    /// `list_issues` without the normalisation: the artifacts of the answer, in its order,
    /// which `take_issue` turns into issues one at a time (the addon's JSON path serialises
    /// them a chunk at a time, so a list and its whole text never both exist).
    pub async fn list(&self, f: IssueFilters) -> Result<Listed, RallyError> {
        let op = Op::new("listIssues", None);
        let user_limit = f.limit.map(validate::limit).transpose()?.map(|n| n as usize);
        let labels = f.labels.as_deref().map(validate::labels).transpose()?.unwrap_or_default();
        let text = f.query.as_deref().map(validate::search_text).transpose()?.flatten();
        let team = f.team.as_deref().map(validate::team).transpose()?;
        let assignee = f.assignee.as_deref().map(str::trim).filter(|a| !a.is_empty());
        let owner_fut = async {
            match assignee {
                Some(a) => self.resolve_user(&op, a, "assignee").await.map(Some),
                None => Ok(None),
            }
        };
        let project_fut = async {
            match team.as_deref() {
                Some(t) => self.resolve_project(&op, t).await.map(Some),
                None => Ok(None),
            }
        };
        let (owner, project) = try_join(owner_fut, project_fut).await?;
        let limit = user_limit.unwrap_or(self.settings.max_results);
        let scope = match project.as_deref() {
            Some(p) => Scope::Project(p),
            None => Scope::Configured,
        };
        let include_closed = f.include_closed.unwrap_or(false);
        // `with_state: false`: the other conditions only (the first list's Feature query).
        let query_for_with = |t: ArtifactType, orders: &StateOrders, with_state: bool| {
            let mut parts = Vec::new();
            match f.state {
                _ if !with_state => {}
                Some(s) => parts.push(state_filter(t, s, orders)),
                None if !include_closed => parts.push(open_filter(t, orders)),
                None => {}
            }
            for l in &labels {
                parts.push(Query::eq("Tags.Name", crate::normalize::tag_names::stored(l)));
            }
            if let Some(o) = &owner {
                parts.push(Query::eq("Owner", QValue::Ref(o.clone())));
            }
            if let Some(q) = &text {
                parts.push(Query::contains("Name", q.as_str()).or(Query::contains("Description", q.as_str())));
            }
            Query::all(parts)
        };
        let query_for = |t: ArtifactType, orders: &StateOrders| query_for_with(t, orders, true);
        let defaults = StateOrders::default();
        // A Feature state filter names the first/last states of the type's order. Once known
        // (per process), the feature query uses it; the first time, the feature query runs
        // alongside that lookup without the state condition and is filtered here (`states.rs`,
        // `features_alongside_states`).
        let filtered = f.state.is_some() || !include_closed;
        let state_wanted = |s: crate::model::IssueState| match f.state {
            Some(want) => s == want,
            None => s != crate::model::IssueState::Closed,
        };
        // Each type is a consistent snapshot of its own (`snapshot.rs`); the types run at once.
        let per_type = join_all(self.settings.artifact_types.iter().map(|&t| {
            let (op, query_for, query_for_with, defaults, state_wanted) =
                (&op, &query_for, &query_for_with, &defaults, &state_wanted);
            async move {
                let list = |q| self.list_type(op, t.type_path(), q, scope, limit);
                match t {
                    ArtifactType::Feature if filtered && !self.feature_states_known() => {
                        let found = self
                            .features_alongside_states(op, query_for_with(t, defaults, false), scope, limit, |o| {
                                (query_for(t, o), state_wanted)
                            })
                            .await?;
                        match found {
                            Some(r) => Ok(r),
                            None => list(query_for(t, &self.orders(op, states::Need::FEATURE).await)).await,
                        }
                    }
                    ArtifactType::Feature if filtered => {
                        let orders = self.orders(op, states::Need::FEATURE).await;
                        list(query_for(t, &orders)).await
                    }
                    ArtifactType::Feature => {
                        let (r, ()) =
                            futures_util::future::join(list(query_for(t, defaults)), self.warm_orders(op, Some(t)))
                                .await;
                        r
                    }
                    _ => list(query_for(t, defaults)).await,
                }
            }
        }))
        .await;
        let mut all: Vec<Arc<RallyArtifact>> = Vec::new();
        let mut total = 0usize;
        for r in per_type {
            let fetched = r?;
            total += fetched.total;
            all.extend(fetched.items);
        }
        // Each type's snapshot holds an item once; kept as a guard across types.
        let mut seen = std::collections::HashSet::with_capacity(all.len());
        all.retain(|a| a.object_id.is_none_or(|oid| seen.insert(oid)));
        // Newest first across types; ties by ObjectID. ISO-8601 UTC strings sort as text.
        all.sort_by(|a, b| b.last_update_date.cmp(&a.last_update_date).then_with(|| a.object_id.cmp(&b.object_id)));
        if all.len() > limit || (user_limit.is_none() && total > limit) {
            all.truncate(limit);
            if user_limit.is_none() {
                self.settings.log.emit(
                    "warn",
                    format!(
                        "listIssues: {total} issues match; returning the newest {limit} (maxResults). \
                         Pass a limit or raise maxResults to get more."
                    ),
                );
            }
        }
        let orders = self.orders(&op, states::Need::of(all.iter().map(|a| &**a))).await;
        Ok(Listed { op, orders, items: all.into_iter() })
    }
}

/// A list's answer not yet normalised (`Tracker::list`, `Tracker::take_issue`).
pub struct Listed {
    op: Op,
    orders: StateOrders,
    items: std::vec::IntoIter<Arc<RallyArtifact>>,
}

impl Listed {
    /// Issues left to take (at most: one that does not normalise is skipped).
    pub fn remaining(&self) -> usize {
        self.items.len()
    }
}
