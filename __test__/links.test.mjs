// linkPR from Node, as Panopticon calls it: the exact URL decides (never a substring), and
// calls for one issue made at once, from one tracker or from two in this process, link once —
// as a native PullRequest (the default) or as a discussion post.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startSim } from './helpers/sim.mjs'
import { rawQuery, trackerFor } from './helpers/tracker.mjs'

let sim

before(async () => {
  // A little latency, so every call's existing-link lookup is out before any post.
  sim = await startSim({ seed: 44, latencyMs: 20 })
})
after(() => sim?.stop())

/** The `href`s of the posts on an issue, read over raw WSAPI. */
async function hrefs(issue) {
  const posts = await rawQuery(sim, `conversationpost?fetch=Text&query=(Artifact.ObjectID = ${issue.id})`)
  return posts.flatMap((p) => [...p.Text.matchAll(/href="([^"]*)"/g)].map((m) => m[1])).sort()
}

/** The `Url`s of the native PullRequests on an issue, read over raw WSAPI. */
async function prUrls(issue) {
  const prs = await rawQuery(sim, `pullrequest?fetch=Url&query=(Artifact.ObjectID = ${issue.id})`)
  return prs.map((p) => p.Url).sort()
}

// Each way of linking: the native PullRequest (the default) and the discussion post.
for (const [mode, options, linked, other] of [
  ['PullRequest (default)', {}, prUrls, hrefs],
  ["post (prLinks: 'comment')", { prLinks: 'comment' }, hrefs, prUrls],
]) {
  test(`${mode}: linkPR after …/pull/42 still links …/pull/4; other spellings of a linked URL add nothing`, async () => {
    const tracker = trackerFor(sim, options)
    const story = await tracker.createIssue({ title: `links by exact URL (node, ${mode})` })
    await tracker.linkPR(story.ref, 'https://github.com/acme/shop/pull/42')
    await tracker.linkPR(story.ref, 'https://github.com/acme/shop/pull/4')
    assert.deepEqual(await linked(story), ['https://github.com/acme/shop/pull/4', 'https://github.com/acme/shop/pull/42'])
    await tracker.linkPR(story.ref, 'HTTPS://GitHub.com/acme/shop/pull/4/')
    await trackerFor(sim, options).linkPR(story.id, 'https://github.com/acme/shop/pull/42/')
    assert.equal((await linked(story)).length, 2)
    assert.deepEqual(await other(story), [], 'one way of linking only')
  })

  test(`${mode}: concurrent linkPR calls for one issue link once, from one tracker or two`, async () => {
    const tracker = trackerFor(sim, options)
    const story = await tracker.createIssue({ title: `concurrent links (node, ${mode})` })
    const url = 'https://github.com/acme/shop/pull/300'
    await Promise.all(Array.from({ length: 8 }, () => tracker.linkPR(story.ref, url)))
    assert.deepEqual(await linked(story), [url])

    const story2 = await tracker.createIssue({ title: `concurrent links, two trackers (node, ${mode})` })
    const [a, b] = [trackerFor(sim, options), trackerFor(sim, options)]
    const url2 = 'https://github.com/acme/shop/pull/301'
    await Promise.all([a.linkPR(story2.ref, url2), b.linkPR(story2.ref, url2), a.linkPR(story2.id, url2), b.linkPR(story2.id, url2)])
    assert.deepEqual(await linked(story2), [url2])
  })
}
