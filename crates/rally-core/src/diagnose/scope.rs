//! The workspace and project checks: each configured one exists and the key can read it; when
//! one is missing, the ones the key can use are listed to choose from.

use super::*;

impl Doctor {
    pub(super) async fn check_workspace(&self, mut report: Report) -> Result<Report, Report> {
        let Some(ws) = self.settings.workspace.clone() else {
            let list = self.list_workspaces().await.unwrap_or_default();
            let detail = match list.len() {
                0 => "no workspace configured; Rally uses the key owner's default workspace".to_string(),
                1 => format!("no workspace configured; the key sees one workspace: {}", describe(&list[..])),
                n => format!("no workspace configured; the key sees {n} workspaces: {}", describe(&list)),
            };
            let hint = (list.len() > 1).then(|| "set RALLY_WORKSPACE (or --workspace) to one of them".to_string());
            if list.len() == 1 {
                report.workspace = list.first().cloned();
            }
            report.checks.push(Check { name: "workspace", ok: true, detail, hint });
            report.workspaces = list;
            return Ok(report);
        };
        match self.get_one(ws.trim_start_matches('/'), "Name,ObjectID").await {
            Ok(Some(w)) => {
                let named = Named { name: str_field(&w, "Name").unwrap_or_default(), reference: ws.clone() };
                report.pass("workspace", format!("workspace {} \"{}\" exists and the key can see it", ws, named.name));
                report.workspace = Some(named);
                Ok(report)
            }
            Ok(None) => {
                report.workspaces = self.list_workspaces().await.unwrap_or_default();
                let hint = if report.workspaces.is_empty() {
                    "check the ObjectID (Rally → the workspace's URL) and that the key's user is a member".to_string()
                } else {
                    format!("the key sees: {}", describe(&report.workspaces))
                };
                Err(report.fail(
                    "workspace",
                    Problem::NotFound,
                    format!("workspace {ws} does not exist or this key cannot see it"),
                    Some(hint),
                ))
            }
            Err(e) => Err(report.fail("workspace", code_of(&e), e.to_string(), None)),
        }
    }

    pub(super) async fn check_project(&self, mut report: Report) -> Result<Report, Report> {
        let Some(p) = self.settings.project.clone() else {
            report.projects = self.list_projects().await.unwrap_or_default();
            let mut detail = "no project configured: listIssues covers the whole workspace".to_string();
            if !report.projects.is_empty() {
                detail.push_str(&format!("; projects: {}", describe(&report.projects)));
            }
            report.checks.push(Check {
                name: "project",
                ok: true,
                detail,
                hint: Some(
                    "set RALLY_PROJECT (or --project) to narrow the scope; createIssue needs a project or a team"
                        .into(),
                ),
            });
            return Ok(report);
        };
        match self.get_one(p.trim_start_matches('/'), "Name,ObjectID,Workspace").await {
            Ok(Some(obj)) => {
                let name = str_field(&obj, "Name").unwrap_or_default();
                let owner_ws = obj.get("Workspace").and_then(|w| ref_tail(w, "workspace"));
                let want = report.workspace.as_ref().map(|w| w.reference.clone());
                if let (Some(want), Some(got)) = (want, &owner_ws) {
                    if &want != got {
                        return Err(report.fail(
                            "project",
                            Problem::NotFound,
                            format!("project {p} \"{name}\" belongs to workspace {got}, not to {want}"),
                            Some(format!("set RALLY_WORKSPACE={got}, or pick a project of {want}")),
                        ));
                    }
                }
                if report.workspace.is_none() {
                    report.workspace = owner_ws.map(|reference| Named { reference, name: String::new() });
                }
                report.pass("project", format!("project {p} \"{name}\" exists in the workspace"));
                report.project = Some(Named { reference: p, name });
                Ok(report)
            }
            Ok(None) => {
                report.projects = self.list_projects().await.unwrap_or_default();
                let hint = if report.projects.is_empty() {
                    "check the ObjectID (the project=/project/<ObjectID> part of a Rally URL) and the key's project permissions".to_string()
                } else {
                    format!("projects the key sees in this workspace: {}", describe(&report.projects))
                };
                Err(report.fail(
                    "project",
                    Problem::NotFound,
                    format!("project {p} does not exist in this workspace or this key cannot see it"),
                    Some(hint),
                ))
            }
            Err(e) => Err(report.fail("project", code_of(&e), e.to_string(), None)),
        }
    }

    async fn list_workspaces(&self) -> Result<Vec<Named>, RallyError> {
        let sub = self.get_one("subscription", "ObjectID").await?.and_then(|s| oid_of(&s));
        match sub {
            Some(oid) => self.query_named(&format!("Subscription/{oid}/Workspaces"), Vec::new()).await,
            None => Ok(Vec::new()),
        }
    }

    async fn list_projects(&self) -> Result<Vec<Named>, RallyError> {
        let mut params = Vec::new();
        if let Some(ws) = &self.settings.workspace {
            params.push(("workspace", ws.clone()));
        }
        self.query_named("project", params).await
    }
}
