'use strict'
// The package entry: the native tracker wrapped with what JS does better than Rust — error
// classes that `instanceof` can see, and type checks on arguments before any native call.

const native = require('./index.js')

const ISSUE_STATES = ['open', 'in_progress', 'closed']
const ARTIFACT_TYPES = ['UserStory', 'Defect', 'Task', 'Feature']
// Properties an error object owns itself; details from native code never overwrite them.
const RESERVED = new Set(['code', 'name', 'message', 'stack', 'cause'])

class RallyError extends Error {
  /**
   * @param {string} message
   * @param {string} [code]
   * @param {Record<string, unknown>} [details] extra properties (argument, issueId, status ...)
   */
  constructor(message, code = 'RALLY_INTERNAL', details = undefined) {
    super(message)
    this.name = 'RallyError'
    this.code = code
    if (details && typeof details === 'object') {
      for (const [k, v] of Object.entries(details)) {
        if (!RESERVED.has(k) && v !== undefined && v !== null) this[k] = v
      }
    }
  }
}

class IssueNotFoundError extends RallyError {
  constructor(issueId, details = undefined) {
    super(`Issue not found: ${issueId} (tracker: rally)`, 'RALLY_NOT_FOUND', { ...details, issueId })
    this.name = 'IssueNotFoundError'
  }
}

class TrackerAuthError extends RallyError {
  constructor(detail, details = undefined) {
    super(`Authentication failed for rally: ${detail}`, 'RALLY_AUTH', details)
    this.name = 'TrackerAuthError'
  }
}

// --- native errors -> classes ----------------------------------------------------------------

// The binding builds each error (code, name, message, details: src/error.rs); JS only gives it
// the prototype of the class its `name` says, so that `instanceof` sees it.
const CLASSES = { RallyError, IssueNotFoundError, TrackerAuthError }

/** Gives a native error its class; anything else (a bug of ours) becomes RALLY_INTERNAL. */
function fromNative(err) {
  if (err instanceof RallyError) return err
  const cls = err instanceof Error && Object.hasOwn(CLASSES, err.name) ? CLASSES[err.name] : undefined
  if (cls && typeof err.code === 'string' && err.code.startsWith('RALLY_')) {
    return Object.setPrototypeOf(err, cls.prototype)
  }
  const out = new RallyError(err && typeof err.message === 'string' ? err.message : String(err), 'RALLY_INTERNAL')
  out.cause = err
  return out
}

// --- argument checks (JS types only; values are validated in the core) -----------------------

function describe(v) {
  if (v === null) return 'null'
  if (v === undefined) return 'undefined'
  if (Array.isArray(v)) return 'an array'
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return `the ${typeof v} ${String(v)}`
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`
}

// How far a typed key is from a valid one, for "did you mean": the edit distance, ignoring
// case; a valid key that contains the typed one or the reverse (`type` → `artifactType`) is 1.
function distance(a, b) {
  a = a.toLowerCase()
  b = b.toLowerCase()
  if (a !== b && a.length >= 3 && b.length >= 3 && (a.includes(b) || b.includes(a))) return 1
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    prev = row
  }
  return prev[b.length]
}

/** Refuses a key `known` does not list: a typo (`timeOutMs`) must not be ignored silently. */
function refuseUnknownKeys(what, obj, known) {
  for (const key of Object.keys(obj)) {
    if (known.includes(key)) continue
    const shown = key.length > 40 ? key.slice(0, 40) + '…' : key
    let nearest = known[0]
    for (const k of known) if (distance(key, k) < distance(key, nearest)) nearest = k
    const close = distance(key, nearest) <= Math.max(2, Math.floor(nearest.length / 3))
    const hint = close ? `did you mean \`${nearest}\`?` : `valid ${what}s are ${known.map((k) => `\`${k}\``).join(', ')}`
    throw new RallyError(`Invalid ${shown}: unknown ${what} \`${shown}\`; ${hint}`, 'RALLY_INVALID_INPUT', {
      argument: shown,
    })
  }
}

function invalid(argument, expected, got) {
  return new RallyError(`Invalid ${argument}: must be ${expected}, got ${describe(got)}`, 'RALLY_INVALID_INPUT', {
    argument,
  })
}

const isAbsent = (v) => v === undefined || v === null

function isPlainObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

