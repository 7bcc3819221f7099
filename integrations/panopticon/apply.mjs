#!/usr/bin/env node
// Applies the Rally patch series to a Panopticon checkout and installs panopticon-rally in it.
//
//   node integrations/panopticon/apply.mjs <panopticon-checkout> [--addon <tarball|dir>] [--no-install]
//
// The series (patches/*.patch, in order) is applied patch by patch to a scratch copy of the
// files it touches; only when every patch fits are the results copied into the checkout, so a
// checkout that drifted is left untouched. A second run finds the series applied and says so. Without --addon, the package is packed from this repository
// (`npm run pack`, using the addon already built). --no-install leaves node_modules alone.
import { execFileSync, spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const repoRoot = resolve(here, '..', '..')
const patchDir = join(here, 'patches')
const PINNED = '0.4.5'
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
const shell = process.platform === 'win32'

class UsageError extends Error {}

function parseArgs(argv) {
  const opts = { checkout: null, addon: null, install: true }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--addon') {
      opts.addon = argv[++i]
      if (!opts.addon) throw new UsageError('--addon needs a tarball or a directory')
    } else if (arg.startsWith('--addon=')) {
      opts.addon = arg.slice('--addon='.length)
    } else if (arg === '--no-install') {
      opts.install = false
    } else if (arg === '-h' || arg === '--help') {
      console.log('usage: node integrations/panopticon/apply.mjs <panopticon-checkout> [--addon <tarball|dir>] [--no-install]')
      process.exit(0)
    } else if (arg.startsWith('-')) {
      throw new UsageError(`unknown option ${arg}`)
    } else if (opts.checkout) {
      throw new UsageError(`one checkout at a time (got ${opts.checkout} and ${arg})`)
    } else {
      opts.checkout = resolve(arg)
    }
  }
  if (!opts.checkout) throw new UsageError('name the Panopticon checkout to patch')
  return opts
}

/** A Panopticon checkout: its package.json says so and the tracker sources are there. */
function checkCheckout(dir) {
  const pkgPath = join(dir, 'package.json')
  if (!existsSync(pkgPath)) throw new UsageError(`${dir} is not a Panopticon checkout: it has no package.json`)
  let pkg
  try {
    pkg = JSON.parse(readFileSync(pkgPath, 'utf8'))
  } catch (err) {
    throw new UsageError(`${pkgPath} is not valid JSON: ${err.message}`)
  }
  if (pkg.name !== 'panopticon-cli') {
    throw new UsageError(`${dir} is not a Panopticon checkout: package.json names "${pkg.name}", not "panopticon-cli"`)
  }
  if (!existsSync(join(dir, 'src', 'lib', 'tracker', 'interface.ts'))) {
    throw new UsageError(`${dir} has no src/lib/tracker/interface.ts: not a Panopticon source checkout`)
  }
  return pkg
}

function patches() {
  return readdirSync(patchDir)
    .filter((f) => f.endsWith('.patch'))
    .sort()
    .map((f) => join(patchDir, f))
}

/**
 * `git apply` in the checkout. GIT_CEILING_DIRECTORIES keeps git from taking a repository
 * around the checkout as its root (it would then resolve the patch's paths from there).
 */
function gitApply(checkout, args) {
  const env = { ...process.env, GIT_CEILING_DIRECTORIES: dirname(checkout) }
  return spawnSync('git', ['apply', ...args], { cwd: checkout, env, encoding: 'utf8' })
}

/** The hunks of a patch file, by file and old start line, for drift messages. */
function hunksOf(patchFile) {
  const hunks = []
  let file = null
  for (const line of readFileSync(patchFile, 'utf8').split('\n')) {
    const diff = /^diff --git a\/(\S+) b\//.exec(line)
    if (diff) file = diff[1]
    const hunk = /^@@ -(\d+)(?:,\d+)? \+\d+(?:,\d+)? @@(.*)$/.exec(line)
    if (hunk && file) hunks.push({ file, line: Number(hunk[1]), header: line, context: hunk[2].trim(), patch: basename(patchFile) })
  }
  return hunks
}

/** git's "patch failed: FILE:LINE" / "FILE: does not exist" lines, as hunks of the series. */
function explainDrift(stderr, series) {
  const all = series.flatMap(hunksOf)
  const out = []
  for (const line of stderr.split('\n')) {
    const failed = /^error: patch failed: (.+):(\d+)$/.exec(line)
    if (failed) {
      const [, file, at] = failed
      const hunk = all.find((h) => h.file === file && h.line === Number(at))
      out.push(
        hunk
          ? `${file}: the hunk at line ${at}${hunk.context ? ` (in ${hunk.context})` : ''} of ${hunk.patch} no longer fits:\n    ${hunk.header}`
          : `${file}: the change at line ${at} no longer fits`,
      )
      continue
    }
    const missing = /^error: (.+): (does not exist in index|No such file or directory)$/.exec(line)
    if (missing) out.push(`${missing[1]}: the file the patch changes is missing`)
    const exists = /^error: (.+): already exists in working directory$/.exec(line)
    if (exists) out.push(`${exists[1]}: the file the patch creates already exists`)
  }
  return out.length ? out : stderr.trim().split('\n')
}

