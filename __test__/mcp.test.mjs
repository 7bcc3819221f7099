// rally-mcp driven by the official SDK's stdio client against a spawned simulator: every
// tool, the --issue scope (a refused write makes no request), --read-only, attachments (text,
// PNG, oversized), bad input, and the key in no response or log line.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { jsonOf, mcpClient, textOf } from './helpers/mcp.mjs'
import { startSim } from './helpers/sim.mjs'
import { trackerFor } from './helpers/tracker.mjs'

const ALL = [
  'rally_get_issue',
  'rally_search',
  'rally_add_comment',
  'rally_update_issue',
  'rally_create_task',
  'rally_update_task',
  'rally_set_blocked',
  'rally_link_pr',
  'rally_get_attachment',
]

let sim
let tracker
let story
let task
let mcp
const clients = []
before(async () => {
  sim = await startSim()
  tracker = trackerFor(sim)
  story = await tracker.createIssue({ title: 'Agent works this story', description: 'Make **checkout** faster' })
  task = await tracker.createIssue({ title: 'Existing task', artifactType: 'Task', parent: story.ref, estimate: 3 })
  mcp = await mcpClient(sim, ['--issue', story.ref, '--max-attachment-bytes', '100000'])
  clients.push(mcp)
})
after(async () => {
  for (const c of clients) await c.close()
  for (const c of clients) assert.ok(!c.stderr().includes(sim.apiKey), 'the key in no log line')
  for (const c of clients) for (const s of c.said) assert.ok(!s.includes(sim.apiKey), 'the key in no response')
  await sim?.stop()
})

test('tools/list names every tool with a JSON schema; the server speaks the current protocol', async () => {
  const tools = await mcp.list()
  assert.deepEqual(tools.map((t) => t.name), ALL)
  for (const t of tools) {
    assert.equal(t.inputSchema.type, 'object', t.name)
    assert.equal(t.inputSchema.additionalProperties, false, t.name)
    assert.equal(typeof t.description, 'string')
  }
  assert.match(tools.find((t) => t.name === 'rally_add_comment').description, new RegExp(`limited to ${story.ref}`))
  assert.equal(mcp.client.getServerVersion().name, 'rally-mcp')
  const { LATEST_PROTOCOL_VERSION } = await import('@modelcontextprotocol/sdk/types.js')
  assert.equal(mcp.client.transport?.protocolVersion ?? LATEST_PROTOCOL_VERSION, LATEST_PROTOCOL_VERSION)
})

test('rally_get_issue: the scoped item with parent, tasks, discussion, attachments and PR links', async () => {
  await tracker.addComment(story.ref, 'Started; see https://github.com/acme/shop/pull/42')
  const got = jsonOf(await mcp.call('rally_get_issue'))
  assert.equal(got.ref, story.ref)
  assert.deepEqual(got.tasks.map((t) => [t.ref, t.estimate]), [[task.ref, 3]])
  assert.equal(got.discussion.total, 1)
  assert.match(got.discussion.posts[0].body, /Started/)
  assert.deepEqual(got.pullRequestLinks, ['https://github.com/acme/shop/pull/42'])
  const de1 = jsonOf(await mcp.call('rally_get_issue', { id: 'DE1' }))
  assert.deepEqual(de1.attachments.map((a) => a.name), ['checkout-error.log', 'screenshot.png'])
  const child = jsonOf(await mcp.call('rally_get_issue', { id: task.ref }))
  assert.equal(child.parent.ref, story.ref)
  assert.equal(child.parent.title, 'Agent works this story')
})

test('rally_search is bounded and takes the listIssues filters', async () => {
  const r = jsonOf(await mcp.call('rally_search', { query: 'Agent works', includeClosed: true, limit: 5 }))
  assert.deepEqual(r.items.map((i) => i.ref), [story.ref])
  const many = jsonOf(await mcp.call('rally_search', { includeClosed: true, limit: 3 }))
  assert.equal(many.items.length, 3)
})

