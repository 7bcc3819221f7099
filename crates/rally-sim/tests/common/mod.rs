//! Shared test client: a simulator started in-process and a small WSAPI client over reqwest.
#![allow(dead_code)]

use rally_sim::{start, SimConfig, SimHandle};
use serde_json::Value;

pub const KEY: &str = "_testKeyMain0001";

pub struct T {
    pub sim: SimHandle,
    pub http: reqwest::Client,
}

/// A WSAPI GET with `key` on any client (another key, a TLS client, another host name): the body as JSON.
pub async fn get_json(http: &reqwest::Client, url: impl reqwest::IntoUrl, key: &str) -> Value {
    http.get(url).header("ZSESSIONID", key).send().await.expect("GET").json().await.expect("JSON body")
}

pub async fn sim() -> T {
    sim_with(SimConfig { api_key: KEY.into(), seed: 113, ..Default::default() }).await
}

pub async fn sim_with(cfg: SimConfig) -> T {
    let sim = start(cfg).await.expect("simulator starts");
    T { sim, http: reqwest::Client::new() }
}

impl T {
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_string()
        } else if path.starts_with("/__sim") {
            format!("{}{}", self.sim.url, path)
        } else {
            format!("{}{}", self.sim.base, path)
        }
    }

    pub async fn get(&self, path: &str) -> Value {
        let r = self.http.get(self.url(path)).header("ZSESSIONID", &self.sim.api_key).send().await.expect("GET");
        assert_eq!(r.status(), 200, "GET {path}");
        r.json().await.expect("JSON body")
    }

    pub async fn post(&self, path: &str, body: Value) -> Value {
        let r = self
            .http
            .post(self.url(path))
            .header("ZSESSIONID", &self.sim.api_key)
            .json(&body)
            .send()
            .await
            .expect("POST");
        assert_eq!(r.status(), 200, "POST {path}");
        r.json().await.expect("JSON body")
    }

    pub async fn put(&self, path: &str, body: Value) -> Value {
        let r = self
            .http
            .put(self.url(path))
            .header("ZSESSIONID", &self.sim.api_key)
            .json(&body)
            .send()
            .await
            .expect("PUT");
        assert_eq!(r.status(), 200, "PUT {path}");
        r.json().await.expect("JSON body")
    }

    pub async fn delete(&self, path: &str) -> Value {
        let r = self.http.delete(self.url(path)).header("ZSESSIONID", &self.sim.api_key).send().await.expect("DELETE");
        assert_eq!(r.status(), 200, "DELETE {path}");
        r.json().await.expect("JSON body")
    }

    /// `QueryResult` of a query that must succeed.
    pub async fn query(&self, path: &str) -> Value {
        let v = self.get(path).await;
        let q = v["QueryResult"].clone();
        assert_eq!(q["Errors"], serde_json::json!([]), "{path}: {q}");
        q
    }

    /// `Errors` of a query that must fail, with no results.
    pub async fn query_errors(&self, path: &str) -> Vec<String> {
        let v = self.get(path).await;
        let q = &v["QueryResult"];
        assert_eq!(q["TotalResultCount"], 0, "{path}");
        assert_eq!(q["Results"], serde_json::json!([]));
        strings(&q["Errors"])
    }

    pub async fn control(&self, method: reqwest::Method, path: &str) -> Value {
        let r = self.http.request(method, self.url(path)).send().await.expect("control");
        r.json().await.expect("control JSON")
    }
}

pub fn strings(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

pub fn field(rows: &Value, name: &str) -> Vec<String> {
    rows.as_array()
        .map(|a| {
            a.iter()
                .map(|r| match &r[name] {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Relative ref (`/defect/123`) from an absolute `_ref`.
pub fn rel(r: &Value) -> String {
    let s = r.as_str().expect("_ref string");
    let i = s.find("/v2.0/").expect("base path in ref");
    s[i + 5..].to_string()
}

pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'/' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
