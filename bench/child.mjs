// One benchmark scenario in a fresh Node process, so its peak RSS (maxRSS) is its own.
// Usage (from run.mjs only): node --expose-gc bench/child.mjs <base64 JSON spec>
// Prints one line `RESULT <json>`: per-sample wall/CPU/round trips, maxInFlight, maxRSS.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import {
  ROOT, createStory, diffRoutes, setScheduleState, simLog, simReset, simStats, wsapi, wsapiText, wsapiUrl,
} from './lib.mjs';
import { mapArtifactNaive } from './plainjs.mjs';

const spec = JSON.parse(Buffer.from(process.argv[2] ?? '', 'base64').toString('utf8'));
const sim = spec.sim;

async function loadTracker() {
  // Panopticon's own TypeScript adapter, transpiled at run time (bench/panopticon-ts.mjs).
  if (spec.panoDir) return (await import(path.join(spec.panoDir, 'rally.js'))).RallyTracker;
  const mjs = path.join(ROOT, 'rally.mjs');
  if (existsSync(mjs)) return (await import(mjs)).RallyTracker;
  return createRequire(import.meta.url)(path.join(ROOT, 'rally.js')).RallyTracker;
}

const gc = () => globalThis.gc?.();

/**
 * The longest the event loop was blocked (what a dashboard or CLI would feel as a freeze). A
 * block at the very end is only recorded when the next timer fires, hence the short wait.
 */
async function loopMax(h) {
  await new Promise((resolve) => setTimeout(resolve, 5));
  h.disable();
  return h.max / 1e6;
}

/** Runs `fn` once and measures it: wall, process CPU (all threads, user+sys), requests at the sim. */
async function measure(fn) {
  gc();
  await simReset(sim); // zeroes the counters and maxInFlight; requests still running stay counted
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const out = await fn();
  const wallMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const loopBlockMs = await loopMax(loop);
  const st = await simStats(sim);
  // The simulator's own time per request (latency included), to tell its share of the wall.
  const { requests } = await simLog(sim);
  const simMs = requests.length ? requests.reduce((n, r) => n + r.durationMs, 0) / requests.length : undefined;
  const bytes = requests.reduce((n, r) => n + (r.bytes ?? 0), 0);
  return {
    bytes, wallMs, cpuMs: (c.user + c.system) / 1000, loopBlockMs, trips: st.total, simMs, ...rounds(requests),
    maxInFlight: st.maxInFlight, routes: diffRoutes({}, st.byRoute), out,
  };
}

/**
 * From the simulator's log: how many sequential rounds the requests formed (a request starting
 * after every request of the current round had begun and one of them had ended opens a new
 * round) and how long the simulator was busy from the first start to the last end.
 */
function rounds(requests) {
  if (!requests.length) return {};
  const rs = requests.map((r) => ({ start: r.startedMs, end: r.startedMs + r.durationMs })).sort((a, b) => a.start - b.start);
  let waves = 1;
  let firstEnd = rs[0].end;
  for (const r of rs.slice(1)) {
    // startedMs has millisecond resolution: a request sent when another's answer arrived can
    // appear to start a little before that one's end.
    if (r.start >= firstEnd - 2) {
      waves += 1;
      firstEnd = r.end;
    } else {
      firstEnd = Math.min(firstEnd, r.end);
    }
  }
  return { waves, simBusyMs: Math.max(...rs.map((r) => r.end)) - rs[0].start };
}

let counter = 0;
const uniq = () => `${process.pid}-${Date.now().toString(36)}-${counter++}`;

// Each op: `run` is measured; `prime` is the uncounted first touch for warm samples; `prep`
// (raw WSAPI, not through the tracker) puts the issue into a known state before either.
const dashboard = (t) => t.listIssues({ includeClosed: false, limit: 100 });

const listAll = (t) => t.listIssues({ includeClosed: true, ...spec.filters });

