// Turns scenario rows into the one table (terminal and bench/RESULTS.md) and the report around it.

import { median, quantile } from './lib.mjs';

const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '—');
const writesOf = (s) => Object.entries(s.routes ?? {}).filter(([k]) => k.startsWith('POST')).reduce((n, [, v]) => n + v, 0);

function trips(row) {
  const t = row.samples.map((s) => s.trips);
  if (!t.length) return '—';
  const lo = Math.min(...t);
  const hi = Math.max(...t);
  return lo === hi ? String(lo) : `${median(t)} (${lo}–${hi})`;
}

/**
 * The targets: round trips as the README's table documents them, and the memory and CPU
 * targets; [text, met?] from the worst sample, never the best.
 */
function target(row, ctx) {
  const worst = Math.max(...row.samples.map((s) => s.trips));
  const ok = (cond, text) => [text, cond];
  switch (row.kind) {
    case 'list': {
      const pages = Math.ceil(row.N / 2000);
      // Beyond one page, the consistent snapshot (docs/reliability.md) adds a catch-up query,
      // and a keyset page when the last overlapping page is full: at most pages + 2.
      const most = pages > 1 ? pages + 2 : pages;
      const parts = [ok(worst <= most, pages > 1 ? `≤ ${pages} pages + 2 (snapshot)` : '1 page')];
      if (pages > 1 && row.latency > 0) {
        const waves = Math.max(...row.samples.map((s) => s.waves ?? Infinity));
        const busy = median(row.samples.map((s) => s.simBusyMs ?? NaN));
        // The first page (it gives the total), the others at once, then the catch-up query,
        // which must be answered after every page to see edits made while they were read.
        parts.push(ok(waves <= 3, `3 rounds (seen: ${waves}; simulator busy ${fmt(busy, 0)} ms of it)`));
      }
      if (row.N === 10000 && (row.mode === 'cold' || row.repeated)) parts.push(ok(row.rssMB < 150, 'RSS < 150 MB'));
      const js = ctx.jsCpu[`${row.latency}/${row.group}`];
      if (row.mode === 'cold' && js) {
        parts.push(ok(median(row.samples.map((s) => s.cpuMs)) < js, `CPU < plain JS ${fmt(js, 0)} ms`));
      }
      // Wall against plain JS's whole list (its fetch included, as the addon's list includes it).
      const jsWall = ctx.jsWall[`${row.latency}/${row.group}`];
      if (row.mode === 'cold' && jsWall) {
        parts.push(ok(median(row.samples.map((s) => s.wallMs)) <= jsWall, `wall ≤ plain JS ${fmt(jsWall, 0)} ms`));
      }
      return parts;
    }
    case 'gets': {
      const inflight = Math.max(...row.samples.map((s) => s.maxInFlight ?? 0));
      const parts = [ok(worst === 1000, '1000'), ok(inflight <= row.cap, `in flight ≤ ${row.cap}`)];
      if (row.latency > 0) {
        const rounds = Math.ceil(1000 / row.cap);
        const sim = median(row.samples.map((s) => s.simMs ?? NaN));
        parts.push([`≈ ${rounds * row.latency} ms (${rounds} × ${row.latency}; with the simulator's ${fmt(sim)} ms per request: ${fmt(rounds * sim, 0)})`, null]);
      }
      return parts;
    }
    case 'op': {
      const one = ['getIssue', 'getComments'].includes(row.op);
      if (one) return [ok(worst === 1, '1')];
      if (row.op === 'createIssue' || row.op === 'createLabelled') {
        return [row.mode === 'warm' ? ok(worst === 1, '1') : [`1 + cached lookups`, null]];
      }
      if (row.op === 'transitionNoop') {
        const w = Math.max(...row.samples.map(writesOf));
        return [ok(w === 0, '0 writes')];
      }
      if (row.op === 'listDashboard') return [ok(worst <= 4 + (row.mode === 'cold' ? 1 : 0), '1 per type')];
      // linkPR looks for the link before creating it (one PullRequest per URL, also when a
      // call is retried or raced): one request more than the other writes.
      if (row.op === 'linkPR') return [row.mode === 'warm' ? ok(worst === 2, '2') : ok(worst <= 3, '≤ 3')];
      return [row.mode === 'warm' ? ok(worst === 1, '1') : ok(worst <= 2, '≤ 2')];
    }
    case 'poll': {
      const kb = median(row.samples.map((s) => s.bytes ?? NaN)) / 1024;
      const busy = median(row.samples.map((s) => s.simBusyMs ?? NaN));
      // One probe per type; 10 edited: + the changed bodies and one count for the stories;
      // 1 deleted: + an empty changed read, the count, the stories' versions read and the body
      // of the item the delete brings into the limit (the dashboard's lists are cut at 100).
      const want = { pollUnchanged: 4, poll10Changed: 6, poll1Deleted: 8 }[row.op];
      const text = row.op === 'poll1Deleted' ? '4 + 4 (versions read, the item entering the limit)' : `${want} requests`;
      return [ok(worst <= want, text), [`${fmt(kb)} KB; simulator busy ${fmt(busy, 0)} ms`, null]];
    }
    case 'pollN': {
      const kb = median(row.samples.map((s) => s.bytes ?? NaN)) / 1024;
      // One type: its probe; with changes, the changed bodies and one count.
      const want = row.changes ? 3 : 1;
      return [ok(worst <= want, `${want} request${want > 1 ? 's' : ''}`), [`${fmt(kb)} KB`, null]];
    }
    case 'pano': {
      if (row.cannotRun) return [[`cannot run: ${row.cannotRun}`, null]];
      const kb = median(row.samples.map((s) => s.bytes ?? NaN)) / 1024;
      const busy = median(row.samples.map((s) => s.simBusyMs ?? NaN));
      return [[`${fmt(kb)} KB; simulator busy ${fmt(busy, 0)} ms`, null]];
    }
    case 'three': {
      const busy = median(row.samples.map((s) => s.simBusyMs ?? NaN));
      return [[`simulator busy ${fmt(busy, 0)} ms`, null]];
    }
    default:
      return [];
  }
}

