// HTTPS with a private CA, as behind a TLS-inspecting corporate proxy: a TLS-terminating proxy
// (node:tls) in front of the simulator, with the test-only CA and 127.0.0.1 certificate that
// rally-core's TLS tests use (crates/rally-core/tests/tls/, valid to 2036, never trusted
// anywhere else). The addon does its own TLS (rustls), so it trusts the CA only through
// `caCerts` or NODE_EXTRA_CA_CERTS — and Node's own TLS switches do not weaken it.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer } from 'node:tls'
import { after, before, test } from 'node:test'
import { repoRoot, startSim } from './helpers/sim.mjs'
import { RallyTracker } from '../rally.mjs'
import { rejection } from './helpers/tracker.mjs'

const tlsDir = join(repoRoot, 'crates', 'rally-core', 'tests', 'tls')
const CA = readFileSync(join(tlsDir, 'ca.pem'), 'utf8')
const dir = mkdtempSync(join(tmpdir(), 'rally-tls-'))

let sim
let proxy
let server
let handshakes = 0

before(async () => {
  sim = await startSim({ seed: 42 })
  const { port: simPort } = new URL(sim.url)
  proxy = createServer(
    { key: readFileSync(join(tlsDir, 'server.key')), cert: readFileSync(join(tlsDir, 'server.pem')) },
    (socket) => {
      handshakes++
      const upstream = connect(Number(simPort), '127.0.0.1')
      socket.pipe(upstream).pipe(socket)
      const close = () => {
        socket.destroy()
        upstream.destroy()
      }
      socket.on('error', close)
      upstream.on('error', close)
    },
  )
  proxy.on('tlsClientError', () => {})
  await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  server = `https://127.0.0.1:${proxy.address().port}`
})
after(async () => {
  await new Promise((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()))
  await sim?.stop()
  rmSync(dir, { recursive: true, force: true })
})

const config = (extra = {}) => ({ apiKey: sim.apiKey, server, workspace: sim.workspace, project: sim.project, ...extra })

test('without the CA: a clear TLS error naming both fixes, and nothing reaches Rally', async () => {
  await sim.reset()
  const before = handshakes
  const err = await rejection(new RallyTracker(config()).listIssues({ limit: 1 }))
  assert.equal(err.code, 'RALLY_UNAVAILABLE', err.message)
  assert.match(err.message, /TLS/)
  assert.match(err.message, /certificate/i)
  assert.match(err.message, /caCerts/)
  assert.match(err.message, /NODE_EXTRA_CA_CERTS/)
  assert.equal(handshakes, before, 'no handshake completed')
  assert.equal((await sim.stats()).total, 0)
})

test('with caCerts: every kind of call works over HTTPS', async () => {
  await sim.reset()
  const t = new RallyTracker(config({ caCerts: [CA] }))
  const made = await t.createIssue({ title: 'over TLS from Node', labels: ['tls'] })
  assert.equal((await t.getIssue(made.ref)).title, 'over TLS from Node')
  assert.ok((await t.listIssues({ labels: ['tls'] })).some((i) => i.ref === made.ref))
  await t.addComment(made.ref, 'hello over TLS')
  assert.equal((await t.getComments(made.ref)).length, 1)
  await t.deleteIssue(made.ref)
  assert.ok((await sim.stats()).total >= 6)
})

/** Runs a child that lists one issue; `env` adds variables. Resolves to its JSON result. */
function child(env, extra = {}) {
  const script = join(dir, 'child.mjs')
  writeFileSync(
    script,
    `import { RallyTracker } from ${JSON.stringify(join(repoRoot, 'rally.mjs'))}
const cfg = JSON.parse(process.env.TLS_CONFIG)
try {
  const list = await new RallyTracker(cfg).listIssues({ limit: 1 })
  process.stdout.write(JSON.stringify({ ok: list.length }))
} catch (e) {
  process.stdout.write(JSON.stringify({ code: e.code, message: e.message }))
}
`,
  )
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [script],
      { env: { ...process.env, NODE_EXTRA_CA_CERTS: '', ...env, TLS_CONFIG: JSON.stringify(config(extra)) }, timeout: 60_000 },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout))),
    )
  })
}

test('with NODE_EXTRA_CA_CERTS (read at start, like Node): works', async () => {
  const pem = join(dir, 'extra.pem')
  writeFileSync(pem, CA)
  assert.deepEqual(await child({ NODE_EXTRA_CA_CERTS: pem }), { ok: 1 })
  const r = await child({})
  assert.equal(r.code, 'RALLY_UNAVAILABLE', 'and without it, in the same setup, fails')
})

test("Node's NODE_TLS_REJECT_UNAUTHORIZED=0 does not switch off the addon's certificate checks", async () => {
  const r = await child({ NODE_TLS_REJECT_UNAUTHORIZED: '0' })
  assert.equal(r.code, 'RALLY_UNAVAILABLE', JSON.stringify(r))
  assert.match(r.message, /TLS/)
})

test('a PEM that is not a certificate is refused in the constructor, naming caCerts[i]', () => {
  assert.throws(
    () => new RallyTracker(config({ caCerts: [CA, '-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n'] })),
    (err) => err.code === 'RALLY_INVALID_INPUT' && err.argument === 'caCerts[1]',
  )
})
