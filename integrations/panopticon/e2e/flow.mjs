// The lifecycle's remaining paths against rally-sim, with Rally configured by ~/.panopticon.env
// alone (no [trackers.rally] in config.toml): the CLI and the board's Start Agent see the same
// Rally; pan work plan / reopen through the lifecycle; and the corners of the board's routes
// (two Plan presses at once, Reopen on a Defined story, Close on a Task, a Feature through
// plan and approve, a Closed defect reopened, a Rally failure in the middle of a step). The
// simulator's item is read after each step. Called from e2e.mjs.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startDashboard, wsapiCall as wsapi, until } from './sim-io.mjs'

const TYPE = { story: ['hierarchicalrequirement', 'HierarchicalRequirement'], defect: ['defect', 'Defect'], task: ['task', 'Task'], feature: ['portfolioitem/feature', 'PortfolioItem/Feature'] }

/** An item as Rally has it: ScheduleState, State, tag names, post texts, PR URLs. */
async function item(sim, kind, oid) {
  const [path, collections] = TYPE[kind]
  const fields = kind === 'story' ? 'ScheduleState,Tags' : kind === 'defect' ? 'ScheduleState,State,Tags' : kind === 'task' ? 'State,Tags' : 'State,Tags'
  const got = await wsapi(sim, 'GET', `${path}/${oid}?fetch=FormattedID,Name,${fields}`)
  const o = Object.values(got).find((v) => v && typeof v === 'object' && v.FormattedID) ?? {}
  const posts = await wsapi(sim, 'GET', `${collections}/${oid}/Discussion?fetch=Text&pagesize=200`)
  const prs = await wsapi(sim, 'GET', `${collections}/${oid}/PullRequests?fetch=Url&pagesize=200`)
  return {
    ref: o.FormattedID,
    scheduleState: o.ScheduleState,
    state: typeof o.State === 'string' ? o.State : (o.State?._refObjectName ?? o.State?.Name),
    tags: (o.Tags?._tagsNameArray ?? []).map((t) => t.Name).sort(),
    posts: (posts.QueryResult?.Results ?? []).map((p) => String(p.Text ?? '')),
    prs: (prs.QueryResult?.Results ?? []).map((p) => p.Url),
  }
}

async function create(sim, kind, fields) {
  const [path, , ] = TYPE[kind]
  const key = { story: 'HierarchicalRequirement', defect: 'Defect', task: 'Task', feature: 'PortfolioItem/Feature' }[kind]
  const made = await wsapi(sim, 'POST', `${path}/create?fetch=FormattedID,ObjectID`, { [key]: { Project: sim.project, Workspace: sim.workspace, ...fields } })
  const o = made.CreateResult?.Object
  if (!o) throw new Error(`${kind} not created: ${JSON.stringify(made).slice(0, 300)}`)
  return { kind, ref: o.FormattedID, oid: o.ObjectID, title: fields.Name }
}

const setFaults = (sim, spec) => fetch(`${sim.url}/__sim/faults`, { method: spec ? 'POST' : 'DELETE', body: spec || undefined })

/**
 * `ctx`: { check, section, sim, pan, checkout, panEnv, project, stubs, scratch }. Writes its own
 * config (empty config.toml, RALLY_* in ~/.panopticon.env) and leaves it so; the caller writes
 * the next configuration it needs.
 */
