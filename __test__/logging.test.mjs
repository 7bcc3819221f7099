// Opt-in debug logging: RALLY_LOG=debug writes one stderr line per HTTP attempt (method, path,
// status, duration, attempt number); a `logger` callback receives the same events. The key is
// in neither. Run in child processes so stderr can be captured whole.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { randomApiKey, repoRoot, startSim } from './helpers/sim.mjs'

const LINE = /^\[rally debug\] (GET|POST|DELETE) \/slm\/(?:webservice|schema)\/v2\.0\/\S+ \[[A-Za-z,]*\] -> (\d{3}|-)( [a-z-]+)? in \d+ ms \(attempt (\d+)\)$/

const dir = mkdtempSync(join(tmpdir(), 'rally-log-'))
// The child: a few real calls through the package entry; results to stdout as JSON.
const script = join(dir, 'calls.cjs')
writeFileSync(
  script,
  `const { RallyTracker } = require(${JSON.stringify(join(repoRoot, 'rally.js'))})
const [url, apiKey, workspace, project, wantLogger] = process.argv.slice(2)
const events = []
const logger = wantLogger === 'yes' ? (e) => events.push(e) : undefined
const t = new RallyTracker({ apiKey, server: url, workspace, project, logger, maxRetries: 2 })
;(async () => {
  const out = {}
  try {
    const list = await t.listIssues({ limit: 5, includeClosed: true })
    out.listed = list.length
    out.got = (await t.getIssue(list[0].ref)).ref
    out.created = (await t.createIssue({ title: 'logging check' })).ref
    await t.getIssue('US999999').catch((e) => (out.missing = e.code))
  } catch (e) {
    out.error = e.code + ' ' + e.message
  }
  // Logger calls are queued to the JS thread; give the last ones a turn to arrive.
  await new Promise((r) => setTimeout(r, 100))
  out.events = events
  process.stdout.write(JSON.stringify(out))
})()
`,
)

function run(args, env) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [script, ...args], { env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve({ out: JSON.parse(stdout), stdout, stderr }),
    )
  })
}

let sim
before(async () => {
  // The first story query fails once with 503, so a retry shows up in the log.
  sim = await startSim({ seed: 60, faults: '503@GET /slm/webservice/v2.0/hierarchicalrequirement*#next=1' })
})
after(async () => {
  await sim?.stop()
  rmSync(dir, { recursive: true, force: true })
})

test('RALLY_LOG=debug: one stderr line per attempt with method, path, status, duration and retries', async () => {
  const { out, stdout, stderr } = await run([sim.url, sim.apiKey, sim.workspace, sim.project, 'no'], { RALLY_LOG: 'debug' })
  assert.equal(out.error, undefined)
  assert.equal(out.missing, 'RALLY_NOT_FOUND')
  const lines = stderr.split('\n').filter((l) => l.startsWith('[rally '))
  assert.ok(lines.length >= 6, stderr)
  for (const l of lines) assert.match(l, LINE)
  const stories = lines.filter((l) => l.includes(' /slm/webservice/v2.0/hierarchicalrequirement ['))
  assert.ok(stories.some((l) => / -> 503 .*\(attempt 1\)$/.test(l)), stories.join('\n'))
  assert.ok(stories.some((l) => / -> 200 .*\(attempt 2\)$/.test(l)), stories.join('\n'))
  assert.ok(lines.some((l) => /^\[rally debug\] POST \/slm\/webservice\/v2\.0\/hierarchicalrequirement\/create /.test(l)))
  assert.ok(!stderr.includes(sim.apiKey) && !stdout.includes(sim.apiKey), 'the key was logged')
  assert.ok(!/zsessionid/i.test(stderr))
})

test('a logger callback gets the same events; without RALLY_LOG nothing goes to stderr', async () => {
  await sim.setFaults('503@GET /slm/webservice/v2.0/defect*#next=1')
  const { out, stderr } = await run([sim.url, sim.apiKey, sim.workspace, sim.project, 'yes'], { RALLY_LOG: '' })
  assert.equal(out.error, undefined)
  assert.equal(stderr.includes('[rally'), false, stderr)
  assert.ok(out.events.length >= 6)
  for (const e of out.events) {
    assert.ok(e.level === 'debug' || e.level === 'warn', e.level)
    if (e.level === 'debug') assert.match(`[rally debug] ${e.message}`, LINE)
    assert.ok(!e.message.includes(sim.apiKey))
  }
  assert.ok(out.events.some((e) => /\/defect \[.* -> 503 .*\(attempt 1\)$/.test(e.message)))
})

test('a refused key is logged as 401 without the key', async () => {
  const wrong = randomApiKey()
  const { out, stderr } = await run([sim.url, wrong, sim.workspace, sim.project, 'no'], { RALLY_LOG: 'debug' })
  assert.match(out.error, /^RALLY_AUTH /)
  assert.match(stderr, / -> 401 in \d+ ms \(attempt 1\)/)
  assert.ok(!stderr.includes(wrong) && !out.error.includes(wrong))
})