test('every write tool changes the scoped item or its tasks in Rally', async () => {
  const posted = jsonOf(await mcp.call('rally_add_comment', { body: 'Progress: *half* done' }))
  assert.equal(posted.issueId, story.ref)
  assert.match((await tracker.getComments(story.ref)).at(-1).body, /Progress: \*half\* done/)

  const updated = jsonOf(await mcp.call('rally_update_issue', { title: 'Checkout under 2 s', labels: ['perf'], state: 'in_progress' }))
  assert.deepEqual([updated.title, updated.labels, updated.state], ['Checkout under 2 s', ['perf'], 'in_progress'])
  assert.equal((await tracker.getIssue(story.ref)).title, 'Checkout under 2 s')

  const created = jsonOf(await mcp.call('rally_create_task', { title: 'Profile the cart', estimate: 4 }))
  const stored = await tracker.getIssue(created.ref)
  assert.deepEqual([stored.artifactType, stored.parentRef, stored.estimate, stored.toDo], ['Task', story.ref, 4, 4])

  const moved = jsonOf(await mcp.call('rally_update_task', { taskId: created.ref, state: 'in_progress', toDo: 1, actuals: 3 }))
  assert.deepEqual([moved.state, moved.toDo, moved.actuals], ['in_progress', 1, 3])
  jsonOf(await mcp.call('rally_update_task', { taskId: task.ref, actuals: 0.5 }))
  assert.equal((await tracker.getIssue(task.ref)).actuals, 0.5)

  const blocked = jsonOf(await mcp.call('rally_set_blocked', { blocked: true, reason: 'Waiting on the payments team' }))
  assert.deepEqual([blocked.blocked, blocked.blockedReason], [true, 'Waiting on the payments team'])
  const taskBlocked = jsonOf(await mcp.call('rally_set_blocked', { issueId: created.ref, blocked: true }))
  assert.equal(taskBlocked.blocked, true)
  const unblocked = jsonOf(await mcp.call('rally_set_blocked', { blocked: false }))
  assert.deepEqual([unblocked.blocked, unblocked.blockedReason], [false, undefined])

  const url = 'https://github.com/acme/shop/pull/77'
  assert.match(textOf(await mcp.call('rally_link_pr', { url })), /Linked/)
  await mcp.call('rally_link_pr', { url })
  const issue = await tracker.getIssue(story.ref)
  assert.deepEqual(issue.pullRequests?.filter((u) => u === url), [url], 'linked once')
})

test('a write outside the scope is refused, naming the scope, before any request', async () => {
  const other = (await tracker.listIssues({ limit: 50 })).find((i) => i.ref !== story.ref && i.artifactType === 'UserStory')
  await mcp.call('rally_get_issue') // the scope is loaded
  await sim.reset()
  for (const [name, args] of [
    ['rally_add_comment', { issueId: other.ref, body: 'not mine' }],
    ['rally_update_issue', { issueId: other.id, title: 'not mine' }],
    ['rally_set_blocked', { issueId: other.ref.toLowerCase(), blocked: true }],
    ['rally_link_pr', { issueId: other.ref, url: 'https://github.com/acme/shop/pull/1' }],
    ['rally_create_task', { parent: other.ref, title: 'not mine' }],
  ]) {
    const r = await mcp.call(name, args)
    assert.equal(r.isError, true, name)
    assert.match(textOf(r), new RegExp(`^RALLY_OUT_OF_SCOPE: .*outside this server's scope: writes are limited to ${story.ref} and its tasks`), name)
  }
  assert.equal((await sim.stats()).total, 0, 'no request reached Rally')
  // Another item's task: the scope's task list is read again once, then the write refused.
  const foreign = await tracker.createIssue({ title: 'Foreign task', artifactType: 'Task', parent: other.ref, estimate: 2 })
  const r = await mcp.call('rally_update_task', { taskId: foreign.ref, toDo: 0 })
  assert.match(textOf(r), /^RALLY_OUT_OF_SCOPE/)
  assert.equal((await tracker.getIssue(foreign.ref)).toDo, 2, 'unchanged')
})

