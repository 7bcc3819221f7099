// Bad input, table-driven, across every method and the constructor: each case must be refused
// with RALLY_INVALID_INPUT (RALLY_AUTH for an empty key) naming the argument, and the simulator
// must see zero requests. Values a JS caller may plausibly pass (wrong units, near-miss ids,
// calendar-invalid dates, limits a UI computes) rather than only wrong JS types, which
// errors.test.mjs covers.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { startSim } from './helpers/sim.mjs'
import { RallyTracker } from '../rally.mjs'
import { assertInvalidInput, rejection, trackerFor } from './helpers/tracker.mjs'

let sim
let tracker

before(async () => {
  sim = await startSim({ seed: 42 })
  tracker = trackerFor(sim)
  // Fill nothing: the tracker has made no request yet, so nothing cached can hide a request.
})
after(() => sim?.stop())

const defect = (extra) => ({ title: 'x', artifactType: 'Defect', ...extra })
const badIds = [
  ['empty', ''],
  ['whitespace', ' \t '],
  ['prefix only', 'US'],
  ['digits then letters', '12abc'],
  ['ref without ObjectID', '/defect/x'],
  ['zero ObjectID', '0'],
  ['UUID ref', '/defect/3f8e1a2b-1c2d-4e5f-8a9b-0c1d2e3f4a5b'],
  ['a URL that is no artifact', 'https://rally1.rallydev.com/#/123d/dashboard'],
]
// The argument is named as in Panopticon's IssueTracker signatures (`getComments(issueId)`).
const idMethods = [
  ['getIssue', (t, id) => t.getIssue(id), 'id'],
  ['updateIssue', (t, id) => t.updateIssue(id, { title: 'x' }), 'id'],
  ['deleteIssue', (t, id) => t.deleteIssue(id), 'id'],
  ['getComments', (t, id) => t.getComments(id), 'issueId'],
  ['addComment', (t, id) => t.addComment(id, 'hello'), 'issueId'],
  ['transitionIssue', (t, id) => t.transitionIssue(id, 'closed'), 'id'],
  ['linkPR', (t, id) => t.linkPR(id, 'https://github.com/acme/shop/pull/1'), 'issueId'],
]

const cases = [
  // Every method that takes an id, with every malformed id.
  ...idMethods.flatMap(([method, call, argument]) =>
    badIds.map(([what, id]) => [`${method}: id ${what} (${JSON.stringify(id)})`, (t) => call(t, id), argument]),
  ),
  ['createIssue: parent 12abc', (t) => t.createIssue({ title: 'x', artifactType: 'Task', parent: '12abc' }), 'parent'],
  // Priorities: integers 0-4 only.
  ['createIssue: priority 5', (t) => t.createIssue(defect({ priority: 5 })), 'priority'],
  ['createIssue: priority -1', (t) => t.createIssue(defect({ priority: -1 })), 'priority'],
  ['createIssue: priority 2.5', (t) => t.createIssue(defect({ priority: 2.5 })), 'priority'],
  ["createIssue: priority 'high'", (t) => t.createIssue(defect({ priority: 'high' })), 'priority'],
  ['createIssue: priority Infinity', (t) => t.createIssue(defect({ priority: Infinity })), 'priority'],
  ['updateIssue: priority 5', (t) => t.updateIssue('DE1', { priority: 5 }), 'priority'],
  // Limits: positive integers, bounded.
  ['listIssues: limit 0', (t) => t.listIssues({ limit: 0 }), 'limit'],
  ['listIssues: limit -3', (t) => t.listIssues({ limit: -3 }), 'limit'],
  ['listIssues: limit 1.5', (t) => t.listIssues({ limit: 1.5 }), 'limit'],
  ['listIssues: limit 1e9', (t) => t.listIssues({ limit: 1e9 }), 'limit'],
  // Dates: ISO and on the calendar.
  ["createIssue: dueDate '2026-02-30'", (t) => t.createIssue(defect({ dueDate: '2026-02-30' })), 'dueDate'],
  ["createIssue: dueDate '2025-02-29' (not a leap year)", (t) => t.createIssue(defect({ dueDate: '2025-02-29' })), 'dueDate'],
  ["createIssue: dueDate 'tomorrow'", (t) => t.createIssue(defect({ dueDate: 'tomorrow' })), 'dueDate'],
  ["createIssue: dueDate '12/31/2026'", (t) => t.createIssue(defect({ dueDate: '12/31/2026' })), 'dueDate'],
  ["updateIssue: dueDate '2026-13-01'", (t) => t.updateIssue('DE1', { dueDate: '2026-13-01' }), 'dueDate'],
  // Labels: Rally's 32-character tag limit, strings, not empty.
  ['createIssue: a 33-character label', (t) => t.createIssue({ title: 'x', labels: ['ok', 'a'.repeat(33)] }), 'labels[1]'],
  ['createIssue: a label of 7 & (35 once escaped)', (t) => t.createIssue({ title: 'x', labels: ['&'.repeat(7)] }), 'labels[0]'],
  ['createIssue: a label that is a number', (t) => t.createIssue({ title: 'x', labels: [7] }), 'labels[0]'],
  ["updateIssue: an empty label", (t) => t.updateIssue('US1', { labels: ['a', ''] }), 'labels[1]'],
  ["listIssues: a whitespace label", (t) => t.listIssues({ labels: ['  '] }), 'labels[0]'],
  // Descriptions: 32 KB after conversion to HTML (each & becomes &amp;).
  ['createIssue: description over 32 KB as HTML', (t) => t.createIssue({ title: 'x', description: '& '.repeat(7000) }), 'description'],
  ['updateIssue: description over 32 KB', (t) => t.updateIssue('US1', { description: 'word '.repeat(7000) }), 'description'],
  // Titles.
  ["createIssue: empty title", (t) => t.createIssue({ title: '' }), 'title'],
  ['createIssue: title as a number', (t) => t.createIssue({ title: 42 }), 'title'],
  ['createIssue: title of 257 characters', (t) => t.createIssue({ title: 't'.repeat(257) }), 'title'],
  ["updateIssue: title '   '", (t) => t.updateIssue('US1', { title: '   ' }), 'title'],
  // States.
  ["transitionIssue: 'Completed' (a Rally name, not ours)", (t) => t.transitionIssue('US1', 'Completed'), 'state'],
  ["updateIssue: state 'reopened'", (t) => t.updateIssue('US1', { state: 'reopened' }), 'state'],
  ["listIssues: state 'in-progress'", (t) => t.listIssues({ state: 'in-progress' }), 'state'],
  // PR links and comments.
  ["linkPR: javascript: URL", (t) => t.linkPR('US1', 'javascript:alert(1)'), 'prUrl'],
  ["linkPR: empty", (t) => t.linkPR('US1', ''), 'prUrl'],
  ["addComment: whitespace only", (t) => t.addComment('US1', ' \n '), 'body'],
]

