'use strict'
// `--issue <id>`: every write goes to that item or one of its tasks, and anything else is
// refused before a request is made. Reads are not limited here (the tracker's configured
// workspace and project are their scope).

const { parseIssueId } = require('../rally.js')
const { InputError } = require('./schema.js')

class ScopeError extends Error {
  constructor(message) {
    super(message)
    this.code = 'RALLY_OUT_OF_SCOPE'
  }
}

/**
 * Whether the id a caller gave names `item` ({id, ref}): FormattedID, ObjectID, ref or URL,
 * read by the addon's own parser, so the scope cannot read an id otherwise than the write that
 * follows. Text the addon would refuse names nothing here (the write then fails on its own).
 */
function names(target, item) {
  let id
  try {
    id = parseIssueId(String(target))
  } catch {
    return false
  }
  if (id.objectId !== undefined) return id.objectId === item.id
  return id.formattedId !== undefined && id.formattedId.toUpperCase() === item.ref.toUpperCase()
}

/** A task's FormattedID (`TA12`): the only id the task list is read again for. */
const taskRef = (target) => /^TA\d+$/i.test(String(target).trim())

class Scope {
  /**
   * @param {import('../rally').RallyTracker} tracker
   * @param {string | undefined} issue the `--issue` id, or undefined for no write limit
   */
  constructor(tracker, issue) {
    this.tracker = tracker
    this.issue = issue
    this.item = undefined
    this.tasks = []
    this.loading = undefined
  }

  get limited() {
    return this.issue !== undefined
  }

  /** The scoped item and its tasks, read once (again after `refresh`). */
  async load() {
    if (!this.limited) return undefined
    if (!this.loading) {
      this.loading = (async () => {
        const [item, children] = await Promise.all([this.tracker.getIssue(this.issue), this.tracker.getChildren(this.issue)])
        this.item = { id: item.id, ref: item.ref, artifactType: item.artifactType }
        this.tasks = children.filter((c) => c.artifactType === 'Task').map((c) => ({ id: c.id, ref: c.ref }))
        return this.item
      })()
      this.loading.catch(() => {
        this.loading = undefined
      })
    }
    return this.loading
  }

  /** The item a write without an explicit id goes to. */
  async defaultTarget(argument) {
    if (!this.limited) throw new InputError(argument, 'is required: this server was started without --issue')
    return (await this.load()).ref
  }

  /** Resolves when a write to `target` is within the scope; throws a ScopeError naming it. */
  async allowWrite(target) {
    if (!this.limited) return
    const item = await this.load()
    const known = () => names(target, item) || this.tasks.some((t) => names(target, t))
    if (known()) return
    // A task made since the list was read (by someone else) is looked for once, when the id
    // is a task's FormattedID; any other id is decided from what is known, without a request.
    if (taskRef(target)) {
      this.loading = undefined
      await this.load()
      if (known()) return
    }
    throw new ScopeError(
      `${String(target).trim()} is outside this server's scope: writes are limited to ${item.ref} and its tasks ` +
        `(started with --issue ${this.issue})`,
    )
  }

  /** Records a task this server created, so later writes to it are in scope. */
  addTask(task) {
    this.tasks.push({ id: task.id, ref: task.ref })
  }
}

module.exports = { Scope, ScopeError, names }
