// Starts the `rally-sim` binary (built by `cargo build -p rally-sim`) on an ephemeral port and
// gives tests its connection details and control surface. Used by the tests and the demo.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

export function simBinary() {
  const targetDir = process.env.CARGO_TARGET_DIR ? resolve(process.env.CARGO_TARGET_DIR) : join(repoRoot, 'target')
  const exe = process.platform === 'win32' ? 'rally-sim.exe' : 'rally-sim'
  const path = join(targetDir, 'debug', exe)
  if (!existsSync(path)) {
    throw new Error(`${path} does not exist: run \`cargo build -p rally-sim\` (npm test does it)`)
  }
  return path
}

/** A key in Rally's shape (`_` + base62-ish); random so no test can depend on its value. */
export function randomApiKey() {
  return '_' + randomBytes(24).toString('base64url')
}

/**
 * @param {{ seed?: number, apiKey?: string, latencyMs?: number, faults?: string,
 *           maxSeconds?: number, extraArgs?: string[] }} [options]
 */
export async function startSim(options = {}) {
  const apiKey = options.apiKey ?? randomApiKey()
  const args = ['--port', '0', '--seed', String(options.seed ?? 42), '--api-key', apiKey]
  args.push('--max-seconds', String(options.maxSeconds ?? 900))
  if (options.latencyMs !== undefined) args.push('--latency-ms', String(options.latencyMs))
  if (options.faults !== undefined) args.push('--faults', options.faults)
  args.push(...(options.extraArgs ?? []))

  // stdin stays a pipe: the simulator exits when it closes, so it never outlives us.
  const child = spawn(simBinary(), args, { stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (d) => {
    if (stderr.length < 8192) stderr += d
  })
  const info = await new Promise((resolvePromise, reject) => {
    const lines = createInterface({ input: child.stdout })
    const timer = setTimeout(() => {
      child.kill()
      reject(new Error(`rally-sim printed nothing for 30 s; stderr: ${stderr}`))
    }, 30_000)
    lines.once('line', (line) => {
      clearTimeout(timer)
      try {
        resolvePromise(JSON.parse(line))
      } catch (err) {
        child.kill()
        reject(new Error(`rally-sim's first line is not JSON: ${line} (${err.message})`))
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`rally-sim exited with ${code} before it was ready; stderr: ${stderr}`))
    })
  })
  child.stdout.resume()

  const control = async (path, init) => {
    const res = await fetch(`${info.url}/__sim/${path}`, init)
    const text = await res.text()
    if (!res.ok) throw new Error(`/__sim/${path}: HTTP ${res.status} ${text}`)
    return text ? JSON.parse(text) : {}
  }

  return {
    url: info.url,
    apiKey: info.apiKey,
    workspace: info.workspace,
    project: info.project,
    /** `{ total, byRoute, maxInFlight, ... }`: requests since start or the last reset. */
    stats: () => control('stats'),
    /** The request log: `{ requests: [{ method, path, status, ... }] }`. */
    log: () => control('log'),
    /** Clears counters (and the data too, back to the seed, with `{ data: true }`). */
    reset: ({ data = false } = {}) => control(`reset${data ? '?data=true' : ''}`, { method: 'POST' }),
    setFaults: (spec) => control('faults', { method: 'POST', body: spec }),
    clearFaults: () => control('faults', { method: 'DELETE' }),
    bulk: (type, count) =>
      control(`bulk?type=${encodeURIComponent(type)}&count=${count}`, { method: 'POST' }),
    /** Raw WSAPI GET with the simulator's key, to check what the tracker really stored. */
    wsapi: async (pathAndQuery) => {
      const res = await fetch(`${info.url}/slm/webservice/v2.0/${pathAndQuery}`, {
        headers: { ZSESSIONID: apiKey },
      })
      return res.json()
    },
    stop: () =>
      new Promise((resolveStop) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolveStop()
        child.once('exit', () => resolveStop())
        child.stdin.end()
        child.kill('SIGTERM')
      }),
  }
}
