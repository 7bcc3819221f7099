// rally-doctor against a spawned rally-sim: one test per diagnosis and its exit code, the
// --json report shape, and that the API key appears in no output at all.
import assert from 'node:assert/strict'
import { execFile, execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer as createHttpsServer } from 'node:https'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { repoRoot, startSim } from './helpers/sim.mjs'

const CLI = join(repoRoot, 'bin', 'rally-doctor.js')
const home = mkdtempSync(join(tmpdir(), 'rally-doctor-home-'))
/** Every byte any run printed, checked for keys at the end. */
const printed = []
const keys = []

/** Runs the CLI with only the given RALLY_* variables (no proxy, a HOME without env files). */
function doctor(args, vars = {}) {
  const env = { ...process.env, HOME: home, USERPROFILE: home }
  for (const name of Object.keys(env)) {
    if (/^RALLY_|_PROXY$|^(http|https|all|no)_proxy$/i.test(name)) delete env[name]
  }
  Object.assign(env, vars)
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env, timeout: 60_000 }, (err, stdout, stderr) => {
      printed.push(stdout, stderr)
      resolve({ code: err ? err.code : 0, stdout, stderr })
    })
  })
}

function envFor(sim, overrides = {}) {
  return {
    RALLY_API_KEY: sim.apiKey,
    RALLY_SERVER: sim.url,
    RALLY_WORKSPACE: sim.workspace,
    RALLY_PROJECT: sim.project,
    ...overrides,
  }
}

