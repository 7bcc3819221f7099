// Every error code and class: how it is caused, its class, name, code, message and details,
// and that bad input is refused before any request reaches Rally.
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { after, afterEach, before, describe, test } from 'node:test'
import { startSim } from './helpers/sim.mjs'
import * as esm from '../rally.mjs'
import { IssueNotFoundError, RallyError, RallyTracker, TrackerAuthError } from '../rally.mjs'
import { assertInvalidInput, rejection, trackerFor } from './helpers/tracker.mjs'

let sim
let tracker
let story

before(async () => {
  sim = await startSim({ seed: 42 })
  tracker = trackerFor(sim, { maxRetries: 1 })
  story = (await tracker.listIssues({ limit: 1 }))[0]
})
after(() => sim?.stop())
afterEach(() => sim.clearFaults())

function assertNoKey(err) {
  for (const text of [err.message, err.stack, JSON.stringify(err)]) {
    assert.ok(!String(text).includes(sim.apiKey), 'the API key never appears in an error')
  }
}

test('the ESM and CommonJS entries export the same classes', () => {
  const cjs = createRequire(import.meta.url)('../rally.js')
  for (const name of ['RallyTracker', 'RallyError', 'IssueNotFoundError', 'TrackerAuthError']) {
    assert.equal(esm[name], cjs[name], name)
  }
  assert.ok(new IssueNotFoundError('US1') instanceof RallyError)
  assert.equal(new IssueNotFoundError('US1').message, 'Issue not found: US1 (tracker: rally)')
  assert.equal(new TrackerAuthError('bad').message, 'Authentication failed for rally: bad')
})

test('RALLY_AUTH: a wrong key is a TrackerAuthError on every method, not "not found"', async () => {
  const wrongKey = `${sim.apiKey}x`
  const bad = new RallyTracker({ apiKey: wrongKey, server: sim.url, workspace: sim.workspace, project: sim.project })
  const calls = [
    () => bad.listIssues(),
    () => bad.getIssue(story.ref),
    () => bad.createIssue({ title: 'nope' }),
    () => bad.updateIssue(story.ref, { title: 'nope' }),
    () => bad.deleteIssue(story.ref),
    () => bad.getComments(story.ref),
    () => bad.addComment(story.ref, 'nope'),
    () => bad.transitionIssue(story.ref, 'closed'),
    () => bad.linkPR(story.ref, 'https://github.com/a/b/pull/1'),
  ]
  for (const call of calls) {
    const err = await rejection(call())
    assert.ok(err instanceof TrackerAuthError, err.message)
    assert.ok(err instanceof RallyError)
    assert.ok(err instanceof Error)
    assert.equal(err.name, 'TrackerAuthError')
    assert.equal(err.code, 'RALLY_AUTH')
    assert.match(err.message, /^Authentication failed for rally: \S/)
    assert.ok(!err.message.includes('<'), 'no HTML in the message')
    assert.ok(!err.message.includes(wrongKey))
    assertNoKey(err)
  }
  assert.equal((await tracker.getIssue(story.ref)).id, story.id, 'the good key still works')
})

test('RALLY_AUTH: an empty or missing key throws synchronously in the constructor', () => {
  for (const apiKey of ['', '   ', undefined, null]) {
    assert.throws(
      () => new RallyTracker({ apiKey, server: sim.url }),
      (err) => err instanceof TrackerAuthError && err.code === 'RALLY_AUTH' && /^Authentication failed for rally: /.test(err.message),
    )
  }
})

test('RALLY_NOT_FOUND: every method with an unknown issue', async () => {
  const calls = {
    getIssue: () => tracker.getIssue('US999999'),
    updateIssue: () => tracker.updateIssue('US999999', { title: 'x' }),
    deleteIssue: () => tracker.deleteIssue('US999999'),
    getComments: () => tracker.getComments('US999999'),
    addComment: () => tracker.addComment('US999999', 'x'),
    transitionIssue: () => tracker.transitionIssue('US999999', 'closed'),
    linkPR: () => tracker.linkPR('US999999', 'https://github.com/a/b/pull/1'),
  }
  for (const [method, call] of Object.entries(calls)) {
    const err = await rejection(call())
    assert.ok(err instanceof IssueNotFoundError, `${method}: ${err.message}`)
    assert.ok(err instanceof RallyError)
    assert.equal(err.name, 'IssueNotFoundError')
    assert.equal(err.code, 'RALLY_NOT_FOUND')
    assert.equal(err.message, 'Issue not found: US999999 (tracker: rally)')
    assert.equal(err.issueId, 'US999999')
  }
  // A missing parent is a bad argument of createIssue, and says which one.
  const err = await rejection(tracker.createIssue({ title: 'Orphan', artifactType: 'Task', parent: 'US999999' }))
  assert.ok(['RALLY_NOT_FOUND', 'RALLY_INVALID_INPUT'].includes(err.code), err.message)
  assert.match(err.message, /US999999/)
})