/** Edits the `k` most recently updated stories in scope through WSAPI (a new Name each). */
async function editNewest(k) {
  if (!k) return;
  const q = new URLSearchParams({
    fetch: 'ObjectID', order: 'LastUpdateDate desc', pagesize: String(k), project: sim.project, projectScopeDown: 'true',
  });
  for (const { ObjectID } of (await wsapi(sim, `hierarchicalrequirement?${q}`)).Results) {
    await wsapi(sim, `hierarchicalrequirement/${ObjectID}`, {
      method: 'POST', body: JSON.stringify({ HierarchicalRequirement: { Name: `Edited ${uniq()}` } }),
    });
  }
}

const OPS = {
  getIssue: { run: (t, s) => t.getIssue(s.fid) },
  getComments: { run: (t, s) => t.getComments(s.fid) },
  createIssue: {
    run: (t) => t.createIssue({ title: `Bench story ${uniq()}`, description: 'Made by the **benchmark**.\n\n- one\n- two' }),
  },
  createLabelled: {
    run: (t) => t.createIssue({ title: `Bench story ${uniq()}`, labels: ['bench', 'perf'], assignee: 'me' }),
  },
  updateIssue: { run: (t, s) => t.updateIssue(s.fid, { title: `Renamed ${uniq()}` }) },
  transitionIssue: {
    prep: (s) => setScheduleState(sim, s.oid, 'Defined'),
    prime: (t, s) => t.transitionIssue(s.fid, 'closed'),
    run: (t, s) => t.transitionIssue(s.fid, 'in_progress'),
  },
  transitionNoop: {
    prep: (s) => setScheduleState(sim, s.oid, 'In-Progress'),
    prime: (t, s) => t.getIssue(s.fid),
    run: (t, s) => t.transitionIssue(s.fid, 'in_progress'),
  },
  addComment: { run: (t, s) => t.addComment(s.fid, `Bench comment ${uniq()}`) },
  linkPR: { run: (t, s) => t.linkPR(s.fid, `https://github.com/acme/shop/pull/${counter++}${process.pid}`) },
  deleteIssue: {
    prep: async (s) => Object.assign(s, await createStory(sim, `To delete ${uniq()}`)),
    prime: (t, s) => t.getIssue(s.fid),
    run: (t, s) => t.deleteIssue(s.fid),
  },
  listDashboard: { run: (t) => t.listIssues({ includeClosed: false, limit: 100 }) },
  // The dashboard's poll, by a new tracker each time (as Panopticon's board builds one per
  // request): after a first list, nothing changed / 10 stories edited / 1 story deleted.
  pollUnchanged: { prime: (t) => dashboard(t), run: (t) => dashboard(new t.constructor(t.__config)) },
  poll10Changed: {
    prime: async (t) => {
      await dashboard(t);
      // The 10 newest open stories (on the dashboard either way), edited through WSAPI.
      const q = new URLSearchParams({
        fetch: 'ObjectID', order: 'LastUpdateDate desc', pagesize: '10', query: '(ScheduleState < "Completed")',
        project: sim.project, projectScopeDown: 'true',
      });
      for (const { ObjectID } of (await wsapi(sim, `hierarchicalrequirement?${q}`)).Results) {
        await wsapi(sim, `hierarchicalrequirement/${ObjectID}`, {
          method: 'POST', body: JSON.stringify({ HierarchicalRequirement: { Name: `Polled ${uniq()}` } }),
        });
      }
    },
    run: (t) => dashboard(new t.constructor(t.__config)),
  },
  poll1Deleted: {
    prime: async (t) => {
      const s = await createStory(sim, `Poll delete ${uniq()}`);
      await dashboard(t);
      await wsapiText(sim, `hierarchicalrequirement/${s.oid}`, { method: 'DELETE' });
    },
    run: (t) => dashboard(new t.constructor(t.__config)),
  },
  // Three trackers of one configuration listing at once (three tabs, three commands).
  threeTrackers: { run: (t) => Promise.all([0, 1, 2].map(() => dashboard(new t.constructor(t.__config)))) },
  // `changes` > 0: that many of the newest stories are edited after each priming list.
  listAll: {
    prime: async (t) => {
      await listAll(t);
      await editNewest(spec.changes ?? 0);
    },
    run: (t) => listAll(t),
  },
  // A repeat list by a new tracker of the same configuration: nothing changed, or `changes`
  // of the newest stories edited since the last list.
  pollList: {
    prime: async (t) => {
      await listAll(t);
      await editNewest(spec.changes ?? 0);
    },
    run: (t) => listAll(new t.constructor(t.__config)),
  },
  gets: { run: (t) => Promise.all(spec.fids.map((fid) => t.getIssue(fid))) },
};