/** A TCP port on 127.0.0.1 that nothing listens on (bound, then released). */
function closedPort() {
  return new Promise((resolve) => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

let sim
before(async () => {
  sim = await startSim({ seed: 42 })
  keys.push(sim.apiKey)
})
after(async () => {
  await sim?.stop()
  rmSync(home, { recursive: true, force: true })
  // Checked last: every run of every test above has been captured by now.
  const all = printed.join('\n')
  for (const key of keys) assert.ok(!all.includes(key), 'an API key appeared in rally-doctor output')
})

describe('rally-doctor', () => {
  test('a good configuration passes every check and prints the TOML block', async () => {
    const r = await doctor([], envFor(sim))
    assert.equal(r.code, 0, r.stdout + r.stderr)
    for (const name of ['config', 'connection', 'auth', 'workspace', 'project', 'items']) {
      assert.match(r.stdout, new RegExp(`\\[ok\\]\\s+${name}\\b`), `${name} not ok:\n${r.stdout}`)
    }
    assert.match(r.stdout, /direct, no proxy configured/)
    assert.match(r.stdout, /plain HTTP/)
    const block = [
      '[trackers.rally]',
      'type = "rally"',
      'api_key_env = "RALLY_API_KEY"',
      `server = "${sim.url}"`,
      `workspace = "${sim.workspace}"`,
      `project = "${sim.project}"`,
    ].join('\n')
    assert.ok(r.stdout.includes(block), r.stdout)
  })

  test('--json prints the report; counts agree with the simulator', async () => {
    const r = await doctor(['--json'], envFor(sim))
    assert.equal(r.code, 0, r.stderr)
    const report = JSON.parse(r.stdout)
    assert.equal(report.ok, true)
    assert.equal(report.exitCode, 0)
    assert.deepEqual(
      report.checks.map((c) => [c.name, c.ok]),
      ['config', 'connection', 'auth', 'workspace', 'project', 'items', 'customFields'].map((n) => [n, true]),
    )
    for (const c of report.checks) assert.equal(typeof c.detail, 'string')
    assert.equal(report.server, sim.url)
    assert.equal(report.workspace.ref, sim.workspace)
    assert.equal(report.project.ref, sim.project)
    assert.equal(typeof report.network, 'object')

    // Who the key belongs to, as the simulator itself says.
    const me = (await sim.wsapi('user?fetch=UserName,DisplayName')).User
    assert.equal(report.user.userName, me.UserName)
    assert.equal(report.user.displayName, me.DisplayName ?? me._refObjectName)

    assert.deepEqual(Object.keys(report.counts).sort(), ['Defect', 'Feature', 'Task', 'UserStory'])
    // Stories not yet Completed in the project and below, asked of the simulator directly.
    const scope = `workspace=${sim.workspace}&project=${sim.project}&projectScopeDown=true&projectScopeUp=false`
    const q = encodeURIComponent('(ScheduleState < "Completed")')
    const stories = await sim.wsapi(`hierarchicalrequirement?query=${q}&pagesize=1&${scope}`)
    assert.equal(report.counts.UserStory, stories.QueryResult.TotalResultCount)
    const t = encodeURIComponent('(State != "Completed")')
    const tasks = await sim.wsapi(`task?query=${t}&pagesize=1&${scope}`)
    assert.equal(report.counts.Task, tasks.QueryResult.TotalResultCount)
    assert.ok(report.counts.UserStory > 0)
    assert.ok(report.toml.startsWith('[trackers.rally]\n'))
  })

  test('a wrong key is exit 4 and names the key as the problem', async () => {
    const wrong = '_wrongKey' + 'x'.repeat(20)
    keys.push(wrong)
    const r = await doctor([], envFor(sim, { RALLY_API_KEY: wrong }))
    assert.equal(r.code, 4, r.stdout)
    assert.match(r.stdout, /\[ok\]\s+connection/)
    assert.match(r.stdout, /\[FAIL\]\s+auth\s+.*401/)
    assert.match(r.stdout, /RALLY_API_KEY/)
    assert.doesNotMatch(r.stdout, /trackers\.rally/)
  })

  test('an unknown workspace is exit 5 and lists the workspaces the key sees', async () => {
    const r = await doctor(['--json'], envFor(sim, { RALLY_WORKSPACE: '/workspace/999999' }))
    assert.equal(r.code, 5, r.stdout)
    const report = JSON.parse(r.stdout)
    const ws = report.checks.find((c) => c.name === 'workspace')
    assert.equal(ws.ok, false)
    assert.match(ws.detail, /\/workspace\/999999/)
    assert.ok(report.workspaces.some((w) => w.ref === sim.workspace), JSON.stringify(report.workspaces))
    assert.equal(report.checks.at(-1).name, 'workspace', 'later checks must not run')
  })

  test('an unknown project is exit 5 and lists projects of the workspace', async () => {
    const r = await doctor([], envFor(sim, { RALLY_PROJECT: '999999' }))
    assert.equal(r.code, 5, r.stdout)
    assert.match(r.stdout, /\[FAIL\]\s+project\s+project \/project\/999999 does not exist/)
    assert.ok(r.stdout.includes(sim.project), r.stdout)
    assert.doesNotMatch(r.stdout, /\bitems\b/)
  })

  test('an unreachable server is exit 3 and says the connection was refused', async () => {
    const port = await closedPort()
    const r = await doctor([], envFor(sim, { RALLY_SERVER: `http://127.0.0.1:${port}` }))
    assert.equal(r.code, 3, r.stdout)
    assert.match(r.stdout, /\[FAIL\]\s+connection\s+.*refused/)
    assert.match(r.stdout, /direct, no proxy configured/)
  })

  test('an invalid configuration is exit 2 before any request', async () => {
    let r = await doctor([], envFor(sim, { RALLY_SERVER: 'ftp://rally.example.com' }))
    assert.equal(r.code, 2, r.stdout)
    assert.match(r.stdout, /\[FAIL\]\s+config\s+Invalid server/)
    r = await doctor(['--server', sim.url])
    assert.equal(r.code, 2, r.stdout)
    assert.match(r.stdout, /apiKey is empty/)
    r = await doctor(['--no-such-flag'])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /unknown option --no-such-flag/)
  })

  test('the printed block, saved as ~/.panopticon/config.toml, is read back (api_key_env included)', async () => {
    const first = JSON.parse((await doctor(['--json'], envFor(sim))).stdout)
    const own = mkdtempSync(join(tmpdir(), 'rally-doctor-toml-'))
    try {
      mkdirSync(join(own, '.panopticon'))
      writeFileSync(join(own, '.panopticon', 'config.toml'), `[trackers]\nprimary = "rally"\n\n${first.toml}`)
      let r = await doctor(['--json'], { HOME: own, USERPROFILE: own, RALLY_API_KEY: sim.apiKey })
      assert.equal(r.code, 0, r.stdout)
      const again = JSON.parse(r.stdout)
      assert.deepEqual([again.server, again.workspace.ref, again.project.ref], [sim.url, sim.workspace, sim.project])
      // A custom api_key_env names the variable that holds the key.
      const custom = first.toml.replace('api_key_env = "RALLY_API_KEY"', 'api_key_env = "ACME_RALLY_KEY"')
      writeFileSync(join(own, '.panopticon', 'config.toml'), custom)
      r = await doctor([], { HOME: own, USERPROFILE: own, ACME_RALLY_KEY: sim.apiKey })
      assert.equal(r.code, 0, r.stdout)
      r = await doctor([], { HOME: own, USERPROFILE: own })
      assert.equal(r.code, 2, r.stdout)
    } finally {
      rmSync(own, { recursive: true, force: true })
    }
  })

  test('flags and ~/.panopticon.env-style files are read; --api-key warns', async () => {
    const file = join(home, 'rally.env')
    writeFileSync(file, `RALLY_API_KEY=${sim.apiKey}\nexport RALLY_SERVER="${sim.url}"\nOTHER=1\n`)
    let r = await doctor(['--env-file', file, '--workspace', sim.workspace, '--project', sim.project])
    assert.equal(r.code, 0, r.stdout)
    r = await doctor(['--api-key', sim.apiKey, '--server', sim.url, '--project', sim.project])
    assert.equal(r.code, 0, r.stdout)
    assert.match(r.stderr, /prefer RALLY_API_KEY/)
  })

  test('--panopticon-env names the env file; a missing one is a usage error of the tool (Node ends an --env-file one itself)', async () => {
    const file = join(home, 'panopticon.env')
    writeFileSync(file, `RALLY_API_KEY=${sim.apiKey}\nRALLY_SERVER=${sim.url}\n`)
    let r = await doctor(['--panopticon-env', file, '--workspace', sim.workspace, '--project', sim.project])
    assert.equal(r.code, 0, r.stdout + r.stderr)
    const missing = join(home, 'no-such.env')
    r = await doctor(['--panopticon-env', missing])
    assert.equal(r.code, 2, r.stdout + r.stderr)
    assert.ok(r.stderr.includes(`rally-doctor: the env file ${missing} does not exist`), r.stderr)
    r = await doctor(['--env-file', missing])
    assert.equal(r.code, 9, 'Node refuses it before the tool runs (README)')
  })

  const hasOpenssl = (() => {
    try {
      execFileSync('openssl', ['version'], { stdio: 'ignore' })
      return true
    } catch {
      return false
    }
  })()
  test('TLS: an untrusted certificate is exit 3 with the CA advice; --ca-file and NODE_EXTRA_CA_CERTS fix it', { skip: !hasOpenssl && 'openssl is not installed' }, async () => {
    // A private CA and a server certificate for 127.0.0.1, as a TLS-inspecting proxy would have.
    const dir = mkdtempSync(join(tmpdir(), 'rally-doctor-tls-'))
    const ssl = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' })
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Test Corp Root')
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'srv.key', '-out', 'srv.csr', '-subj', '/CN=127.0.0.1')
    writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n')
    ssl('x509', '-req', '-in', 'srv.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'srv.pem', '-days', '2', '-extfile', 'ext.cnf')
    // Not Rally: it refuses every key, which is enough to prove TLS got through.
    const server = createHttpsServer(
      { key: readFileSync(join(dir, 'srv.key')), cert: readFileSync(join(dir, 'srv.pem')) },
      (req, res) => {
        res.writeHead(401, { 'content-type': 'text/html' })
        res.end('<html><body><h2>HTTP ERROR 401</h2></body></html>')
      },
    )
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
    const vars = { RALLY_API_KEY: sim.apiKey, RALLY_SERVER: `https://127.0.0.1:${server.address().port}` }
    try {
      let r = await doctor([], { ...vars, NODE_EXTRA_CA_CERTS: '' })
      assert.equal(r.code, 3, r.stdout)
      assert.match(r.stdout, /\[FAIL\]\s+connection\s+TLS failed/)
      assert.match(r.stdout, /NODE_EXTRA_CA_CERTS/)
      r = await doctor(['--ca-file', join(dir, 'ca.pem')], { ...vars, NODE_EXTRA_CA_CERTS: '' })
      assert.equal(r.code, 4, r.stdout)
      assert.match(r.stdout, /\[ok\]\s+connection/)
      r = await doctor(['--json'], { ...vars, NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem') })
      assert.equal(r.code, 4, r.stdout)
      const report = JSON.parse(r.stdout)
      assert.equal(report.network.nodeExtraCaCertsLoaded, 1)
      assert.match(report.checks.find((c) => c.name === 'connection').detail, /1 from NODE_EXTRA_CA_CERTS/)
    } finally {
      server.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('a project with no open items is exit 6 with the usual causes', async () => {
    // A separate simulator: this test deletes data.
    const own = await startSim({ seed: 42 })
    keys.push(own.apiKey)
    try {
      const q = encodeURIComponent('(Name = "Search Team")')
      const project = (await own.wsapi(`project?query=${q}&fetch=ObjectID`)).QueryResult.Results[0]
      assert.ok(project, 'the seed has a "Search Team" project')
      const ref = `/project/${project.ObjectID}`
      for (let round = 0; round < 5; round++) {
        const page = await own.wsapi(`artifact?project=${ref}&projectScopeDown=false&fetch=ObjectID&pagesize=200`)
        if (page.QueryResult.TotalResultCount === 0) break
        for (const a of page.QueryResult.Results) {
          await fetch(a._ref, { method: 'DELETE', headers: { ZSESSIONID: own.apiKey } })
        }
      }
      const r = await doctor(['--no-scope-down'], envFor(own, { RALLY_PROJECT: ref }))
      assert.equal(r.code, 6, r.stdout)
      assert.match(r.stdout, /\[warn\]\s+items\s+no open items in scope/)
      assert.match(r.stdout, /scope down is off/)
      assert.match(r.stdout, /usual causes/)
      // The block is still printed: the configuration itself is valid.
      assert.ok(r.stdout.includes(`project = "${ref}"`), r.stdout)
    } finally {
      await own.stop()
    }
  })

  test('debug logging of the doctor run shows requests and never the key', async () => {
    const r = await doctor(['--json'], envFor(sim, { RALLY_LOG: 'debug' }))
    assert.equal(r.code, 0)
    assert.match(r.stderr, /GET \/slm\/webservice\/v2\.0\/user \S* ?-> 200 in \d+ ms/)
  })
})