test('a Rally URL is read as the addon reads it: one that names another item is refused, not let through', async () => {
  const other = await tracker.createIssue({ title: 'Someone else\'s story' })
  const web = 'https://rally1.rallydev.com/#/1234d'
  await mcp.call('rally_get_issue') // the scope is loaded
  await sim.reset()
  // The addon takes the item after `detail` (or in a `detail=` query); the scoped ObjectID
  // elsewhere in the URL must not make the write look like the scoped item's.
  for (const url of [
    `${web}/detail/userstory/${other.id}/${story.id}`,
    `${web}/?detail=/userstory/${other.id}&x=/${story.id}`,
    `${web}/detail/userstory/${story.id}?detail=%2Fuserstory%2F${other.id}`,
  ]) {
    const r = await mcp.call('rally_add_comment', { issueId: url, body: 'not mine' })
    assert.match(textOf(r), /^RALLY_OUT_OF_SCOPE: /, url)
  }
  assert.equal((await sim.stats()).total, 0, 'no request reached Rally')
  assert.equal((await tracker.getComments(other.ref)).length, 0, 'nothing posted to the other item')
  // The scoped item's own ref and URLs, `.js` ref included, are in scope.
  for (const id of [
    `https://rally1.rallydev.com/slm/webservice/v2.0/hierarchicalrequirement/${story.id}.js`,
    `/hierarchicalrequirement/${story.id}`,
    `${web}/detail/userstory/${story.id}/discussion`,
    `${web}/?detail=%2Fuserstory%2F${story.id}`,
  ]) {
    const r = await mcp.call('rally_add_comment', { issueId: id, body: 'mine' })
    assert.equal(jsonOf(r).issueId, story.ref, id)
  }
})

test('rally_get_issue with comments: 0 shows no posts, and PR links come from every post, not only the shown ones', async () => {
  const busy = await tracker.createIssue({ title: 'Long discussion' })
  await tracker.addComment(busy.ref, 'Opened https://github.com/acme/shop/pull/5 for the first half')
  for (let n = 1; n <= 3; n++) await tracker.addComment(busy.ref, `Note ${n}`)
  const none = jsonOf(await mcp.call('rally_get_issue', { id: busy.ref, comments: 0 }))
  assert.deepEqual([none.discussion.total, none.discussion.shown, none.discussion.posts], [4, 0, []])
  assert.deepEqual(none.pullRequestLinks, ['https://github.com/acme/shop/pull/5'])
  const last = jsonOf(await mcp.call('rally_get_issue', { id: busy.ref, comments: 1 }))
  assert.deepEqual(last.discussion.posts.map((p) => p.body), ['Note 3'])
  assert.deepEqual(last.pullRequestLinks, ['https://github.com/acme/shop/pull/5'])
})

test('rally_update_task refuses the scoped item itself, named by its ObjectID, before any request', async () => {
  await mcp.call('rally_get_issue') // the scope is loaded
  await sim.reset()
  const r = await mcp.call('rally_update_task', { taskId: story.id, state: 'closed' })
  assert.equal(r.isError, true)
  assert.match(textOf(r), new RegExp(`^RALLY_INVALID_INPUT: Invalid taskId: ${story.id} is ${story.ref}, the scoped item itself, not one of its tasks`))
  assert.equal((await sim.stats()).total, 0)
})

