// The two ways an Issue reaches JS (the napi object from getIssue, the JSON text of listIssues)
// carry the same keys, in the same order, with the same values: checked on a defect and a task
// with every optional field either path can carry set at once (the fields came in on separate
// branches, each checked alone; here they are all on one item).
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
      '--custom-field', 'Task:c_Area:string:display=Area',
    ],
  })
})
after(() => sim?.stop())

/** Every optional Issue field but `pullRequests` (getIssue only) and `linkedIssues` (never set). */
const COMMON = ['assignee', 'parentId', 'parentRef', 'rallyState', 'project', 'projectName', 'customFields', 'blocked', 'blockedReason']

test('getIssue and listIssues give the same keys, order and values for items with every optional field set', async () => {
  const tracker = trackerFor(sim, { customFields: 'all' })
  const story = (await tracker.listIssues({ includeClosed: true })).find((i) => i.artifactType === 'UserStory')
  const owner = (await sim.wsapi('user?fetch=UserName')).User
  const common = { labels: ['parity', 'R&D'], assignee: owner.UserName, parent: story.ref, blockedReason: 'Waiting on QA' }
  const defect = await tracker.createIssue({
    ...common,
    title: 'every optional field (parity)',
    description: 'some *text*',
    artifactType: 'Defect',
    priority: 2,
    dueDate: '2031-05-04',
    customFields: { Impact: 'wide', Points: 5 },
  })
  const task = await tracker.createIssue({
    ...common,
    title: 'every optional task field (parity)',
    artifactType: 'Task',
    estimate: 5,
    toDo: 3,
    actuals: 1.5,
    customFields: { Area: 'checkout' },
  })
  await tracker.linkPR(defect.ref, 'https://github.com/acme/shop/pull/9') // a native PullRequest
  const listed = await tracker.listIssues({ labels: ['parity'], includeClosed: true })
  for (const [made, optional] of [
    [defect, [...COMMON, 'priority', 'dueDate']],
    [task, [...COMMON, 'estimate', 'toDo', 'actuals']],
  ]) {
    const got = await tracker.getIssue(made.ref)
    for (const k of optional) assert.notEqual(got[k], undefined, `getIssue sets ${made.ref}.${k}`)
    const inList = listed.find((i) => i.id === got.id)
    assert.ok(inList, `${made.ref} is listed`)
    const { pullRequests, ...rest } = got // getIssue only (README)
    assert.deepEqual(Object.keys(inList), Object.keys(rest), `${made.ref}: the same keys in the same order`)
    assert.deepEqual(inList, rest, made.ref)
    if (made === defect) assert.deepEqual(pullRequests, ['https://github.com/acme/shop/pull/9'])
  }
  const got = await tracker.getIssue(defect.ref)
  assert.deepEqual([got.customFields, got.labels.sort(), got.blocked], [{ Impact: 'wide', Points: 5 }, ['R&D', 'parity'], true])
  assert.deepEqual([task.estimate, task.toDo, task.actuals, task.customFields], [5, 3, 1.5, { Area: 'checkout' }])
})
