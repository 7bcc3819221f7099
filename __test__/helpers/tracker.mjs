// A tracker pointed at a running simulator, through the package's ESM entry.
import assert from 'node:assert/strict'
import { RallyError, RallyTracker } from '../../rally.mjs'

/** @param {{url: string, apiKey: string, workspace: string, project: string}} sim */
export function trackerFor(sim, options = {}) {
  return new RallyTracker({
    apiKey: sim.apiKey,
    server: sim.url,
    workspace: sim.workspace,
    project: sim.project,
    ...options,
  })
}

/** Rejects unless `promise` rejects; resolves to the error. */
export async function rejection(promise) {
  try {
    await promise
  } catch (err) {
    return err
  }
  throw new Error('expected a rejection, but the call succeeded')
}

/** The raw `Results` of a WSAPI query through the simulator, all pages. */
export async function rawQuery(sim, typeAndParams) {
  const sep = typeAndParams.includes('?') ? '&' : '?'
  const out = []
  for (let start = 1; ; start += 2000) {
    const r = await sim.wsapi(`${typeAndParams}${sep}pagesize=2000&start=${start}`)
    const q = r.QueryResult
    if (q.Errors.length) throw new Error(`raw query ${typeAndParams}: ${q.Errors.join('; ')}`)
    out.push(...q.Results)
    if (start + 2000 > q.TotalResultCount) return out
  }
}

/** What every refused argument has in common: a RallyError coded RALLY_INVALID_INPUT naming it. */
export function assertInvalidInput(err, argument) {
  assert.ok(err instanceof RallyError, `${err.name}: ${err.message}`)
  assert.equal(err.code, 'RALLY_INVALID_INPUT', err.message)
  assert.equal(err.argument, argument, err.message)
}
