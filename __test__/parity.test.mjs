// The two ways an Issue reaches JS (the napi object from getIssue, the JSON text of listIssues)
// carry the same keys and values: checked on an issue with every optional field set.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startSim } from './helpers/sim.mjs'
import { trackerFor } from './helpers/tracker.mjs'

let sim
before(async () => {
  sim = await startSim({
    seed: 47,
    extraArgs: [
      '--custom-field', 'Defect:c_Severity2:string:display=Impact',
      '--custom-field', 'Defect:c_Points:integer',
    ],
  })
})
after(() => sim?.stop())

test('getIssue and listIssues give the same keys and values for one issue with every optional field set', async () => {
  const tracker = trackerFor(sim, { customFields: 'all', prLinks: 'comment' })
  const story = (await tracker.listIssues({ includeClosed: true })).find((i) => i.artifactType === 'UserStory')
  const owner = (await sim.wsapi('user?fetch=UserName')).User
  const made = await tracker.createIssue({
    title: 'every optional field (parity)',
    description: 'some *text*',
    artifactType: 'Defect',
    labels: ['parity'],
    assignee: owner.UserName,
    priority: 2,
    dueDate: '2031-05-04',
    parent: story.ref,
    customFields: { Impact: 'wide', Points: 5 },
  })
  const got = await tracker.getIssue(made.ref)
  const listed = (await tracker.listIssues({ labels: ['parity'], includeClosed: true })).find((i) => i.id === got.id)
  assert.ok(listed, 'the item is listed')
  // Every optional field the list path can carry is set, so a key missing on one side shows.
  for (const k of ['assignee', 'priority', 'dueDate', 'parentId', 'parentRef', 'rallyState', 'customFields']) {
    assert.notEqual(got[k], undefined, `getIssue sets ${k}`)
  }
  assert.deepEqual(got.customFields, { Impact: 'wide', Points: 5 })
  assert.deepEqual(Object.keys(listed).sort(), Object.keys(got).sort(), 'the same keys')
  for (const k of Object.keys(got)) {
    assert.deepEqual(listed[k], got[k], `the same ${k}`)
  }
})
