// The API key never leaves the tracker: every error path (bad key, not found, invalid input,
// rejected, unavailable, timeout, protocol) is run with a recognisable random key, and neither
// the key nor any 10-character piece of it may appear in an error's message, stack,
// util.inspect or JSON, in util.inspect(tracker), or in the stdout/stderr of a child process
// running the same paths with RALLY_LOG=debug and a logger callback.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { inspect } from 'node:util'
import { randomApiKey, repoRoot, startSim } from './helpers/sim.mjs'

// Recognisable: a marker no code would print by accident, then random characters.
const KEY = `_SECRETKEY${randomApiKey().slice(1, 25)}`
const WRONG_KEY = `_WRONGKEY${randomApiKey().slice(1, 25)}`

/** Every 10-character window of each key: a partial print (a "prefix" hint) counts as a leak. */
function leaks(text) {
  const found = []
  for (const key of [KEY, WRONG_KEY]) {
    for (let i = 0; i + 10 <= key.length; i++) {
      if (text.includes(key.slice(i, i + 10))) {
        found.push(key.slice(i, i + 10))
        break
      }
    }
  }
  return found
}

const dir = mkdtempSync(join(tmpdir(), 'rally-secrets-'))
// The error paths, shared by the in-process test and the child process. Each returns the
// error's code and every text view of it; setup calls go through `control`.
const pathsSource = `
export async function errorPaths(RallyTracker, sim, control) {
  const { inspect } = await import('node:util')
  const base = { apiKey: sim.apiKey, server: sim.url, workspace: sim.workspace, project: sim.project, logger: sim.logger }
  const t = new RallyTracker({ ...base, maxRetries: 0, timeoutMs: 400 })
  const story = (await t.listIssues({ limit: 1 }))[0]
  const views = (err) => [err.message, err.stack, inspect(err, { depth: 8, showHidden: true }), JSON.stringify(err), String(err),
    JSON.stringify(Object.fromEntries(Object.getOwnPropertyNames(err).map((k) => [k, String(err[k])])))]
  const out = []
  const attempt = async (name, fault, call) => {
    if (fault) await control('faults', { method: 'POST', body: fault })
    try {
      await call()
      out.push({ name, code: 'none', texts: [] })
    } catch (err) {
      out.push({ name, code: err.code, texts: views(err) })
    } finally {
      if (fault) await control('faults', { method: 'DELETE' })
    }
  }
  await attempt('auth', null, () => new RallyTracker({ ...base, apiKey: sim.wrongKey }).getIssue(story.ref))
  await attempt('not found', null, () => t.getIssue('US987654321'))
  await attempt('invalid input', null, () => t.createIssue({ title: 'x', labels: ['a'.repeat(40)] }))
  await attempt('invalid config', null, async () => new RallyTracker({ ...base, maxConcurrency: 99 }))
  await attempt('empty key', null, async () => new RallyTracker({ ...base, apiKey: '' }))
  await attempt('rejected', null, () => new RallyTracker({ ...base, project: '/project/1' }).createIssue({ title: 'x' }))
  await attempt('rejected (errors)', 'errors@POST *', () => t.updateIssue(story.ref, { title: 'y' }))
  await attempt('unavailable', '503@*', () => t.getIssue(story.ref))
  await attempt('unavailable (dropped)', 'drop-before@*', () => t.getComments(story.ref))
  await attempt('timeout', 'latency=1500@GET *', () => t.getIssue(story.ref))
  await attempt('protocol', 'html@*', () => t.listIssues({ limit: 1 }))
  await attempt('protocol (write)', 'html@POST *', () => t.updateIssue(story.ref, { title: 'z' }))
  const trackerViews = [inspect(t, { depth: 8, showHidden: true }), JSON.stringify(t), String(t), Object.keys(t).join(',')]
  return { out, trackerViews }
}
`
const pathsFile = join(dir, 'paths.mjs')
writeFileSync(pathsFile, pathsSource)

let sim
before(async () => {
  sim = await startSim({ seed: 42, apiKey: KEY })
})
after(async () => {
  await sim?.stop()
  rmSync(dir, { recursive: true, force: true })
})

function control(url) {
  return async (path, init) => {
    const res = await fetch(`${url}/__sim/${path}`, init)
    if (!res.ok) throw new Error(`/__sim/${path}: ${res.status} ${await res.text()}`)
  }
}

