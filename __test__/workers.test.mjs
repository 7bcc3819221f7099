// The addon in worker threads, as test runners (vitest's thread pool) and servers load it:
// workers that load it, list and exit one after another and several at once, in one process.
// Each case runs in a child process, so a crash is reported as such instead of taking the
// test runner with it.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, test } from 'node:test'
import { startSim } from './helpers/sim.mjs'

const entry = fileURLToPath(new URL('../rally.mjs', import.meta.url))

// Loads the addon in `waves` rounds of `width` workers each; every worker lists and exits.
const script = `
import { Worker, isMainThread, workerData, parentPort } from 'node:worker_threads'
if (isMainThread) {
  const { waves, width, config } = JSON.parse(process.argv[2])
  const counts = []
  for (let w = 0; w < waves; w++) {
    counts.push(...await Promise.all(Array.from({ length: width }, () => new Promise((resolve, reject) => {
      const worker = new Worker(new URL(import.meta.url), { workerData: config })
      let n
      worker.on('message', (m) => { n = m })
      worker.on('error', reject)
      worker.on('exit', (code) => (code === 0 ? resolve(n) : reject(new Error('worker exited ' + code))))
    }))))
  }
  const { RallyTracker } = await import(${JSON.stringify(entry)})
  counts.push((await new RallyTracker(JSON.parse(process.argv[2]).config).listIssues({ limit: 5 })).length)
  console.log(JSON.stringify(counts))
} else {
  const { RallyTracker } = await import(${JSON.stringify(entry)})
  parentPort.postMessage((await new RallyTracker(workerData).listIssues({ limit: 5 })).length)
}
`

let sim
let dir
let file
before(async () => {
  sim = await startSim({ seed: 42 })
  dir = mkdtempSync(join(tmpdir(), 'rally-workers-'))
  file = join(dir, 'workers.mjs')
  writeFileSync(file, script)
})
after(() => {
  sim?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

function run(waves, width) {
  const config = { apiKey: sim.apiKey, server: sim.url, workspace: sim.workspace, project: sim.project }
  return spawnSync(process.execPath, [file, JSON.stringify({ waves, width, config })], {
    encoding: 'utf8',
    timeout: 60_000,
  })
}

for (const [waves, width, what] of [
  [4, 1, 'one after another'],
  [2, 3, 'three at once, twice'],
]) {
  test(`workers that load the addon, list and exit: ${what}; then the main thread`, () => {
    const res = run(waves, width)
    assert.equal(res.signal, null, `the process died of ${res.signal}: ${res.stderr.slice(-2000)}`)
    assert.equal(res.status, 0, res.stderr.slice(-2000))
    assert.deepEqual(JSON.parse(res.stdout.trim().split('\n').pop()), Array(waves * width + 1).fill(5))
  })
}
