// Types of the package entry. Data shapes come from the generated `index.d.ts` (the Rust
// structs' doc comments); the tracker and error classes are the hand-written JS layer's.
import type {
  Attachment,
  AttachmentContent,
  Comment,
  Issue,
  IssueFilters,
  IssueState,
  IssueUpdate,
  NewIssue,
  ParsedIssueId,
  RallyTrackerConfig,
} from './index'

export type {
  ArtifactType,
  Attachment,
  AttachmentContent,
  Comment,
  Issue,
  IssueFilters,
  IssueState,
  IssueUpdate,
  LogEvent,
  NewIssue,
  ParsedIssueId,
  RallyTrackerConfig,
  TrackerType,
} from './index'

/** Stable machine-readable error codes (`RALLY_INTERNAL`: a fault of this package, please report it). */
export type RallyErrorCode =
  | 'RALLY_AUTH'
  | 'RALLY_NOT_FOUND'
  | 'RALLY_INVALID_INPUT'
  | 'RALLY_REJECTED'
  | 'RALLY_UNAVAILABLE'
  | 'RALLY_TIMEOUT'
  | 'RALLY_PROTOCOL'
  | 'RALLY_INTERNAL'

/** Every error this package rejects or throws with. Extra details depend on the code. */
export declare class RallyError extends Error {
  constructor(message: string, code?: RallyErrorCode, details?: Record<string, unknown>)
  code: RallyErrorCode
  /** RALLY_INVALID_INPUT: the argument at fault (`title`, `labels[2]`, `maxConcurrency` ...). */
  argument?: string
  /** RALLY_NOT_FOUND: the id as the caller gave it. */
  issueId?: string
  /** The operation that failed, with the issue it concerned (`getIssue US12`). */
  operation?: string
  /** RALLY_REJECTED: Rally's own error texts. */
  rallyErrors?: string[]
  /** RALLY_UNAVAILABLE / RALLY_TIMEOUT: how many attempts were made. */
  attempts?: number
  /** RALLY_UNAVAILABLE: the last HTTP status, if any arrived. */
  status?: number | null
  /** RALLY_TIMEOUT: the per-request timeout in force. */
  timeoutMs?: number
  [detail: string]: unknown
}

/** `Issue not found: <id> (tracker: rally)`; code `RALLY_NOT_FOUND`. */
export declare class IssueNotFoundError extends RallyError {
  constructor(issueId: string, details?: Record<string, unknown>)
  name: 'IssueNotFoundError'
  code: 'RALLY_NOT_FOUND'
  issueId: string
}

/** `Authentication failed for rally: <detail>`; code `RALLY_AUTH`. */
export declare class TrackerAuthError extends RallyError {
  constructor(detail: string, details?: Record<string, unknown>)
  name: 'TrackerAuthError'
  code: 'RALLY_AUTH'
}

/** Panopticon's `IssueTracker` over Rally WSAPI v2.0. */
export declare class RallyTracker {
  /** Validates the options (no I/O); throws `RallyError`/`TrackerAuthError` naming the field. */
  constructor(config: RallyTrackerConfig)
  readonly name: 'rally'
  /** Every match (all pages, up to `maxResults`) unless `limit` is given; newest update first. */
  listIssues(filters?: IssueFilters | null): Promise<Issue[]>
  /** `id`: FormattedID (any case), ObjectID, a ref, a WSAPI URL or a Rally web URL. */
  getIssue(id: string): Promise<Issue>
  /** A User Story unless `artifactType` says otherwise; a Task needs `parent`. */
  createIssue(issue: NewIssue): Promise<Issue>
  /**
   * Only the fields given change. `rallyState` moves the item to a Rally state by name (checked
   * against the type's allowed values before any write); `addLabels` / `removeLabels` edit the
   * tag set through Rally's Tags collection, leaving the other tags alone.
   */
  updateIssue(id: string, update: IssueUpdate): Promise<Issue>
  deleteIssue(id: string): Promise<void>
  /** Discussion posts, oldest first, bodies in Markdown. */
  getComments(issueId: string): Promise<Comment[]>
  addComment(issueId: string, body: string): Promise<Comment>
  transitionIssue(id: string, state: IssueState): Promise<void>
  /** Records the pull request on the issue; linking the same URL twice adds nothing. */
  linkPR(issueId: string, prUrl: string): Promise<void>
  /**
   * Beyond `IssueTracker`: a story's child stories, then its defects, then its tasks; a
   * defect's tasks; a feature's stories; a task has none. Oldest first per type.
   */
  getChildren(id: string): Promise<Issue[]>
  /** The item's attachments (name, content type, size, description; no bytes), oldest first. */
  listAttachments(issueId: string): Promise<Attachment[]>
  /**
   * One attachment (`Attachment.id`) with its bytes. `maxBytes` (default 10 MB, at most 50 MB)
   * caps the read: a larger one is refused, `RALLY_INVALID_INPUT` naming `maxBytes`, before
   * its content is requested.
   */
  getAttachment(attachmentId: string, options?: { maxBytes?: number } | null): Promise<AttachmentContent>
}

/**
 * What an id names, read as every `RallyTracker` method reads it (FormattedID in any case,
 * ObjectID, ref, WSAPI URL or Rally web URL), without a request. Throws `RALLY_INVALID_INPUT`
 * for text that is none of them.
 */
export declare function parseIssueId(id: string): ParsedIssueId