export async function flowChecks(ctx) {
  const { check, section, sim, pan, checkout, panEnv, project, stubs, scratch } = ctx
  const home = panEnv.HOME
  section('5a. Rally from ~/.panopticon.env alone; pan work plan / reopen; the lifecycle\'s corners')
  if (!existsSync(join(checkout, 'dist', 'dashboard', 'server.js'))) {
    check('the dashboard server is built for the flow checks', false)
    return
  }
  // Only the env file names Rally; config.toml has no [trackers.rally]
  mkdirSync(join(home, '.panopticon'), { recursive: true })
  writeFileSync(join(home, '.panopticon', 'config.toml'), '[trackers]\nprimary = "linear"\n')
  writeFileSync(join(home, '.panopticon', 'cloister.toml'), '[startup]\nauto_start = false\n')
  writeFileSync(join(home, '.panopticon.env'), [`RALLY_API_KEY=${sim.apiKey}`, `RALLY_SERVER=${sim.url}`, `RALLY_WORKSPACE=${sim.workspace}`, `RALLY_PROJECT=${sim.project}`].join('\n') + '\n')
  writeFileSync(join(home, '.panopticon', 'projects.json'), JSON.stringify([{ name: 'project', path: project }]))
  // The CLI's environment holds no key: the env file alone (a variable already set, even
  // empty, is not replaced from the file)
  const envOnly = { RALLY_API_KEY: '' }

  // --- the CLI with only the env file ------------------------------------------------------
  const s = await create(sim, 'story', { Name: 'Flow: configured by the env file', Description: '<p>Env-only configuration reaches the agent.</p>' })
  const list = pan(['work', 'list', '--tracker', 'rally', '--json'], { cwd: project, env: envOnly })
  let listed = []
  try { listed = JSON.parse(list.stdout).map((i) => i.ref ?? i.identifier) } catch { /* not JSON */ }
  check(`env file only: pan work list --tracker rally --json lists ${s.ref}`, list.status === 0 && listed.includes(s.ref),
    `exit ${list.status}; ${(list.stdout + list.stderr).trim().split('\n').slice(-3).join(' | ').slice(0, 300)}`)

  // pan work reopen through the lifecycle: shown with its discussion first, moved only when told
  await wsapi(sim, 'POST', 'conversationpost/create', { ConversationPost: { Artifact: `/hierarchicalrequirement/${s.oid}`, Text: '<p>Flow: an earlier post</p>' } })
  await wsapi(sim, 'POST', `hierarchicalrequirement/${s.oid}`, { HierarchicalRequirement: { ScheduleState: 'Completed' } })
  const shown = pan(['work', 'reopen', s.ref, '--json'], { cwd: project, env: envOnly })
  const afterShown = await item(sim, 'story', s.oid)
  let shownJson = null
  try { shownJson = JSON.parse(shown.stdout.slice(shown.stdout.indexOf('{\n'))) } catch { /* not JSON */ }
  check(`pan work reopen ${s.ref} --json shows the item and its discussion and moves nothing`,
    shown.status === 0 && shownJson?.issue?.title === s.title && shownJson.comments?.some((c) => c.body.includes('an earlier post')) && afterShown.scheduleState === 'Completed' && afterShown.posts.length === 1,
    `exit ${shown.status}; ScheduleState ${afterShown.scheduleState}; ${afterShown.posts.length} posts; ${(shown.stdout + shown.stderr).trim().slice(-300)}`)
  const reopened = pan(['work', 'reopen', s.ref, '--force', '--skip-plan'], { cwd: project, env: envOnly })
  const afterReopen = await item(sim, 'story', s.oid)
  check(`pan work reopen ${s.ref} --force --skip-plan: Defined with a post saying so`,
    reopened.status === 0 && afterReopen.scheduleState === 'Defined' && afterReopen.posts.some((p) => /Reopened/i.test(p)),
    `exit ${reopened.status}; ScheduleState ${afterReopen.scheduleState}; ${(reopened.stdout + reopened.stderr).trim().split('\n').slice(-3).join(' | ')}`)
  // Linear ids keep Linear's moves: without a Linear key both commands stop, naming it
  for (const args of [['work', 'plan', 'ABC-12', '--force', '--skip-discovery'], ['work', 'reopen', 'ABC-12', '--force']]) {
    const res = pan(args, { cwd: project, env: envOnly })
    check(`pan ${args.join(' ')} (a Linear id, no Linear key) stops with "LINEAR_API_KEY not found"`,
      res.status === 1 && /LINEAR_API_KEY not found/.test(res.stdout + res.stderr), `exit ${res.status}; ${(res.stdout + res.stderr).trim().slice(-200)}`)
  }

  // --- the board with only the env file --------------------------------------------------
  const bin = join(scratch, 'flow-bin')
  mkdirSync(bin, { recursive: true })
  writeFileSync(join(bin, 'pan'), `#!/bin/sh\nexec "${process.execPath}" "${join(checkout, 'node_modules', 'tsx', 'dist', 'cli.mjs')}" "${join(checkout, 'src', 'cli', 'index.ts')}" "$@"\n`)
  chmodSync(join(bin, 'pan'), 0o755)
  const dashboard = await startDashboard(checkout, { ...panEnv, ...envOnly, PATH: `${bin}:${stubs}:${process.env.PATH}` })
  const { port } = dashboard
  const post = async (path, body = {}) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(60_000) })
    let json = null
    try { json = await res.json() } catch { /* not JSON */ }
    return { status: res.status, body: json }
  }
  try {
    // Start Agent: the spawned pan work issue reads the same Rally and gives the agent the item
    const a = await create(sim, 'story', { Name: 'Flow: Start Agent with the env file only', Description: '<p>The agent prompt carries this description.</p>' })
    const started = await post('/api/agents', { issueId: a.ref })
    const promptFile = join(home, '.panopticon', 'agents', `agent-${a.ref.toLowerCase()}`, 'initial-prompt.md')
    const spawned = await until(async () => {
      const prompt = existsSync(promptFile) ? readFileSync(promptFile, 'utf8') : ''
      const got = await item(sim, 'story', a.oid)
      return { ok: prompt.includes(a.title) && prompt.includes('The agent prompt carries this description') && got.scheduleState === 'In-Progress', prompt, got }
    }, 120_000, 1000)
    check(`env file only: the board's Start Agent on ${a.ref} gives the agent the item (title and description in its prompt), In-Progress`,
      started.status === 200 && spawned.ok, `HTTP ${started.status}; ScheduleState ${spawned.got.scheduleState}; prompt ${spawned.prompt ? spawned.prompt.split('\n').slice(0, 6).join(' | ').slice(0, 300) : '(none)'}`)

    // Two Plan presses at once on one card: one tag, both answered
    const p = await create(sim, 'story', { Name: 'Flow: Plan pressed twice' })
    const both = await Promise.all([0, 1].map(() => post(`/api/issues/${p.ref}/start-planning`, { skipWorkspace: true })))
    const planned = await item(sim, 'story', p.oid)
    const tagNamed = await wsapi(sim, 'GET', `tag?query=${encodeURIComponent('(Name = "planning")')}&fetch=Name&pagesize=20`)
    check(`two start-planning requests at once on ${p.ref}: both answered 200, the item tagged planning once, one tag of that name`,
      both.every((r) => r.status === 200) && planned.tags.filter((t) => t === 'planning').length === 1 && tagNamed.QueryResult?.TotalResultCount === 1,
      `HTTP ${both.map((r) => r.status).join(', ')} ${JSON.stringify(both.map((r) => r.body?.error)).slice(0, 200)}; tags [${planned.tags}]; tags named planning ${tagNamed.QueryResult?.TotalResultCount}`)

    // Reopen on a story already Defined: 200, still Defined, the post
    const d = await create(sim, 'story', { Name: 'Flow: reopen while Defined' })
    const rd = await post(`/api/issues/${d.ref}/reopen`)
    const afterRd = await item(sim, 'story', d.oid)
    check(`Reopen on ${d.ref} already Defined: 200, Defined, one post`, rd.status === 200 && afterRd.scheduleState === 'Defined' && afterRd.posts.length === 1,
      `HTTP ${rd.status} ${JSON.stringify(rd.body).slice(0, 200)}; ScheduleState ${afterRd.scheduleState}; ${afterRd.posts.length} posts`)

    // Close (No Merge) on a Task: no Accepted, so Completed, with the post
    const parent = await create(sim, 'story', { Name: 'Flow: a task\'s story' })
    const t = await create(sim, 'task', { Name: 'Flow: close a task', WorkProduct: `/hierarchicalrequirement/${parent.oid}` })
    const ct = await post(`/api/issues/${t.ref}/close`)
    const afterCt = await item(sim, 'task', t.oid)
    check(`Close (No Merge) on task ${t.ref}: 200, State Completed, a post saying it closed without a merge`,
      ct.status === 200 && afterCt.state === 'Completed' && afterCt.posts.some((x) => /without a merge/i.test(x)),
      `HTTP ${ct.status} ${JSON.stringify(ct.body).slice(0, 200)}; State ${afterCt.state}; ${afterCt.posts.length} posts`)

    // A Feature through Plan and approve: the planning tag, then its last State with the PR
    const states = await wsapi(sim, 'GET', `state?query=${encodeURIComponent('(TypeDef.Name = "Feature")')}&order=OrderIndex&fetch=Name,OrderIndex&pagesize=50`)
    const featureStates = (states.QueryResult?.Results ?? []).map((x) => x.Name)
    const f = await create(sim, 'feature', { Name: 'Flow: a feature planned and approved' })
    const pf = await post(`/api/issues/${f.ref}/start-planning`, { skipWorkspace: true })
    const afterPf = await item(sim, 'feature', f.oid)
    check(`Plan on feature ${f.ref}: 200, tagged planning`, pf.status === 200 && afterPf.tags.includes('planning'), `HTTP ${pf.status} ${JSON.stringify(pf.body).slice(0, 200)}; tags [${afterPf.tags}]`)
    // pan work approve approves an agent's work: the agent first (the feature to its second State)
    const wf = pan(['work', 'issue', f.ref.toLowerCase()], { cwd: project, env: envOnly })
    const afterWf = await item(sim, 'feature', f.oid)
    check(`pan work issue ${f.ref.toLowerCase()}: the agent spawned, the feature in its second State (${featureStates[1]})`,
      wf.status === 0 && afterWf.state === featureStates[1], `exit ${wf.status}; State ${afterWf.state}; ${(wf.stdout + wf.stderr).trim().split('\n').slice(-3).join(' | ').slice(0, 300)}`)
    const af = pan(['work', 'approve', f.ref], { cwd: project, env: envOnly })
    const afterAf = await item(sim, 'feature', f.oid)
    check(`pan work approve ${f.ref}: the feature in its last State (${featureStates.at(-1)}), the PR linked`,
      af.status === 0 && afterAf.state === featureStates.at(-1) && afterAf.prs.includes('https://github.com/acme/shop/pull/42'),
      `exit ${af.status}; State ${afterAf.state}; PRs ${afterAf.prs}; ${(af.stdout + af.stderr).trim().split('\n').slice(-3).join(' | ').slice(0, 300)}`)

    // A Defect whose State is Closed, reopened: Defined and State Open, with the post
    const df = await create(sim, 'defect', { Name: 'Flow: a closed defect reopened', State: 'Closed', ScheduleState: 'Accepted' })
    const before = await item(sim, 'defect', df.oid)
    const rdf = await post(`/api/issues/${df.ref}/reopen`)
    const afterRdf = await item(sim, 'defect', df.oid)
    check(`Reopen on defect ${df.ref} (State ${before.state}, ${before.scheduleState}): 200, Defined, State Open, a post`,
      rdf.status === 200 && afterRdf.scheduleState === 'Defined' && afterRdf.state === 'Open' && afterRdf.posts.some((x) => /Reopened/i.test(x)),
      `HTTP ${rdf.status} ${JSON.stringify(rdf.body).slice(0, 200)}; ScheduleState ${afterRdf.scheduleState}; State ${afterRdf.state}`)

    // A Rally failure in the middle of a step: a short message for the board, never the key
    const m = await create(sim, 'story', { Name: 'Flow: Rally fails mid-step' })
    await wsapi(sim, 'POST', `hierarchicalrequirement/${m.oid}`, { HierarchicalRequirement: { ScheduleState: 'Completed' } })
    for (const [fault, what] of [['500@POST */conversationpost/create', 'a 500 error page on the post'], ['echo@POST */conversationpost/create', 'a page echoing the request headers (the key among them) on the post']]) {
      await setFaults(sim, fault)
      const res = await post(`/api/issues/${m.ref}/reopen`)
      await setFaults(sim, '')
      const msg = JSON.stringify(res.body ?? '')
      check(`Reopen on ${m.ref} when Rally answers ${what}: an error status and a short message without the key or HTML`,
        res.status >= 400 && typeof res.body?.error === 'string' && res.body.error.length > 0 && res.body.error.length < 300 && !msg.includes(sim.apiKey) && !/<\w+[^>]*>/.test(msg),
        `HTTP ${res.status}; ${msg.length} chars: ${msg.replaceAll(sim.apiKey, '<KEY>').slice(0, 300)}`)
    }
    const afterM = await item(sim, 'story', m.oid)
    const rm = await post(`/api/issues/${m.ref}/reopen`)
    const afterRm = await item(sim, 'story', m.oid)
    check(`the failed Reopen left ${m.ref} as it was (${afterM.scheduleState}); once Rally answers, Reopen moves it to Defined with one post`,
      afterM.scheduleState === 'Completed' && rm.status === 200 && afterRm.scheduleState === 'Defined' && afterRm.posts.length === 1,
      `before ${afterM.scheduleState}; HTTP ${rm.status}; ScheduleState ${afterRm.scheduleState}; ${afterRm.posts.length} posts`)
  } finally {
    await setFaults(sim, '')
    dashboard.child.kill()
  }
}
