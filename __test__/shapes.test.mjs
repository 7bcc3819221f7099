// The argument checks of rally.js against the generated index.d.ts: every key an options
// object may have there is accepted, and a key it lacks is refused by name (never dropped).
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { repoRoot } from './helpers/sim.mjs'
import { RallyTracker } from '../rally.mjs'
import { rejection } from './helpers/tracker.mjs'

/** The property names of `export interface <name>` in index.d.ts. */
function interfaceKeys(name) {
  const dts = readFileSync(join(repoRoot, 'index.d.ts'), 'utf8')
  const body = new RegExp(`export interface ${name} \\{\\n([\\s\\S]*?)\\n\\}`).exec(dts)?.[1]
  assert.ok(body, `index.d.ts declares ${name}`)
  return [...body.matchAll(/^ {2}(\w+)\??:/gm)].map((m) => m[1]).sort()
}

/** The keys the error for an unknown key lists as valid. */
function listedKeys(err) {
  const m = /valid \w+s are (.*)$/.exec(err.message)
  assert.ok(m, err.message)
  return [...m[1].matchAll(/`(\w+)`/g)].map((k) => k[1]).sort()
}

const offline = () => new RallyTracker({ apiKey: 'k', server: 'http://127.0.0.1:9' })
const UNKNOWN = 'qqqqqqqqqqqqqqqqqqqqqqqq'
const shapes = [
  ['RallyTrackerConfig', async (extra) => new RallyTracker({ apiKey: 'k', server: 'http://127.0.0.1:9', ...extra })],
  ['IssueFilters', (extra) => offline().listIssues(extra)],
  ['NewIssue', (extra) => offline().createIssue({ title: 'x', ...extra })],
  ['IssueUpdate', (extra) => offline().updateIssue('US1', extra)],
]

for (const [name, call] of shapes) {
  test(`${name}: the checks know exactly the keys of index.d.ts`, async () => {
    const err = await rejection((async () => call({ [UNKNOWN]: 1 }))())
    assert.equal(err.code, 'RALLY_INVALID_INPUT')
    assert.equal(err.argument, UNKNOWN)
    assert.deepEqual(listedKeys(err), interfaceKeys(name))
  })
}