const ctorCases = [
  ['maxConcurrency 0', { maxConcurrency: 0 }, 'maxConcurrency'],
  ['maxConcurrency 13', { maxConcurrency: 13 }, 'maxConcurrency'],
  ['maxConcurrency 2.5', { maxConcurrency: 2.5 }, 'maxConcurrency'],
  ['timeoutMs 0', { timeoutMs: 0 }, 'timeoutMs'],
  ['timeoutMs -1', { timeoutMs: -1 }, 'timeoutMs'],
  ['maxRetries -1', { maxRetries: -1 }, 'maxRetries'],
  ["workspace 'abc'", { workspace: 'abc' }, 'workspace'],
  ["project '/project/x'", { project: '/project/x' }, 'project'],
  ["server 'ftp://x'", { server: 'ftp://x' }, 'server'],
  ['server http:// not loopback', { server: 'http://rally.example.com' }, 'server'],
  ["server ''", { server: '' }, 'server'],
  ["proxy 'not a url'", { proxy: 'not a url' }, 'proxy'],
  ['maxResults 0', { maxResults: 0 }, 'maxResults'],
]

describe('bad input is refused before any request, naming the argument', () => {
  test(`at least 40 cases (${cases.length} calls + ${ctorCases.length + 2} constructor)`, () => {
    assert.ok(cases.length + ctorCases.length + 2 >= 40)
  })

  for (const [name, call, argument] of cases) {
    test(name, async () => {
      const before = (await sim.stats()).total
      const err = await rejection(call(tracker))
      assertInvalidInput(err, argument)
      assert.ok(err.message.includes(argument), `the message names ${argument}: ${err.message}`)
      assert.ok(err.message.length < 400, `${err.message.length} characters`)
      assert.equal((await sim.stats()).total, before, 'no request was made')
    })
  }

  for (const [name, config, argument] of ctorCases) {
    test(`new RallyTracker: ${name}`, async () => {
      const before = (await sim.stats()).total
      const full = { apiKey: sim.apiKey, server: sim.url, workspace: sim.workspace, ...config }
      assert.throws(
        () => new RallyTracker(full),
        (err) => {
          assertInvalidInput(err, argument)
          assert.ok(err.message.includes(argument), err.message)
          assert.ok(!err.message.includes(sim.apiKey), 'the key is not in the message')
          return true
        },
      )
      assert.equal((await sim.stats()).total, before, 'no request was made')
    })
  }

  for (const [name, apiKey] of [
    ['empty apiKey', ''],
    ['whitespace apiKey', '   '],
  ]) {
    test(`new RallyTracker: ${name} is an auth error`, () => {
      assert.throws(
        () => new RallyTracker({ apiKey, server: sim.url }),
        (err) => err.code === 'RALLY_AUTH' && err.name === 'TrackerAuthError' && /apiKey|key/i.test(err.message),
      )
    })
  }
})

describe('null where a field is optional is not an error', () => {
  const nullCases = [
    ['listIssues all-null filters', (t) => t.listIssues({ state: null, labels: null, assignee: null, team: null, query: null, limit: null, includeClosed: null })],
    ['createIssue with null optionals', (t) => t.createIssue({ title: 'nulls', description: null, labels: null, assignee: null, priority: null, dueDate: null, parent: null })],
    ['updateIssue with null fields', (t) => t.updateIssue('US1', { title: null, description: null, labels: null, priority: null, dueDate: null })],
  ]
  for (const [name, call] of nullCases) {
    test(name, async () => {
      await call(tracker)
    })
  }
  test('constructor with null optionals', async () => {
    const t = new RallyTracker({
      apiKey: sim.apiKey, server: sim.url, workspace: null, project: null, timeoutMs: null,
      maxConcurrency: null, maxRetries: null, proxy: null, caCerts: null, logger: null,
    })
    assert.equal((await t.listIssues({ limit: 1 })).length, 1)
  })
})
