// The tracker's extras over a spawned simulator: children and tasks, attachments, the Blocked
// flag and task hours; getIssue and listIssues return the same fields for them.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startSim } from './helpers/sim.mjs'
import { assertInvalidInput, rejection, trackerFor } from './helpers/tracker.mjs'

let sim
let tracker
before(async () => {
  sim = await startSim()
  tracker = trackerFor(sim)
})
after(() => sim?.stop())

test('getIssue and listIssues carry the same keys and values for items with every optional field set', async () => {
  const owned = (await tracker.listIssues({ includeClosed: true })).find((i) => i.assignee)
  const story = await tracker.createIssue({ title: 'Shape parent', labels: ['shape-check'] })
  const common = { assignee: owned.assignee, labels: ['shape-check'], parent: story.ref, blockedReason: 'Waiting on QA' }
  const defect = await tracker.createIssue({
    ...common,
    title: 'Shape defect',
    artifactType: 'Defect',
    priority: 2,
    dueDate: '2027-03-01',
  })
  const task = await tracker.createIssue({ ...common, title: 'Shape task', artifactType: 'Task', estimate: 5, toDo: 3, actuals: 1.5 })
  const listed = await tracker.listIssues({ labels: ['shape-check'], includeClosed: true })
  for (const [made, optional] of [
    [defect, ['assignee', 'priority', 'dueDate', 'parentId', 'parentRef', 'rallyState', 'blocked', 'blockedReason']],
    [task, ['assignee', 'parentId', 'parentRef', 'rallyState', 'blocked', 'blockedReason', 'estimate', 'toDo', 'actuals']],
  ]) {
    const got = await tracker.getIssue(made.ref)
    delete got.pullRequests // getIssue only (README)
    for (const k of optional) assert.notEqual(got[k], undefined, `${made.ref}.${k} is set`)
    const inList = listed.find((i) => i.ref === made.ref)
    assert.ok(inList, `${made.ref} is listed`)
    assert.deepEqual(Object.keys(inList), Object.keys(got), `${made.ref}: same keys in the same order`)
    assert.deepEqual(inList, got, made.ref)
  }
  assert.equal(task.estimate, 5)
  assert.equal(task.toDo, 3)
  assert.equal(task.actuals, 1.5)
  assert.equal(defect.blocked, true)
  assert.equal(defect.blockedReason, 'Waiting on QA')
})

test('children, attachments and an attachment read with its cap', async () => {
  const story = await tracker.createIssue({ title: 'Has children' })
  const task = await tracker.createIssue({ title: 'Child task', artifactType: 'Task', parent: story.ref, estimate: 2 })
  const children = await tracker.getChildren(story.ref)
  assert.deepEqual(children.map((c) => [c.ref, c.artifactType, c.toDo]), [[task.ref, 'Task', 2]])

  const list = await tracker.listAttachments('DE1')
  assert.deepEqual(list.map((a) => [a.name, a.contentType]), [['checkout-error.log', 'text/plain'], ['screenshot.png', 'image/png']])
  const log = await tracker.getAttachment(list[0].id)
  assert.ok(log.content instanceof Uint8Array)
  assert.match(Buffer.from(log.content).toString('utf8'), /payment gateway timed out/)
  assert.equal(log.attachment.name, 'checkout-error.log')
  const png = await tracker.getAttachment(list[1].id, { maxBytes: 1000 })
  assert.deepEqual([...png.content.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47])
  const big = await rejection(tracker.getAttachment(list[1].id, { maxBytes: 10 }))
  assertInvalidInput(big, 'maxBytes')
  assert.match(big.message, /screenshot\.png/)
  assertInvalidInput(await rejection(tracker.getAttachment(list[1].id, { maxBytes: 0 })), 'maxBytes')
  assertInvalidInput(await rejection(tracker.getAttachment(list[1].id, { maxbytes: 10 })), 'maxbytes')
  assertInvalidInput(await rejection(tracker.getAttachment(42)), 'attachmentId')
})

test('blocked and hours through updateIssue; unknown keys still refused, naming the nearest', async () => {
  const story = await tracker.createIssue({ title: 'To block' })
  const blocked = await tracker.updateIssue(story.ref, { blocked: true, blockedReason: 'Vendor API down' })
  assert.deepEqual([blocked.blocked, blocked.blockedReason], [true, 'Vendor API down'])
  const unblocked = await tracker.updateIssue(story.ref, { blocked: false })
  assert.deepEqual([unblocked.blocked, unblocked.blockedReason], [false, undefined])
  const typo = await rejection(tracker.updateIssue(story.ref, { blockReason: 'x' }))
  assertInvalidInput(typo, 'blockReason')
  assert.match(typo.message, /did you mean `blockedReason`/)
  assertInvalidInput(await rejection(tracker.updateIssue(story.ref, { toDo: 'three' })), 'toDo')
  assertInvalidInput(await rejection(tracker.updateIssue(story.ref, { estimate: 1 })), 'estimate')
  assertInvalidInput(await rejection(tracker.createIssue({ title: 'x', blocked: 'yes' })), 'blocked')
})
