// Panopticon's tracker interface and error classes, declared as CONTRACT.md §1 states them,
// and our package used exactly as its factory and commands use a tracker. `tsc --strict`
// must accept it unchanged: that is what "drop-in" means.
import {
  RallyTracker,
  RallyError,
  IssueNotFoundError,
  TrackerAuthError,
  type ArtifactType,
  type Issue as RallyIssue,
} from 'panopticon-rally'

// --- Panopticon: src/lib/tracker/interface.ts --------------------------------------------
type TrackerType = 'linear' | 'github' | 'gitlab' | 'rally'
type IssueState = 'open' | 'in_progress' | 'closed'

interface Issue {
  id: string
  ref: string
  title: string
  description: string
  state: IssueState
  labels: string[]
  assignee?: string
  url: string
  tracker: TrackerType
  linkedIssues?: string[]
  priority?: number
  dueDate?: string
  createdAt: string
  updatedAt: string
}

interface Comment {
  id: string
  issueId: string
  body: string
  author: string
  createdAt: string
  updatedAt: string
}

interface IssueFilters {
  state?: IssueState
  labels?: string[]
  assignee?: string
  team?: string
  query?: string
  limit?: number
  includeClosed?: boolean
}

interface NewIssue {
  title: string
  description?: string
  labels?: string[]
  assignee?: string
  team?: string
  priority?: number
  dueDate?: string
}

interface IssueUpdate {
  title?: string
  description?: string
  state?: IssueState
  labels?: string[]
  assignee?: string
  priority?: number
  dueDate?: string
}

interface IssueTracker {
  readonly name: TrackerType
  listIssues(filters?: IssueFilters): Promise<Issue[]>
  getIssue(id: string): Promise<Issue>
  updateIssue(id: string, update: IssueUpdate): Promise<Issue>
  createIssue(issue: NewIssue): Promise<Issue>
  getComments(issueId: string): Promise<Comment[]>
  addComment(issueId: string, body: string): Promise<Comment>
  transitionIssue(id: string, state: IssueState): Promise<void>
  linkPR(issueId: string, prUrl: string): Promise<void>
}

// Panopticon's own error classes (src/lib/tracker/errors.ts): same names as ours.
class PanIssueNotFoundError extends Error {
  constructor(id: string, tracker: TrackerType) {
    super(`Issue not found: ${id} (tracker: ${tracker})`)
    this.name = 'IssueNotFoundError'
  }
}

// --- Panopticon: src/lib/tracker/factory.ts, with our import ----------------------------
interface RallyConfig {
  apiKey: string
  server?: string
  workspace?: string
  project?: string
}

function createRallyTracker(config: RallyConfig): IssueTracker {
  const { apiKey, server, workspace, project } = config
  return new RallyTracker({ apiKey, server, workspace, project })
}

// --- how the commands and the dashboard use it ------------------------------------------
async function panopticon(tracker: IssueTracker): Promise<void> {
  const name: 'rally' | TrackerType = tracker.name
  const open: Issue[] = await tracker.listIssues({ includeClosed: false })
  const mine = await tracker.listIssues({ includeClosed: true, assignee: 'me' })
  const dashboard = await tracker.listIssues({ includeClosed: false, limit: 100 })
  const all = await tracker.listIssues()
  const filtered = await tracker.listIssues({
    state: 'in_progress',
    labels: ['backend', 'urgent'],
    team: 'Platform',
    query: 'login',
  })
  const issue: Issue = await tracker.getIssue('US123')
  const created = await tracker.createIssue({ title: 'Triage me', description: '# Heading', team: 'Platform' })
  const updated = await tracker.updateIssue('US123', { title: 't', state: 'closed', labels: ['a'], priority: 2 })
  const comments: Comment[] = await tracker.getComments('DE7')
  const comment: Comment = await tracker.addComment('DE7', 'Looks good **to me**')
  await tracker.transitionIssue('US123', 'in_progress')
  await tracker.linkPR('US123', 'https://github.com/acme/app/pull/1')
  console.log(name, open.length, mine, dashboard, all, filtered, issue.ref, created.id, updated.url, comments, comment.author)
  const nf = new PanIssueNotFoundError('US1', 'rally')
  console.log(nf.message)
}

// --- our extras, typed ---------------------------------------------------------------------
async function extras(): Promise<void> {
  const tracker = new RallyTracker({
    apiKey: 'key',
    server: 'https://rally1.rallydev.com',
    workspace: '/workspace/123',
    project: '456',
    projectScopeDown: true,
    projectScopeUp: false,
    artifactTypes: ['UserStory', 'Defect'],
    timeoutMs: 30_000,
    maxConcurrency: 8,
    maxRetries: 3,
    maxResults: 10_000,
    caCerts: ['-----BEGIN CERTIFICATE-----'],
    logger: (event) => console.log(event.level, event.message),
  })
  const asInterface: IssueTracker = tracker
  const literal: 'rally' = tracker.name
  const task: RallyIssue = await tracker.createIssue({ title: 'Sub', artifactType: 'Task', parent: 'US1' })
  const kind: ArtifactType = task.artifactType
  const parent: string | undefined = task.parentRef ?? task.parentId
  const raw: string | undefined = task.rallyState
  await tracker.deleteIssue(task.id)
  console.log(asInterface, literal, kind, parent, raw)

  try {
    await tracker.getIssue('US999999')
  } catch (err) {
    if (err instanceof IssueNotFoundError) {
      const code: 'RALLY_NOT_FOUND' = err.code
      const id: string = err.issueId
      console.log(code, id, err.name)
    } else if (err instanceof TrackerAuthError) {
      const code: 'RALLY_AUTH' = err.code
      console.log(code, err.message)
    } else if (err instanceof RallyError) {
      console.log(err.code, err.argument, err.rallyErrors, err.message)
    }
  }
  const errors: Error[] = [
    new RallyError('x', 'RALLY_REJECTED'),
    new IssueNotFoundError('US1'),
    new TrackerAuthError('bad key'),
  ]
  console.log(errors)
}

export { createRallyTracker, panopticon, extras }
