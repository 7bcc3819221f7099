// `npm run demo`: the tracker against a local Rally simulator, doing what Panopticon does —
// list open work grouped by state (like `pan work list`), then create, update, comment on,
// transition and delete a story, counting Rally round trips for each step.
//
// `npm run demo -- --server rally1.rallydev.com` (with RALLY_API_KEY set, and optionally
// RALLY_WORKSPACE / RALLY_PROJECT or --workspace / --project) runs read-only against a real
// Rally: it lists and reads, and never writes.
import { startSim } from '../__test__/helpers/sim.mjs'
import { RallyTracker } from '../rally.mjs'

function parseArgs(argv) {
  const out = {}
  for (let k = 0; k < argv.length; k++) {
    const m = /^--(server|workspace|project)(?:=(.*))?$/.exec(argv[k])
    if (!m) throw new Error(`unknown argument ${argv[k]} (use --server <host> [--workspace W] [--project P])`)
    out[m[1]] = m[2] ?? argv[++k]
  }
  return out
}

const STATE_TITLES = { open: 'OPEN', in_progress: 'IN PROGRESS', closed: 'CLOSED' }

function cell(text, width) {
  const s = String(text ?? '')
  return s.length > width ? `${s.slice(0, width - 1)}…` : s.padEnd(width)
}

/** Grouped by state, one line per issue: ref, title, first word of assignee, priority. */
function printWorkList(issues) {
  for (const state of ['open', 'in_progress', 'closed']) {
    const group = issues.filter((i) => i.state === state)
    if (!group.length) continue
    console.log(`\n${STATE_TITLES[state]} (${group.length})`)
    for (const i of group) {
      const who = i.assignee ? i.assignee.split(/\s+/)[0] : '-'
      const priority = i.priority ? `P${i.priority}` : '-'
      console.log(`  ${cell(i.ref, 7)} ${cell(i.title, 48)} ${cell(who, 9)} ${priority}`)
    }
  }
}

async function realRally(args) {
  const apiKey = process.env.RALLY_API_KEY
  if (!apiKey) throw new Error('set RALLY_API_KEY to run against a real Rally')
  const tracker = new RallyTracker({
    apiKey,
    server: args.server,
    workspace: args.workspace ?? process.env.RALLY_WORKSPACE,
    project: args.project ?? process.env.RALLY_PROJECT,
  })
  console.log(`Read-only demo against ${args.server}: nothing is written.`)
  const started = Date.now()
  const open = await tracker.listIssues({ includeClosed: false })
  console.log(`\n${open.length} open issues in ${Date.now() - started} ms, as \`pan work list\` shows them:`)
  printWorkList(open)
  const mine = await tracker.listIssues({ assignee: 'me' })
  console.log(`\nAssigned to the key's owner: ${mine.length}`)
  if (open.length) {
    const one = await tracker.getIssue(open[0].ref.toLowerCase())
    console.log(`\ngetIssue('${open[0].ref.toLowerCase()}') → ${one.ref} "${one.title}" (${one.artifactType}, ${one.state})`)
    console.log(`  ${one.url}`)
    const comments = await tracker.getComments(one.ref)
    console.log(`  ${comments.length} comment(s)${comments.length ? `, latest by ${comments.at(-1).author}` : ''}`)
  }
}

async function simulated() {
  const sim = await startSim({ seed: 42 })
  try {
    console.log(`rally-sim on ${sim.url} (seed 42), workspace ${sim.workspace}, project ${sim.project}`)
    const tracker = new RallyTracker({
      apiKey: sim.apiKey,
      server: sim.url,
      workspace: sim.workspace,
      project: sim.project,
    })
    const steps = []
    async function step(label, fn) {
      await sim.reset()
      const started = process.hrtime.bigint()
      const result = await fn()
      const ms = Number(process.hrtime.bigint() - started) / 1e6
      const stats = await sim.stats()
      steps.push({ label: typeof label === 'function' ? label(result) : label, trips: stats.total, ms })
      return result
    }

    const open = await step('listIssues({ includeClosed: false }): all pages, 4 types', () =>
      tracker.listIssues({ includeClosed: false }),
    )
    console.log(`\n${open.length} open issues, as \`pan work list\` shows them:`)
    printWorkList(open)

    const story = await step(
      (s) => `createIssue → ${s.ref} (labels, assignee; tags and user looked up once)`,
      () =>
        tracker.createIssue({
          title: 'Demo: checkout shows the wrong total',
          description: 'Found while **testing** the demo. See [the wiki](https://wiki.example.com/checkout).',
          labels: ['frontend', 'demo'],
          assignee: 'Priya Shah',
        }),
    )
    const updated = await step(`updateIssue(${story.ref}, { title, labels })`, () =>
      tracker.updateIssue(story.ref.toLowerCase(), { title: 'Demo: checkout total is wrong', labels: ['frontend'] }),
    )
    const comment = await step(`addComment(${story.ref})`, () =>
      tracker.addComment(story.ref, 'Reproduced on **staging**; fix in progress.'),
    )
    await step(`transitionIssue(${story.ref}, 'in_progress')`, () => tracker.transitionIssue(story.ref, 'in_progress'))
    await step(`transitionIssue(${story.ref}, 'in_progress') again: no write`, () =>
      tracker.transitionIssue(story.ref, 'in_progress'),
    )
    await step(`linkPR(${story.ref}, …/pull/42)`, () =>
      tracker.linkPR(story.ref, 'https://github.com/acme/shop/pull/42'),
    )
    const fetched = await step(`getIssue(${story.ref}): the item, then its pull request`, () => tracker.getIssue(story.ref))
    const comments = await step(`getComments(${story.ref})`, () => tracker.getComments(story.ref))
    await step(`deleteIssue(${story.ref})`, () => tracker.deleteIssue(story.ref))
    const gone = await tracker.getIssue(story.ref).then(
      () => 'still there (unexpected)',
      (err) => `${err.name}: ${err.message}`,
    )

    console.log('\nWhat the demo did:')
    console.log(`  created   ${story.ref} "${story.title}" (${story.artifactType}, ${story.state}), labels ${JSON.stringify(story.labels)}, assignee ${story.assignee}`)
    console.log(`  updated   title → "${updated.title}", labels ${JSON.stringify(updated.labels)}`)
    console.log(`  commented as ${comment.author}: ${JSON.stringify(comment.body)}`)
    console.log(`  state     ${fetched.state} (Rally: ${fetched.rallyState}); ${comments.length} comment(s)`)
    console.log(`  linked    ${JSON.stringify(fetched.pullRequests)} (a Rally PullRequest on the item)`)
    console.log(`  deleted   getIssue('${story.ref}') now → ${gone}`)
    console.log(`  url       ${fetched.url}`)

    console.log('\nRally round trips per call (counted by the simulator):')
    for (const s of steps) console.log(`  ${String(s.trips).padStart(3)}  ${cell(s.label, 62)} ${s.ms.toFixed(0).padStart(5)} ms`)
  } finally {
    await sim.stop()
  }
}

const args = parseArgs(process.argv.slice(2))
try {
  if (args.server) await realRally(args)
  else await simulated()
} catch (err) {
  console.error(`demo failed: ${err.code ? `[${err.code}] ` : ''}${err.message}`)
  process.exitCode = 1
}
