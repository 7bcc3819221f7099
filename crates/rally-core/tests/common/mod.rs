//! An in-process simulator per test, a tracker pointed at it, and the simulator's counters.
#![allow(dead_code)]

use rally_core::{LogEvent, Tracker, TrackerConfig};
use rally_sim::{start, SimConfig, SimHandle};
use serde_json::Value;
use std::sync::{Arc, Mutex};

pub const KEY: &str = "_coreTestKey0001";

pub struct Env {
    pub sim: SimHandle,
    pub http: reqwest::Client,
    pub logs: Arc<Mutex<Vec<LogEvent>>>,
}

pub async fn env() -> Env {
    env_with(SimConfig { api_key: KEY.into(), seed: 113, ..Default::default() }).await
}

pub async fn env_with(cfg: SimConfig) -> Env {
    let sim = start(cfg).await.expect("simulator starts");
    Env { sim, http: reqwest::Client::new(), logs: Arc::default() }
}

impl Env {
    pub fn config(&self) -> TrackerConfig {
        let logs = self.logs.clone();
        TrackerConfig {
            api_key: self.sim.api_key.clone(),
            server: Some(self.sim.url.clone()),
            workspace: Some(self.sim.workspace_ref.clone()),
            project: Some(self.sim.project_ref.clone()),
            logger: Some(Arc::new(move |e: &LogEvent| logs.lock().unwrap().push(e.clone()))),
            ..TrackerConfig::default()
        }
    }

    /// The warnings the trackers built from `config()` logged so far.
    pub fn warnings(&self) -> Vec<String> {
        self.logs.lock().unwrap().iter().filter(|l| l.level == "warn").map(|l| l.message.clone()).collect()
    }

    pub fn tracker(&self) -> Tracker {
        Tracker::new(self.config()).expect("tracker")
    }

    /// A tracker whose caches no other tracker shares: what a process's first tracker costs.
    pub fn cold_tracker(&self) -> Tracker {
        Tracker::new_unshared(self.config()).expect("tracker")
    }

    pub async fn stats(&self) -> Value {
        let r = self.http.get(format!("{}/__sim/stats", self.sim.url)).send().await.expect("stats");
        r.json().await.expect("stats JSON")
    }

    /// Requests the simulator has served since the last reset.
    pub async fn total(&self) -> u64 {
        self.stats().await["total"].as_u64().expect("total")
    }

    /// Requests per route (`"GET /slm/webservice/v2.0/defect"`), as a sorted list.
    pub async fn routes(&self) -> Vec<(String, u64)> {
        let s = self.stats().await;
        let mut v: Vec<(String, u64)> = s["byRoute"]
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0))).collect())
            .unwrap_or_default();
        v.sort();
        v
    }

    pub async fn reset_stats(&self) {
        let r = self.http.post(format!("{}/__sim/reset", self.sim.url)).send().await.expect("reset");
        assert!(r.status().is_success());
    }

    pub async fn faults(&self, spec: &str) {
        let r = self
            .http
            .post(format!("{}/__sim/faults", self.sim.url))
            .body(spec.to_string())
            .send()
            .await
            .expect("faults");
        let status = r.status();
        assert!(status.is_success(), "fault spec {spec:?} rejected: {}", r.text().await.unwrap_or_default());
    }

    pub async fn clear_faults(&self) {
        self.http.delete(format!("{}/__sim/faults", self.sim.url)).send().await.expect("clear faults");
    }

    pub async fn bulk(&self, type_path: &str, count: usize) {
        let r = self
            .http
            .post(format!("{}/__sim/bulk?type={type_path}&count={count}", self.sim.url))
            .send()
            .await
            .expect("bulk");
        assert!(r.status().is_success(), "bulk: {}", r.text().await.unwrap_or_default());
    }

    /// A raw WSAPI GET with the key, to check the simulator's state independently of the tracker.
    pub async fn raw_get(&self, path_and_query: &str) -> Value {
        let r = self
            .http
            .get(format!("{}/{}", self.sim.base, path_and_query.trim_start_matches('/')))
            .header("ZSESSIONID", &self.sim.api_key)
            .send()
            .await
            .expect("raw GET");
        r.json().await.expect("raw JSON")
    }

    /// ObjectID → stored Description HTML of every story in the workspace, read straight from
    /// the simulator (not through the code under test).
    pub async fn stored_html(&self) -> std::collections::HashMap<String, String> {
        let v = self
            .raw_get(&format!(
                "hierarchicalrequirement?fetch=ObjectID,Description&pagesize=2000&workspace={}&project=null",
                self.sim.workspace_ref
            ))
            .await;
        let rows = v["QueryResult"]["Results"].as_array().expect("results");
        rows.iter()
            .map(|a| (a["ObjectID"].as_u64().unwrap().to_string(), a["Description"].as_str().unwrap_or("").to_string()))
            .collect()
    }

    /// Count of artifacts of a type with this exact Name, read straight from the simulator.
    pub async fn count_named(&self, type_path: &str, name: &str) -> u64 {
        let q = format!("(Name = \"{}\")", name.replace('\\', "\\\\").replace('"', "\\\""));
        let v = self
            .http
            .get(format!("{}/{}", self.sim.base, type_path))
            .query(&[("query", q.as_str()), ("workspace", self.sim.workspace_ref.as_str()), ("project", "null")])
            .header("ZSESSIONID", &self.sim.api_key)
            .send()
            .await
            .expect("count")
            .json::<Value>()
            .await
            .expect("count JSON");
        assert_eq!(v["QueryResult"]["Errors"], serde_json::json!([]), "{v}");
        v["QueryResult"]["TotalResultCount"].as_u64().expect("TotalResultCount")
    }
}

impl Env {
    /// Deletes an object as another client would (`DELETE /<type>/<oid>` with the key).
    pub async fn delete_elsewhere(&self, type_path: &str, oid: &str) {
        let r = self
            .http
            .delete(format!("{}/{type_path}/{oid}", self.sim.base))
            .header("ZSESSIONID", &self.sim.api_key)
            .send()
            .await
            .expect("DELETE");
        let v: Value = r.json().await.expect("DELETE JSON");
        assert_eq!(v["OperationResult"]["Errors"], serde_json::json!([]), "{v}");
    }

    /// The ObjectID of the one object of a type with this Name (as Rally stores it).
    pub async fn oid_named(&self, type_path: &str, name: &str) -> String {
        let q = format!("(Name = \"{name}\")");
        let v = self
            .http
            .get(format!("{}/{type_path}", self.sim.base))
            .query(&[("query", q.as_str()), ("fetch", "ObjectID"), ("workspace", self.sim.workspace_ref.as_str())])
            .header("ZSESSIONID", &self.sim.api_key)
            .send()
            .await
            .expect("lookup")
            .json::<Value>()
            .await
            .expect("lookup JSON");
        let rows = v["QueryResult"]["Results"].as_array().cloned().unwrap_or_default();
        assert_eq!(rows.len(), 1, "{v}");
        rows[0]["ObjectID"].to_string()
    }
}
