// The board's Approve (`POST /api/workspaces/:id/approve`) on a Rally story, through the whole
// route: a project repository with a bare origin, the story's workspace (a worktree on
// feature/<ref>), the review specialist unavailable (so the route merges itself) and a tmux
// stub whose merge specialist merges and pushes the branch. Afterwards the simulator's story
// is Accepted with the branch's pull request linked. Called from e2e.mjs.
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startDashboard, wsapiCall as wsapi } from './sim-io.mjs'

function git(cwd, ...args) {
  const res = spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'init.defaultBranch=main', ...args], { cwd, encoding: 'utf8' })
  if (res.status !== 0) throw new Error(`git ${args.join(' ')} in ${cwd}: ${res.stderr}`)
  return res.stdout
}

/** `ctx`: { check, section, sim, checkout, panEnv, stubs, scratch }; Rally already configured. */
export async function approveChecks(ctx) {
  const { check, section, sim, checkout, panEnv, stubs, scratch } = ctx
  const home = panEnv.HOME
  section('5b. the board\'s Approve on a Rally story (POST /api/workspaces/:id/approve)')
  const made = await wsapi(sim, 'POST', 'hierarchicalrequirement/create?fetch=FormattedID,ObjectID', {
    HierarchicalRequirement: { Name: 'Flow: approved on the board', Project: sim.project, Workspace: sim.workspace, ScheduleState: 'Completed' },
  })
  const story = made.CreateResult?.Object
  if (!story) {
    check('a story to approve is created', false, JSON.stringify(made).slice(0, 300))
    return
  }
  const ref = story.FormattedID
  const lower = ref.toLowerCase()
  const branch = `feature/${lower}`

  // The project: main pushed to a bare origin, the story's workspace on its branch
  const origin = join(scratch, 'approve-origin.git')
  const project = join(scratch, 'approve-project')
  mkdirSync(project, { recursive: true })
  git(scratch, 'init', '-q', '--bare', origin)
  git(project, 'init', '-q', '-b', 'main')
  mkdirSync(join(project, 'scripts'), { recursive: true })
  writeFileSync(join(project, 'README.md'), '# approve\n')
  writeFileSync(join(project, '.gitignore'), 'workspaces/\n')
  writeFileSync(join(project, 'scripts', 'validate-merge.sh'), '#!/bin/sh\necho "validation: nothing to build"\nexit 0\n')
  git(project, 'add', '.')
  git(project, 'commit', '-q', '-m', 'init')
  git(project, 'remote', 'add', 'origin', origin)
  git(project, 'push', '-q', '-u', 'origin', 'main')
  const workspace = join(project, 'workspaces', `feature-${lower}`)
  git(project, 'worktree', 'add', '-q', '-b', branch, workspace)
  writeFileSync(join(workspace, 'change.txt'), `${ref}\n`)
  git(workspace, 'add', 'change.txt')
  git(workspace, 'commit', '-q', '-m', `${ref}: the change`)
  writeFileSync(join(home, '.panopticon', 'projects.yaml'), `projects:\n  approve:\n    name: Approve\n    path: ${project}\n    rally_project: ${sim.project}\n`)

  // tmux: the review specialist cannot start (the route then merges itself); the merge
  // specialist's session merges the branch and pushes main, as the merge agent would
  const bin = join(scratch, 'approve-bin')
  mkdirSync(bin, { recursive: true })
  const log = join(bin, 'tmux.log')
  writeFileSync(join(bin, 'tmux'), `#!/bin/sh
echo "$@" >> "${log}"
case "$1" in
  has-session|list-sessions|capture-pane) exit 1 ;;
  new-session)
    case "$*" in
      *specialist-review-agent*) exit 1 ;;
      *specialist-merge-agent*)
        cd "${project}" && git -c user.name=t -c user.email=t@example.com merge -q --no-ff -m "Merge ${branch}" "${branch}" >> "${log}" 2>&1 && git push -q origin main >> "${log}" 2>&1
        exit 0 ;;
    esac ;;
esac
exit 0
`)
  chmodSync(join(bin, 'tmux'), 0o755)

  const dashboard = await startDashboard(checkout, { ...panEnv, PATH: `${bin}:${stubs}:${process.env.PATH}` })
  const { port } = dashboard
  try {
    const res = await fetch(`http://127.0.0.1:${port}/api/workspaces/${ref}/approve`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}', signal: AbortSignal.timeout(240_000) })
      .then(async (r) => ({ status: r.status, body: await r.text() }), (e) => ({ status: 0, body: String(e) }))
    const got = await wsapi(sim, 'GET', `hierarchicalrequirement/${story.ObjectID}?fetch=ScheduleState`)
    const prs = await wsapi(sim, 'GET', `HierarchicalRequirement/${story.ObjectID}/PullRequests?fetch=Url`)
    const state = got.HierarchicalRequirement?.ScheduleState
    const urls = (prs.QueryResult?.Results ?? []).map((p) => p.Url)
    const merged = git(project, 'log', '-1', '--pretty=%s', 'origin/main').trim()
    check(`board Approve (POST /api/workspaces/:id/approve) on ${ref}: merged (${merged}), the story Accepted with the branch's PR linked`,
      res.status === 200 && merged === `Merge ${branch}` && state === 'Accepted' && urls.includes('https://github.com/acme/shop/pull/42'),
      `HTTP ${res.status} ${res.body.slice(0, 300)}; ScheduleState ${state}; PRs ${urls}; server: ${dashboard.output().split('\n').filter((l) => /approve|merge/i.test(l)).slice(-6).join(' | ').slice(0, 500)}`)
  } finally {
    dashboard.child.kill()
  }
}