const EXPECTED = {
  auth: 'RALLY_AUTH',
  'not found': 'RALLY_NOT_FOUND',
  'invalid input': 'RALLY_INVALID_INPUT',
  'invalid config': 'RALLY_INVALID_INPUT',
  'empty key': 'RALLY_AUTH',
  rejected: 'RALLY_REJECTED',
  'rejected (errors)': 'RALLY_REJECTED',
  unavailable: 'RALLY_UNAVAILABLE',
  'unavailable (dropped)': 'RALLY_UNAVAILABLE',
  timeout: 'RALLY_TIMEOUT',
  protocol: 'RALLY_PROTOCOL',
  'protocol (write)': 'RALLY_PROTOCOL',
}

function checkRun({ out, trackerViews }) {
  // Every path really ran and failed the way it is meant to, so the scan below means something.
  assert.deepEqual(Object.fromEntries(out.map((o) => [o.name, o.code])), EXPECTED)
  for (const o of out) {
    assert.deepEqual(leaks(o.texts.join('\n')), [], `${o.name}: key in the error`)
  }
  assert.ok(trackerViews.join('').length > 0)
  assert.deepEqual(leaks(trackerViews.join('\n')), [], 'key in the tracker object')
}

test('the leak detector finds a partial key', () => {
  assert.deepEqual(leaks(`key=${KEY.slice(5, 16)}…`), [KEY.slice(5, 15)])
  assert.deepEqual(leaks('nothing here'), [])
})

test('no error path and no view of the tracker contains the key', async () => {
  const { RallyTracker } = await import('../rally.mjs')
  const { errorPaths } = await import(pathsFile)
  const events = []
  const info = { ...sim, wrongKey: WRONG_KEY, logger: (e) => events.push(e) }
  checkRun(await errorPaths(RallyTracker, info, control(sim.url)))
  await new Promise((r) => setTimeout(r, 100))
  assert.ok(events.length > 0, 'the logger saw events')
  assert.deepEqual(leaks(JSON.stringify(events)), [], 'key in a logger event')
})

test('RALLY_LOG=debug output of the same paths in a child process does not contain the key', async () => {
  const child = join(dir, 'child.mjs')
  writeFileSync(
    child,
    `import { RallyTracker } from ${JSON.stringify(join(repoRoot, 'rally.mjs'))}
import { errorPaths } from ${JSON.stringify(pathsFile)}
const sim = JSON.parse(process.env.SECRETS_SIM)
const events = []
sim.logger = (e) => { events.push(e); console.log('logger:', JSON.stringify(e)) }
const control = async (path, init) => { await fetch(sim.url + '/__sim/' + path, init) }
const result = await errorPaths(RallyTracker, sim, control)
for (const o of result.out) console.error(o.name, o.code, o.texts.join(' | '))
await new Promise((r) => setTimeout(r, 100))
process.stdout.write('RESULT ' + JSON.stringify(result) + '\\n')
`,
  )
  const simInfo = { url: sim.url, apiKey: KEY, wrongKey: WRONG_KEY, workspace: sim.workspace, project: sim.project }
  const { stdout, stderr } = await new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [child],
      { env: { ...process.env, RALLY_LOG: 'debug', SECRETS_SIM: JSON.stringify(simInfo) }, timeout: 120_000, maxBuffer: 16 << 20 },
      (err, so, se) => (err ? reject(new Error(`${err.message}\n${se}`)) : resolve({ stdout: so, stderr: se })),
    )
  })
  const resultLine = stdout.split('\n').find((l) => l.startsWith('RESULT '))
  assert.ok(resultLine, stdout)
  checkRun(JSON.parse(resultLine.slice(7)))
  // The log really was written (one line per request), so its absence of the key is meaningful.
  assert.ok(stderr.split('\n').filter((l) => l.startsWith('[rally debug]')).length >= 10, stderr.slice(0, 2000))
  assert.ok(stdout.includes('logger:'), 'logger events reached the child')
  const withoutResult = stdout.replace(resultLine, '')
  assert.deepEqual(leaks(withoutResult), [], 'key on stdout')
  assert.deepEqual(leaks(stderr), [], 'key on stderr')
})