// One checker per JS type; each returns the value to send, or undefined when absent.
const check = {
  string(arg, v) {
    if (isAbsent(v)) return undefined
    if (typeof v !== 'string') throw invalid(arg, 'a string', v)
    return v
  },
  number(arg, v) {
    if (isAbsent(v)) return undefined
    if (typeof v !== 'number') throw invalid(arg, 'a number', v)
    return v
  },
  boolean(arg, v) {
    if (isAbsent(v)) return undefined
    if (typeof v !== 'boolean') throw invalid(arg, 'a boolean', v)
    return v
  },
  oneOf(values) {
    const expected = values.map((s) => `'${s}'`).join(', ')
    return (arg, v) => {
      if (isAbsent(v)) return undefined
      if (typeof v !== 'string' || !values.includes(v)) throw invalid(arg, `one of ${expected}`, v)
      return v
    }
  },
  stringArray(arg, v) {
    if (isAbsent(v)) return undefined
    if (!Array.isArray(v)) throw invalid(arg, 'an array of strings', v)
    v.forEach((item, i) => {
      if (typeof item !== 'string') throw invalid(`${arg}[${i}]`, 'a string', item)
    })
    return v.slice()
  },
  function(arg, v) {
    if (isAbsent(v)) return undefined
    if (typeof v !== 'function') throw invalid(arg, 'a function', v)
    return v
  },
}
check.state = check.oneOf(ISSUE_STATES)
check.artifactType = check.oneOf(ARTIFACT_TYPES)
check.artifactTypes = (arg, v) => {
  const list = check.stringArray(arg, v)
  list?.forEach((t, i) => check.artifactType(`${arg}[${i}]`, t))
  return list
}
check.stringOrStrings = (arg, v) => (typeof v === 'string' ? [v] : check.stringArray(arg, v))
const isRecord = (v) => isPlainObject(v) && [Object.prototype, null].includes(Object.getPrototypeOf(v))
// A value JSON can carry as it is: null, a boolean, a string, a finite number, and arrays and
// plain objects of those (no cycle). Anything else (NaN, Infinity, a Symbol, a function, a
// BigInt, a Buffer, a Date, a cycle) is refused here, naming the field, rather than failing
// in the conversion to Rust with a message that names nothing.
function jsonValue(arg, v, path = []) {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw invalid(arg, 'a finite number, a string, a boolean, null or a plain object', v)
    return
  }
  const plain = Array.isArray(v) ? Object.getPrototypeOf(v) === Array.prototype : isRecord(v)
  if (!plain) throw invalid(arg, 'a JSON value (string, number, boolean, null, array or plain object)', v)
  if (path.includes(v)) throw invalid(arg, 'a JSON value without cycles', v)
  const inner = [...path, v]
  for (const x of Array.isArray(v) ? v : Object.values(v)) jsonValue(arg, x, inner)
}
check.fieldValues = (arg, v) => {
  if (isAbsent(v)) return undefined
  if (!isRecord(v)) throw invalid(arg, 'an object of field: value', v)
  const out = {}
  for (const [name, value] of Object.entries(v)) {
    if (value === undefined) continue
    jsonValue(`${arg}.${name}`, value)
    out[name] = value
  }
  return out
}
check.customFieldsOption = (arg, v) => (v === 'all' ? v : check.stringArray(arg, v))
check.createDefaults = (arg, v) => {
  if (isAbsent(v)) return undefined
  if (!isPlainObject(v)) throw invalid(arg, 'an object keyed by artifact type', v)
  const out = {}
  for (const [type, fields] of Object.entries(v)) {
    check.artifactType(`${arg}.${type}`, type)
    const f = check.fieldValues(`${arg}.${type}`, fields)
    if (f !== undefined) out[type] = f
  }
  return out
}
check.prLinks = check.oneOf(['pullRequest', 'comment', 'both'])

/**
 * Copies the fields of `obj` through their checkers; nulls become absent keys, and a key no
 * checker (nor `extra`) knows is refused, naming the nearest valid one.
 */
function shape(argument, obj, fields, { required = false, what = 'field', extra = [] } = {}) {
  if (isAbsent(obj)) {
    if (required) throw invalid(argument, 'an object', obj)
    return {}
  }
  if (!isPlainObject(obj)) throw invalid(argument, 'an object', obj)
  refuseUnknownKeys(what, obj, [...extra, ...Object.keys(fields)])
  const out = {}
  for (const [key, checker] of Object.entries(fields)) {
    const v = checker(key, obj[key])
    if (v !== undefined) out[key] = v
  }
  return out
}

function requiredString(argument, v) {
  if (typeof v !== 'string') throw invalid(argument, 'a string', v)
  return v
}

const CONFIG_FIELDS = {
  server: check.string,
  workspace: check.string,
  project: check.string,
  projectScopeDown: check.boolean,
  projectScopeUp: check.boolean,
  artifactTypes: check.artifactTypes,
  timeoutMs: check.number,
  maxConcurrency: check.number,
  maxRetries: check.number,
  maxResults: check.number,
  proxy: check.string,
  caCerts: check.stringOrStrings,
  allowInsecureHttp: check.boolean,
  logger: check.function,
  customFields: check.customFieldsOption,
  createDefaults: check.createDefaults,
  prLinks: check.prLinks,
}
const FILTER_FIELDS = {
  state: check.state,
  labels: check.stringArray,
  assignee: check.string,
  team: check.string,
  query: check.string,
  limit: check.number,
  includeClosed: check.boolean,
}
const NEW_ISSUE_FIELDS = {
  title: requiredString,
  description: check.string,
  labels: check.stringArray,
  assignee: check.string,
  team: check.string,
  priority: check.number,
  dueDate: check.string,
  artifactType: check.artifactType,
  parent: check.string,
  customFields: check.fieldValues,
  blocked: check.boolean,
  blockedReason: check.string,
  estimate: check.number,
  toDo: check.number,
  actuals: check.number,
}
const UPDATE_FIELDS = {
  title: check.string,
  description: check.string,
  state: check.state,
  labels: check.stringArray,
  assignee: check.string,
  priority: check.number,
  dueDate: check.string,
  customFields: check.fieldValues,
  blocked: check.boolean,
  blockedReason: check.string,
  estimate: check.number,
  toDo: check.number,
  actuals: check.number,
  rallyState: check.string,
  addLabels: check.stringArray,
  removeLabels: check.stringArray,
}

