// What the end-to-end modules share: a free loopback port, and rally-sim read and written over
// WSAPI as any client would (the ZSESSIONID header, JSON bodies).
import { createServer } from 'node:net'

/** A TCP port free on 127.0.0.1 at the moment of asking. */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
    s.on('error', reject)
  })
}

/** One WSAPI request to the simulator (`path` under /slm/webservice/v2.0/); the parsed answer. */
export async function wsapiCall(sim, method, path, body) {
  const res = await fetch(`${sim.url}/slm/webservice/v2.0/${path}`, {
    method,
    headers: { ZSESSIONID: sim.apiKey, 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  })
  return res.json()
}

/** Waits until `probe` returns something with `ok` (or truthy), or gives the last value after `ms`. */
export async function until(probe, ms, every = 500) {
  const deadline = Date.now() + ms
  let last
  for (;;) {
    last = await probe()
    if (last?.ok ?? last) return last
    if (Date.now() > deadline) return last
    await new Promise((r) => setTimeout(r, every))
  }
}
