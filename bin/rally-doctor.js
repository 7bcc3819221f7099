#!/usr/bin/env node
'use strict'
// rally-doctor: checks a Rally tracker configuration the way the tracker will use it and says,
// in plain words, what works, what does not, and what to paste into ~/.panopticon/config.toml.

const { existsSync, readFileSync } = require('node:fs')
const { homedir } = require('node:os')
const { join } = require('node:path')

const USAGE = `usage: rally-doctor [--server HOST|URL] [--workspace REF] [--project REF]
                    [--no-scope-down] [--scope-up] [--proxy URL] [--ca-file PEM]
                    [--env-file PATH] [--json] [--api-key KEY]

Reads RALLY_API_KEY, RALLY_SERVER, RALLY_WORKSPACE and RALLY_PROJECT from the environment,
then from ~/.panopticon.env (as Panopticon's dashboard does); flags win over both.
Prefer RALLY_API_KEY over --api-key: command lines end up in shell history and process lists.

Exit codes: 0 all good, 2 configuration invalid, 3 server unreachable or TLS failure,
4 API key refused, 5 workspace or project not found, 6 no open items in scope, 1 other.`

const ENV_NAMES = ['RALLY_API_KEY', 'RALLY_SERVER', 'RALLY_WORKSPACE', 'RALLY_PROJECT']

class UsageError extends Error {}

function parseArgs(argv) {
  const out = { json: false, scopeDown: undefined, scopeUp: undefined }
  const valued = {
    '--server': 'server',
    '--workspace': 'workspace',
    '--project': 'project',
    '--api-key': 'apiKey',
    '--proxy': 'proxy',
    '--ca-file': 'caFile',
    '--env-file': 'envFile',
  }
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i]
    let inline
    const eq = arg.indexOf('=')
    if (arg.startsWith('--') && eq > 0) {
      inline = arg.slice(eq + 1)
      arg = arg.slice(0, eq)
    }
    if (arg === '--json') out.json = true
    else if (arg === '--help' || arg === '-h') out.help = true
    else if (arg === '--no-scope-down') out.scopeDown = false
    else if (arg === '--scope-up') out.scopeUp = true
    else if (valued[arg]) {
      const value = inline ?? argv[++i]
      if (value === undefined || value === '') throw new UsageError(`${arg} needs a value`)
      out[valued[arg]] = value
    } else throw new UsageError(`unknown option ${arg}`)
  }
  return out
}

/** `NAME=value` lines of an env file (no expansion); only the RALLY_* names we use. */
function readEnvFile(path) {
  const found = {}
  for (const line of readFileSync(path, 'utf8').split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Z_]+)\s*=\s*(.*?)\s*$/.exec(line)
    if (!m || !ENV_NAMES.includes(m[1])) continue
    found[m[1]] = m[2].replace(/^(['"])(.*)\1$/, '$2')
  }
  return found
}

function buildConfig(args, env) {
  let file = {}
  const envFile = args.envFile ?? join(homedir(), '.panopticon.env')
  if (args.envFile && !existsSync(args.envFile)) throw new UsageError(`--env-file ${args.envFile} does not exist`)
  if (existsSync(envFile)) file = readEnvFile(envFile)
  const pick = (flag, name) => flag ?? (env[name] || undefined) ?? (file[name] || undefined)
  const config = {
    apiKey: pick(args.apiKey, 'RALLY_API_KEY') ?? '',
    server: pick(args.server, 'RALLY_SERVER'),
    workspace: pick(args.workspace, 'RALLY_WORKSPACE'),
    project: pick(args.project, 'RALLY_PROJECT'),
    projectScopeDown: args.scopeDown,
    projectScopeUp: args.scopeUp,
    proxy: args.proxy,
  }
  if (args.caFile) {
    if (!existsSync(args.caFile)) throw new UsageError(`--ca-file ${args.caFile} does not exist`)
    config.caCerts = [readFileSync(args.caFile, 'utf8')]
  }
  return config
}

const MARK = { ok: '[ok]  ', fail: '[FAIL]', warn: '[warn]' }

function render(report) {
  const lines = []
  lines.push(`rally-doctor: ${report.server ?? 'no server'}`, '')
  for (const c of report.checks) {
    const mark = c.ok ? MARK.ok : report.exitCode === 6 && c.name === 'items' ? MARK.warn : MARK.fail
    lines.push(`${mark} ${c.name.padEnd(10)} ${c.detail}`)
    if (c.hint) lines.push(`${' '.repeat(18)}-> ${c.hint}`)
  }
  const counts = Object.entries(report.counts ?? {})
  if (counts.length > 0) {
    lines.push('', 'Open items in scope:')
    for (const [type, n] of counts) lines.push(`  ${type.padEnd(10)} ${n}`)
  }
  if (report.toml) {
    lines.push('', 'Paste this into ~/.panopticon/config.toml:', '', report.toml.trimEnd(), '')
    lines.push('Keep the key itself in the environment (RALLY_API_KEY, e.g. in ~/.panopticon.env), not in config.toml.')
  }
  const verdict = report.ok ? 'OK' : report.exitCode === 6 ? 'Warning' : 'Problem'
  lines.push('', `${verdict}: ${report.summary} (exit ${report.exitCode})`)
  return lines.join('\n') + '\n'
}

/** Belt and braces: the report never holds the key, but nothing printed may contain it. */
function scrub(text, key) {
  return key && key.length >= 4 ? text.split(key).join('***') : text
}

async function main() {
  let args
  let config
  try {
    args = parseArgs(process.argv.slice(2))
    if (args.help) {
      process.stdout.write(USAGE + '\n')
      return 0
    }
    config = buildConfig(args, process.env)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    process.stderr.write(`rally-doctor: ${err.message}\n\n${USAGE}\n`)
    return 2
  }
  if (args.apiKey) {
    process.stderr.write('rally-doctor: note: --api-key is visible to other users of this machine; prefer RALLY_API_KEY\n')
  }
  let native
  try {
    native = require('../index.js')
  } catch (err) {
    process.stderr.write(
      `rally-doctor: the native part of panopticon-rally could not be loaded: ${err.message}\n` +
        'See "Troubleshooting: Cannot find native binding" in the package README.\n',
    )
    return 1
  }
  const report = JSON.parse(await native.diagnose(JSON.stringify(config)))
  const out = args.json ? JSON.stringify(report, null, 2) + '\n' : render(report)
  process.stdout.write(scrub(out, config.apiKey))
  return report.exitCode
}

main().then(
  (code) => {
    process.exitCode = code
  },
  (err) => {
    process.stderr.write(scrub(`rally-doctor: unexpected failure: ${err && err.message}\n`, process.env.RALLY_API_KEY))
    process.exitCode = 1
  },
)