function nativeConfig(config) {
  if (!isPlainObject(config)) throw invalid('config', 'an object', config)
  // A missing key is the same mistake as an empty one: the core reports it as an auth error.
  const apiKey = isAbsent(config.apiKey) ? '' : config.apiKey
  if (typeof apiKey !== 'string') throw invalid('apiKey', 'a string', apiKey)
  const out = { apiKey, ...shape('config', config, CONFIG_FIELDS, { what: 'option', extra: ['apiKey'] }) }
  if (out.logger) {
    const user = out.logger
    // A throwing logger must not take down the request that logged.
    out.logger = (event) => {
      try {
        user({ level: event.level, message: event.message })
      } catch {
        /* ignored on purpose */
      }
    }
  }
  return out
}

// --- the tracker --------------------------------------------------------------------------

class RallyTracker {
  #native

  /** @param {import('./rally').RallyTrackerConfig} config */
  constructor(config) {
    try {
      this.#native = new native.RallyTracker(nativeConfig(config))
    } catch (err) {
      throw fromNative(err)
    }
  }

  /** @returns {'rally'} */
  get name() {
    return 'rally'
  }

  async listIssues(filters) {
    const f = shape('filters', filters, FILTER_FIELDS, { what: 'filter' })
    // The issues come as JSON arrays of about 160 K characters, each normalised and written on a
    // worker thread while the one before is parsed here (src/json.rs): a long list never blocks the
    // loop for long, and neither its whole text nor all its issues in Rust exist at once.
    const chunks = await call(() => this.#native.listIssuesJson(f))
    const out = []
    let next = call(() => chunks.next())
    try {
      for (let text = await next; text !== null; text = await next) {
        next = call(() => chunks.next())
        for (const issue of JSON.parse(text)) out.push(issue)
      }
    } catch (err) {
      next.catch(() => {}) // the chunk asked for before the failure is not wanted
      throw err
    }
    return out
  }

  async getIssue(id) {
    const i = requiredString('id', id)
    return call(() => this.#native.getIssue(i))
  }

  async createIssue(issue) {
    const n = shape('issue', issue, NEW_ISSUE_FIELDS, { required: true })
    return call(() => this.#native.createIssue(n))
  }

  async updateIssue(id, update) {
    const i = requiredString('id', id)
    const u = shape('update', update, UPDATE_FIELDS, { required: true })
    return call(() => this.#native.updateIssue(i, u))
  }

  async deleteIssue(id) {
    const i = requiredString('id', id)
    return call(() => this.#native.deleteIssue(i))
  }

  async getComments(issueId) {
    const i = requiredString('issueId', issueId)
    return call(() => this.#native.getComments(i))
  }

  async addComment(issueId, body) {
    const i = requiredString('issueId', issueId)
    const b = requiredString('body', body)
    return call(() => this.#native.addComment(i, b))
  }

  async transitionIssue(id, state) {
    const i = requiredString('id', id)
    if (typeof state !== 'string' || !ISSUE_STATES.includes(state)) {
      throw invalid('state', `one of ${ISSUE_STATES.map((s) => `'${s}'`).join(', ')}`, state)
    }
    return call(() => this.#native.transitionIssue(i, state))
  }

  async linkPR(issueId, prUrl) {
    const i = requiredString('issueId', issueId)
    const u = requiredString('prUrl', prUrl)
    return call(() => this.#native.linkPR(i, u))
  }

  // --- beyond IssueTracker: what rally-mcp serves ---

  async getChildren(id) {
    const i = requiredString('id', id)
    return call(() => this.#native.getChildren(i))
  }

  async listAttachments(issueId) {
    const i = requiredString('issueId', issueId)
    return call(() => this.#native.listAttachments(i))
  }

  async getAttachment(attachmentId, options) {
    const i = requiredString('attachmentId', attachmentId)
    const o = shape('options', options, { maxBytes: check.number }, { what: 'option' })
    return call(() => this.#native.getAttachment(i, o.maxBytes))
  }
}

/** What an id names, read by the core's parser (the one every method uses), without a request. */
function parseIssueId(id) {
  const i = requiredString('id', id)
  try {
    return native.parseIssueId(i)
  } catch (err) {
    throw fromNative(err)
  }
}

async function call(fn) {
  try {
    return await fn()
  } catch (err) {
    throw fromNative(err)
  }
}

module.exports = { RallyTracker, RallyError, IssueNotFoundError, TrackerAuthError, parseIssueId }
