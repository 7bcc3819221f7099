// The packed package as a user gets it: `scripts/pack.mjs` makes the tarball (with this
// machine's binary inside), a fresh project installs it with no Rust on the PATH and no network,
// and uses it from CommonJS, ESM, the `rally-doctor` and `rally-mcp` bins and strict TypeScript.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { after, before, test } from 'node:test'
import { repoRoot, startSim } from './helpers/sim.mjs'

const tmp = realpathSync(mkdtempSync(join(tmpdir(), 'rally-pack-')))
const app = join(tmp, 'app')
const npmCmd = process.platform === 'win32' ? 'npm.cmd' : 'npm'
// The consumer's PATH: everything but the directories that hold a Rust toolchain.
const PATH = (process.env.PATH ?? '')
  .split(delimiter)
  .filter((d) => d && !['cargo', 'rustc', 'cargo.exe'].some((exe) => existsSync(join(d, exe))))
  .join(delimiter)
const consumerEnv = { ...process.env, PATH, CARGO_HOME: join(tmp, 'no-cargo'), RUSTUP_HOME: join(tmp, 'no-rustup') }
delete consumerEnv.RALLY_LOG

function run(cmd, args, { cwd = app, env = consumerEnv, allowFail = false } = {}) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, env, timeout: 120_000, maxBuffer: 16 << 20, shell: cmd.endsWith('.cmd') }, (err, stdout, stderr) => {
      if (err && !allowFail) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`))
      else resolve({ code: err ? err.code : 0, stdout, stderr })
    })
  })
}

let sim
let tarball
before(async () => {
  sim = await startSim({ seed: 11 })
  // --no-build: `npm test` has just built the addon; this test packs what is there.
  const packed = await run(process.execPath, [join(repoRoot, 'scripts', 'pack.mjs'), '--no-build', '--out', tmp], {
    cwd: repoRoot,
    env: process.env,
  })
  tarball = packed.stdout.split('\n')[0].trim()
  assert.ok(existsSync(tarball), packed.stdout)
  mkdirSync(app)
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }))
  // The binary is in the tarball; its registry dependencies (the MCP SDK behind rally-mcp)
  // come from npm's cache where this repository's own install put them, else the registry.
  await run(npmCmd, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball])
})
after(async () => {
  await sim?.stop()
  rmSync(tmp, { recursive: true, force: true })
})

test('the tarball carries the binary; the consumer has no Rust toolchain on its PATH', async () => {
  const listing = await run('tar', ['tzf', tarball], { cwd: tmp })
  assert.match(listing.stdout, /^package\/panopticon-rally\.[a-z0-9-]+\.node$/m)
  assert.match(listing.stdout, /^package\/bin\/rally-doctor\.js$/m)
  for (const f of ['bin/rally-mcp.js', 'bin/settings.js', 'mcp/server.js', 'mcp/tools.js']) {
    assert.match(listing.stdout, new RegExp(`^package/${f.replace(/[./]/g, '\\$&')}$`, 'm'), f)
  }
  for (const dir of PATH.split(delimiter)) assert.equal(existsSync(join(dir, 'cargo')), false, dir)
  assert.ok(existsSync(join(app, 'node_modules', 'panopticon-rally', 'package.json')))
})

const USE = (load) => `${load}
const [url, apiKey, workspace, project] = process.argv.slice(2)
const out = { resolved: RESOLVED }
const t = new RallyTracker({ apiKey, server: url, workspace, project })
out.name = t.name
const first = (await t.listIssues({ limit: 1 }))[0]
out.got = (await t.getIssue(first.ref.toLowerCase())).ref === first.ref
try { await t.getIssue('US999999') } catch (e) {
  out.notFound = [e instanceof IssueNotFoundError, e instanceof RallyError, e instanceof Error, e.code, e.message]
}
try { await new RallyTracker({ apiKey: 'x' + apiKey, server: url }).getIssue('US1') } catch (e) {
  out.auth = [e instanceof TrackerAuthError, e instanceof RallyError, e.code]
}
console.log(JSON.stringify(out))
`

function checkOutput(stdout) {
  const out = JSON.parse(stdout)
  assert.ok(out.resolved.startsWith(join(app, 'node_modules', 'panopticon-rally')), out.resolved)
  assert.equal(out.name, 'rally')
  assert.equal(out.got, true)
  assert.deepEqual(out.notFound, [true, true, true, 'RALLY_NOT_FOUND', 'Issue not found: US999999 (tracker: rally)'])
  assert.deepEqual(out.auth, [true, true, 'RALLY_AUTH'])
}

test('CommonJS: require() works and the error classes match instanceof', async () => {
  const file = join(app, 'use.cjs')
  const body = USE(
    `const { RallyTracker, RallyError, IssueNotFoundError, TrackerAuthError } = require('panopticon-rally')
const RESOLVED = require.resolve('panopticon-rally')`,
  )
  writeFileSync(file, `;(async () => {\n${body}\n})().catch((e) => { console.error(e); process.exit(1) })\n`)
  const { stdout } = await run(process.execPath, [file, sim.url, sim.apiKey, sim.workspace, sim.project])
  checkOutput(stdout)
})

test('ESM: import works and the error classes match instanceof', async () => {
  const file = join(app, 'use.mjs')
  const body = USE(
    `import { RallyTracker, RallyError, IssueNotFoundError, TrackerAuthError } from 'panopticon-rally'
import { fileURLToPath } from 'node:url'
const RESOLVED = fileURLToPath(import.meta.resolve('panopticon-rally'))`,
  )
  writeFileSync(file, body)
  const { stdout } = await run(process.execPath, [file, sim.url, sim.apiKey, sim.workspace, sim.project])
  checkOutput(stdout)
})

test('the rally-doctor bin runs from the installed package', async () => {
  const bin = join(app, 'node_modules', '.bin', process.platform === 'win32' ? 'rally-doctor.cmd' : 'rally-doctor')
  const env = { ...consumerEnv, RALLY_API_KEY: sim.apiKey, RALLY_SERVER: sim.url, RALLY_PROJECT: sim.project }
  const r = await run(bin, ['--json'], { env, allowFail: true })
  assert.equal(r.code, 0, r.stdout + r.stderr)
  assert.equal(JSON.parse(r.stdout).ok, true)
  assert.ok(!r.stdout.includes(sim.apiKey))
})

test('TypeScript consumer (strict): RallyTracker is a Panopticon IssueTracker; error classes typed', async () => {
  const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc')
  mkdirSync(join(app, 'ts'))
  // Panopticon's interface and factory use, as the package's own contract check declares them.
  copyFileSync(join(repoRoot, '__test__', 'types', 'panopticon.ts'), join(app, 'ts', 'panopticon.ts'))
  writeFileSync(
    join(app, 'ts', 'errors.cts'),
    `import rally = require('panopticon-rally')
export function explain(e: unknown): string {
  if (e instanceof rally.IssueNotFoundError) return 'missing ' + e.issueId
  if (e instanceof rally.TrackerAuthError) return 'auth: ' + e.message
  if (e instanceof rally.RallyError) {
    const code: rally.RallyErrorCode = e.code
    return code
  }
  return String(e)
}
const t = new rally.RallyTracker({ apiKey: 'k', server: undefined, workspace: undefined, project: undefined })
export const name: 'rally' = t.name
`,
  )
  const options = {
    strict: true,
    noEmit: true,
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    types: [],
    skipLibCheck: false,
  }
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: options, include: ['ts'] }))
  const ok = await run(process.execPath, [tsc, '-p', app], { allowFail: true })
  assert.equal(ok.code, 0, ok.stdout + ok.stderr)

  // The same compiler does reject a wrong use: the types really come from the installed package.
  writeFileSync(
    join(app, 'bad.ts'),
    `import { RallyTracker } from 'panopticon-rally'\nexport const n: 'github' = new RallyTracker({ apiKey: 'k' }).name\n`,
  )
  writeFileSync(join(app, 'tsconfig.bad.json'), JSON.stringify({ compilerOptions: options, files: ['bad.ts'] }))
  const bad = await run(process.execPath, [tsc, '-p', join(app, 'tsconfig.bad.json')], { allowFail: true })
  assert.notEqual(bad.code, 0)
  assert.match(bad.stdout, /'"rally"' is not assignable to type '"github"'/)
})


test('the rally-mcp bin runs from the installed package and answers an MCP client', async () => {
  const installed = JSON.parse(readFileSync(join(app, 'node_modules', 'panopticon-rally', 'package.json'), 'utf8'))
  assert.equal(installed.bin['rally-mcp'], 'bin/rally-mcp.js')
  assert.ok(installed.dependencies['@modelcontextprotocol/sdk'], 'the SDK is a runtime dependency')
  assert.ok(existsSync(join(app, 'node_modules', '@modelcontextprotocol', 'sdk', 'package.json')), 'and was installed')
  const { Client } = await import('@modelcontextprotocol/sdk/client/index.js')
  const { StdioClientTransport } = await import('@modelcontextprotocol/sdk/client/stdio.js')
  const bin = join(app, 'node_modules', '.bin', process.platform === 'win32' ? 'rally-mcp.cmd' : 'rally-mcp')
  const env = { ...consumerEnv, HOME: tmp, RALLY_API_KEY: sim.apiKey, RALLY_SERVER: sim.url, RALLY_PROJECT: sim.project }
  const client = new Client({ name: 'pack-test', version: '1.0.0' })
  await client.connect(new StdioClientTransport({ command: bin, args: ['--read-only'], env, cwd: app, stderr: 'ignore' }))
  try {
    const { tools } = await client.listTools()
    assert.deepEqual(tools.map((t) => t.name), ['rally_get_issue', 'rally_search', 'rally_get_attachment'])
    const r = await client.callTool({ name: 'rally_search', arguments: { limit: 2, includeClosed: true } })
    assert.equal(JSON.parse(r.content[0].text).items.length, 2)
  } finally {
    await client.close()
  }
})
