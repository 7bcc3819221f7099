// The README's demo runs end to end, and its real-Rally mode never writes.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { repoRoot, startSim } from './helpers/sim.mjs'

const run = promisify(execFile)
const demo = join(repoRoot, 'examples', 'demo.mjs')

test('npm run demo: lists, creates, updates, comments, transitions, deletes', async () => {
  const { stdout } = await run(process.execPath, [demo], { cwd: repoRoot })
  assert.match(stdout, /^\d+ open issues, as `pan work list` shows them:$/m)
  assert.match(stdout, /^OPEN \(\d+\)$/m)
  assert.match(stdout, /^IN PROGRESS \(\d+\)$/m)
  assert.doesNotMatch(stdout, /^CLOSED/m)
  assert.match(stdout, /created {3}US\d+ "Demo: checkout shows the wrong total"/)
  assert.match(stdout, /deleted {3}getIssue\('US\d+'\) now → IssueNotFoundError: Issue not found: US\d+ \(tracker: rally\)/)
  assert.match(stdout, /state {5}in_progress \(Rally: In-Progress\)/)
  assert.match(stdout, /^ +2 {2}getIssue\(US\d+\): the item, then its pull request/m)
  assert.match(stdout, /linked {4}\["https:\/\/github\.com\/acme\/shop\/pull\/42"\] \(a Rally PullRequest on the item\)/)
})

test('the real-Rally mode (--server) only reads', async () => {
  const sim = await startSim({ seed: 42 })
  try {
    const { stdout } = await run(process.execPath, [demo, '--server', sim.url, '--workspace', sim.workspace], {
      cwd: repoRoot,
      env: { ...process.env, RALLY_API_KEY: sim.apiKey },
    })
    assert.match(stdout, /^Read-only demo against/m)
    assert.match(stdout, /^\d+ open issues in \d+ ms/m)
    const routes = Object.keys((await sim.stats()).byRoute)
    assert.ok(routes.length > 0)
    assert.deepEqual(routes.filter((r) => !r.startsWith('GET ')), [])
  } finally {
    await sim.stop()
  }
})

test('the real-Rally mode without RALLY_API_KEY explains what is missing', async () => {
  const env = { ...process.env }
  delete env.RALLY_API_KEY
  const err = await run(process.execPath, [demo, '--server', 'rally1.rallydev.com'], { cwd: repoRoot, env }).then(
    () => assert.fail('the demo should fail'),
    (e) => e,
  )
  assert.equal(err.code, 1)
  assert.match(err.stderr, /set RALLY_API_KEY/)
})