function cells(row, ctx) {
  const w = row.samples.map((s) => s.wallMs);
  const c = row.samples.map((s) => s.cpuMs);
  const inflight = row.samples.map((s) => s.maxInFlight).filter((x) => x !== undefined);
  const tg = row.skipped ? [[`skipped: ${row.skipped}`, null]]
    : row.error ? [[`FAILED: ${row.error}`, false]] : target(row, ctx);
  const tgText = tg.map(([t, m]) => (m === null ? t : `${t} ${m ? '✓' : '✗'}`)).join(', ');
  // At 0 ms the simulator's CPU, not the client, decides when a request starts being served.
  const waves = row.latency > 0 ? row.samples.map((s) => s.waves).filter((x) => x !== undefined) : [];
  return [`${row.latency}`, row.name, row.mode ?? '', row.samples.length ? String(row.samples.length) : '—', trips(row),
    waves.length ? String(Math.max(...waves)) : '—', tgText || '',
    fmt(median(w)), fmt(quantile(w, 0.95)), fmt(median(c)), fmt(Math.max(...row.samples.map((s) => s.loopBlockMs ?? NaN)), 0),
    fmt(row.rssMB, 0),
    inflight.length ? String(Math.max(...inflight)) : ''];
}

/** The plain-JS row carries two measurements; it becomes two table rows. */
function expand(rows) {
  return rows.flatMap((r) => {
    if (r.kind !== 'plainJs' || r.error) return [r];
    const pick = (wall, cpu) => r.samples.map((s) => ({ ...s, wallMs: s[wall], cpuMs: s[cpu] }));
    const what = `${r.N.toLocaleString('en')}${r.label ?? ''}`;
    return [
      { ...r, name: `plain JS: JSON.parse + map ${what} (CPU only, no network)`, samples: pick('wallMs', 'cpuMs') },
      { ...r, name: `plain JS: fetch + JSON.parse + map ${what}`, samples: pick('wallWithFetchMs', 'cpuWithFetchMs') },
    ];
  });
}

