// `npm run bench`: RallyTracker against rally-sim at 0 ms and 50 ms injected latency.
//
// Needs the built addon (`npm run build`; run here when the .node file is missing) and the
// simulator binary (`cargo build -p rally-sim`; likewise). Every scenario runs in its own Node
// process (bench/child.mjs) so its peak RSS is its own; round trips are counted at the
// simulator (/__sim/stats), never inferred. Prints one table and writes it to bench/RESULTS.md.
//
// Options: --latency 0,50   --only <regex on scenario name>   --samples <n> (ops per scenario)
//          --runs <n> (processes per list scenario and per side of a CPU comparison; default 7)
//          --changes <k> (stories edited before a "k changed" poll; default 10)
//          --no-write (print the table, leave bench/RESULTS.md as it is)
// Where the CPU goes: bench/profile.mjs. For a quick look on a busy machine: --latency 0 --runs 2 --only 'poll of|fixtures'.

import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  API, RICH_DESCRIPTION, RICH_MARKER, ROOT, addonBuilt, simBinary, simBulk, simLog, startSim, storyCount, wsapi,
} from './lib.mjs';
import { preparePanopticonTs } from './panopticon-ts.mjs';
import { applyFixtures, loadFixtures } from './fixtures.mjs';
import { buildReport, renderPolls, renderTable } from './report.mjs';

const PANO = preparePanopticonTs();
if (!PANO.dir) console.error(`bench: Panopticon TS adapter column skipped: ${PANO.why}`);

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : dflt;
};
const LATENCIES = opt('latency', '0,50').split(',').map(Number);
const ONLY = new RegExp(opt('only', '.'), 'i');
const SAMPLES = Number(opt('samples', '0')) || null;
const RUNS = Number(opt('runs', '0')) || null;
const CHANGES = Number(opt('changes', '10'));
const WRITE = !argv.includes('--no-write');
// rally-sim's --seed N generates N work items: 200 is a small team's project (70 stories, 44
// defects, 70 tasks, 12 features, 91 posts); the list scenarios add bulk stories on top.
const SEED = 200;

const sims = new Set();
const stopAll = () => { for (const s of sims) s.stop(); };
process.on('exit', stopAll);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { stopAll(); process.exit(130); });

