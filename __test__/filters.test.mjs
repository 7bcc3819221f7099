// Every listIssues filter. The reference for each is the unfiltered list (closed included)
// narrowed in JS by the same rule, so a filter that drops or adds a single issue fails.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startSim } from './helpers/sim.mjs'
import { rawQuery, trackerFor } from './helpers/tracker.mjs'

let sim
let tracker
let all // every seeded issue, closed included
let owner

before(async () => {
  sim = await startSim({ seed: 42 })
  tracker = trackerFor(sim)
  all = await tracker.listIssues({ includeClosed: true })
  owner = (await sim.wsapi('user')).User._refObjectName
})
after(() => sim?.stop())

const ids = (list) => list.map((i) => i.id).sort()

/** The filtered list must be exactly `expected`, and the filter must actually filter. */
function assertSameIssues(actual, expected, what) {
  assert.ok(expected.length > 0, `${what}: the seed has matching issues`)
  assert.ok(expected.length < all.length, `${what}: the seed has non-matching issues`)
  assert.deepEqual(ids(actual), ids(expected), what)
}

test('no filter (and includeClosed: false) lists the open and in-progress issues', async () => {
  const notClosed = all.filter((i) => i.state !== 'closed')
  assertSameIssues(await tracker.listIssues(), notClosed, 'no filters')
  assertSameIssues(await tracker.listIssues({}), notClosed, '{}')
  assertSameIssues(await tracker.listIssues({ includeClosed: false }), notClosed, 'includeClosed: false')
  assert.ok(all.some((i) => i.state === 'closed'))
})

test('state filter, for each state; it wins over includeClosed', async () => {
  for (const state of ['open', 'in_progress', 'closed']) {
    const expected = all.filter((i) => i.state === state)
    assertSameIssues(await tracker.listIssues({ state }), expected, `state ${state}`)
    assertSameIssues(await tracker.listIssues({ state, includeClosed: false }), expected, `state ${state}, closed off`)
  }
})

test('labels are ANDed', async () => {
  const pairs = new Map()
  for (const i of all) {
    for (const a of i.labels) for (const b of i.labels) if (a < b) pairs.set(`${a}|${b}`, [a, b])
  }
  const [a, b] = [...pairs.values()][0]
  const withA = all.filter((i) => i.labels.includes(a))
  const withBoth = withA.filter((i) => i.labels.includes(b))
  assert.ok(withBoth.length < withA.length, 'AND is narrower than the first label alone')
  assertSameIssues(await tracker.listIssues({ labels: [a], includeClosed: true }), withA, `label ${a}`)
  assertSameIssues(await tracker.listIssues({ labels: [a, b], includeClosed: true }), withBoth, `labels ${a} AND ${b}`)
  const nobody = await tracker.listIssues({ labels: [a, 'no-such-label'], includeClosed: true })
  assert.deepEqual(nobody, [])
})

test("assignee 'me' is the key's owner; other users by display name, user name or e-mail", async () => {
  assertSameIssues(
    await tracker.listIssues({ assignee: 'me', includeClosed: true }),
    all.filter((i) => i.assignee === owner),
    'assignee me',
  )
  const users = await rawQuery(sim, 'users?fetch=UserName,DisplayName,EmailAddress')
  const other = users.find((u) => u._refObjectName !== owner && all.some((i) => i.assignee === u._refObjectName))
  assert.ok(other, 'another user owns seeded issues')
  const expected = all.filter((i) => i.assignee === other._refObjectName)
  for (const form of [other._refObjectName, other.UserName, other.EmailAddress]) {
    assertSameIssues(await tracker.listIssues({ assignee: form, includeClosed: true }), expected, `assignee ${form}`)
  }
  // Without includeClosed the owner's closed items are left out.
  assertSameIssues(
    await tracker.listIssues({ assignee: 'me' }),
    all.filter((i) => i.assignee === owner && i.state !== 'closed'),
    'assignee me, open only',
  )
})

test('team: a project by name or ObjectID, with its child projects', async () => {
  const projects = await rawQuery(sim, 'project?fetch=Name,ObjectID,Parent')
  const child = projects.find((p) => p.Parent)
  assert.ok(child, 'the seed has a child project')
  const inChild = await rawQuery(
    sim,
    `artifact?types=hierarchicalrequirement,defect,task,portfolioitem/feature&fetch=ObjectID&project=/project/${child.ObjectID}&projectScopeDown=true&projectScopeUp=false`,
  )
  const expected = all.filter((i) => inChild.some((r) => String(r.ObjectID) === i.id))
  assertSameIssues(await tracker.listIssues({ team: child.Name, includeClosed: true }), expected, `team ${child.Name}`)
  assertSameIssues(
    await tracker.listIssues({ team: String(child.ObjectID), includeClosed: true }),
    expected,
    'team by ObjectID',
  )
})

test('query searches title and description', async () => {
  const word = 'login'
  const matches = all.filter((i) => `${i.title}\n${i.description}`.toLowerCase().includes(word))
  const found = await tracker.listIssues({ query: word, includeClosed: true })
  assertSameIssues(found, matches, `query ${word}`)
  // Quotes and backslashes are values, not query syntax.
  assert.deepEqual(await tracker.listIssues({ query: 'a "quoted" \\ value) OR (Name != x' }), [])
})

test('limit returns the newest issues first; no limit returns all', async () => {
  const open = all.filter((i) => i.state !== 'closed')
  const five = await tracker.listIssues({ limit: 5 })
  assert.equal(five.length, 5)
  assert.deepEqual(ids(five), ids(open.slice(0, 5)))
  const newest = [...open].sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : a.updatedAt > b.updatedAt ? -1 : 0))
  assert.deepEqual(five.map((i) => i.updatedAt), newest.slice(0, 5).map((i) => i.updatedAt))
  const one = await tracker.listIssues({ limit: 1, includeClosed: true })
  assert.equal(one[0].id, all[0].id)
})

test('filters combine', async () => {
  const label = all.find((i) => i.state === 'closed' && i.labels.length)?.labels[0]
  assert.ok(label)
  const expected = all.filter((i) => i.state === 'closed' && i.labels.includes(label))
  assertSameIssues(await tracker.listIssues({ state: 'closed', labels: [label] }), expected, 'state + label')
})

test('no limit fetches every page: 2,500 more stories are all listed', async () => {
  const before = all.length
  const bulk = await sim.bulk('hierarchicalrequirement', 2500)
  assert.equal(bulk.created, 2500)
  await sim.reset()
  const everything = await tracker.listIssues({ includeClosed: true })
  assert.equal(everything.length, before + 2500)
  assert.equal(new Set(everything.map((i) => i.id)).size, everything.length, 'no issue twice')
  for (let k = 1; k < everything.length; k++) assert.ok(everything[k - 1].updatedAt >= everything[k].updatedAt)
  // Stories span two pages of 2000: the second page was requested, starting on the first
  // page's last story (the overlap that lets a list check its seams, docs/reliability.md).
  const pages = (await sim.log()).requests.filter((r) => /\/hierarchicalrequirement\?/i.test(r.path))
  assert.ok(pages.length >= 2, `${pages.length} story page requests`)
  assert.ok(pages.some((r) => /[?&]start=2000(&|$)/.test(r.path)), 'the page starting at 2000 was read')
})
