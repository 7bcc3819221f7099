// The committed loader (`index.js`) and types (`index.d.ts`) must be what `napi build` makes
// from the Rust source today: regenerate them into a temporary folder and compare. After
// `npm run build` this is a no-op cargo build (napi keeps the type definitions cached).
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { repoRoot } from './helpers/sim.mjs'

const run = promisify(execFile)

test('index.js and index.d.ts are in sync with the Rust source', { timeout: 20 * 60_000 }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'rally-gen-'))
  try {
    const napi = join(repoRoot, 'node_modules', '@napi-rs', 'cli', 'dist', 'cli.js')
    await run(process.execPath, [napi, 'build', '--platform', '--release', '--output-dir', out], {
      cwd: repoRoot,
      maxBuffer: 64 * 1024 * 1024,
    })
    for (const file of ['index.d.ts', 'index.js']) {
      const fresh = readFileSync(join(out, file), 'utf8')
      const committed = readFileSync(join(repoRoot, file), 'utf8')
      assert.ok(fresh.length > 0)
      assert.equal(committed, fresh, `${file} is stale: run \`npm run build\` and commit it`)
    }
  } finally {
    rmSync(out, { recursive: true, force: true })
  }
})
