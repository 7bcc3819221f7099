//! Node binding of `rally_core`: converts values and maps errors, nothing else. The package's
//! JS entry (`rally.js`) wraps this class with error classes and argument type checks.

mod alloc;
mod doctor;
mod error;
mod ids;
mod items;
mod json;
mod numbers;
mod types;

use error::{guard, promise};
use napi::bindgen_prelude::PromiseRaw;
use napi::threadsafe_function::ThreadsafeFunctionCallMode;
use napi::Env;
use napi_derive::napi;
use rally_core as core;
use std::sync::{Arc, Mutex};

pub use types::*;

/// Panopticon's `IssueTracker` over Rally WSAPI v2.0 (native part; use the package entry).
#[napi]
pub struct RallyTracker {
    inner: Arc<core::Tracker>,
}

/// The core's options; refuses a number option that is not a whole number in its range.
pub(crate) fn core_config(c: RallyTrackerConfig) -> Result<core::TrackerConfig, core::RallyError> {
    use core::integers::{MAX_CONCURRENCY, MAX_RESULTS, MAX_RETRIES, TIMEOUT_MS};
    let count = |n: Option<u64>| n.map(|n| usize::try_from(n).unwrap_or(usize::MAX));
    let timeout = numbers::optional(TIMEOUT_MS, c.timeout_ms)?.map(std::time::Duration::from_millis);
    let max_concurrency = count(numbers::optional(MAX_CONCURRENCY, c.max_concurrency)?);
    let max_retries = numbers::optional(MAX_RETRIES, c.max_retries)?.map(|n| u32::try_from(n).unwrap_or(u32::MAX));
    let max_results = count(numbers::optional(MAX_RESULTS, c.max_results)?);
    let logger = c.logger.map(|tsfn| {
        let log: core::Logger = Arc::new(move |event: &core::LogEvent| {
            // Non-blocking: a log line must never stall a request; if the queue is closed
            // (the environment is shutting down) the event is dropped.
            let _ = tsfn.call(
                LogEvent { level: event.level.to_string(), message: event.message.clone() },
                ThreadsafeFunctionCallMode::NonBlocking,
            );
        });
        log
    });
    Ok(core::TrackerConfig {
        api_key: c.api_key,
        server: c.server,
        workspace: c.workspace,
        project: c.project,
        project_scope_down: c.project_scope_down,
        project_scope_up: c.project_scope_up,
        artifact_types: c.artifact_types.map(|ts| ts.into_iter().map(Into::into).collect()),
        timeout,
        max_concurrency,
        max_retries,
        max_results,
        proxy: c.proxy,
        ca_certs: c.ca_certs,
        allow_insecure_http: c.allow_insecure_http,
        logger,
        custom_fields: c.custom_fields,
        create_defaults: c.create_defaults,
        pr_links: c.pr_links,
    })
}

#[napi]
impl RallyTracker {
    /// Validates the options (no I/O). Throws on an empty key or an invalid option.
    #[napi(constructor)]
    pub fn new(env: &Env, config: RallyTrackerConfig) -> napi::Result<Self> {
        let tracker = guard(env, move || core::Tracker::new(core_config(config)?))?;
        Ok(RallyTracker { inner: Arc::new(tracker) })
    }

