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
  // An id the addon itself refuses names the method's own argument, as getComments's does.
  const web = 'https://rally1.rallydev.com/#/1d/detail/defect/'
  assertInvalidInput(await rejection(tracker.listAttachments(web)), 'issueId')
  assertInvalidInput(await rejection(tracker.getComments(web)), 'issueId')
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

test('a repeat list (a poll) shows an edit made elsewhere of only Blocked, BlockedReason or task hours', async () => {
  const story = await tracker.createIssue({ title: 'Polled story', labels: ['poll-fields'] })
  const task = await tracker.createIssue({ title: 'Polled task', artifactType: 'Task', parent: story.ref, labels: ['poll-fields'], estimate: 4 })
  const filters = { labels: ['poll-fields'], includeClosed: true }
  const poller = trackerFor(sim)
  await poller.listIssues(filters)
  // Rally's UI or another client writes the fields alone.
  const post = async (type, oid, fields) => {
    const res = await fetch(`${sim.url}/slm/webservice/v2.0/${type}/${oid}`, {
      method: 'POST',
      headers: { ZSESSIONID: sim.apiKey, 'Content-Type': 'application/json' },
      body: JSON.stringify({ [type === 'task' ? 'Task' : 'HierarchicalRequirement']: fields }),
    })
    assert.deepEqual((await res.json()).OperationResult.Errors, [])
  }
  await post('hierarchicalrequirement', story.id, { Blocked: true, BlockedReason: 'Vendor API down' })
  await post('task', task.id, { ToDo: 1.5, Actuals: 2.5 })
  await sim.reset()
  const polled = await poller.listIssues(filters)
  const s = polled.find((i) => i.ref === story.ref)
  const t = polled.find((i) => i.ref === task.ref)
  assert.deepEqual([s.blocked, s.blockedReason], [true, 'Vendor API down'])
  assert.deepEqual([t.toDo, t.actuals, t.estimate], [1.5, 2.5, 4])
  const { byRoute } = await sim.stats()
  assert.ok(!Object.keys(byRoute ?? {}).some((r) => /\{oid\}/.test(r)), `a list's requests, no item reads: ${Object.keys(byRoute ?? {})}`)
})

test('an item whose description nests thousands deep (written by another client) reads as its text; the process lives', async () => {
  const story = await tracker.createIssue({ title: 'Deep description', labels: ['deep-html'] })
  const html = `${'<div>'.repeat(5000)}deep &amp; down` // unclosed, as a parser takes it: 25 KB
  const res = await fetch(`${sim.url}/slm/webservice/v2.0/hierarchicalrequirement/${story.id}`, {
    method: 'POST',
    headers: { ZSESSIONID: sim.apiKey, 'Content-Type': 'application/json' },
    body: JSON.stringify({ HierarchicalRequirement: { Description: html } }),
  })
  assert.deepEqual((await res.json()).OperationResult.Errors, [])
  assert.equal((await tracker.getIssue(story.ref)).description, 'deep & down')
  const [listed] = await tracker.listIssues({ labels: ['deep-html'], includeClosed: true })
  assert.equal(listed.description, 'deep & down')
  // The same through a post: addComment converts the stored HTML back.
  const posted = await tracker.addComment(story.ref, '<div>'.repeat(5000) + 'x')
  assert.equal(posted.body, 'x')
})