const HEAD = ['Latency ms', 'Scenario', 'Mode', 'n', 'Round trips', 'Rounds', 'Target', 'Wall p50 ms',
  'Wall p95 ms', 'CPU p50 ms', 'Loop block ms', 'Peak RSS MB', 'Max in flight'];

// Lists and their plain-JS comparisons stay side by side (the sort is stable).
const RANK = { op: 1, list: 2, plainJs: 2, gets: 3 };

export function renderTable(rows) {
  const jsCpu = Object.fromEntries(rows.filter((r) => r.kind === 'plainJs' && !r.error)
    .map((r) => [`${r.latency}/${r.group}`, median(r.samples.map((s) => s.cpuMs))]));
  const jsWall = Object.fromEntries(rows.filter((r) => r.kind === 'plainJs' && !r.error)
    .map((r) => [`${r.latency}/${r.group}`, median(r.samples.map((s) => s.wallWithFetchMs))]));
  const ctx = { jsCpu, jsWall };
  const sorted = [...rows].sort((a, b) => a.latency - b.latency || (RANK[a.kind] ?? 0) - (RANK[b.kind] ?? 0));
  const body = expand(sorted).map((r) => cells(r, ctx));
  const line = (xs) => `| ${xs.join(' | ')} |`;
  return [line(HEAD), line(HEAD.map(() => '---')), ...body.map(line)].join('\n');
}

/**
 * Polls by backlog: one line per list size, unchanged and after k changes; requests and bytes
 * (the simulator's log) and wall time, medians, per latency.
 */
export function renderPolls(rows) {
  const polls = rows.filter((r) => r.kind === 'pollN' && !r.error && r.samples.length);
  if (!polls.length) return '';
  const med = (r, k) => median(r.samples.map((s) => s[k] ?? NaN));
  const head = ['Latency ms', 'Matching items', 'Changed since the last list', 'Requests', 'KB', 'Wall p50 ms', 'CPU p50 ms'];
  const line = (xs) => `| ${xs.join(' | ')} |`;
  const body = [...polls].sort((a, b) => a.latency - b.latency || a.N - b.N || a.changes - b.changes)
    .map((r) => [String(r.latency), r.N.toLocaleString('en'), r.changes ? String(r.changes) : 'nothing', trips(r),
      fmt(med(r, 'bytes') / 1024), fmt(med(r, 'wallMs')), fmt(med(r, 'cpuMs'))]);
  return ['Polls by backlog (a new tracker of one configuration repeating `listIssues({ includeClosed: true })` over '
    + 'N stories, `artifactTypes: [\'UserStory\']`):', '', line(head), line(head.map(() => '---')), ...body.map(line)].join('\n');
}

