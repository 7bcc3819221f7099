// Shared pieces of the benchmark: the simulator process, its control surface, raw WSAPI calls
// (for setup and for the plain-JS comparison) and the statistics.

import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const API = '/slm/webservice/v2.0';

/** A description as Rally's rich-text editor stores it; the marker word lets a search find it. */
export const RICH_MARKER = 'richbenchmarker';
export const RICH_DESCRIPTION = '<div><b>Steps to reproduce</b></div><div><ol><li>Open the <i>checkout</i> page'
  + ' on a phone</li><li>Add two items &amp; apply the code <code>SPRING25</code></li><li>Press <b>Pay</b></li>'
  + '</ol></div><div>Expected: the confirmation page.&nbsp;Actual: a spinner, then'
  + ' <span style="color:#c00">HTTP 500</span>; see <a href="https://logs.example.com/q?id=42">the log</a>.</div>'
  + '<div><br></div><table><tbody><tr><td>Browser</td><td>Result</td></tr><tr><td>Safari 17</td><td>fails</td>'
  + `</tr><tr><td>Chrome 120</td><td>works</td></tr></tbody></table><div>Tag: ${RICH_MARKER}</div>`;

/** The release simulator when one was built, else the debug one (it is fast enough on loopback). */
export function simBinary() {
  for (const p of ['target/release/rally-sim', 'target/debug/rally-sim']) {
    if (existsSync(path.join(ROOT, p))) return path.join(ROOT, p);
  }
  return null;
}

export function addonBuilt() {
  return readdirSync(ROOT).some((f) => f.startsWith('panopticon-rally.') && f.endsWith('.node'));
}

/**
 * Starts rally-sim on 127.0.0.1 (an ephemeral port) and resolves with its JSON line plus `stop()`.
 * stdin stays a pipe: if this process dies, the simulator sees EOF and exits by itself.
 */
export function startSim({ seed, apiKey, latencyMs }) {
  const bin = simBinary();
  if (!bin) throw new Error('rally-sim is not built: run `cargo build -p rally-sim`');
  const args = ['--port', '0', '--seed', String(seed), '--api-key', apiKey,
    '--latency-ms', String(latencyMs), '--max-seconds', '900'];
  const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (chunk) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      child.stdout.off('data', onData);
      child.stdout.resume();
      try {
        const info = JSON.parse(buf.slice(0, nl));
        const stop = () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        };
        resolve({ ...info, latencyMs, bin, pid: child.pid, stop });
      } catch (e) {
        child.kill('SIGTERM');
        reject(new Error(`rally-sim printed no JSON line: ${e.message}`));
      }
    };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`rally-sim exited early (code ${code})`)));
  });
}

/**
 * A plain node:http request. The harness does not use `fetch` itself: loading undici costs a
 * child process tens of MB of RSS that would be charged to the scenario it measures.
 */
export function request(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function control(sim, method, p) {
  const res = await request(`${sim.url}/__sim/${p}`, { method });
  if (res.status !== 200) throw new Error(`/__sim/${p}: HTTP ${res.status} ${res.text}`);
  return JSON.parse(res.text);
}

export const simStats = (sim) => control(sim, 'GET', 'stats');
export const simReset = (sim) => control(sim, 'POST', 'reset');
export const simLog = (sim) => control(sim, 'GET', 'log');
export const simBulk = (sim, type, count) =>
  control(sim, 'POST', `bulk?type=${encodeURIComponent(type)}&count=${count}`);

export const wsapiUrl = (sim, pathAndQuery) =>
  (pathAndQuery.startsWith('/') ? `${sim.url}${pathAndQuery}` : `${sim.url}${API}/${pathAndQuery}`);

/** A raw WSAPI call with the key in `ZSESSIONID`; returns the response text. */
export async function wsapiText(sim, pathAndQuery, init = {}) {
  const res = await request(wsapiUrl(sim, pathAndQuery), {
    ...init,
    headers: { ZSESSIONID: sim.apiKey, 'content-type': 'application/json', ...(init.headers ?? {}) },
  });
  if (res.status !== 200) throw new Error(`${init.method ?? 'GET'} ${pathAndQuery.split('?')[0]}: HTTP ${res.status}`);
  return res.text;
}

export async function wsapi(sim, pathAndQuery, init) {
  const body = JSON.parse(await wsapiText(sim, pathAndQuery, init));
  const env = Object.values(body)[0];
  if (env?.Errors?.length) throw new Error(`${pathAndQuery.split('?')[0]}: ${env.Errors.join('; ')}`);
  return env;
}

/** Stories visible to a tracker configured with the simulator's project (scoped down). */
export async function storyCount(sim) {
  const q = new URLSearchParams({ pagesize: '1', project: sim.project, projectScopeDown: 'true', projectScopeUp: 'false' });
  const r = await wsapi(sim, `hierarchicalrequirement?${q}`);
  return r.TotalResultCount;
}

/** Creates a story directly (setup only: not through the code under test, not counted). */
export async function createStory(sim, name) {
  const r = await wsapi(sim, 'hierarchicalrequirement/create?fetch=FormattedID,ObjectID', {
    method: 'POST',
    body: JSON.stringify({ HierarchicalRequirement: { Name: name, Project: sim.project } }),
  });
  return { fid: r.Object.FormattedID, oid: r.Object.ObjectID };
}

export async function setScheduleState(sim, oid, state) {
  await wsapi(sim, `hierarchicalrequirement/${oid}`, {
    method: 'POST',
    body: JSON.stringify({ HierarchicalRequirement: { ScheduleState: state } }),
  });
}

export function diffRoutes(before, after) {
  const out = {};
  for (const [k, v] of Object.entries(after ?? {})) {
    const d = v - (before?.[k] ?? 0);
    if (d) out[k] = d;
  }
  return out;
}

export const median = (xs) => quantile(xs, 0.5);
/** Nearest-rank quantile: with 10 samples p95 is the largest one. */
export function quantile(xs, q) {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}
