//! Discussion posts: `addComment`, and `linkPR` as a post holding the URL.

use super::*;

fn html_escape_attr(s: &str) -> String {
    s.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;")
}

impl Tracker {
    pub(in crate::tracker) async fn add_comment_once(&self, id: &str, body: &str) -> Result<Comment, RallyError> {
        let parsed = parse_issue_id(id, "issueId")?;
        let html = validate::comment_body(body)?;
        let shown = Self::shown(&parsed, id);
        let op = Op::new("addComment", Some(&shown));
        let l = self.locate(&op, &parsed, &shown, false).await?;
        self.create_post(&op, &l, html).await
    }

    async fn create_post(&self, op: &Op, l: &Located, html: String) -> Result<Comment, RallyError> {
        let mut fields = Map::new();
        fields.insert("Artifact".into(), Value::String(l.ref_path()));
        fields.insert("Text".into(), Value::String(html.clone()));
        let body = to_body("ConversationPost", fields);
        let started = SystemTime::now();
        let post = self
            .create_reconciled(
                op,
                "the comment",
                || self.create_once::<RallyPost>(op, "conversationpost/create", POST_FETCH, &body),
                || self.find_recent_post(op, l, &html, started),
            )
            .await?;
        if let Some(oid) = post.object_id {
            // A later identical comment is a new one, never "the lost one" of this call.
            self.cache.mark_created(oid);
        }
        comment_from_rally(&post, &l.formatted_id)
            .map_err(|m| RallyError::Protocol { operation: op.label(), excerpt: m })
    }

    /// The post a lost create would have made: on this artifact, by this key's user, created
    /// after the create was first sent, with this text, and not one this tracker made.
    async fn find_recent_post(
        &self,
        op: &Op,
        l: &Located,
        html: &str,
        started: SystemTime,
    ) -> Result<Found<RallyPost>, RallyError> {
        let me = self.me(op).await?;
        let since = self.reconcile_since(started);
        let q = Query::eq("Artifact", QValue::Ref(l.ref_path()))
            .and(Query::eq("User", QValue::Ref(me)))
            .and(Query::ge("CreationDate", since.at.as_str()));
        let spec = QuerySpec {
            type_path: "conversationpost",
            query: Some(q.render()),
            fetch: POST_FETCH,
            order: Some("CreationDate desc,ObjectID desc"),
            scope: Scope::Workspace,
            types: None,
        };
        let r: QueryResult<RallyPost> = self.query_page(op, &spec, 1, 200).await?;
        let want = text_key(html);
        Ok(Found::within(
            &since,
            r.results
                .into_iter()
                .filter(|p| p.object_id.is_none_or(|oid| !self.cache.was_created_here(oid)))
                .filter(|p| p.text.as_deref().is_some_and(|t| text_key(t) == want))
                .collect(),
            |p| p.r#ref.as_deref().map_or_else(|| format!("post {:?}", p.object_id), short_ref),
        ))
    }

    /// `linkPR` as a discussion post holding the URL, posted once per exact URL.
    pub(in crate::tracker) async fn link_by_post(&self, id: &str, pr_url: &str) -> Result<(), RallyError> {
        let crate::tracker::pull_requests::LinkInput { parsed, url, shown, op, target } = Self::link_input(id, pr_url)?;
        let stored_url = html_escape_attr(&url);
        // Posts that may hold the link: each is then checked for the exact URL.
        let needle = html_escape_attr(&crate::pr_links::needle(&url));
        let spec_for = |l: Option<&Located>| {
            let q = Self::of_artifact(&parsed, &shown, l);
            let q = if needle.is_empty() { q } else { q.and(Query::contains("Text", needle.as_str())) };
            QuerySpec {
                type_path: "conversationpost",
                query: Some(q.render()),
                fetch: POST_FETCH,
                order: Some("PostNumber,ObjectID"),
                scope: Scope::Workspace,
                types: None,
            }
        };
        let linked = |posts: &[RallyPost], l: &Located| {
            posts.iter().any(|p| {
                let a = p.artifact.as_ref();
                let on_issue =
                    a.and_then(|a| a.formatted_id.as_deref()).is_some_and(|f| f.eq_ignore_ascii_case(&l.formatted_id))
                        || a.and_then(|a| a.object_id) == Some(l.object_id);
                on_issue && p.text.as_deref().is_some_and(|t| crate::pr_links::urls_in(t).contains(&target))
            })
        };
        // The existing-link lookup and the artifact lookup do not depend on each other.
        let posted_before = crate::pr_links::posts_so_far(&self.settings.origin);
        let cached = self.cached(&parsed, &shown);
        let first_spec = spec_for(cached.as_ref());
        let (existing, located) = futures_util::future::join(
            self.query_all::<RallyPost>(&op, &first_spec, self.settings.max_results),
            self.locate(&op, &parsed, &shown, false),
        )
        .await;
        let l = located?;
        // One linkPR per issue at a time in this process, whichever tracker makes it: the
        // second one looks again once the first has posted, and finds its link.
        let _one_at_a_time = crate::pr_links::lock_issue(&format!("{}|{}", self.settings.origin, l.object_id)).await;
        let posts = if crate::pr_links::posts_so_far(&self.settings.origin) == posted_before {
            existing?.items
        } else {
            self.query_all::<RallyPost>(&op, &spec_for(Some(&l)), self.settings.max_results).await?.items
        };
        if linked(&posts, &l) {
            return Ok(());
        }
        let html = format!("<p>Pull request: <a href=\"{stored_url}\">{stored_url}</a></p>");
        let made = self.create_post(&op, &l, html).await;
        crate::pr_links::note_post(&self.settings.origin);
        made.map(drop)
    }
}
