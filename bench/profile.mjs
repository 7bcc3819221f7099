// Where a long list's CPU goes: `node bench/profile.mjs [--n 10000] [--set fixtures|bulk]`.
//
// Starts a release rally-sim (0 ms latency), fills it with N stories (the fixture set of
// bench/fixtures.mjs, or the simulator's bulk stories), then runs one `listIssues` of them in a
// fresh Node process under `perf record --call-graph dwarf` (Linux `perf`, e.g. the linux-perf
// package) and sorts every sample by the first frame, leaf upwards, that names a part: WSAPI
// JSON parsing, HTML→Markdown, normalising, JSON out, the hand-over to JS, JSON.parse in JS,
// V8's GC. A Node process that only loads the addon is profiled the same way and subtracted
// (start-up and module load). Prints the split; the samples are the process's CPU time.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { applyFixtures, loadFixtures } from './fixtures.mjs';
import { ROOT, simBulk, startSim, storyCount } from './lib.mjs';

const argv = process.argv.slice(2);
const opt = (k, d) => (argv.includes(`--${k}`) ? argv[argv.indexOf(`--${k}`) + 1] : d);
const N = Number(opt('n', '10000'));
const SET = opt('set', 'fixtures');

const PARTS = [
  ['HTML→Markdown', /markup::|html5ever|htmd|markup5ever|tendril|markdown_cache/],
  ['WSAPI JSON parse (Rust)', /serde_json::de|SliceRead|Deserialize|deserialize|IgnoredAny|rally_types/],
  ['JSON out (Rust)', /serde_json::ser|panopticon_rally::json|Serializer|serialize/],
  ['normalise (rest of the core)', /normalize|rally_core::model|rally_core::mapping|rally_core::custom|merge_newest/],
  ['HTTP receive', /hyper|reqwest|h2::|rustls|mio::|http_body|tcp_|sock_|recv/],
  ['JSON.parse in JS', /JsonParser|JsonParse/],
  ['napi hand-over', /napi/],
];

function classify(script) {
  const counts = new Map();
  for (const block of script.split(/\n\s*\n/)) {
    const lines = block.split('\n').filter((l) => l.trim());
    if (!lines.length) continue;
    const comm = lines[0].trim().split(/\s+/)[0];
    const frames = lines.slice(1);
    let part;
    for (const f of frames) {
      part = PARTS.find(([, rx]) => rx.test(f))?.[0];
      if (part) break;
    }
    if (!part) {
      const all = frames.join(' ');
      part = comm === 'node'
        ? (/Scavenge|MarkCompact|Heap::|Sweeper/.test(all) ? 'V8 GC' : 'V8 / Node other (JS, start-up)')
        : 'addon threads, other (allocation, copies, page faults)';
    }
    counts.set(part, (counts.get(part) ?? 0) + 1);
  }
  return counts;
}

function profile(dir, script, hz) {
  const data = path.join(dir, 'perf.data');
  const rec = spawnSync('perf', ['record', '-F', String(hz), '--call-graph', 'dwarf,16384', '-o', data, '--',
    process.execPath, '--perf-basic-prof', script], { encoding: 'utf8', cwd: dir });
  if (rec.status !== 0) throw new Error(`perf record failed: ${rec.stderr.slice(-300)}`);
  const out = spawnSync('perf', ['script', '-i', data, '-F', 'comm,tid,ip,sym,dso'],
    { encoding: 'utf8', maxBuffer: 1 << 30 });
  return { counts: classify(out.stdout), stdout: rec.stdout };
}

async function main() {
  if (spawnSync('perf', ['--version']).status !== 0) {
    console.error('bench/profile: `perf` is not installed (apt-get install linux-perf)');
    process.exit(2);
  }
  const sim = await startSim({ seed: 200, apiKey: `profile-${process.pid}`, latencyMs: 0 });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rally-profile-'));
  try {
    const have = await storyCount(sim);
    if (have < N) await simBulk(sim, 'hierarchicalrequirement', N - have);
    if (SET === 'fixtures') {
      const fx = loadFixtures();
      if (!fx.ok) throw new Error(`the fixture set needs the fixtures: ${fx.why}`);
      await applyFixtures(sim, fx, await storyCount(sim));
    }
    const cfg = { apiKey: sim.apiKey, server: sim.url, workspace: sim.workspace, project: sim.project,
      artifactTypes: ['UserStory'] };
    const rally = JSON.stringify(path.join(ROOT, 'rally.mjs'));
    const list = path.join(dir, 'list.mjs');
    writeFileSync(list, `const { RallyTracker } = await import(${rally});
const c0 = process.cpuUsage();
const out = await new RallyTracker(${JSON.stringify(cfg)}).listIssues({ includeClosed: true });
const c = process.cpuUsage(c0);
console.log(out.length, ((c.user + c.system) / 1000).toFixed(0));\n`);
    const idle = path.join(dir, 'idle.mjs');
    writeFileSync(idle, `await import(${rally});\n`);
    const hz = 1999;
    const busy = profile(dir, list, hz);
    const base = profile(dir, idle, hz);
    const [len, cpuMs] = busy.stdout.trim().split(/\s+/).map(Number);
    const rows = [...busy.counts].map(([k, v]) => [k, Math.max(0, v - (base.counts.get(k) ?? 0))]);
    const total = rows.reduce((n, [, v]) => n + v, 0);
    console.log(`listIssues of ${len} stories (${SET} set): ${cpuMs} ms of CPU by process.cpuUsage(); `
      + `${total} perf samples at ${hz} Hz after start-up's are subtracted`);
    console.log('| Part | Share of the list\'s CPU |\n|---|---|');
    for (const [k, v] of rows.sort((a, b) => b[1] - a[1])) console.log(`| ${k} | ${((100 * v) / total).toFixed(1)} % |`);
  } finally {
    sim.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`bench/profile: ${e.message}`);
  process.exit(1);
});