function ensureBuilt() {
  const run = (cmd, args) => {
    console.error(`bench: ${cmd} ${args.join(' ')}`);
    const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed`);
  };
  if (!addonBuilt()) run('npm', ['run', 'build']);
  // The simulator's own time must not be what is measured: always a release build.
  run('cargo', ['build', '-p', 'rally-sim', '--release']);
}

/** Runs one child process; resolves with its RESULT object (or throws its error). */
function runChild(spec, timeoutMs = 180_000) {
  const arg = Buffer.from(JSON.stringify(spec)).toString('base64');
  const child = spawn(process.execPath, ['--expose-gc', path.join(ROOT, 'bench/child.mjs'), arg], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d) => { out += d; });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve, reject) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      const res = line ? JSON.parse(line.slice(7)) : { error: `child exited ${code ?? signal} without a result` };
      if (res.error) reject(new Error(`${spec.op}: ${res.error}`));
      else resolve(res);
    });
  });
}

/** `runs` child processes of `perChild` samples each, merged into one row's data. */
async function scenario(rows, meta, spec, runs = 1) {
  if (!ONLY.test(meta.name)) return;
  const samples = [];
  let rss = 0;
  let error;
  for (let r = 0; r < runs && !error; r++) {
    try {
      const res = await runChild(spec);
      samples.push(...res.samples);
      rss = Math.max(rss, res.maxRssMB);
    } catch (e) {
      error = e.message;
    }
  }
  // Panopticon's TS adapter "where it can run": a refusal by Rally is its figure, not a failure.
  const cannotRun = meta.kind === 'pano' && error ? error.replace(/^[^:]*: /, '') : undefined;
  if (cannotRun) error = undefined;
  const row = { ...meta, latency: spec.sim.latencyMs, samples, rssMB: rss, error, cannotRun };
  rows.push(row);
  console.error(`bench: [${row.latency} ms] ${meta.name} ${meta.mode ?? ''} ${error ? `FAILED: ${error}` : 'done'}`);
}

async function topUpStories(sim, n) {
  const have = await storyCount(sim);
  if (have < n) await simBulk(sim, 'hierarchicalrequirement', n - have);
  const now = await storyCount(sim);
  if (now !== n) throw new Error(`wanted ${n} stories in scope, have ${now}`);
}

/**
 * The page requests of the last measured list, from the simulator's request log (each child
 * resets the log just before its measured call), for the plain-JS replay of the same pages.
 */
async function listPaths(sim) {
  const { requests } = await simLog(sim);
  return requests
    .filter((r) => r.method === 'GET' && r.path.startsWith(`${API}/`) && /[?&]pagesize=/i.test(r.path))
    .map((r) => r.path);
}

/**
 * listIssues of exactly N stories, cold and warm; at 0 ms also the plain-JS replay of the same
 * pages (`compare`). `filters` narrows the list (the rich-description set).
 */
async function lists(rows, sim, N, { compare = false, warm = true, filters, label = '' } = {}) {
  const spec = { sim, op: 'listAll', samples: 1, config: { artifactTypes: ['UserStory'] }, filters, expectLen: N };
  const group = `${N}${label}`;
  const meta = { name: `listIssues ${N.toLocaleString('en')} stories${label}`, kind: 'list', N, group, compare };
  const plainName = `plain JS: fetch + JSON.parse + map ${N.toLocaleString('en')}${label}`;
  const plainMeta = { name: plainName, kind: 'plainJs', mode: 'cold', N, group, label };
  const comparing = compare && sim.latencyMs === 0;
  if (comparing && ONLY.test(meta.name) && ONLY.test(plainName)) {
    // The CPU comparison: the addon's cold list and the plain-JS replay of its pages run
    // alternately, one process each, so a change in the machine's load weighs on both alike.
    await alternate(rows, [
      [{ ...meta, mode: 'cold' }, () => ({ ...spec, mode: 'cold' })],
      [plainMeta, (paths) => ({ sim, op: 'plainJs', paths, expectLen: N })],
    ], COMPARE_RUNS, () => listPaths(sim));
  } else {
    await scenario(rows, { ...meta, mode: 'cold' }, { ...spec, mode: 'cold' }, RUNS ?? (N === 2000 && !label ? 5 : 3));
  }
  const paths = await listPaths(sim);
  if (warm) await scenario(rows, { ...meta, mode: 'warm' }, { ...spec, mode: 'warm' }, 2);
  // A dashboard refreshing the same big list: the memory a long-lived process settles at.
  if (warm && N === 10000 && sim.latencyMs > 0) {
    await scenario(rows, { ...meta, name: `${meta.name}, 6th list in a row`, mode: 'warm', repeated: true },
      { ...spec, mode: 'warm', primes: 5 }, 1);
    // The same with the CHANGES newest stories edited before each list (a busy workspace).
    await scenario(rows, {
      ...meta, name: `${meta.name}, 6th list in a row, ${CHANGES} edited before each`, mode: 'warm', repeated: true,
    }, { ...spec, mode: 'warm', primes: 5, changes: CHANGES }, 1);
  }
  if (comparing && !(ONLY.test(meta.name) && ONLY.test(plainName))) {
    await scenario(rows, plainMeta, { sim, op: 'plainJs', paths, expectLen: N }, 3);
  }
}

/**
 * Repeat lists of the N stories in scope by a new tracker of one configuration (a board's
 * poll): nothing changed, and after the `CHANGES` newest stories were edited. Requests, bytes
 * and time per poll: the `pollN` rows and the "Polls by backlog" table.
 */
async function backlogPolls(rows, sim, N) {
  for (const changes of [0, CHANGES]) {
    const what = changes ? `${changes} changed` : 'nothing changed';
    const name = `poll of ${N.toLocaleString('en')} stories, new tracker, ${what}`;
    await scenario(rows, { name, kind: 'pollN', N, changes, mode: 'warm' }, {
      sim, op: 'pollList', mode: 'warm', samples: SAMPLES ?? (N > 2000 ? 3 : 5), changes,
      config: { artifactTypes: ['UserStory'] }, expectLen: N,
    });
  }
}

/** Processes per side in the addon / plain-JS CPU comparison. */
const COMPARE_RUNS = RUNS ?? 7;

/**
 * Rows measured in turns: each round runs one child process of every entry, in order, `runs`
 * rounds. An entry's spec is built from what `between()` returns after the first entry's first
 * run (the page requests the plain-JS replay repeats).
 */
async function alternate(rows, entries, runs, between) {
  const got = entries.map(() => ({ samples: [], rss: 0, error: undefined }));
  let shared;
  for (let r = 0; r < runs; r++) {
    for (const [i, [, specOf]] of entries.entries()) {
      if (got[i].error) continue;
      try {
        const res = await runChild(specOf(shared));
        got[i].samples.push(...res.samples);
        got[i].rss = Math.max(got[i].rss, res.maxRssMB);
      } catch (e) {
        got[i].error = e.message;
      }
      if (r === 0 && i === 0) shared = await between();
    }
  }
  for (const [i, [meta, specOf]] of entries.entries()) {
    const { samples, rss, error } = got[i];
    rows.push({ ...meta, latency: specOf(shared).sim.latencyMs, samples, rssMB: rss, error });
    console.error(`bench: [${specOf(shared).sim.latencyMs} ms] ${meta.name} ${meta.mode ?? ''} ${error ? `FAILED: ${error}` : 'done'}`);
  }
}

/**
 * Gives `n` bulk stories a description like Rally's editor writes (formatting, a list, a link,
 * a table, entities) carrying a marker word, so a `query` filter lists exactly those.
 */
async function enrichDescriptions(sim, n) {
  const q = new URLSearchParams({ fetch: 'ObjectID', order: 'ObjectID desc', pagesize: String(n), query: '(Name contains "Bulk item")' });
  const oids = (await wsapi(sim, `hierarchicalrequirement?${q}`)).Results.map((a) => a.ObjectID);
  let next = 0;
  const worker = async () => {
    while (next < oids.length) {
      const oid = oids[next++];
      await wsapi(sim, `hierarchicalrequirement/${oid}`, {
        method: 'POST', body: JSON.stringify({ HierarchicalRequirement: { Description: RICH_DESCRIPTION } }),
      });
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return oids.length;
}

async function suite(sim) {
  const rows = [];
  const L = sim.latencyMs;
  const n = SAMPLES ?? (L === 0 ? 20 : 10);
  const base = { sim };

  await scenario(rows, { name: 'node + addon loaded, idle' }, { ...base, op: 'idle' });

  // The store grows only once the small-store scenarios are done: the simulator evaluates
  // every query by scanning, so single-issue reads stay cheap on its side.
  await topUpStories(sim, 100);
  await backlogPolls(rows, sim, 100);
  await topUpStories(sim, 2000);
  await lists(rows, sim, 2000);
  await backlogPolls(rows, sim, 2000);

  // Subjects: seeded stories (rich descriptions, discussions) for reads; bulk ones for writes.
  const page = await wsapi(sim, `hierarchicalrequirement?${new URLSearchParams({
    fetch: 'FormattedID,ObjectID,Name,Discussion', order: 'ObjectID', pagesize: '2000',
  })}`);
  const all = page.Results.map((a) => ({ fid: a.FormattedID, oid: a.ObjectID, name: a.Name, posts: a.Discussion?.Count ?? 0 }));
  const seeded = all.filter((a) => !a.name.startsWith('Bulk item'));
  const withPosts = seeded.filter((a) => a.posts > 0);
  let bulk = all.filter((a) => a.name.startsWith('Bulk item')).map(({ fid, oid }) => ({ fid, oid }));
  const take = (k) => {
    if (bulk.length < k) throw new Error(`only ${bulk.length} bulk stories left for subjects, ${k} wanted`);
    const s = bulk.slice(0, k);
    bulk = bulk.slice(k);
    return s;
  };

  const fids = take(1000).map((s) => s.fid);
  for (const cap of [undefined, 12]) {
    const name = `1,000 concurrent getIssue (maxConcurrency ${cap ?? '8, default'})`;
    await scenario(rows, { name, kind: 'gets', cap: cap ?? 8, mode: 'cold' },
      { ...base, op: 'gets', mode: 'cold', samples: 1, fids, config: cap ? { maxConcurrency: cap } : {} },
      cap ? 1 : 2);
  }

  const ops = [
    ['getIssue', 'getIssue', seeded],
    ['getComments', 'getComments', withPosts.length ? withPosts : seeded],
    ['createIssue', 'createIssue'],
    ['createIssue (labels, assignee me)', 'createLabelled'],
    ['updateIssue (title)', 'updateIssue'],
    ['transitionIssue', 'transitionIssue'],
    ['transitionIssue (no-op)', 'transitionNoop'],
    ['addComment', 'addComment'],
    ['linkPR', 'linkPR'],
    ['deleteIssue', 'deleteIssue'],
    ['listIssues dashboard (limit 100, 4 types)', 'listDashboard'],
  ];
  const polls = [
    ['dashboard poll, new tracker, nothing changed', 'pollUnchanged'],
    ['dashboard poll, new tracker, 10 stories edited', 'poll10Changed'],
    ['dashboard poll, new tracker, 1 story deleted', 'poll1Deleted'],
  ];
  for (const [name, op] of polls) {
    await scenario(rows, { name, kind: 'poll', op, mode: 'warm' }, { ...base, op, mode: 'warm', samples: n, subjects: [{}] });
  }
  await scenario(rows, { name: 'three trackers, one config, dashboard at once', kind: 'three', op: 'threeTrackers', mode: 'cold' },
    { ...base, op: 'threeTrackers', mode: 'cold', samples: n, subjects: [{}] });
  // The same operations through Panopticon v0.4.5's own TypeScript adapter (its listIssues
  // asks one `artifact` query of `limit` items; it has no cache, so a poll is a full read).
  if (PANO.dir) {
    const pano = [
      ['Panopticon TS adapter: getIssue', 'getIssue', seeded],
      ['Panopticon TS adapter: dashboard list (limit 100)', 'listDashboard'],
      ['Panopticon TS adapter: dashboard poll, nothing changed', 'pollUnchanged'],
      ['Panopticon TS adapter: dashboard poll, 10 stories edited', 'poll10Changed'],
    ];
    for (const [name, op, subjects] of pano) {
      await scenario(rows, { name, kind: 'pano', op, mode: 'warm' },
        { ...base, op, mode: 'warm', samples: n, subjects: subjects ?? [{}], panoDir: PANO.dir });
    }
  }
  for (const [name, op, subjects] of ops) {
    for (const mode of ['cold', 'warm']) {
      await scenario(rows, { name, kind: 'op', op, mode },
        { ...base, op, mode, samples: n, subjects: subjects ?? take(n) });
    }
  }

  await topUpStories(sim, 10000);
  await lists(rows, sim, 10000, { compare: true });
  await backlogPolls(rows, sim, 10000);
  if (L === 0 && ONLY.test('listIssues 2,000 stories, rich descriptions')) {
    const n2 = await enrichDescriptions(sim, 2000);
    await lists(rows, sim, n2, { compare: true, warm: false, filters: { query: RICH_MARKER }, label: ', rich descriptions' });
  }
  // 10,000 stories made of the recorded WSAPI fixtures (bench/fixtures.mjs): at 0 ms the CPU
  // comparison, at 50 ms the repeated lists' memory.
  const fixtureName = 'listIssues 10,000 stories, from the fixtures';
  if (ONLY.test(fixtureName) || ONLY.test('plain JS: fetch + JSON.parse + map 10,000, from the fixtures')) {
    const fx = loadFixtures();
    if (!fx.ok) {
      console.error(`bench: the fixture data set skipped: ${fx.why}`);
      rows.push({ name: fixtureName, kind: 'list', N: 10000, latency: L, samples: [], skipped: fx.why });
    } else {
      await applyFixtures(sim, fx, 10000);
      await lists(rows, sim, 10000, { compare: true, warm: L > 0, label: ', from the fixtures' });
    }
  }
  return rows;
}

/** Which addon build was measured: a debug build (`npm run build:debug`) is several times slower. */
function addonInfo() {
  const f = readdirSync(ROOT).find((x) => x.startsWith('panopticon-rally.') && x.endsWith('.node'));
  if (!f) return 'none';
  const st = statSync(path.join(ROOT, f));
  const mb = (st.size / 2 ** 20).toFixed(1);
  const debug = spawnSync('file', [path.join(ROOT, f)], { encoding: 'utf8' }).stdout?.includes('debug_info');
  // A .node older than the last commit to the Rust sources does not measure that code.
  const git = spawnSync('git', ['log', '-1', '--format=%ct %h', '--', 'crates/rally-core/src', 'src'], { cwd: ROOT, encoding: 'utf8' });
  const [ct, sha] = (git.stdout ?? '').trim().split(' ');
  const stale = ct && Number(ct) * 1000 > st.mtimeMs ? `; OLDER than the last Rust source commit ${sha}` : '';
  return `${f}, ${mb} MB${debug === undefined ? '' : debug ? ', with debug info (debug build?)' : ', stripped'}, built ${st.mtime.toISOString()}${stale}`;
}

function machine() {
  const v = (cmd, args) => spawnSync(cmd, args, { encoding: 'utf8' }).stdout?.trim() || 'unknown';
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, ramGB: (os.totalmem() / 2 ** 30).toFixed(1),
    os: `${os.type()} ${os.release()} ${os.arch()}`, node: process.version, rustc: v('rustc', ['--version']),
    date: new Date().toISOString(), sim: path.relative(ROOT, simBinary() ?? 'none'), seed: SEED, addon: addonInfo(),
  };
}

async function main() {
  const started = Date.now();
  ensureBuilt();
  const rows = [];
  for (const latencyMs of LATENCIES) {
    const sim = await startSim({ seed: SEED, apiKey: `bench-${process.pid}-${latencyMs}`, latencyMs });
    sims.add(sim);
    try {
      rows.push(...await suite(sim));
    } finally {
      sim.stop();
      sims.delete(sim);
    }
  }
  const m = { ...machine(), seconds: Math.round((Date.now() - started) / 1000), args: argv.join(' ') };
  console.log(renderTable(rows));
  console.log(`\n${renderPolls(rows)}`);
  if (WRITE) {
    writeFileSync(path.join(ROOT, 'bench/RESULTS.md'), buildReport(rows, m));
    console.log(`\nWritten to bench/RESULTS.md (${m.seconds} s).`);
  }
  if (rows.some((r) => r.error)) process.exitCode = 1;
}

main().catch((e) => {
  console.error(`bench: ${e.stack ?? e}`);
  stopAll();
  process.exit(1);
});