const NOTES = `Notes on what is measured:
- Round trips: requests counted by the simulator (/__sim/stats, reset just before the measured
  call), so lookups, retries and pages all count. Shown as the value, or median (min–max).
  The target column judges the worst sample. Rounds: how many of them had to wait for each
  other (from the simulator's request log; the worst sample) — what the wall time is made of.
  Shown at 50 ms only: at 0 ms the simulator, busy on the same two cores, starts serving a
  request when it gets to it, so its log cannot tell concurrent requests from queued ones.
- Wall: the measured call alone, from a fresh tracker (cold: first touch, nothing cached) or from
  a tracker that already touched the same issue (warm: the same call made once before, or a
  \`getIssue\` where it cannot be repeated: deleteIssue, no-op transition). Medians and p95 are
  nearest-rank; with 10 samples p95 is the slowest one.
- CPU: \`process.cpuUsage()\` delta (user + system, all threads of the Node process, so the
  addon's Tokio workers and its HTTP client are included); the simulator runs in its own process
  and is not included.
- Loop block: the longest the Node event loop could not run (\`monitorEventLoopDelay\`, 1 ms
  resolution, worst sample): what an interactive caller feels as a freeze. For the addon this is
  mostly building the JS objects at the end; for plain JS the whole synchronous parse + map.
- Peak RSS: \`process.resourceUsage().maxRSS\` of the child process that ran the scenario (one
  process per scenario; list and 1,000-get scenarios: one process per sample, the max is shown).
  It includes Node itself: see the idle row for the floor.
- "6th list in a row": one tracker listing the same 10,000 stories six times, the sixth
  measured; its peak RSS is where a long-lived process (a refreshing dashboard) settles.
- Lists: a tracker configured with \`artifactTypes: ['UserStory']\`, \`listIssues({ includeClosed:
  true })\`, the simulator holding exactly N stories in scope (bulk-created). Warm = the same
  tracker listing a second time.
- CPU comparison (0 ms run): the addon row is the whole \`listIssues\` of 10,000 stories in a fresh
  process: HTTP receive, JSON parsing, normalisation including real HTML→Markdown, and building the
  JS objects. The plain-JS rows replay exactly the page requests that list made (taken from the
  simulator's request log) with Node's \`fetch\`, then \`JSON.parse\` each page and map every
  artifact to the Issue shape with a naive regex HTML strip (no Markdown), in a fresh process.
  "CPU only, no network" times the parse + map alone; the addon has no such split, so its figure
  includes work the JS figure leaves out: the comparison is biased towards plain JS. The two
  sides run alternately, 7 processes each (addon, plain JS, addon, ...), so a change in the
  machine's load during the run weighs on both alike; the figures are medians.
- Descriptions: the simulator's bulk stories all carry \`<p>Generated for load tests.</p>\`, which
  the core converts on its plain-paragraph fast path. The "rich descriptions" rows give 2,000 of
  them an editor-style description (formatting, a list, a link, a table, entities; set through
  WSAPI before the run) and list exactly those (\`query\` filter): that is the full HTML→Markdown
  path. Per-item costs of both paths: \`cargo bench -p rally-core\` (\`html_to_markdown/*\`).
- Polls (\`poll of N stories\` rows and the "Polls by backlog" table): a tracker lists the N
  stories in scope (\`includeClosed: true\`, one type), the bench edits the k newest through
  WSAPI (or nothing), then a new tracker of the same configuration lists again, measured.
  Requests and KB are the simulator's: every request of the measured list and the bytes of its
  responses. An unchanged poll is one \`pagesize=1\` probe; k changes add the k changed bodies
  and one count (docs/reliability.md, "Repeated lists ask only what changed").
- "from the fixtures" rows: the 10,000 stories in scope rewritten through WSAPI before the run
  from the recorded responses in \`../shared/fixtures/wsapi\` (bench/fixtures.mjs): descriptions
  made of the recorded descriptions, acceptance criteria and HTML in Rally's editor markup
  (paragraphs, a list, entities, a link, a table; about 500 bytes), 3 tags each from the names
  the recordings carry, an owner and a parent feature each. Without that directory the rows
  say they were skipped.
- The simulator is the debug build unless a release one exists (see the table above); it shares
  the two cores with the client, so at 0 ms its own work (scanning the store for every query,
  writing 2 MB pages) is part of every wall time, and the client's CPU figures carry some noise.
  At 0 ms "Max in flight" reflects how many requests the simulator was serving at once, not the
  client's cap.`;

export function buildReport(rows, m) {
  return `# Benchmark results

Command: \`npm run bench\`${m.args ? ` (arguments: \`${m.args}\`)` : ''} — run time ${m.seconds} s.

| Machine | |
|---|---|
| CPU | ${m.cpu} × ${m.cores} cores |
| RAM | ${m.ramGB} GiB |
| OS | ${m.os} |
| Node | ${m.node} |
| rustc | ${m.rustc} |
| Addon | \`${m.addon}\` |
| Simulator | \`${m.sim}\` (on 127.0.0.1, \`--seed ${m.seed}\`) |
| Date | ${m.date} |

${renderTable(rows)}

${renderPolls(rows)}

${NOTES}

## Requests per scenario (first sample, by route)

${rows.filter((r) => r.samples[0]?.routes).map((r) => `- ${r.latency} ms, ${r.name}, ${r.mode}: ${Object.entries(r.samples[0].routes).map(([k, v]) => `\`${k}\` × ${v}`).join(', ') || 'none'}`).join('\n')}
`;
}
