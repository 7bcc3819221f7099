'use strict'
// The tools rally-mcp offers: their names, JSON Schema inputs and what each does with the
// tracker. Every write names its target through `scope.allowWrite` before any request.

const { InputError } = require('./schema.js')
const { present } = require('./present.js')
const { names } = require('./scope.js')

const STATES = ['open', 'in_progress', 'closed']
const id = (what) => ({ type: 'string', minLength: 1, maxLength: 300, description: what })
const hours = (what) => ({ type: 'number', minimum: 0, maximum: 100000, description: what })
const text = (what, max) => ({ type: 'string', maxLength: max, description: what })
const object = (properties, required = []) => ({ type: 'object', properties, required, additionalProperties: false })
const SCOPED = ' (default: the item this server is scoped to with --issue)'

const READ = { readOnlyHint: true, openWorldHint: true }
const WRITE = { readOnlyHint: false, destructiveHint: false, openWorldHint: true }

/** @type {Array<{name: string, title: string, description: string, write: boolean, annotations: object, inputSchema: object, run: Function}>} */
const TOOLS = [
  {
    name: 'rally_get_issue',
    title: 'Read a Rally item',
    description:
      'A Rally work item (user story, defect, task or feature) with its parent, children and tasks, its recent ' +
      'discussion, its attachments (names, types, sizes: read one with rally_get_attachment) and its pull request links.',
    write: false,
    annotations: READ,
    inputSchema: object({
      id: id('FormattedID (US12, DE3, TA7, F2), ObjectID or Rally URL' + SCOPED),
      comments: { type: 'integer', minimum: 0, maximum: 50, description: 'How many of the latest posts (default 10)' },
    }),
    async run({ tracker, scope }, a) {
      const target = a.id ?? (await scope.defaultTarget('id'))
      const [issue, children, comments, attachments] = await Promise.all([
        tracker.getIssue(target),
        tracker.getChildren(target),
        tracker.getComments(target),
        tracker.listAttachments(target),
      ])
      const parent = issue.parentRef ? await tracker.getIssue(issue.parentRef).catch(() => undefined) : undefined
      // The latest posts (none for `comments: 0`: slice(-0) would be all of them); PR links from every post.
      const shown = comments.slice(comments.length - Math.min(a.comments ?? 10, comments.length))
      return present.item(issue, { parent, children, comments: shown, all: comments, attachments })
    },
  },
  {
    name: 'rally_search',
    title: 'Search Rally items',
    description:
      'Rally items in the configured project matching text (title and description) and filters, newest update first. ' +
      'Open and in-progress items only unless includeClosed or state says otherwise.',
    write: false,
    annotations: READ,
    inputSchema: object({
      query: text('Text searched in title and description', 200),
      state: { type: 'string', enum: STATES, description: 'Only items in this state' },
      labels: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 100 }, maxItems: 20, description: 'Tags an item must all carry' },
      assignee: text("Owner's user name, e-mail or display name; 'me' for this key's owner", 200),
      team: text('Project name, ref or ObjectID', 200),
      includeClosed: { type: 'boolean', description: 'Include closed items (default false)' },
      limit: { type: 'integer', minimum: 1, maximum: 100, description: 'At most this many (default 20)' },
    }),
    async run({ tracker }, a) {
      const { limit = 20, ...filters } = a
      const found = await tracker.listIssues({ ...filters, limit })
      return present.list(found, limit)
    },
  },
  {
    name: 'rally_add_comment',
    title: 'Post to an item',
    description: "Posts to the item's discussion (Markdown).",
    write: true,
    annotations: WRITE,
    inputSchema: object({ issueId: id('The item' + SCOPED), body: { type: 'string', minLength: 1, maxLength: 30000, description: 'Markdown' } }, ['body']),
    async run({ tracker, scope }, a) {
      const target = await writeTarget(scope, a.issueId, 'issueId')
      return present.comment(await tracker.addComment(target, a.body))
    },
  },
  {
    name: 'rally_update_issue',
    title: 'Update an item',
    description: 'Changes the title, description (Markdown), tags (the complete new set), state or custom fields of an item.',
    write: true,
    annotations: WRITE,
    inputSchema: object({
      issueId: id('The item' + SCOPED),
      title: { type: 'string', minLength: 1, maxLength: 256 },
      description: text('Markdown', 30000),
      labels: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 100 }, maxItems: 50, description: 'The complete new tag set' },
      state: { type: 'string', enum: STATES },
      customFields: { type: 'object', description: 'Custom fields by display name; null clears one' },
    }),
    async run({ tracker, scope }, a) {
      const { issueId, ...update } = a
      if (Object.keys(update).length === 0) throw new InputError('arguments', 'nothing to change: give title, description, labels, state or customFields')
      const target = await writeTarget(scope, issueId, 'issueId')
      return present.issue(await tracker.updateIssue(target, update))
    },
  },
  {
    name: 'rally_create_task',
    title: 'Add a task',
    description: 'Creates a Task under the scoped item (or under parent without a scope), with optional hours.',
    write: true,
    annotations: WRITE,
    inputSchema: object(
      {
        title: { type: 'string', minLength: 1, maxLength: 256 },
        description: text('Markdown', 30000),
        parent: id('The story or defect the task belongs to' + SCOPED),
        estimate: hours('Estimated hours'),
        toDo: hours('Hours left (Rally starts it at the estimate)'),
        assignee: text("Owner's user name, e-mail or display name", 200),
      },
      ['title'],
    ),
    async run({ tracker, scope }, a) {
      const { parent, ...fields } = a
      const target = await writeTarget(scope, parent, 'parent')
      const task = await tracker.createIssue({ ...fields, artifactType: 'Task', parent: target })
      if (scope.limited) scope.addTask(task)
      return present.issue(task)
    },
  },
  {
    name: 'rally_update_task',
    title: 'Update a task',
    description: "Moves a task's state and sets its estimate, to-do and actual hours.",
    write: true,
    annotations: WRITE,
    inputSchema: object(
      {
        taskId: id('The task (TA12, ObjectID or URL)'),
        state: { type: 'string', enum: STATES },
        estimate: hours('Estimated hours'),
        toDo: hours('Hours left'),
        actuals: hours('Hours spent'),
      },
      ['taskId'],
    ),
    async run({ tracker, scope }, a) {
      const { taskId, ...update } = a
      if (Object.keys(update).length === 0) throw new InputError('arguments', 'nothing to change: give state, estimate, toDo or actuals')
      if (/^[A-Za-z]+\d+$/.test(taskId.trim()) && !/^ta/i.test(taskId.trim())) {
        throw new InputError('taskId', `${taskId.trim()} is not a task (task ids start with TA)`)
      }
      await scope.allowWrite(taskId)
      if (scope.limited && names(taskId, scope.item)) {
        throw new InputError('taskId', `${taskId.trim()} is ${scope.item.ref}, the scoped item itself, not one of its tasks`)
      }
      return present.issue(await tracker.updateIssue(taskId, update))
    },
  },
  {
    name: 'rally_set_blocked',
    title: 'Block or unblock an item',
    description: "Sets Rally's Blocked flag with a reason, or clears both (blocked: false).",
    write: true,
    annotations: { ...WRITE, idempotentHint: true },
    inputSchema: object(
      {
        issueId: id('The item or one of its tasks' + SCOPED),
        blocked: { type: 'boolean' },
        reason: text('Why it is blocked (only with blocked: true)', 256),
      },
      ['blocked'],
    ),
    async run({ tracker, scope }, a) {
      const target = await writeTarget(scope, a.issueId, 'issueId')
      const update = a.blocked ? { blocked: true, ...(a.reason ? { blockedReason: a.reason } : {}) } : { blocked: false }
      if (!a.blocked && a.reason) throw new InputError('reason', 'a reason needs blocked: true; unblocking clears the reason')
      return present.issue(await tracker.updateIssue(target, update))
    },
  },
  {
    name: 'rally_link_pr',
    title: 'Link a pull request',
    description: 'Records a pull request on the item; linking the same URL again adds nothing.',
    write: true,
    annotations: { ...WRITE, idempotentHint: true },
    inputSchema: object({ issueId: id('The item' + SCOPED), url: { type: 'string', minLength: 8, maxLength: 2000, description: 'The pull request URL' } }, ['url']),
    async run({ tracker, scope }, a) {
      if (!/^https?:\/\/\S+$/i.test(a.url.trim())) throw new InputError('url', `must be an http(s) URL, got ${JSON.stringify(a.url.slice(0, 80))}`)
      const target = await writeTarget(scope, a.issueId, 'issueId')
      await tracker.linkPR(target, a.url.trim())
      return present.text(`Linked ${a.url.trim()} to ${target}.`)
    },
  },
  {
    name: 'rally_get_attachment',
    title: 'Read an attachment',
    description:
      'One attachment (its id from rally_get_issue): text files as text, images as images, other files described. ' +
      'Attachments over the size cap are refused.',
    write: false,
    annotations: READ,
    inputSchema: object(
      {
        attachmentId: id('The attachment id from rally_get_issue'),
        maxBytes: { type: 'integer', minimum: 1, maximum: 52428800, description: "Size cap in bytes (default and ceiling: the server's cap)" },
      },
      ['attachmentId'],
    ),
    async run({ tracker, maxAttachmentBytes }, a) {
      const cap = Math.min(a.maxBytes ?? maxAttachmentBytes, maxAttachmentBytes)
      const got = await tracker.getAttachment(a.attachmentId, { maxBytes: cap })
      return present.attachment(got)
    },
  },
]

/** The write's target: the id given, else the scoped item; checked against the scope. */
async function writeTarget(scope, given, argument) {
  const target = given ?? (await scope.defaultTarget(argument))
  await scope.allowWrite(target)
  return target
}

module.exports = { TOOLS }
