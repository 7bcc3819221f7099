// Enterprise Rally from Node: custom fields (schema read once, required on create,
// createDefaults, round trip by display name) and native PullRequest links, against a
// simulator whose workspace has custom fields (`--custom-field`).
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { repoRoot, startSim } from './helpers/sim.mjs'
import { assertInvalidInput, rawQuery, rejection, trackerFor } from './helpers/tracker.mjs'

let sim
let plain

before(async () => {
  sim = await startSim({
    seed: 45,
    extraArgs: [
      '--custom-field', 'HierarchicalRequirement:c_Team:string:required:allowed=Red,Blue',
      '--custom-field', 'HierarchicalRequirement:c_MICSCategory:string:display=MICS Category',
      '--custom-field', 'Defect:c_Points:integer',
    ],
  })
  plain = await startSim({ seed: 46, extraArgs: ['--no-pull-requests'] })
})
after(() => {
  sim?.stop()
  plain?.stop()
})

const writes = (stats) =>
  Object.entries(stats.byRoute).filter(([route]) => route.startsWith('POST')).reduce((n, [, c]) => n + c, 0)

test('a create missing a required custom field is refused before any write, naming it and its choices', async () => {
  const tracker = trackerFor(sim, { customFields: 'all' })
  await sim.reset()
  const err = await rejection(tracker.createIssue({ title: 'no team (node)' }))
  assertInvalidInput(err, 'customFields.Team')
  assert.match(err.message, /Red, Blue/)
  assert.match(err.message, /createDefaults/)
  assert.equal(writes(await sim.stats()), 0)
  await sim.reset()
  const bad = await rejection(tracker.createIssue({ title: 'x', customFields: { Team: 'Green' } }))
  assertInvalidInput(bad, 'customFields.Team')
  assert.match(bad.message, /"Green" is not an allowed value.*Red, Blue/)
  assert.equal((await sim.stats()).total, 0, 'the schema is cached: no request at all')
  assert.equal((await rawQuery(sim, 'hierarchicalrequirement?query=(Name = "no team (node)")')).length, 0)
})

test('createDefaults fills the required field; custom fields round-trip by display name', async () => {
  const tracker = trackerFor(sim, {
    customFields: ['Team', 'MICS Category'],
    createDefaults: { UserStory: { Team: 'Blue' } },
  })
  const made = await tracker.createIssue({ title: 'has a team (node)', customFields: { 'MICS Category': 'Ops' } })
  assert.deepEqual(made.customFields, { Team: 'Blue', 'MICS Category': 'Ops' })
  const stored = await rawQuery(sim, `hierarchicalrequirement?query=(ObjectID = ${made.id})&fetch=c_Team,c_MICSCategory`)
  assert.equal(stored[0].c_Team, 'Blue')
  const updated = await tracker.updateIssue(made.ref, { customFields: { c_Team: 'Red', MICSCategory: null } })
  assert.deepEqual(updated.customFields, { Team: 'Red', 'MICS Category': null })
  const got = await trackerFor(sim, { customFields: 'all' }).getIssue(made.ref)
  assert.deepEqual(got.customFields, { Team: 'Red', 'MICS Category': null })
  const err = await rejection(tracker.updateIssue(made.ref, { customFields: { Colour: 'x' } }))
  assertInvalidInput(err, 'customFields')
  assert.match(err.message, /Colour.*Team, MICS Category/)
})

test('the default list costs what it did and carries no customFields', async () => {
  const tracker = trackerFor(sim)
  await tracker.listIssues()
  await sim.reset()
  const issues = await tracker.listIssues()
  const stats = await sim.stats()
  assert.equal(stats.total, 4, JSON.stringify(stats.byRoute))
  assert.ok(issues.every((i) => !('customFields' in i) || i.customFields === undefined || i.customFields === null))
})

test('a tracker told nothing about custom fields refuses the same create before any write too', async () => {
  const tracker = trackerFor(sim)
  await sim.reset()
  const err = await rejection(tracker.createIssue({ title: 'no team, no options (node)' }))
  assertInvalidInput(err, 'customFields.Team')
  assert.match(err.message, /Red, Blue/)
  assert.match(err.message, /createDefaults\.UserStory/)
  assert.equal(writes(await sim.stats()), 0)
  assert.equal((await rawQuery(sim, 'hierarchicalrequirement?query=(Name = "no team, no options (node)")')).length, 0)
  // Passing the field on the call is enough.
  const made = await tracker.createIssue({ title: 'team on the call (node)', customFields: { Team: 'Blue' } })
  assert.equal((await sim.wsapi(`hierarchicalrequirement/${made.id}?fetch=c_Team`)).HierarchicalRequirement.c_Team, 'Blue')
})

