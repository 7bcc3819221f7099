// Many calls at once from JS: all complete, and the tracker never has more requests in flight
// than its maxConcurrency (the simulator records the highest concurrency it saw).
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startSim } from './helpers/sim.mjs'
import { trackerFor } from './helpers/tracker.mjs'

let sim
let refs

before(async () => {
  sim = await startSim({ seed: 42 })
  refs = (await trackerFor(sim).listIssues({ includeClosed: true })).map((i) => i.ref)
})
after(() => sim?.stop())

for (const maxConcurrency of [undefined, 3, 12]) {
  const cap = maxConcurrency ?? 8
  test(`Promise.all of 200 calls with maxConcurrency ${maxConcurrency ?? 'default (8)'}`, async () => {
    // A fresh tracker: nothing cached, so every call goes to Rally.
    const tracker = trackerFor(sim, maxConcurrency ? { maxConcurrency } : {})
    await sim.setFaults('latency=10..30@GET *')
    await sim.reset()
    try {
      const calls = Array.from({ length: 200 }, (_, k) =>
        k % 10 === 9 ? tracker.getComments(refs[k % refs.length]) : tracker.getIssue(refs[k % refs.length]),
      )
      const results = await Promise.all(calls)
      assert.equal(results.length, 200)
      results.forEach((r, k) => {
        if (k % 10 === 9) assert.ok(Array.isArray(r))
        else assert.equal(r.ref, refs[k % refs.length])
      })
      const stats = await sim.stats()
      assert.ok(stats.total >= 100, `${stats.total} requests`)
      assert.ok(stats.maxInFlight <= cap, `maxInFlight ${stats.maxInFlight} > ${cap}`)
      assert.ok(stats.maxOpen <= cap, `maxOpen ${stats.maxOpen} > ${cap}`)
      assert.ok(stats.maxInFlight >= Math.min(cap, 2), `calls ran concurrently (${stats.maxInFlight})`)
    } finally {
      await sim.clearFaults()
    }
  })
}

test('two trackers on one key share their cap', async () => {
  const a = trackerFor(sim, { maxConcurrency: 2 })
  const b = trackerFor(sim, { maxConcurrency: 2 })
  await sim.setFaults('latency=20@GET *')
  await sim.reset()
  try {
    await Promise.all(refs.slice(0, 40).flatMap((ref) => [a.getIssue(ref), b.getIssue(ref)]))
    const stats = await sim.stats()
    assert.ok(stats.maxOpen <= 2, `maxOpen ${stats.maxOpen} > 2`)
  } finally {
    await sim.clearFaults()
  }
})

// Issue 10, item 11: three trackers with the same key put 37 requests in flight. The limit is
// per server and key across the process; `maxOpen` counts requests from their arrival at the
// simulator, queued behind its own per-key cap of 12 or running, so it sees what was sent.
for (const maxConcurrency of [undefined, 12]) {
  const cap = maxConcurrency ?? 8
  test(`three trackers with one key and maxConcurrency ${maxConcurrency ?? 'default (8)'} stay within ${cap}`, async () => {
    const trackers = [0, 1, 2].map(() => trackerFor(sim, maxConcurrency ? { maxConcurrency } : {}))
    await sim.setFaults('latency=20..40@GET *')
    await sim.reset()
    try {
      const calls = Array.from({ length: 150 }, (_, k) => trackers[k % 3].getIssue(refs[k % refs.length]))
      const results = await Promise.all(calls)
      results.forEach((r, k) => assert.equal(r.ref, refs[k % refs.length]))
      const stats = await sim.stats()
      assert.ok(stats.maxOpen <= cap, `maxOpen ${stats.maxOpen} > ${cap} (maxInFlight ${stats.maxInFlight})`)
      assert.ok(stats.maxOpen >= Math.min(cap, 4), `calls ran concurrently (${stats.maxOpen})`)
    } finally {
      await sim.clearFaults()
    }
  })
}