/** The tarball or directory to install: --addon, else one packed from this repository. */
function addonSource(opts) {
  if (opts.addon) {
    const path = resolve(opts.addon)
    if (!existsSync(path)) throw new UsageError(`--addon ${opts.addon}: no such file or directory`)
    return { path, cleanup: () => {} }
  }
  const out = mkdtempSync(join(tmpdir(), 'panopticon-rally-addon-'))
  console.log('Packing panopticon-rally from this repository (npm run pack, without rebuilding)...')
  execFileSync(process.execPath, [join(repoRoot, 'scripts', 'pack.mjs'), '--no-build', '--out', out], { stdio: 'inherit' })
  const tarball = readdirSync(out).find((f) => f.endsWith('.tgz'))
  if (!tarball) throw new Error(`npm run pack wrote no tarball into ${out}`)
  return { path: join(out, tarball), cleanup: () => rmSync(out, { recursive: true, force: true }) }
}

function installAddon(checkout, opts) {
  const source = addonSource(opts)
  try {
    console.log(`Installing panopticon-rally from ${source.path} ...`)
    const res = spawnSync(npm, ['install', '--no-audit', '--no-fund', source.path], { cwd: checkout, stdio: 'inherit', shell })
    if (res.status !== 0) throw new Error(`npm install of ${source.path} failed (exit status ${res.status})`)
    const installed = JSON.parse(readFileSync(join(checkout, 'node_modules', 'panopticon-rally', 'package.json'), 'utf8'))
    return installed.version
  } finally {
    source.cleanup()
  }
}

function summary(checkout, series) {
  const res = gitApply(checkout, ['--numstat', ...series])
  const lines = res.stdout.trim().split('\n').filter(Boolean)
  return lines.map((l) => {
    const [added, removed, file] = l.split('\t')
    return `  ${file}  (+${added} -${removed})`
  })
}

/** Every path the series touches (old and new names), in the order first seen. */
function touchedPaths(series) {
  const paths = new Set()
  for (const patch of series) {
    for (const line of readFileSync(patch, 'utf8').split('\n')) {
      const m = /^diff --git a\/(\S+) b\/(\S+)$/.exec(line)
      if (m) {
        paths.add(m[1])
        paths.add(m[2])
      }
    }
  }
  return [...paths]
}

/** A scratch directory holding the checkout's copies of `paths` (those that exist). */
function stage(checkout, paths) {
  const dir = mkdtempSync(join(tmpdir(), 'panopticon-rally-series-'))
  for (const rel of paths) {
    const from = join(checkout, rel)
    if (!existsSync(from)) continue
    mkdirSync(dirname(join(dir, rel)), { recursive: true })
    copyFileSync(from, join(dir, rel))
  }
  return dir
}

/**
 * Applies the patches one after another in a staged copy (git apply given several patches
 * checks each against the original files, so patches that touch the same file must go in
 * turn). Returns null when all fit, else the failing patch and git's complaint.
 */
function applyInTurn(dir, series, reverse) {
  const order = reverse ? [...series].reverse() : series
  for (const patch of order) {
    const res = gitApply(dir, [...(reverse ? ['--reverse'] : []), patch])
    if (res.status !== 0) return { patch, stderr: res.stderr }
  }
  return null
}

/** Copies the staged results into `target`: files the series made or changed, not the ones it removed. */
function copyBack(dir, target, paths) {
  for (const rel of paths) {
    const from = join(dir, rel)
    const to = join(target, rel)
    if (existsSync(from)) {
      mkdirSync(dirname(to), { recursive: true })
      copyFileSync(from, to)
    } else {
      rmSync(to, { force: true })
    }
  }
}

function main() {
  const opts = parseArgs(process.argv.slice(2))
  const pkg = checkCheckout(opts.checkout)
  if (pkg.version !== PINNED) {
    console.warn(`warning: the series is written against Panopticon ${PINNED}; this checkout is ${pkg.version}`)
  }
  const series = patches()
  if (series.length === 0) throw new Error(`no patches in ${patchDir}`)
  const paths = touchedPaths(series)

  const undone = stage(opts.checkout, paths)
  try {
    if (applyInTurn(undone, series, true) === null) {
      console.log(`The Rally patch series (${series.length} patches) is already applied to ${opts.checkout}: nothing to change.`)
      if (opts.install && !existsSync(join(opts.checkout, 'node_modules', 'panopticon-rally', 'package.json'))) {
        const version = installAddon(opts.checkout, opts)
        console.log(`Installed panopticon-rally ${version}.`)
      }
      return
    }
  } finally {
    rmSync(undone, { recursive: true, force: true })
  }

  const staged = stage(opts.checkout, paths)
  const backup = stage(opts.checkout, paths)
  try {
    const failure = applyInTurn(staged, series, false)
    if (failure) {
      console.error(`error: the Rally patch series does not fit ${opts.checkout}; nothing was changed.`)
      for (const reason of explainDrift(failure.stderr, [failure.patch])) console.error(`  ${reason}`)
      process.exitCode = 1
      return
    }
    const changed = summary(opts.checkout, series)
    copyBack(staged, opts.checkout, paths)

    if (opts.install) {
      try {
        const version = installAddon(opts.checkout, opts)
        console.log(`Installed panopticon-rally ${version}.`)
      } catch (err) {
        // Leave the checkout as it was: without the addon the patched sources do not build.
        copyBack(backup, opts.checkout, paths)
        throw new Error(`${err.message}; the patches were taken back`)
      }
    }

    console.log(`Applied ${series.length} patches to ${opts.checkout}:`)
    for (const p of series) console.log(`  ${basename(p)}`)
    console.log('Files changed:')
    for (const line of changed) console.log(line)
  } finally {
    rmSync(staged, { recursive: true, force: true })
    rmSync(backup, { recursive: true, force: true })
  }
}

try {
  main()
} catch (err) {
  console.error(`error: ${err.message}`)
  process.exitCode = err instanceof UsageError ? 2 : 1
}