test("linkPR with prLinks 'pullRequest' makes one native PullRequest per URL", async () => {
  const tracker = trackerFor(sim, { prLinks: 'pullRequest', createDefaults: { UserStory: { Team: 'Red' } } })
  const story = await tracker.createIssue({ title: 'native links (node)' })
  const url = 'https://github.com/acme/shop/pull/77'
  await Promise.all(Array.from({ length: 4 }, () => tracker.linkPR(story.ref, url)))
  await trackerFor(sim, { prLinks: 'pullRequest' }).linkPR(story.id, 'HTTPS://GITHUB.com/acme/shop/pull/77/')
  const prs = await rawQuery(sim, `pullrequest?query=(Artifact = /hierarchicalrequirement/${story.id})&fetch=Url,Name`)
  assert.deepEqual(prs.map((p) => [p.Url, p.Name]), [[url, 'acme/shop#77']])
  assert.deepEqual((await tracker.getIssue(story.ref)).pullRequests, [url])
  assert.deepEqual(await tracker.getComments(story.ref), [])
})

test('a workspace without PullRequest objects gets one discussion post and one warning', async () => {
  const events = []
  const tracker = trackerFor(plain, { prLinks: 'both', logger: (e) => events.push(e) })
  const story = await tracker.createIssue({ title: 'fallback (node)' })
  const url = 'https://github.com/acme/shop/pull/78'
  await tracker.linkPR(story.ref, url)
  await tracker.linkPR(story.ref, url)
  const comments = await tracker.getComments(story.ref)
  assert.equal(comments.length, 1)
  assert.ok(comments[0].body.includes(url))
  assert.equal(events.filter((e) => e.level === 'warn' && /PullRequest/.test(e.message)).length, 1)
})

test('the new options and fields are checked by name', () => {
  for (const [options, argument] of [
    [{ prLinks: 'native' }, 'prLinks'],
    [{ customFields: 'some' }, 'customFields'],
    [{ customFields: [1] }, 'customFields[0]'],
    [{ createDefaults: { Epic: {} } }, 'createDefaults.Epic'],
    [{ createDefaults: { UserStory: 'Red' } }, 'createDefaults.UserStory'],
    [{ customField: 'all' }, 'customField'],
  ]) {
    let err
    try {
      trackerFor(sim, options)
    } catch (e) {
      err = e
    }
    assertInvalidInput(err, argument)
  }
})

function doctor(args, env) {
  const home = mkdtempSync(join(tmpdir(), 'rally-doctor-ent-'))
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin', 'rally-doctor.js'), ...args], {
    env: { PATH: process.env.PATH, HOME: home, ...env },
    encoding: 'utf8',
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, home }
}

test('rally-doctor lists required custom fields, says creates fail, and prints createDefaults', () => {
  const env = { RALLY_API_KEY: sim.apiKey, RALLY_SERVER: sim.url, RALLY_WORKSPACE: sim.workspace, RALLY_PROJECT: sim.project }
  const r = doctor([], env)
  assert.equal(r.code, 7, r.stdout + r.stderr)
  assert.match(r.stdout, /UserStory\s+Team \[c_Team\] \(one of: Red, Blue\) MISSING/)
  assert.match(r.stdout, /"createDefaults": \{\s+"UserStory": \{\s+"Team": "Red"/)
  assert.match(r.stdout, /\[trackers\.rally\.create_defaults\.UserStory\]\nTeam = "Red"/)
  assert.ok(!r.stdout.includes(sim.apiKey))
  // The block it printed, pasted into config.toml, makes creates pass.
  const toml = join(r.home, 'config.toml')
  writeFileSync(toml, `[trackers.rally]\ntype = "rally"\n\n[trackers.rally.create_defaults.UserStory]\nTeam = "Blue"\n`)
  const ok = doctor(['--config', toml], env)
  assert.equal(ok.code, 0, ok.stdout + ok.stderr)
  assert.match(ok.stdout, /Team \[c_Team\].*set by createDefaults/)
  const flag = doctor(['--json', '--create-defaults', '{"UserStory":{"Team":"Red"}}'], env)
  assert.equal(JSON.parse(flag.stdout).exitCode, 0, flag.stdout)
})