test("RALLY_REJECTED: Rally's own error text when it refuses a value", async () => {
  const scoped = trackerFor(sim, { project: '/project/1' })
  for (const call of [() => scoped.listIssues(), () => scoped.createIssue({ title: 'In a missing project' })]) {
    const err = await rejection(call())
    assert.ok(err instanceof RallyError && !(err instanceof IssueNotFoundError), err.message)
    assert.equal(err.name, 'RallyError')
    assert.equal(err.code, 'RALLY_REJECTED')
    assert.ok(Array.isArray(err.rallyErrors))
    assert.ok(err.rallyErrors.includes('Could not read referenced object /project/1'), err.rallyErrors.join())
    assert.match(err.message, /Could not read referenced object \/project\/1/)
    assertNoKey(err)
  }
})

test('RALLY_UNAVAILABLE: 503 after the retries, with attempts and status', async () => {
  await sim.setFaults('503@GET *')
  const err = await rejection(tracker.getIssue(story.ref))
  assert.equal(err.code, 'RALLY_UNAVAILABLE', err.message)
  assert.equal(err.name, 'RallyError')
  assert.equal(err.status, 503)
  assert.equal(err.attempts, 2)
  assert.ok(!err.message.includes('<'), err.message)
  assertNoKey(err)
})

test('RALLY_TIMEOUT: a response slower than timeoutMs', async () => {
  const slow = trackerFor(sim, { timeoutMs: 150, maxRetries: 0 })
  await sim.setFaults('latency=1500@GET *')
  const err = await rejection(slow.getIssue(story.ref))
  assert.equal(err.code, 'RALLY_TIMEOUT', err.message)
  assert.equal(err.timeoutMs, 150)
  assert.match(err.message, /150 ms/)
})

test('RALLY_PROTOCOL: a page that is not JSON, with a short excerpt', async () => {
  await sim.setFaults('html@GET *')
  const err = await rejection(tracker.getIssue(story.ref))
  assert.equal(err.code, 'RALLY_PROTOCOL', err.message)
  assert.ok(err.message.length < 600, `${err.message.length} characters`)
  assert.ok(!err.message.includes('<'), err.message)
  assertNoKey(err)
})

