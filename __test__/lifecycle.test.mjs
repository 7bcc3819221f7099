// updateIssue's rallyState and addLabels/removeLabels, and Issue.project/projectName, through
// the package against a spawned rally-sim. Outcomes are read back with raw WSAPI GETs.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startSim } from './helpers/sim.mjs'
import { assertInvalidInput, rejection, trackerFor } from './helpers/tracker.mjs'

let sim
let tracker

before(async () => {
  sim = await startSim({ seed: 18 })
  tracker = trackerFor(sim)
})
after(async () => {
  await sim?.stop()
})

async function rawStory(id) {
  const r = await sim.wsapi(`hierarchicalrequirement/${id}?fetch=ScheduleState,Tags,Project`)
  const s = r.HierarchicalRequirement
  return { state: s.ScheduleState, tags: (s.Tags._tagsNameArray ?? []).map((t) => t.Name).sort(), project: s.Project }
}

test('rallyState moves a story to Accepted and back by name', async () => {
  const s = await tracker.createIssue({ title: 'node named state' })
  const got = await tracker.updateIssue(s.ref, { rallyState: 'Accepted' })
  assert.equal((await rawStory(s.id)).state, 'Accepted')
  assert.equal(got.rallyState, 'Accepted')
  assert.equal(got.state, 'closed')
  await tracker.updateIssue(s.ref, { rallyState: 'defined' })
  assert.equal((await rawStory(s.id)).state, 'Defined')
})

test('an unknown rallyState is refused with the valid names, and nothing is written', async () => {
  const s = await tracker.createIssue({ title: 'node refused state' })
  await sim.reset()
  const err = await rejection(tracker.updateIssue(s.ref, { rallyState: 'Shipped' }))
  assertInvalidInput(err, 'rallyState')
  assert.match(err.message, /Defined, In-Progress, Completed, Accepted/)
  const writes = Object.entries((await sim.stats()).byRoute).filter(([r]) => r.startsWith('POST'))
  assert.deepEqual(writes, [])
  assertInvalidInput(await rejection(tracker.updateIssue(s.ref, { rallyState: 'Accepted', state: 'closed' })), 'rallyState')
  assertInvalidInput(await rejection(tracker.updateIssue(s.ref, { rallyState: 7 })), 'rallyState')
})

test('addLabels and removeLabels change only the named tags', async () => {
  const s = await tracker.createIssue({ title: 'node tags', labels: ['keep'] })
  const added = await tracker.updateIssue(s.ref, { addLabels: ['planning'] })
  assert.deepEqual((await rawStory(s.id)).tags, ['keep', 'planning'])
  assert.deepEqual([...added.labels].sort(), ['keep', 'planning'])
  await tracker.updateIssue(s.ref, { removeLabels: ['planning'] })
  assert.deepEqual((await rawStory(s.id)).tags, ['keep'])
  assertInvalidInput(await rejection(tracker.updateIssue(s.ref, { labels: ['a'], removeLabels: ['b'] })), 'removeLabels')
  assertInvalidInput(await rejection(tracker.updateIssue(s.ref, { addLabels: 'planning' })), 'addLabels')
})

test('Issue carries the project on getIssue and on listIssues alike', async () => {
  const s = await tracker.createIssue({ title: 'node project' })
  const raw = (await rawStory(s.id)).project
  const got = await tracker.getIssue(s.ref)
  const listed = (await tracker.listIssues({ query: 'node project' })).find((i) => i.ref === s.ref)
  assert.ok(listed, 'listed')
  assert.equal(got.project, sim.project.replace(/^.*(\/project\/\d+)$/, '$1'))
  assert.equal(got.projectName, raw._refObjectName)
  assert.equal(listed.project, got.project)
  assert.equal(listed.projectName, got.projectName)
})
