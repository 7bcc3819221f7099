// Every id form the contract accepts, for every type and through every method that takes one.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startSim } from './helpers/sim.mjs'
import { IssueNotFoundError, RallyError, parseIssueId } from '../rally.mjs'
import { rejection, trackerFor } from './helpers/tracker.mjs'

let sim
let tracker
let all

before(async () => {
  sim = await startSim({ seed: 42 })
  tracker = trackerFor(sim)
  all = await tracker.listIssues({ includeClosed: true })
})
after(() => sim?.stop())

const TYPE_PATH = {
  UserStory: 'hierarchicalrequirement',
  Defect: 'defect',
  Task: 'task',
  Feature: 'portfolioitem/feature',
}
const UI = { UserStory: 'userstory', Defect: 'defect', Task: 'task', Feature: 'portfolioitem/feature' }

function forms(issue) {
  const typePath = TYPE_PATH[issue.artifactType]
  const camel = typePath === 'hierarchicalrequirement' ? 'HierarchicalRequirement' : typePath.toUpperCase()
  return [
    issue.ref,
    issue.ref.toLowerCase(),
    `  ${issue.ref[0].toLowerCase()}${issue.ref.slice(1)} \n`,
    issue.id,
    ` ${issue.id} `,
    `/${typePath}/${issue.id}`,
    `/${camel}/${issue.id}`,
    `${sim.url}/slm/webservice/v2.0/${typePath}/${issue.id}`,
    `https://rally1.rallydev.com/slm/webservice/v2.0/${typePath}/${issue.id}.js`,
    issue.url,
    `https://rally1.rallydev.com/#/detail/${UI[issue.artifactType]}/${issue.id}`,
    `https://rally1.rallydev.com/#/123456789d/detail/${UI[issue.artifactType]}/${issue.id}`,
  ]
}

test('getIssue accepts every id form for every type', async () => {
  for (const type of Object.keys(TYPE_PATH)) {
    const issue = all.find((i) => i.artifactType === type)
    for (const id of forms(issue)) {
      const got = await tracker.getIssue(id)
      assert.equal(got.id, issue.id, `${type} by ${JSON.stringify(id)}`)
      assert.equal(got.ref, issue.ref)
    }
  }
})

test('parseIssueId names, for every id form, the item getIssue returns for it', async () => {
  for (const type of Object.keys(TYPE_PATH)) {
    const issue = all.find((i) => i.artifactType === type)
    for (const id of forms(issue)) {
      const parsed = parseIssueId(id)
      if (parsed.objectId !== undefined) assert.equal(parsed.objectId, issue.id, `${type} by ${JSON.stringify(id)}`)
      else assert.equal(parsed.formattedId, issue.ref, `${type} by ${JSON.stringify(id)}`)
      assert.equal((await tracker.getIssue(id)).id, issue.id)
    }
  }
  // A web URL names the item after `detail`, whatever number ends it.
  assert.deepEqual(parseIssueId('https://rally1.rallydev.com/#/1234d/detail/userstory/11/22'), { objectId: '11' })
  assert.deepEqual(parseIssueId(' us012 '), { formattedId: 'US12' })
  for (const bad of ['', 'not an id', '/workspace/12', 42]) {
    assert.throws(() => parseIssueId(bad), (e) => e instanceof RallyError && e.code === 'RALLY_INVALID_INPUT', JSON.stringify(bad))
  }
})

test('FormattedIDs with the same number resolve to the right type', async () => {
  const numbers = (prefix) => new Set(all.filter((i) => i.ref.startsWith(prefix)).map((i) => i.ref.slice(prefix.length)))
  const stories = numbers('US')
  const shared = [...numbers('DE')].filter((n) => stories.has(n) && numbers('TA').has(n))
  assert.ok(shared.length > 0, 'US, DE and TA share a number in the seed')
  for (const n of shared.slice(0, 3)) {
    for (const prefix of ['US', 'DE', 'TA']) {
      assert.equal((await tracker.getIssue(`${prefix}${n}`)).ref, `${prefix}${n}`)
    }
  }
})

test('every method takes every id form', async () => {
  const story = await tracker.createIssue({ title: 'Id forms' })
  const ids = forms(story)
  let k = 0
  for (const id of ids) {
    k++
    assert.equal((await tracker.updateIssue(id, { title: `Id forms ${k}` })).id, story.id, `updateIssue ${id}`)
    assert.equal((await tracker.addComment(id, `via ${k}`)).issueId, story.ref, `addComment ${id}`)
    const own = (await tracker.getComments(id)).filter((c) => c.body.startsWith('via '))
    assert.equal(own.length, k, `getComments ${id}`)
    await tracker.transitionIssue(id, k % 2 ? 'in_progress' : 'open')
    await tracker.linkPR(id, 'https://github.com/acme/shop/pull/7')
  }
  assert.equal((await tracker.getIssue(story.ref)).title, `Id forms ${ids.length}`)
  await tracker.deleteIssue(` ${story.ref.toLowerCase()} `)
  assert.ok((await rejection(tracker.getIssue(story.id))) instanceof IssueNotFoundError)
})

test('unknown ids of each form are not found; malformed ids are invalid input', async () => {
  for (const id of ['US999999', 'de999999', '999999999999', '/defect/999999999999', `${sim.url}/#/detail/task/999999999999`]) {
    const err = await rejection(tracker.getIssue(id))
    assert.ok(err instanceof IssueNotFoundError, `${id}: ${err.message}`)
    // The id as given (a FormattedID upper-cased).
    const shown = /^Issue not found: (.+) \(tracker: rally\)$/.exec(err.message)?.[1]
    assert.equal(shown?.toLowerCase(), id.toLowerCase(), err.message)
    assert.equal(err.issueId, shown)
  }
  await sim.reset()
  for (const id of ['', '   ', 'US', 'US-12', 'XX12 34', '12.5', '-3', '0']) {
    const err = await rejection(tracker.getIssue(id))
    assert.ok(err instanceof RallyError)
    assert.ok(!(err instanceof IssueNotFoundError), `${JSON.stringify(id)} is not a lookup`)
    assert.equal(err.code, 'RALLY_INVALID_INPUT', `${JSON.stringify(id)}: ${err.message}`)
    assert.equal(err.argument, 'id')
  }
  assert.equal((await sim.stats()).total, 0, 'malformed ids make no request')
})

test('refs and URLs of types that are not work items are refused', async () => {
  await sim.reset()
  for (const id of ['/foo/12', 'https://example.com/issues/12']) {
    const err = await rejection(tracker.getIssue(id))
    assert.ok(err instanceof RallyError && !(err instanceof IssueNotFoundError), `${id}: ${err.message}`)
    assert.equal(err.code, 'RALLY_INVALID_INPUT', `${id}: ${err.message}`)
    assert.equal(err.argument, 'id')
  }
  assert.equal((await sim.stats()).total, 0, 'refused ids make no request')
})
