// Issue 10, item 13: messages read as JS speaks ("got undefined", "got Infinity", never
// "got a undefined" or "got inf"), and a key the tracker does not know (a typo such as
// `timeOutMs`) is refused with RALLY_INVALID_INPUT naming it and the nearest valid key, in the
// constructor options and in the filters, new-issue and update objects — before any request.
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
})
after(() => sim?.stop())

describe('messages name values as JS does', () => {
  const cases = [
    ['getIssue(undefined)', (t) => t.getIssue(undefined), 'id', 'got undefined'],
    ['getIssue({})', (t) => t.getIssue({}), 'id', 'got an object'],
    ['priority Infinity', (t) => t.createIssue({ title: 'x', artifactType: 'Defect', priority: Infinity }), 'priority', 'got Infinity'],
    ['priority -Infinity', (t) => t.updateIssue('DE1', { priority: -Infinity }), 'priority', 'got -Infinity'],
    ['limit Infinity', (t) => t.listIssues({ limit: Infinity }), 'limit', 'got Infinity'],
    ['limit NaN', (t) => t.listIssues({ limit: NaN }), 'limit', 'got NaN'],
  ]
  for (const [name, call, argument, want] of cases) {
    test(name, async () => {
      await sim.reset()
      const err = await rejection(call(tracker))
      assertInvalidInput(err, argument)
      assert.ok(err.message.includes(want), err.message)
      assert.ok(!/got a undefined|got an? inf\b|got -?inf\b|got a object/.test(err.message), err.message)
      assert.equal((await sim.stats()).total, 0)
    })
  }

  test('new RallyTracker: maxConcurrency Infinity', () => {
    assert.throws(
      () => new RallyTracker({ apiKey: 'k', server: sim.url, maxConcurrency: Infinity }),
      (err) => {
        assertInvalidInput(err, 'maxConcurrency')
        assert.ok(err.message.includes('got Infinity'), err.message)
        return true
      },
    )
  })
})

describe('unknown keys are refused, naming the nearest valid one', () => {
  const calls = [
    ['listIssues filter `stat`', (t) => t.listIssues({ stat: 'open' }), 'stat', '`state`'],
    ['listIssues filter `include_closed`', (t) => t.listIssues({ include_closed: true }), 'include_closed', '`includeClosed`'],
    ['listIssues filter `Limit`', (t) => t.listIssues({ Limit: 5 }), 'Limit', '`limit`'],
    ['createIssue field `descripton`', (t) => t.createIssue({ title: 'x', descripton: 'y' }), 'descripton', '`description`'],
    ['createIssue field `type`', (t) => t.createIssue({ title: 'x', type: 'Defect' }), 'type', '`artifactType`'],
    ['updateIssue field `assigne`', (t) => t.updateIssue('US1', { assigne: 'me' }), 'assigne', '`assignee`'],
    ['updateIssue field `labels_`', (t) => t.updateIssue('US1', { labels_: [] }), 'labels_', '`labels`'],
    ['listIssues a key far from any', (t) => t.listIssues({ zzzzzzzzzz: 1 }), 'zzzzzzzzzz', 'valid filters are'],
  ]
  for (const [name, call, argument, hint] of calls) {
    test(name, async () => {
      await sim.reset()
      const err = await rejection(call(tracker))
      assertInvalidInput(err, argument)
      assert.ok(err.message.includes(`unknown`) && err.message.includes(`\`${argument}\``), err.message)
      assert.ok(err.message.includes(hint), err.message)
      assert.equal((await sim.stats()).total, 0, 'no request was made')
    })
  }

  test('new RallyTracker: `timeOutMs`', () => {
    assert.throws(
      () => new RallyTracker({ apiKey: 'k', server: sim.url, timeOutMs: 5000 }),
      (err) => {
        assertInvalidInput(err, 'timeOutMs')
        assert.ok(err.message.includes('unknown option `timeOutMs`; did you mean `timeoutMs`?'), err.message)
        return true
      },
    )
  })

  test('new RallyTracker: `apikey` and `maxconcurrency`', () => {
    for (const [key, nearest] of [
      ['apikey', 'apiKey'],
      ['maxconcurrency', 'maxConcurrency'],
      ['proxyUrl', 'proxy'],
    ]) {
      assert.throws(
        () => new RallyTracker({ apiKey: 'k', server: sim.url, [key]: 'x' }),
        (err) => {
          assertInvalidInput(err, key)
          assert.ok(err.message.includes(`did you mean \`${nearest}\`?`), err.message)
          return true
        },
      )
    }
  })

  test("Panopticon's exact shape passes, undefined values included", async () => {
    const { apiKey, url: server, workspace, project } = sim
    const t = new RallyTracker({ apiKey, server, workspace, project })
    assert.equal((await t.listIssues({ limit: 1 })).length, 1)
    const u = new RallyTracker({ apiKey, server, workspace: undefined, project: undefined })
    assert.equal((await u.listIssues({ limit: 1, state: undefined, labels: undefined })).length, 1)
    // Every documented key at once is accepted.
    const every = new RallyTracker({
      apiKey,
      server,
      workspace,
      project,
      projectScopeDown: true,
      projectScopeUp: false,
      artifactTypes: ['UserStory'],
      timeoutMs: 30000,
      maxConcurrency: 4,
      maxRetries: 1,
      maxResults: 100,
      proxy: undefined,
      caCerts: undefined,
      allowInsecureHttp: false,
      logger: undefined,
    })
    const list = await every.listIssues({
      state: 'open',
      labels: undefined,
      assignee: undefined,
      team: undefined,
      query: undefined,
      limit: 2,
      includeClosed: undefined,
    })
    assert.ok(list.length <= 2)
  })
})