describe('RALLY_INVALID_INPUT: refused before any request, naming the argument', () => {
  const cases = [
    ['getIssue(42)', (t) => t.getIssue(42), 'id'],
    ['getIssue()', (t) => t.getIssue(), 'id'],
    ['getIssue({})', (t) => t.getIssue({}), 'id'],
    ["listIssues('open')", (t) => t.listIssues('open'), 'filters'],
    ['listIssues([])', (t) => t.listIssues([]), 'filters'],
    ["state 'done'", (t) => t.listIssues({ state: 'done' }), 'state'],
    ["state 'Open'", (t) => t.listIssues({ state: 'Open' }), 'state'],
    ["labels 'backend'", (t) => t.listIssues({ labels: 'backend' }), 'labels'],
    ['labels with a number', (t) => t.listIssues({ labels: ['backend', 3] }), 'labels[1]'],
    ['labels with null', (t) => t.listIssues({ labels: [null] }), 'labels[0]'],
    ["limit '5'", (t) => t.listIssues({ limit: '5' }), 'limit'],
    ['limit 0', (t) => t.listIssues({ limit: 0 }), 'limit'],
    ['limit 2.5', (t) => t.listIssues({ limit: 2.5 }), 'limit'],
    ['limit NaN', (t) => t.listIssues({ limit: NaN }), 'limit'],
    ["includeClosed 'yes'", (t) => t.listIssues({ includeClosed: 'yes' }), 'includeClosed'],
    ['assignee 7', (t) => t.listIssues({ assignee: 7 }), 'assignee'],
    ['createIssue()', (t) => t.createIssue(), 'issue'],
    ['createIssue({})', (t) => t.createIssue({}), 'title'],
    ["title ''", (t) => t.createIssue({ title: '  ' }), 'title'],
    ['title 5', (t) => t.createIssue({ title: 5 }), 'title'],
    ["priority 'high'", (t) => t.createIssue({ title: 'x', artifactType: 'Defect', priority: 'high' }), 'priority'],
    ['priority 9', (t) => t.createIssue({ title: 'x', artifactType: 'Defect', priority: 9 }), 'priority'],
    ['priority on a story', (t) => t.createIssue({ title: 'x', priority: 2 }), 'priority'],
    ["artifactType 'Epic'", (t) => t.createIssue({ title: 'x', artifactType: 'Epic' }), 'artifactType'],
    ["dueDate 'tomorrow'", (t) => t.createIssue({ title: 'x', artifactType: 'Defect', dueDate: 'tomorrow' }), 'dueDate'],
    ["labels ['']", (t) => t.createIssue({ title: 'x', labels: [''] }), 'labels[0]'],
    ['updateIssue(id, null)', (t) => t.updateIssue('US1', null), 'update'],
    ["update state 'done'", (t) => t.updateIssue('US1', { state: 'done' }), 'state'],
    ['update title 1', (t) => t.updateIssue('US1', { title: 1 }), 'title'],
    ["transitionIssue 'done'", (t) => t.transitionIssue('US1', 'done'), 'state'],
    ['transitionIssue no state', (t) => t.transitionIssue('US1'), 'state'],
    ['addComment body 42', (t) => t.addComment('US1', 42), 'body'],
    ["addComment ''", (t) => t.addComment('US1', ''), 'body'],
    ['linkPR not a URL', (t) => t.linkPR('US1', 'not a url'), 'prUrl'],
    ['linkPR 5', (t) => t.linkPR('US1', 5), 'prUrl'],
  ]
  for (const [name, call, argument] of cases) {
    test(name, async () => {
      await sim.reset()
      const err = await rejection(call(tracker))
      assertInvalidInput(err, argument)
      assert.ok(err.message.startsWith(`Invalid ${argument}: `), err.message)
      assert.equal((await sim.stats()).total, 0, 'no request was made')
    })
  }

  const ctorCases = [
    ['config null', null, 'config'],
    ['config a string', 'key', 'config'],
    ['apiKey 42', { apiKey: 42 }, 'apiKey'],
    ['server 5', { server: 5 }, 'server'],
    ['server over http', { server: 'http://rally.example.com' }, 'server'],
    ["maxConcurrency '8'", { maxConcurrency: '8' }, 'maxConcurrency'],
    ['maxConcurrency 13', { maxConcurrency: 13 }, 'maxConcurrency'],
    ['maxConcurrency 0', { maxConcurrency: 0 }, 'maxConcurrency'],
    ['timeoutMs 0', { timeoutMs: 0 }, 'timeoutMs'],
    ["workspace 'Acme'", { workspace: 'Acme' }, 'workspace'],
    ['project 12.5', { project: 12.5 }, 'project'],
    ["artifactTypes ['Epic']", { artifactTypes: ['Epic'] }, 'artifactTypes[0]'],
    ["logger 'console'", { logger: 'console' }, 'logger'],
    ['caCerts not PEM', { caCerts: ['hello'] }, 'caCerts[0]'],
  ]
  for (const [name, config, argument] of ctorCases) {
    test(`new RallyTracker: ${name}`, () => {
      const full = config && typeof config === 'object' ? { apiKey: 'k', server: sim.url, ...config } : config
      assert.throws(
        () => new RallyTracker(full),
        (err) => {
          assertInvalidInput(err, argument)
          assert.ok(err.message.startsWith(`Invalid ${argument}: `), err.message)
          return true
        },
      )
    })
  }
})

test('null where a field is optional means absent', async () => {
  const list = await tracker.listIssues({ state: null, labels: null, limit: null, includeClosed: null })
  assert.deepEqual(
    list.map((i) => i.id),
    (await tracker.listIssues()).map((i) => i.id),
  )
  assert.ok((await tracker.listIssues(null)).length > 0)
  const created = await tracker.createIssue({ title: 'With nulls', description: null, labels: null, assignee: null })
  assert.equal(created.description, '')
  const updated = await tracker.updateIssue(created.ref, { title: null, description: 'set', state: undefined })
  assert.equal(updated.title, 'With nulls')
  const t = new RallyTracker({ apiKey: sim.apiKey, server: sim.url, workspace: null, project: null, logger: null })
  assert.ok((await t.listIssues({ limit: 1 })).length === 1)
})

test('the native entry (index.js) rejects with readable errors carrying code, name and details', async () => {
  const native = createRequire(import.meta.url)('../index.js')
  const raw = new native.RallyTracker({ apiKey: sim.apiKey, server: sim.url, workspace: sim.workspace })
  const err = await rejection(raw.getIssue('US999999'))
  assert.ok(err instanceof Error)
  assert.equal(err.message, 'Issue not found: US999999 (tracker: rally)')
  assert.equal(err.code, 'RALLY_NOT_FOUND')
  assert.equal(err.name, 'IssueNotFoundError')
  assert.equal(err.issueId, 'US999999')
  assert.throws(
    () => new native.RallyTracker({ apiKey: '' }),
    (e) => e.code === 'RALLY_AUTH' && e.name === 'TrackerAuthError' && /^Authentication failed for rally: /.test(e.message),
  )
})
