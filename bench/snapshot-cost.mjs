// What consistent snapshot lists cost: listIssues of ~10,000 items, requests counted at the
// simulator and wall time, for one built addon. Run it once per addon to compare two builds:
//
//   node bench/snapshot-cost.mjs [--addon path/to/panopticon-rally.<platform>.node]
//                                [--latency 0,50] [--runs 5]
//
// The native class is used directly (no JS wrapper), so any build of the addon can be measured.
// Each run uses a fresh tracker against a quiet simulator (seed 200 plus 10,000 bulk stories).

import { createRequire } from 'node:module';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { ROOT, median, simBulk, simReset, simStats, startSim } from './lib.mjs';

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : dflt;
};
const local = readdirSync(ROOT).find((f) => f.startsWith('panopticon-rally.') && f.endsWith('.node'));
const addon = path.resolve(opt('addon', path.join(ROOT, local ?? 'missing.node')));
const LATENCIES = opt('latency', '0,50').split(',').map(Number);
const RUNS = Number(opt('runs', '5'));
const { RallyTracker } = createRequire(import.meta.url)(addon);

const scenarios = {
  // Every type, every state, no limit: the case snapshot paging changes.
  'all 10,070 items (4 types)': { filters: { includeClosed: true } },
  // The dashboard: a limit within one page, so one request per type as before.
  'dashboard (limit 100)': { filters: { includeClosed: false, limit: 100 } },
};

console.log(`addon ${addon}`);
for (const latencyMs of LATENCIES) {
  const sim = await startSim({ seed: 200, apiKey: '_benchSnapshotKey01', latencyMs });
  try {
    await simBulk(sim, 'hierarchicalrequirement', 10_000);
    for (const [name, { filters }] of Object.entries(scenarios)) {
      const walls = [];
      let requests;
      let items;
      for (let i = 0; i < RUNS; i++) {
        const t = new RallyTracker({
          apiKey: sim.apiKey, server: sim.url, workspace: sim.workspace, project: sim.project, maxResults: 20_000,
        });
        await simReset(sim);
        const started = process.hrtime.bigint();
        const list = await t.listIssues(filters);
        walls.push(Number(process.hrtime.bigint() - started) / 1e6);
        const stats = await simStats(sim);
        requests = stats.byRoute;
        items = list.length;
      }
      const total = Object.values(requests).reduce((a, b) => a + b, 0);
      const stories = requests[`GET /slm/webservice/v2.0/hierarchicalrequirement`];
      console.log(
        `latency ${latencyMs} ms | ${name} | ${items} items | ${total} requests (${stories} story queries) | ` +
          `median ${median(walls).toFixed(0)} ms, min ${Math.min(...walls).toFixed(0)} ms over ${RUNS} runs`,
      );
    }
  } finally {
    sim.stop();
  }
}
process.exit(0);
