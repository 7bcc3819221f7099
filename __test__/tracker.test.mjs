// Every IssueTracker method against a spawned simulator, checked from the outside: what the
// tracker returns, and what Rally (the simulator, read with raw WSAPI calls) really stored.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { startSim } from './helpers/sim.mjs'
import { IssueNotFoundError, RallyTracker } from '../rally.mjs'
import { rawQuery, rejection, trackerFor } from './helpers/tracker.mjs'

let sim
let tracker
let owner // the API key owner's display name, as Rally reports it
let seeded // every seeded issue, closed included

before(async () => {
  sim = await startSim({ seed: 42 })
  tracker = trackerFor(sim)
  owner = (await sim.wsapi('user')).User._refObjectName
  seeded = await tracker.listIssues({ includeClosed: true })
})
after(() => sim?.stop())

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/
const PREFIX = { UserStory: 'US', Defect: 'DE', Task: 'TA', Feature: 'F' }

async function rawArtifact(issue) {
  const type = { UserStory: 'hierarchicalrequirement', Defect: 'defect', Task: 'task', Feature: 'portfolioitem/feature' }
  const r = await sim.wsapi(`${type[issue.artifactType]}/${issue.id}`)
  return Object.values(r)[0]
}

function assertIssueShape(i) {
  assert.equal(typeof i.id, 'string')
  assert.match(i.id, /^\d+$/)
  assert.match(i.ref, /^(US|DE|TA|F)\d+$/)
  assert.equal(i.tracker, 'rally')
  assert.ok(['open', 'in_progress', 'closed'].includes(i.state), i.state)
  assert.ok(Array.isArray(i.labels) && i.labels.every((l) => typeof l === 'string'), 'labels are strings')
  assert.ok(i.url.endsWith(`/${i.id}`), i.url)
  assert.match(i.url, /#\/detail\/(userstory|defect|task|portfolioitem\/feature)\/\d+$/)
  assert.match(i.createdAt, ISO)
  assert.match(i.updatedAt, ISO)
  assert.equal(typeof i.title, 'string')
  assert.equal(typeof i.description, 'string')
  assert.ok(i.ref.startsWith(PREFIX[i.artifactType]), `${i.ref} is a ${i.artifactType}`)
  if (i.priority !== undefined) assert.ok([1, 2, 3, 4].includes(i.priority), `priority ${i.priority}`)
}

test('name is the literal rally', () => {
  assert.equal(tracker.name, 'rally')
  assert.ok(tracker instanceof RallyTracker)
})

test('listIssues returns every seeded issue of all four types, each in the contract shape', async () => {
  const counts = {}
  for (const type of ['hierarchicalrequirement', 'defect', 'task', 'portfolioitem/feature']) {
    counts[type] = (await rawQuery(sim, `${type}?fetch=ObjectID`)).length
  }
  const total = Object.values(counts).reduce((a, b) => a + b, 0)
  assert.equal(seeded.length, total)
  assert.equal(new Set(seeded.map((i) => i.id)).size, total, 'no duplicates')
  for (const t of ['UserStory', 'Defect', 'Task', 'Feature']) {
    assert.ok(seeded.some((i) => i.artifactType === t), `some ${t}`)
  }
  seeded.forEach(assertIssueShape)
  // Newest LastUpdateDate first.
  for (let k = 1; k < seeded.length; k++) assert.ok(seeded[k - 1].updatedAt >= seeded[k].updatedAt)
  // Real values: assignees are display names, priorities present on defects.
  assert.ok(seeded.some((i) => i.assignee === owner))
  assert.ok(seeded.some((i) => i.artifactType === 'Defect' && i.priority !== undefined))
})

/** An issue from getIssue without its `pullRequests`, to compare with a listed or written one. */
function withoutPullRequests(issue) {
  const { pullRequests, ...rest } = issue
  return rest
}

test('getIssue matches what Rally stores', async () => {
  const defect = seeded.find((i) => i.artifactType === 'Defect' && i.priority && i.assignee && i.labels.length)
  assert.ok(defect, 'a seeded defect with priority, owner and tags')
  const got = await tracker.getIssue(defect.ref)
  // getIssue adds the item's pull requests (none here), which lists leave out.
  assert.deepEqual(got.pullRequests, [])
  assert.deepEqual(withoutPullRequests(got), defect)
  const raw = await rawArtifact(got)
  assert.equal(got.id, String(raw.ObjectID))
  assert.equal(got.ref, raw.FormattedID)
  assert.equal(got.title, raw.Name)
  assert.equal(got.assignee, raw.Owner._refObjectName)
  assert.equal(got.createdAt, raw.CreationDate)
  assert.equal(got.updatedAt, raw.LastUpdateDate)
  const tags = await rawQuery(sim, `defect/${got.id}/Tags?fetch=Name`)
  assert.deepEqual([...got.labels].sort(), tags.map((t) => t.Name).sort())
  const priorityScale = { 'Resolve Immediately': 1, 'High Attention': 2, Normal: 3, Low: 4 }
  assert.equal(got.priority, priorityScale[raw.Priority])
})

test('Markdown goes in as HTML and comes back as Markdown', async () => {
  const description = [
    '# Checkout fails',
    '',
    'Steps with **bold**, _emphasis_ and a [link](https://example.com/a?b=1&c=2).',
    '',
    '- first',
    '- second',
    '',
    '```',
    'let x = a < b && c > d;',
    '```',
  ].join('\n')
  const created = await tracker.createIssue({ title: 'Markdown round trip', description })
  const raw = await rawArtifact(created)
  assert.match(raw.Description, /<h1>Checkout fails<\/h1>/)
  assert.match(raw.Description, /<strong>bold<\/strong>/)
  assert.match(raw.Description, /<a href="https:\/\/example\.com\/a\?b=1&amp;c=2">link<\/a>/)
  assert.match(raw.Description, /<li>first<\/li>/)
  assert.match(raw.Description, /a &lt; b &amp;&amp; c &gt; d/)
  const back = (await tracker.getIssue(created.ref)).description
  assert.equal(back, created.description)
  assert.match(back, /^# Checkout fails$/m)
  assert.match(back, /\*\*bold\*\*/)
  assert.match(back, /\[link\]\(https:\/\/example\.com\/a\?b=1&c=2\)/)
  assert.match(back, /^[-*] first$/m)
  assert.match(back, /let x = a < b && c > d;/)
  // Seeded HTML descriptions come back without tags.
  assert.ok(seeded.every((i) => !/<\/?(p|div|br|strong|b)\b/i.test(i.description)))
})

test('create → get → update → get round trip', async () => {
  const created = await tracker.createIssue({
    title: '  Round trip story  ',
    description: 'Plain text',
    labels: ['backend', 'round-trip-new'],
    assignee: 'Priya Shah',
  })
  assertIssueShape(created)
  assert.equal(created.artifactType, 'UserStory')
  assert.equal(created.title, 'Round trip story')
  assert.equal(created.state, 'open')
  assert.equal(created.assignee, 'Priya Shah')
  assert.deepEqual([...created.labels].sort(), ['backend', 'round-trip-new'])
  assert.deepEqual(withoutPullRequests(await tracker.getIssue(created.ref)), created)

  const updated = await tracker.updateIssue(created.ref, {
    title: 'Round trip story, renamed',
    description: 'Now with **bold**',
    labels: ['frontend'],
    state: 'in_progress',
    assignee: 'sam.lee@acme.example',
  })
  assert.equal(updated.id, created.id)
  assert.equal(updated.title, 'Round trip story, renamed')
  assert.match(updated.description, /\*\*bold\*\*/)
  assert.deepEqual(updated.labels, ['frontend'])
  assert.equal(updated.state, 'in_progress')
  assert.equal(updated.rallyState, 'In-Progress')
  assert.equal(updated.assignee, 'Sam Lee')
  assert.ok(updated.updatedAt >= created.updatedAt)
  assert.deepEqual(withoutPullRequests(await tracker.getIssue(created.id)), updated)

  const raw = await rawArtifact(updated)
  assert.equal(raw.Name, 'Round trip story, renamed')
  assert.equal(raw.ScheduleState, 'In-Progress')
  assert.equal(raw.Owner._refObjectName, 'Sam Lee')
  const tags = await rawQuery(sim, `hierarchicalrequirement/${created.id}/Tags?fetch=Name`)
  assert.deepEqual(tags.map((t) => t.Name), ['frontend'])
  // The new tag was created once in the workspace.
  assert.equal((await rawQuery(sim, 'tag?fetch=Name&query=(Name = "round-trip-new")')).length, 1)

  const cleared = await tracker.updateIssue(created.ref, { assignee: '' })
  assert.equal(cleared.assignee, undefined)
  assert.equal((await rawArtifact(cleared)).Owner, null)
})

test('createIssue makes each of the four types; a Task under its parent', async () => {
  const story = await tracker.createIssue({ title: 'Parent story' })
  const defect = await tracker.createIssue({
    title: 'A defect',
    artifactType: 'Defect',
    priority: 2,
    dueDate: '2027-03-01',
  })
  const task = await tracker.createIssue({ title: 'A task', artifactType: 'Task', parent: story.ref })
  const feature = await tracker.createIssue({ title: 'A feature', artifactType: 'Feature', dueDate: '2027-06-30' })

  assert.equal(story.artifactType, 'UserStory')
  assert.equal(defect.artifactType, 'Defect')
  assert.equal(defect.priority, 2)
  assert.equal(defect.dueDate?.slice(0, 10), '2027-03-01')
  assert.equal((await rawArtifact(defect)).Priority, 'High Attention')
  assert.equal(task.artifactType, 'Task')
  assert.equal(task.parentRef, story.ref)
  assert.equal(task.parentId, story.id)
  assert.ok((await rawArtifact(task)).WorkProduct._ref.endsWith(`/hierarchicalrequirement/${story.id}`))
  assert.equal(feature.artifactType, 'Feature')
  assert.equal(feature.dueDate?.slice(0, 10), '2027-06-30')
  for (const i of [story, defect, task, feature]) {
    assertIssueShape(i)
    assert.equal(i.state, 'open')
  }
})

describe('each type is read, updated, commented on, transitioned and deleted', () => {
  for (const artifactType of ['UserStory', 'Defect', 'Task', 'Feature']) {
    test(artifactType, async () => {
      const parent = artifactType === 'Task' ? (await tracker.createIssue({ title: 'parent' })).ref : undefined
      const created = await tracker.createIssue({ title: `${artifactType} lifecycle`, artifactType, parent })
      assert.equal((await tracker.getIssue(created.ref)).artifactType, artifactType)
      const listed = await tracker.listIssues({ query: `${artifactType} lifecycle` })
      assert.deepEqual(listed.map((i) => i.id), [created.id])

      const updated = await tracker.updateIssue(created.ref, { title: `${artifactType} lifecycle 2` })
      assert.equal(updated.title, `${artifactType} lifecycle 2`)

      const comment = await tracker.addComment(created.ref, `note on ${artifactType}`)
      assert.equal(comment.issueId, created.ref)
      assert.deepEqual((await tracker.getComments(created.ref)).map((c) => c.body), [`note on ${artifactType}`])

      for (const state of ['in_progress', 'closed', 'open']) {
        await tracker.transitionIssue(created.ref, state)
        assert.equal((await tracker.getIssue(created.ref)).state, state, `${artifactType} → ${state}`)
      }

      await tracker.deleteIssue(created.ref)
      const err = await rejection(tracker.getIssue(created.id))
      assert.ok(err instanceof IssueNotFoundError)
      assert.equal(err.message, `Issue not found: ${created.id} (tracker: rally)`)
    })
  }
})

test('transitionIssue writes Rally’s own state names; a no-op transition writes nothing', async () => {
  const story = await tracker.createIssue({ title: 'Transitions' })
  const task = await tracker.createIssue({ title: 'Task transitions', artifactType: 'Task', parent: story.ref })
  const expected = { open: 'Defined', in_progress: 'In-Progress', closed: 'Completed' }
  for (const [state, rally] of Object.entries(expected)) {
    await tracker.transitionIssue(story.ref, state)
    await tracker.transitionIssue(task.ref, state)
    assert.equal((await rawArtifact(story)).ScheduleState, rally)
    assert.equal((await rawArtifact(task)).State, rally)
  }
  await sim.reset()
  await tracker.transitionIssue(story.ref, 'closed')
  const writes = Object.entries((await sim.stats()).byRoute).filter(([route]) => route.startsWith('POST'))
  assert.deepEqual(writes, [])
})

test('comments: oldest first, Markdown bodies, real authors and timestamps', async () => {
  const posts = await rawQuery(sim, 'conversationpost?fetch=Artifact,FormattedID,User,PostNumber,Text,CreationDate')
  const byArtifact = new Map()
  for (const p of posts.filter((p) => p.Artifact)) byArtifact.set(p.Artifact.FormattedID, [...(byArtifact.get(p.Artifact.FormattedID) ?? []), p])
  const [ref, rawPosts] = [...byArtifact].find(([, ps]) => ps.length >= 2 && new Set(ps.map((p) => p.User._refObjectName)).size >= 2)
  assert.ok(ref, 'a seeded issue discussed by two people')
  rawPosts.sort((a, b) => a.PostNumber - b.PostNumber)

  const comments = await tracker.getComments(ref.toLowerCase())
  assert.equal(comments.length, rawPosts.length)
  comments.forEach((c, k) => {
    assert.equal(c.issueId, ref)
    assert.equal(c.author, rawPosts[k].User._refObjectName)
    assert.equal(c.createdAt, rawPosts[k].CreationDate)
    assert.match(c.updatedAt, ISO)
    assert.equal(typeof c.id, 'string')
    assert.ok(!/<\/?(p|div|br)\b/i.test(c.body), c.body)
  })

  const added = await tracker.addComment(ref, 'Looks **good**, see [PR](https://example.com/pr/1)')
  assert.equal(added.author, owner)
  assert.equal(added.issueId, ref)
  assert.match(added.createdAt, ISO)
  assert.match(added.body, /\*\*good\*\*/)
  const after = await tracker.getComments(ref)
  assert.equal(after.length, rawPosts.length + 1)
  assert.deepEqual(after.at(-1), added)
  const stored = (await rawQuery(sim, `conversationpost?fetch=Text,PostNumber&query=(Artifact.FormattedID = "${ref}")`))
    .sort((a, b) => a.PostNumber - b.PostNumber)
    .at(-1)
  assert.match(stored.Text, /<strong>good<\/strong>/)
  assert.match(stored.Text, /<a href="https:\/\/example\.com\/pr\/1">PR<\/a>/)
})

test('linkPR records the link once however often it is called', async () => {
  const story = await tracker.createIssue({ title: 'Link a PR' })
  const pr = 'https://github.com/acme/shop/pull/42'
  await tracker.linkPR(story.ref, pr)
  await tracker.linkPR(story.ref, pr)
  await tracker.linkPR(story.id, pr)
  assert.deepEqual((await tracker.getIssue(story.ref)).pullRequests, [pr])
  const other = 'https://github.com/acme/shop/pull/43'
  await tracker.linkPR(story.ref, other)
  assert.deepEqual((await tracker.getIssue(story.ref)).pullRequests, [pr, other])
  const prs = await rawQuery(sim, `pullrequest?fetch=Url,Name&query=(Artifact.FormattedID = "${story.ref}")`)
  assert.deepEqual(prs.map((p) => [p.Url, p.Name]), [[pr, 'acme/shop#42'], [other, 'acme/shop#43']])
  // The default links natively: no post.
  assert.deepEqual(await tracker.getComments(story.ref), [])
})

test('deleteIssue removes the artifact; a second delete is not found', async () => {
  const story = await tracker.createIssue({ title: 'Delete me' })
  await tracker.deleteIssue(story.ref)
  const raw = await sim.wsapi(`hierarchicalrequirement/${story.id}`)
  assert.deepEqual(Object.values(raw)[0].Errors, ['Cannot find object to read'])
  const err = await rejection(tracker.deleteIssue(story.ref))
  assert.ok(err instanceof IssueNotFoundError)
  assert.equal(err.code, 'RALLY_NOT_FOUND')
})