async function runOp(RallyTracker) {
  const op = OPS[spec.op];
  if (!op) throw new Error(`unknown op ${spec.op}`);
  const config = { apiKey: sim.apiKey, server: sim.url, workspace: sim.workspace, project: sim.project, ...spec.config };
  const make = () => Object.assign(new RallyTracker(config), { __config: config });
  const warmTracker = spec.mode === 'warm' ? make() : null;
  const samples = [];
  for (let i = 0; i < spec.samples; i++) {
    const subject = { ...(spec.subjects?.[i % spec.subjects.length] ?? {}) };
    if (op.prep) await op.prep(subject);
    const t = warmTracker ?? make();
    for (let k = 0; warmTracker && k < (spec.primes ?? 1); k++) await (op.prime ?? op.run)(t, subject);
    const m = await measure(() => op.run(t, subject));
    const len = Array.isArray(m.out) ? m.out.length : undefined;
    if (spec.expectLen !== undefined && len !== spec.expectLen) {
      throw new Error(`${spec.op} returned ${len} issues, expected ${spec.expectLen}`);
    }
    delete m.out;
    samples.push({ ...m, len });
  }
  return samples;
}

// The plain-JS comparison: fetch the same WSAPI pages the addon fetched (with `fetch`, as a
// TypeScript adapter would), then JSON.parse each page and map every artifact to the Issue
// shape. CPU is measured around the parse + map only (`cpuMs`) and around fetch + parse + map
// (`cpuWithFetchMs`).
async function fetchText(p) {
  const res = await fetch(wsapiUrl(sim, p), { headers: { ZSESSIONID: sim.apiKey } });
  if (!res.ok) throw new Error(`GET ${p.split('?')[0]}: HTTP ${res.status}`);
  return res.text();
}

async function runPlainJs() {
  gc();
  // Enabled before the fetches: the first timer tick after enable() records no delay.
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const texts = await Promise.all(spec.paths.map(fetchText));
  const c1 = process.cpuUsage();
  const t1 = performance.now();
  const issues = [];
  // The consistent-snapshot pages overlap at their seams: each item is mapped once, as the
  // addon returns it once.
  const seen = new Set();
  for (const text of texts) {
    const qr = JSON.parse(text).QueryResult;
    for (const a of qr.Results) {
      if (seen.has(a.ObjectID)) continue;
      seen.add(a.ObjectID);
      issues.push(mapArtifactNaive(a, 'https://rally1.rallydev.com'));
    }
  }
  const t2 = performance.now();
  const c2 = process.cpuUsage();
  const cpu = (a, b) => (b.user - a.user + b.system - a.system) / 1000;
  const loopBlockMs = await loopMax(loop);
  if (spec.expectLen !== undefined && issues.length !== spec.expectLen) {
    throw new Error(`plain JS mapped ${issues.length} artifacts, expected ${spec.expectLen}`);
  }
  return [{
    wallMs: t2 - t1, cpuMs: cpu(c1, c2), cpuWithFetchMs: cpu(c0, c2), wallWithFetchMs: t2 - t0, loopBlockMs,
    trips: spec.paths.length, len: issues.length, bytes: texts.reduce((n, t) => n + t.length, 0),
  }];
}

async function main() {
  let samples = [];
  if (spec.op === 'plainJs') {
    samples = await runPlainJs();
  } else if (spec.op === 'idle') {
    await loadTracker();
  } else {
    samples = await runOp(await loadTracker());
  }
  const maxRssMB = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`RESULT ${JSON.stringify({ samples, maxRssMB })}\n`);
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stdout.write(`RESULT ${JSON.stringify({ error: `${e?.code ?? ''} ${e?.message ?? e}`.trim() })}\n`);
    process.exit(1);
  },
);
