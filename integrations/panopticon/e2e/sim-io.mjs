// What the end-to-end modules share: a free loopback port, rally-sim read and written over
// WSAPI as any client would (the ZSESSIONID header, JSON bodies), and the dashboard server started.
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { join } from 'node:path'

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

/**
 * Starts Panopticon's bundled dashboard server (`dist/dashboard/server.js`) on a free port with
 * `env`, and waits for it to say it is listening. `output()` is what it printed so far; the
 * caller kills `child`. A server that exits or stays silent for 60 s is killed and reported.
 */
export async function startDashboard(checkout, env, cwd = checkout) {
  const port = await freePort()
  let out = ''
  const child = spawn(process.execPath, [join(checkout, 'dist', 'dashboard', 'server.js')], {
    cwd,
    env: { ...env, PORT: String(port), DASHBOARD_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout.on('data', (d) => { out += d })
  child.stderr.on('data', (d) => { out += d })
  const deadline = Date.now() + 60_000
  while (!/API server running/.test(out)) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill()
      throw new Error(`dashboard did not start:\n${out.slice(-2000)}`)
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  return { child, port, output: () => out }
}