test('attachments: text as text, a PNG as image content, an oversized one refused before its content', async () => {
  const [log, png] = jsonOf(await mcp.call('rally_get_issue', { id: 'DE1' })).attachments
  const text = await mcp.call('rally_get_attachment', { attachmentId: log.id })
  assert.equal(text.isError, undefined)
  assert.match(textOf(text), /^checkout-error\.log \(text\/plain, \d+ bytes, on DE1\):\n\n.*payment gateway timed out/s)
  const image = await mcp.call('rally_get_attachment', { attachmentId: png.id })
  const img = image.content.find((c) => c.type === 'image')
  assert.equal(img.mimeType, 'image/png')
  assert.deepEqual([...Buffer.from(img.data, 'base64').subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

  // 150 KB of text on the story: over this server's 100,000-byte cap.
  const big = Buffer.alloc(150_000, 'log line\n')
  const made = await createAttachment(story.id, 'big.log', 'text/plain', big)
  await sim.reset()
  const refused = await mcp.call('rally_get_attachment', { attachmentId: made })
  assert.equal(refused.isError, true)
  assert.match(textOf(refused), /^RALLY_INVALID_INPUT: Invalid maxBytes: attachment \d+ \(big\.log\) is 150000 bytes, over the cap of 100000 bytes/)
  const routes = Object.keys((await sim.stats()).byRoute ?? {})
  assert.ok(!routes.some((r) => /attachmentcontent/i.test(r)), `content never requested: ${routes}`)
  const small = await mcp.call('rally_get_attachment', { attachmentId: log.id, maxBytes: 20 })
  assert.match(textOf(small), /^RALLY_INVALID_INPUT: .*over the cap of 20 bytes/)
  const binary = await createAttachment(story.id, 'dump.bin', 'application/octet-stream', Buffer.from([0, 1, 2, 3, 255]))
  assert.match(textOf(await mcp.call('rally_get_attachment', { attachmentId: binary })), /dump\.bin .*a binary file this server does not show/)
})

test('bad input is a clear tool error naming the argument, and makes no request', async () => {
  await sim.reset()
  const cases = [
    ['rally_update_task', { taskId: task.ref, toDo: 'three' }, /^RALLY_INVALID_INPUT: Invalid toDo: must be a number, got the string "three"/],
    ['rally_update_task', { taskId: task.ref, estimate: -2 }, /^RALLY_INVALID_INPUT: Invalid estimate: must be at least 0/],
    ['rally_add_comment', { body: 'x', isssueId: story.ref }, /^RALLY_INVALID_INPUT: Invalid isssueId: unknown argument/],
    ['rally_add_comment', {}, /^RALLY_INVALID_INPUT: Invalid body: is required/],
    ['rally_update_issue', {}, /^RALLY_INVALID_INPUT: Invalid arguments: nothing to change/],
    ['rally_search', { limit: 1000 }, /^RALLY_INVALID_INPUT: Invalid limit: must be at most 100/],
    ['rally_set_blocked', { blocked: false, reason: 'x' }, /^RALLY_INVALID_INPUT: Invalid reason/],
    ['rally_link_pr', { url: 'not a url at all' }, /^RALLY_INVALID_INPUT: Invalid url/],
    ['rally_update_task', { taskId: story.ref, toDo: 1 }, /^RALLY_INVALID_INPUT: Invalid taskId: US\d+ is not a task/],
  ]
  for (const [name, args, want] of cases) {
    const r = await mcp.call(name, args)
    assert.equal(r.isError, true, name)
    assert.match(textOf(r), want, name)
  }
  assert.equal((await sim.stats()).total, 0)
  // The addon's own codes come through: an item that does not exist.
  const missing = await mcp.call('rally_get_issue', { id: 'US999999' })
  assert.match(textOf(missing), /^RALLY_NOT_FOUND: Issue not found: US999999 \(tracker: rally\)/)
})

test('--read-only offers the read tools only, and refuses a write tool as unknown', async () => {
  const ro = await mcpClient(sim, ['--read-only', '--issue', story.ref])
  clients.push(ro)
  assert.deepEqual((await ro.list()).map((t) => t.name), ['rally_get_issue', 'rally_search', 'rally_get_attachment'])
  await assert.rejects(ro.call('rally_add_comment', { body: 'x' }), /Unknown tool: rally_add_comment \(this server is read-only\)/)
  assert.equal(jsonOf(await ro.call('rally_get_issue')).ref, story.ref)
})

test('without --issue a write names its target; there is no delete tool', async () => {
  const open = await mcpClient(sim, [])
  clients.push(open)
  const names = (await open.list()).map((t) => t.name)
  assert.deepEqual(names, ALL)
  assert.ok(!names.some((n) => /delete|remove/.test(n)))
  const r = await open.call('rally_add_comment', { body: 'x' })
  assert.match(textOf(r), /^RALLY_INVALID_INPUT: Invalid issueId: is required: this server was started without --issue/)
  const ok = jsonOf(await open.call('rally_add_comment', { issueId: task.ref, body: 'from an unscoped server' }))
  assert.equal(ok.issueId, task.ref)
})

/** An attachment on an artifact through raw WSAPI, as Rally's UI or a toolkit makes one. */
async function createAttachment(artifactOid, name, contentType, bytes) {
  const post = async (path, body) => {
    const res = await fetch(`${sim.url}/slm/webservice/v2.0/${path}`, {
      method: 'POST',
      headers: { ZSESSIONID: sim.apiKey, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    })
    const j = await res.json()
    assert.deepEqual(j.CreateResult.Errors, [])
    return j.CreateResult.Object.ObjectID
  }
  const content = await post('attachmentcontent/create?fetch=ObjectID', { AttachmentContent: { Content: bytes.toString('base64') } })
  return String(
    await post('attachment/create?fetch=ObjectID', {
      Attachment: { Artifact: `/hierarchicalrequirement/${artifactOid}`, Content: `/attachmentcontent/${content}`, Name: name, ContentType: contentType, Size: bytes.length },
    }),
  )
}
