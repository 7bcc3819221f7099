//! `createIssue`: the fields of a new artifact, its parent, and the lookup that finds one a
//! lost create made.

use super::*;

/// The fields a create may set a parent through.
const PARENT_FIELDS: [&str; 4] = ["Parent", "PortfolioItem", "WorkProduct", "Requirement"];

/// Whether a stored artifact has every field a create set, as it set it. Fields Rally fills
/// in itself (state, rank, defaults) are not in `fields` and not compared.
fn matches_create(a: &RallyArtifact, fields: &Map<String, Value>) -> bool {
    let oid_of = |r: Option<&crate::rally_types::RallyRef>| r.and_then(|r| r.r#ref.as_deref()).and_then(ref_oid);
    fields.iter().all(|(k, v)| match (k.as_str(), v) {
        ("Name", Value::String(n)) => a.name.as_deref() == Some(n.as_str()),
        ("Description", Value::String(d)) => {
            a.description.with_html(|h| text_key(h.unwrap_or_default()) == text_key(d))
        }
        ("Priority", Value::String(p)) => a.priority.as_deref() == Some(p.as_str()),
        ("TargetDate" | "PlannedEndDate", Value::String(d)) => {
            let stored = if k == "TargetDate" { &a.target_date } else { &a.planned_end_date };
            stored.as_deref().and_then(|s| validate::due_date(s).ok()).as_deref() == Some(d.as_str())
        }
        ("Owner", Value::String(r)) => oid_of(a.owner.as_deref()).is_some_and(|o| ref_oid(r) == Some(o)),
        ("Parent", Value::String(r)) => oid_of(a.parent.as_deref()) == ref_oid(r),
        ("PortfolioItem", Value::String(r)) => oid_of(a.portfolio_item.as_deref()) == ref_oid(r),
        ("WorkProduct", Value::String(r)) => oid_of(a.work_product.as_deref()) == ref_oid(r),
        ("Requirement", Value::String(r)) => oid_of(a.requirement.as_deref()) == ref_oid(r),
        ("Tags", Value::Array(tags)) => {
            let want: std::collections::BTreeSet<Option<u64>> =
                tags.iter().map(|t| t.get("_ref").and_then(Value::as_str).and_then(ref_oid)).collect();
            let have: std::collections::BTreeSet<Option<u64>> = a
                .tags
                .as_ref()
                .map(|t| t.names.iter().map(|n| n.r#ref.as_deref().and_then(ref_oid)).collect())
                .unwrap_or_default();
            want == have
        }
        ("Blocked", Value::Bool(b)) => a.blocked == Some(*b),
        ("BlockedReason", Value::String(r)) => a.blocked_reason.as_deref() == Some(r.as_str()),
        ("Estimate" | "ToDo" | "Actuals", Value::Number(n)) => {
            let stored = match k.as_str() {
                "Estimate" => a.estimate,
                "ToDo" => a.to_do,
                _ => a.actuals,
            };
            stored.is_some() && stored == n.as_f64()
        }
        // In the query (Project), or the same for every candidate (Workspace).
        ("Project" | "Workspace", _) => true,
        (c, v) if c.starts_with("c_") => a.custom.0.get(c).is_some_and(|stored| same_custom(stored, v)),
        // A field this function does not know cannot be checked: never a match, so a field
        // added to `create_issue` shows up in the reconciliation tests instead of matching
        // too much.
        _ => false,
    })
}

/// A stored custom value against the one a create sent: numbers by value, dates by day and
/// time as `validate::due_date` writes them, anything else as sent.
fn same_custom(stored: &Value, sent: &Value) -> bool {
    match (stored, sent) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::String(a), Value::String(b)) => {
            a == b || validate::due_date(a).ok().is_some_and(|x| validate::due_date(b).ok() == Some(x))
        }
        _ => stored == sent,
    }
}

impl Tracker {
    pub(in crate::tracker) async fn create_issue_once(&self, n: NewIssue) -> Result<Issue, RallyError> {
        let t = n.artifact_type.unwrap_or(ArtifactType::UserStory);
        let title = validate::title(&n.title)?;
        let op = Op::new("createIssue", Some(&title));
        let description = n.description.as_deref().map(validate::description).transpose()?;
        let priority = n.priority.map(validate::priority).transpose()?;
        let due = n.due_date.as_deref().map(validate::due_date).transpose()?;
        validate::fields_for_type(t, priority.is_some(), due.is_some())?;
        let work = validate::WorkInput {
            blocked: n.blocked,
            blocked_reason: n.blocked_reason.as_deref(),
            estimate: n.estimate,
            to_do: n.to_do,
            actuals: n.actuals,
        };
        let work = validate::work_fields(Some(t), &work)?;
        let labels = n.labels.as_deref().map(validate::labels).transpose()?;
        let team = n.team.as_deref().map(validate::team).transpose()?;
        let parent = n.parent.as_deref().map(|p| parse_issue_id(p, "parent")).transpose()?;
        if t == ArtifactType::Task && parent.is_none() {
            return Err(RallyError::invalid(
                "parent",
                "a Task needs a parent (its WorkProduct): a user story or defect",
            ));
        }
        if team.is_none() && self.settings.project.is_none() {
            return Err(RallyError::invalid(
                "team",
                "no team given and no project configured; pass team or set project",
            ));
        }
        // The custom fields (and the workspace's required ones) are checked, and the lookups
        // (project, owner, parent, existing tags) made, at once: one round when cold. Errors
        // are reported in this order; tags are only created, and the item written, once every
        // check passed.
        let assignee = n.assignee.as_deref().filter(|a| !a.trim().is_empty());
        let wanted_tags = labels.as_deref().filter(|l| !l.is_empty());
        let (custom, project, owner, parent_field, ()) = futures_util::future::join5(
            self.custom_write_fields(&op, t, n.custom_fields.as_ref(), true),
            async {
                match (&team, &self.settings.project) {
                    (Some(team), _) => self.resolve_project(&op, team).await,
                    (_, p) => Ok(p.clone().unwrap_or_default()),
                }
            },
            async {
                match assignee {
                    Some(a) => self.resolve_user(&op, a, "assignee").await.map(Some),
                    None => Ok(None),
                }
            },
            async {
                match &parent {
                    Some(p) => self.parent_field(&op, t, p, n.parent.as_deref().unwrap_or_default()).await.map(Some),
                    None => Ok(None),
                }
            },
            async {
                if let Some(names) = wanted_tags {
                    self.find_tags(&op, names).await;
                }
            },
        )
        .await;
        let (custom, project, owner, parent_field) = (custom?, project?, owner?, parent_field?);
        let mut fields = custom;
        fields.insert("Name".into(), Value::String(title.clone()));
        fields.insert("Project".into(), Value::String(project.clone()));
        if let Some(w) = &self.settings.workspace {
            fields.insert("Workspace".into(), Value::String(w.clone()));
        }
        if let Some(d) = description {
            fields.insert("Description".into(), Value::String(d));
        }
        if let Some(p) = priority {
            fields.insert("Priority".into(), Value::String(priority_to_rally(p).into()));
        }
        if let Some(d) = due {
            let field = if t == ArtifactType::Feature { "PlannedEndDate" } else { "TargetDate" };
            fields.insert(field.into(), Value::String(d));
        }
        if let Some(o) = owner {
            fields.insert("Owner".into(), Value::String(o));
        }
        if let Some(names) = wanted_tags {
            let refs = self.resolve_tags(&op, names).await?;
            fields.insert("Tags".into(), Value::Array(refs.into_iter().map(|r| json!({ "_ref": r })).collect()));
        }
        if let Some((field, r)) = parent_field {
            fields.insert(field.into(), Value::String(r));
        }
        // A new item is not blocked: `blocked: false` sends nothing.
        let unset = |k: &str, v: &Value| match (k, v) {
            ("BlockedReason", Value::String(r)) => r.is_empty(),
            ("Blocked", Value::Bool(b)) => !b,
            _ => false,
        };
        fields.extend(work.into_iter().filter(|(k, v)| !unset(k, v)));
        let body = to_body(t.type_name(), fields.clone());
        let path = format!("{}/create", t.type_path());
        let fetch = self.artifact_fetch(&op).await?;
        let started = SystemTime::now();
        let what = format!("{title:?}");
        let create = self.create_reconciled(
            &op,
            &what,
            || self.create_once::<RallyArtifact>(&op, &path, &fetch, &body),
            || self.find_recent_artifact(&op, t, &fields, started),
        );
        // A new feature's state is read against the Feature order: look it up meanwhile.
        let (stored, ()) = futures_util::future::join(create, self.warm_orders(&op, Some(t))).await;
        let stored = stored?;
        if let Some(oid) = stored.object_id {
            self.cache.mark_created(oid);
        }
        self.normalize(&op, &stored).await
    }

    /// The artifact a lost create would have made: same type, created by this key's owner after
    /// the create was first sent, with every field the create set (`fields`, the create's own
    /// body) as it set it, and not one this tracker already created.
    async fn find_recent_artifact(
        &self,
        op: &Op,
        t: ArtifactType,
        fields: &Map<String, Value>,
        started: SystemTime,
    ) -> Result<Found<RallyArtifact>, RallyError> {
        let me = self.me(op).await?;
        let since = self.reconcile_since(started);
        let text = |k: &str| fields.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
        let mut q = Query::eq("Name", text("Name").as_str())
            .and(Query::eq("Project", QValue::Ref(text("Project"))))
            .and(Query::eq("CreatedBy", QValue::Ref(me)))
            .and(Query::ge("CreationDate", since.at.as_str()));
        for parent in PARENT_FIELDS {
            if let Some(r) = fields.get(parent).and_then(Value::as_str) {
                q = q.and(Query::eq(parent, QValue::Ref(r.to_string())));
            }
        }
        // The custom fields the create set are compared too, so they are fetched.
        let mut fetch = ARTIFACT_FETCH.to_string();
        for k in fields.keys().filter(|k| k.starts_with("c_")) {
            fetch.push(',');
            fetch.push_str(k);
        }
        let spec = QuerySpec {
            type_path: t.type_path(),
            query: Some(q.render()),
            fetch: &fetch,
            order: Some("CreationDate desc,ObjectID desc"),
            scope: Scope::Workspace,
            types: None,
        };
        let r: QueryResult<RallyArtifact> = self.query_page(op, &spec, 1, 200).await?;
        Ok(Found::within(
            &since,
            r.results
                .into_iter()
                .filter(|a| a.object_id.is_some_and(|oid| !self.cache.was_created_here(oid)))
                .filter(|a| matches_create(a, fields))
                .collect(),
            |a| a.formatted_id.clone().unwrap_or_else(|| format!("ObjectID {:?}", a.object_id)),
        ))
    }

    /// The parent field for a new artifact of type `t` and the parent's ref.
    async fn parent_field(
        &self,
        op: &Op,
        t: ArtifactType,
        p: &IssueId,
        input: &str,
    ) -> Result<(&'static str, String), RallyError> {
        let shown = Self::shown(p, input);
        let (path, oid) = match p {
            IssueId::Ref { type_path: Some(path), object_id } => (path.clone(), *object_id),
            _ => match self.locate(op, p, &shown, false).await {
                Ok(l) => (l.artifact_type.type_path().to_string(), l.object_id),
                // Not one of our four (an initiative above a feature): any artifact will do here.
                Err(RallyError::InvalidInput { .. }) => {
                    let a = self.fetch_artifact(op, p, &shown).await?;
                    let (path, oid) = a.r#ref.as_deref().and_then(crate::ids::parse_object_ref).ok_or_else(|| {
                        RallyError::Protocol { operation: op.label(), excerpt: "the parent has no ref".into() }
                    })?;
                    (path, oid)
                }
                Err(RallyError::NotFound { id }) => {
                    return Err(RallyError::invalid("parent", format!("no such issue: {id}")))
                }
                Err(e) => return Err(e),
            },
        };
        let pt = ArtifactType::from_type_name(&path);
        let field = match (t, pt) {
            (ArtifactType::Task, Some(ArtifactType::UserStory | ArtifactType::Defect)) => "WorkProduct",
            (ArtifactType::UserStory, Some(ArtifactType::UserStory)) => "Parent",
            (ArtifactType::UserStory, Some(ArtifactType::Feature)) => "PortfolioItem",
            (ArtifactType::Defect, Some(ArtifactType::UserStory)) => "Requirement",
            (ArtifactType::Feature, None) if path.starts_with("portfolioitem/") => "Parent",
            _ => {
                return Err(RallyError::invalid(
                    "parent",
                    format!(
                        "{shown} ({path}) cannot be the parent of a {}: a Task takes a story or defect, a story a \
                         story or feature, a defect a story, a feature a higher portfolio item",
                        t.as_str()
                    ),
                ))
            }
        };
        Ok((field, format!("/{path}/{oid}")))
    }
}