    #[napi(getter, ts_return_type = "'rally'")]
    pub fn name(&self) -> &'static str {
        "rally"
    }

    #[napi]
    pub fn list_issues<'env>(
        &self,
        env: &'env Env,
        filters: Option<IssueFilters>,
    ) -> napi::Result<PromiseRaw<'env, Vec<Issue>>> {
        let t = self.inner.clone();
        promise(env, async move {
            let f = filters.map(core::IssueFilters::try_from).transpose()?.unwrap_or_default();
            Ok(t.list_issues(f).await?.into_iter().map(Into::into).collect())
        })
    }

    /// `listIssues` as JSON arrays (`json.rs`): what `rally.js` calls. The list is read here;
    /// its issues are taken a chunk at a time from what the promise resolves to.
    #[napi]
    pub fn list_issues_json<'env>(
        &self,
        env: &'env Env,
        filters: Option<IssueFilters>,
    ) -> napi::Result<PromiseRaw<'env, IssueChunks>> {
        let t = self.inner.clone();
        promise(env, async move {
            let f = filters.map(core::IssueFilters::try_from).transpose()?.unwrap_or_default();
            let listed = t.list(f).await?;
            let items = listed.remaining();
            Ok(IssueChunks { state: Arc::new(Mutex::new(Some(Chunking { tracker: t, listed, items }))) })
        })
    }

    #[napi]
    pub fn get_issue<'env>(&self, env: &'env Env, id: String) -> napi::Result<PromiseRaw<'env, Issue>> {
        let t = self.inner.clone();
        promise(env, async move { Ok(t.get_issue(&id).await?.into()) })
    }

    #[napi]
    pub fn create_issue<'env>(&self, env: &'env Env, issue: NewIssue) -> napi::Result<PromiseRaw<'env, Issue>> {
        let t = self.inner.clone();
        promise(env, async move { Ok(t.create_issue(issue.try_into()?).await?.into()) })
    }

    #[napi]
    pub fn update_issue<'env>(
        &self,
        env: &'env Env,
        id: String,
        update: IssueUpdate,
    ) -> napi::Result<PromiseRaw<'env, Issue>> {
        let t = self.inner.clone();
        promise(env, async move { Ok(t.update_issue(&id, update.try_into()?).await?.into()) })
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn delete_issue<'env>(&self, env: &'env Env, id: String) -> napi::Result<PromiseRaw<'env, ()>> {
        let t = self.inner.clone();
        promise(env, async move { t.delete_issue(&id).await })
    }

    #[napi]
    pub fn get_comments<'env>(&self, env: &'env Env, issue_id: String) -> napi::Result<PromiseRaw<'env, Vec<Comment>>> {
        let t = self.inner.clone();
        promise(env, async move { Ok(t.get_comments(&issue_id).await?.into_iter().map(Into::into).collect()) })
    }

    #[napi]
    pub fn add_comment<'env>(
        &self,
        env: &'env Env,
        issue_id: String,
        body: String,
    ) -> napi::Result<PromiseRaw<'env, Comment>> {
        let t = self.inner.clone();
        promise(env, async move { Ok(t.add_comment(&issue_id, &body).await?.into()) })
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn transition_issue<'env>(
        &self,
        env: &'env Env,
        id: String,
        state: IssueState,
    ) -> napi::Result<PromiseRaw<'env, ()>> {
        let t = self.inner.clone();
        promise(env, async move { t.transition_issue(&id, state.into()).await })
    }

    #[napi(js_name = "linkPR", ts_return_type = "Promise<void>")]
    pub fn link_pr<'env>(
        &self,
        env: &'env Env,
        issue_id: String,
        pr_url: String,
    ) -> napi::Result<PromiseRaw<'env, ()>> {
        let t = self.inner.clone();
        promise(env, async move { t.link_pr(&issue_id, &pr_url).await })
    }
}

/// The issues of one `listIssuesJson` list, handed out as JSON text a chunk at a time.
#[napi]
pub struct IssueChunks {
    state: Arc<Mutex<Option<Chunking>>>,
}

struct Chunking {
    tracker: Arc<core::Tracker>,
    listed: core::Listed,
    /// The list's length, for the allocator once it is all taken.
    items: usize,
}

#[napi]
impl IssueChunks {
    /// The next issues as a JSON array of about 160 K characters, normalised and written on a
    /// worker thread; `null` once every issue was taken. `rally.js` asks for the next chunk before it
    /// parses this one; calls overlapping otherwise would take chunks in no set order.
    #[napi(ts_return_type = "Promise<string | null>")]
    pub fn next<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, Option<String>>> {
        let state = self.state.clone();
        promise(env, async move {
            let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
            let Some(c) = state.as_mut() else { return Ok(None) };
            let chunk = json::next_chunk(&mut std::iter::from_fn(|| c.tracker.take_issue(&mut c.listed)));
            let chunk = chunk.map_err(|e| core::RallyError::Protocol {
                operation: "listIssues".into(),
                excerpt: format!("the result could not be serialised: {e}"),
            })?;
            if chunk.is_none() {
                let items = c.items;
                *state = None;
                alloc::release_after_list(items);
            }
            Ok(chunk)
        })
    }
}
