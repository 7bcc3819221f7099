// The lifecycle of one Rally story, step by step, through Panopticon's dashboard routes and its
// CLI against rally-sim: after each step the simulator's item (ScheduleState, tags, discussion)
// is read straight from WSAPI and checked against the table of the pan-tracker skill. Called
// from e2e.mjs; prints the table of what each step did.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startDashboard, wsapiCall as wsapi } from './sim-io.mjs'

/** The story as Rally has it: ScheduleState, tag names, post texts. */
async function item(sim, oid) {
  const got = await wsapi(sim, 'GET', `hierarchicalrequirement/${oid}?fetch=FormattedID,ScheduleState,Tags`)
  const s = got.HierarchicalRequirement
  const posts = await wsapi(sim, 'GET', `hierarchicalrequirement/${oid}/Discussion?fetch=Text&pagesize=200`)
  const prs = await wsapi(sim, 'GET', `hierarchicalrequirement/${oid}/PullRequests?fetch=Url&pagesize=200`)
  return {
    prs: (prs.QueryResult?.Results ?? []).map((p) => p.Url),
    state: s.ScheduleState,
    tags: (s.Tags?._tagsNameArray ?? []).map((t) => t.Name).sort(),
    posts: (posts.QueryResult?.Results ?? []).map((p) => String(p.Text ?? '')),
  }
}

async function newStory(sim, name) {
  const made = await wsapi(sim, 'POST', `hierarchicalrequirement/create?fetch=FormattedID,ObjectID`, {
    HierarchicalRequirement: { Name: name, Project: sim.project, Workspace: sim.workspace, Description: `<p>${name}: the lifecycle, step by step.</p>` },
  })
  const o = made.CreateResult?.Object
  if (!o) throw new Error(`story not created: ${JSON.stringify(made).slice(0, 300)}`)
  return { ref: o.FormattedID, oid: o.ObjectID }
}

/**
 * `ctx`: { check, section, sim, pan, checkout, panEnv, project }. The Rally configuration
 * (config.toml and ~/.panopticon.env) must already be written with Rally as the primary tracker.
 */
