// Values JSON cannot carry, in customFields (and createDefaults), are refused as
// RALLY_INVALID_INPUT naming the field, before any request; never RALLY_INTERNAL.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startSim } from './helpers/sim.mjs'
import { assertInvalidInput, rejection, trackerFor } from './helpers/tracker.mjs'

let sim
before(async () => {
  sim = await startSim({
    seed: 48,
    extraArgs: ['--custom-field', 'HierarchicalRequirement:c_Team:string', '--custom-field', 'HierarchicalRequirement:c_Points:integer'],
  })
})
after(() => sim?.stop())

const cycle = () => {
  const o = { a: 1 }
  o.self = o
  return o
}
const odd = () => [
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['-Infinity', -Infinity],
  ['a Symbol', Symbol('x')],
  ['a function', () => 1],
  ['a BigInt', 10n],
  ['a Buffer', Buffer.from('x')],
  ['a Date', new Date()],
  ['a cycle', cycle()],
  ['NaN in an array', [1, NaN]],
  ['a function in an object', { f() {} }],
]

test('odd JS values in customFields are RALLY_INVALID_INPUT naming the field, and nothing is sent', async () => {
  const tracker = trackerFor(sim, { customFields: 'all' })
  const [item] = await tracker.listIssues({ limit: 1 })
  await sim.reset()
  for (const [what, value] of odd()) {
    const made = await rejection(tracker.createIssue({ title: 'odd', customFields: { Points: value } }))
    assertInvalidInput(made, 'customFields.Points')
    assert.doesNotMatch(made.message, /serde_json|convert/, what)
    const updated = await rejection(tracker.updateIssue(item.ref, { customFields: { Team: value } }))
    assertInvalidInput(updated, 'customFields.Team')
  }
  const stats = await sim.stats()
  assert.equal(stats.total, 0, `no request: ${JSON.stringify(stats.byRoute)}`)
  // Plain values still go through.
  const ok = await tracker.createIssue({ title: 'plain', customFields: { Points: 3, Team: 'Red' } })
  assert.deepEqual(ok.customFields, { Team: 'Red', Points: 3 })
})

test('odd JS values in createDefaults are refused by the constructor, naming the field', () => {
  for (const [what, value] of odd()) {
    let err
    try {
      trackerFor(sim, { createDefaults: { UserStory: { Points: value } } })
    } catch (e) {
      err = e
    }
    assert.ok(err, `${what} accepted`)
    assertInvalidInput(err, 'createDefaults.UserStory.Points')
  }
})