export async function lifecycleChecks(ctx) {
  const { check, section, sim, pan, checkout, panEnv, project } = ctx
  const table = []
  const record = (via, step, got, ok) => table.push({ via, step, state: got.state, tags: got.tags.join(' ') || '—', posts: got.posts.length, prs: got.prs.length, ok })

  section('5. the lifecycle of a Rally story through the dashboard routes and the CLI')
  if (!existsSync(join(checkout, 'dist', 'dashboard', 'server.js'))) {
    check('the dashboard server is built for the lifecycle checks', false)
    return table
  }
  const dashboard = await startDashboard(checkout, { ...panEnv, RALLY_API_KEY: '' })
  const { port } = dashboard
  try {
    const post = async (path, body = {}) => {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
      let json = null
      try { json = await res.json() } catch { /* not JSON */ }
      return { status: res.status, body: json }
    }
    const column = async (ref) => {
      const res = await fetch(`http://127.0.0.1:${port}/api/issues`)
      const body = await res.json()
      return Array.isArray(body) ? body.find((i) => i.identifier === ref)?.status : undefined
    }

    // --- through the dashboard's routes ---------------------------------------------------
    const s = await newStory(sim, 'Lifecycle through the board')
    const api = `/api/issues/${s.ref}`
    const step = async (name, path, body, expect) => {
      const res = await post(path, body)
      const got = await item(sim, s.oid)
      const ok = expect(got, res)
      record('board', name, got, ok)
      check(`board ${name} (POST ${path.replace(s.ref, ':id')}): ${s.ref} ${got.state}, tags [${got.tags}], ${got.posts.length} posts`, ok,
        ok ? '' : `HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`)
      return got
    }
    await step('Plan', `${api}/start-planning`, { skipWorkspace: true }, (g) => g.state === 'Defined' && g.tags.includes('planning'))
    const planned = await column(s.ref)
    check(`a story tagged planning is in the board's Planning column`, planned === 'Planning', `column ${planned}`)
    const summary = 'Plan for the lifecycle story: split the checkout step, then test it.'
    await step('Complete planning', `${api}/complete-planning`, { summary }, (g) => !g.tags.includes('planning') && g.posts.some((p) => p.includes('split the checkout step')))
    await step('Plan again', `${api}/start-planning`, { skipWorkspace: true }, (g) => g.tags.includes('planning'))
    await step('Abort planning', `${api}/abort-planning`, {}, (g) => !g.tags.includes('planning') && g.state === 'Defined')
    await step('Close (No Merge)', `/api/issues/${s.ref}/close`, {}, (g, r) => r.status === 200 && g.state === 'Accepted' && g.posts.some((p) => /without a merge/i.test(p)))
    const closed = await column(s.ref)
    check(`an Accepted story is in the board's Done column`, closed === 'Done', `column ${closed}`)
    await step('Reopen', `${api}/reopen`, {}, (g, r) => r.status === 200 && g.state === 'Defined' && g.posts.some((p) => /Reopened/i.test(p)))
    await step('Plan before reset', `${api}/start-planning`, { skipWorkspace: true }, (g) => g.tags.includes('planning'))
    await step('Reset (deep wipe)', `${api}/deep-wipe`, {}, (g, r) => r.status === 200 && g.state === 'Defined' && !g.tags.includes('planning'))

    // --- through the CLI ------------------------------------------------------------------
    const c = await newStory(sim, 'Lifecycle through the CLI')
    const cli = async (name, args, expect, opts = {}) => {
      const res = pan(args, { cwd: project, ...opts })
      const got = await item(sim, c.oid)
      const ok = expect(got, res)
      record('cli', name, got, ok)
      check(`pan ${args.join(' ')}: ${c.ref} ${got.state}, tags [${got.tags}], ${got.posts.length} posts`, ok,
        ok ? '' : `exit ${res.status}; ${(res.stdout + res.stderr).trim().split('\n').slice(-6).join(' | ')}`)
      return got
    }
    await sim.reset()
    await cli('plan', ['work', 'plan', c.ref, '--force', '--skip-discovery'], (g) => !g.tags.includes('planning') && g.posts.some((p) => /Plan ready/.test(p)))
    const tagCalls = ((await sim.log()).requests ?? []).filter((q) => q.method === 'POST' && new RegExp(`/${c.oid}/Tags/(add|remove)(\\?|$)`, 'i').test(q.path)).map((q) => /Tags\/(add|remove)/i.exec(q.path)[1])
    check('pan work plan tags the item planning while it plans and takes the tag off when the plan is posted',
      tagCalls.join(',').toLowerCase() === 'add,remove', `Tags calls: ${tagCalls.join(', ')}`)
    await cli('start (work issue)', ['work', 'issue', c.ref.toLowerCase()], (g) => g.state === 'In-Progress')
    await cli('done (review)', ['work', 'done', c.ref, '-c', 'Lifecycle work finished'], (g) => g.state === 'Completed' && g.posts.some((p) => p.includes('Lifecycle work finished')))
    const review = await column(c.ref)
    check(`a Completed story is in the board's In Review column`, review === 'In Review', `column ${review}`)
    await cli('approve', ['work', 'approve', c.ref], (g) => g.state === 'Accepted' && g.prs.includes('https://github.com/acme/shop/pull/42'))
    await cli('reopen', ['work', 'reopen', c.ref, '--force', '--skip-plan'], (g) => g.state === 'Defined' && g.posts.some((p) => /Reopened/i.test(p)))
    await wsapi(sim, 'POST', `hierarchicalrequirement/${c.oid}/Tags/add`, { CollectionItems: [{ Name: 'planning' }] })
    await cli('wipe (reset)', ['work', 'wipe', c.ref, '-y'], (g) => g.state === 'Defined' && !g.tags.includes('planning'))

    // --- routing: the item's Rally Project picks the Panopticon project ----------------------
    const r = await newStory(sim, 'Lifecycle routing')
    const routed = join(panEnv.HOME, 'routed-project')
    const workspace = join(routed, 'workspaces', `feature-${r.ref.toLowerCase()}`)
    mkdirSync(workspace, { recursive: true })
    writeFileSync(join(workspace, 'CLAUDE.md'), '# routed\n')
    writeFileSync(join(panEnv.HOME, '.panopticon', 'projects.yaml'),
      `projects:\n  other:\n    name: Other\n    path: ${join(panEnv.HOME, 'other-project')}\n    linear_team: OTH\n  shop:\n    name: Shop\n    path: ${routed}\n    rally_project: ${sim.project}\n`)
    const ws = await (await fetch(`http://127.0.0.1:${port}/api/workspaces/${r.ref}`)).json()
    check(`GET /api/workspaces/${r.ref} finds the workspace of the project whose rally_project is the item's Project`,
      ws.exists === true && ws.corrupted !== true, JSON.stringify(ws).slice(0, 300))
    // The board's Review on that workspace: the item goes to Completed (In Review)
    const reviewRes = await fetch(`http://127.0.0.1:${port}/api/workspaces/${r.ref}/review`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}', signal: AbortSignal.timeout(90_000) })
      .then(async (res) => ({ status: res.status, body: await res.text() }), (e) => ({ status: 0, body: String(e) }))
    const reviewed = await item(sim, r.oid)
    record('board', 'Review', reviewed, reviewed.state === 'Completed')
    check(`board Review (POST /api/workspaces/:id/review): ${r.ref} ${reviewed.state}`, reviewed.state === 'Completed', `HTTP ${reviewRes.status} ${reviewRes.body.slice(0, 300)}`)
    const inReview = await column(r.ref)
    check('the reviewed story is in the board\'s In Review column', inReview === 'In Review', `column ${inReview}`)
    // The board's Start Agent: the agent is spawned and the item moves to In-Progress
    const a = await newStory(sim, 'Lifecycle start agent')
    const startRes = await post('/api/agents', { issueId: a.ref })
    const startedItem = await item(sim, a.oid)
    record('board', 'Start Agent', startedItem, startRes.status === 200 && startedItem.state === 'In-Progress')
    check(`board Start Agent (POST /api/agents): ${a.ref} ${startedItem.state}`, startRes.status === 200 && startedItem.state === 'In-Progress',
      `HTTP ${startRes.status} ${JSON.stringify(startRes.body).slice(0, 300)}`)
    const dry = pan(['work', 'issue', r.ref.toLowerCase(), '--dry-run'], { cwd: checkout })
    const shown = /Workspace:\s+(\S+)/.exec(dry.stdout)?.[1]
    check(`pan work issue ${r.ref.toLowerCase()} --dry-run works in that project's workspace`, dry.status === 0 && shown === workspace,
      `exit ${dry.status}; workspace ${shown}`)
  } finally {
    dashboard.child.kill()
  }

  console.log('\n  via    step                  ScheduleState  tags            posts  PRs')
  for (const r of table) {
    console.log(`  ${r.via.padEnd(6)} ${r.step.padEnd(21)} ${String(r.state).padEnd(14)} ${r.tags.padEnd(15)} ${String(r.posts).padEnd(6)} ${r.prs}${r.ok ? '' : '   (FAIL)'}`)
  }
  return table
}
