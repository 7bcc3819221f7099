#!/usr/bin/env node
'use strict'
// rally-doctor: checks a Rally tracker configuration the way the tracker will use it and says,
// in plain words, what works, what does not, and what to paste into ~/.panopticon/config.toml.

const { existsSync, readFileSync } = require('node:fs')
const { homedir } = require('node:os')
const { join } = require('node:path')

const USAGE = `usage: rally-doctor [--server HOST|URL] [--workspace REF] [--project REF]
                    [--no-scope-down] [--scope-up] [--proxy URL] [--ca-file PEM]
                    [--config TOML] [--env-file PATH] [--json] [--api-key KEY]
                    [--create-defaults '{"UserStory":{"Team":"Red"}}']

Settings come from the flags, then RALLY_API_KEY, RALLY_SERVER, RALLY_WORKSPACE and
RALLY_PROJECT in the environment, then Panopticon's own files: the [trackers.rally] table of
~/.panopticon/config.toml (its api_key_env names the key's variable) and ~/.panopticon.env.
Prefer RALLY_API_KEY over --api-key: command lines end up in shell history and process lists.

Exit codes: 0 all good, 2 configuration invalid, 3 server unreachable or TLS failure,
4 API key refused, 5 workspace or project not found, 6 no open items in scope, 7 creates will be
refused (a required custom field has no createDefaults value), 1 other.`

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
    '--config': 'config',
    '--create-defaults': 'createDefaults',
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

/** `NAME=value` lines of an env file (no expansion); only the names asked for. */
function readEnvFile(path, names) {
  const found = {}
  for (const line of readFileSync(path, 'utf8').split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line)
    if (!m || !names.includes(m[1])) continue
    found[m[1]] = m[2].replace(/^(['"])(.*)\1$/, '$2')
  }
  return found
}

/**
 * The `[trackers.rally]` table of Panopticon's ~/.panopticon/config.toml: the string keys
 * Panopticon reads (api_key_env, server, workspace, project). Only `key = "value"` lines; a
 * full TOML parser would be a dependency for four strings.
 */
function readPanopticonToml(path) {
  const found = {}
  let inRally = false
  // `[trackers.rally.create_defaults.<Type>]` tables: `Field = "value"` (or a number/boolean).
  let defaultsType
  for (const raw of readFileSync(path, 'utf8').split(/\r?\n/)) {
    const line = raw.trim()
    if (line.startsWith('[')) {
      inRally = /^\[\s*trackers\s*\.\s*rally\s*\]/.test(line)
      defaultsType = /^\[\s*trackers\s*\.\s*rally\s*\.\s*create_defaults\s*\.\s*([A-Za-z]+)\s*\]/.exec(line)?.[1]
      continue
    }
    if (defaultsType) {
      const d = /^("(?:[^"\\]|\\.)*"|[A-Za-z0-9_-]+)\s*=\s*(.+?)\s*$/.exec(line)
      if (!d) continue
      let value
      try {
        value = JSON.parse(d[2])
      } catch {
        value = d[2].replace(/^'(.*)'$/, '$1')
      }
      const key = d[1].startsWith('"') ? JSON.parse(d[1]) : d[1]
      found.create_defaults ??= {}
      found.create_defaults[defaultsType] ??= {}
      found.create_defaults[defaultsType][key] = value
      continue
    }
    if (!inRally) continue
    const m = /^([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)')/.exec(line)
    if (m) found[m[1]] = m[2] !== undefined ? m[2].replace(/\\(["\\])/g, '$1') : m[3]
  }
  return found
}

/**
 * Flags win; then RALLY_* from the environment; then Panopticon's own files: the
 * [trackers.rally] table of ~/.panopticon/config.toml (what `pan` uses) and ~/.panopticon.env
 * (what the dashboard uses).
 */
function buildConfig(args, env) {
  const home = homedir()
  const envFile = args.envFile ?? join(home, '.panopticon.env')
  if (args.envFile && !existsSync(args.envFile)) throw new UsageError(`--env-file ${args.envFile} does not exist`)
  const tomlFile = args.config ?? join(home, '.panopticon', 'config.toml')
  if (args.config && !existsSync(args.config)) throw new UsageError(`--config ${args.config} does not exist`)
  const toml = existsSync(tomlFile) ? readPanopticonToml(tomlFile) : {}
  const keyEnv = /^[A-Za-z_][A-Za-z0-9_]*$/.test(toml.api_key_env ?? '') ? toml.api_key_env : 'RALLY_API_KEY'
  const dotenv = existsSync(envFile) ? readEnvFile(envFile, [...ENV_NAMES, keyEnv]) : {}
  const first = (...values) => values.find((v) => v !== undefined && v !== '')
  const config = {
    apiKey: first(args.apiKey, env[keyEnv], env.RALLY_API_KEY, dotenv[keyEnv], dotenv.RALLY_API_KEY) ?? '',
    server: first(args.server, env.RALLY_SERVER, toml.server, dotenv.RALLY_SERVER),
    workspace: first(args.workspace, env.RALLY_WORKSPACE, toml.workspace, dotenv.RALLY_WORKSPACE),
    project: first(args.project, env.RALLY_PROJECT, toml.project, dotenv.RALLY_PROJECT),
    projectScopeDown: args.scopeDown,
    projectScopeUp: args.scopeUp,
    proxy: args.proxy,
  }
  if (args.createDefaults !== undefined) {
    try {
      config.createDefaults = JSON.parse(args.createDefaults)
    } catch (err) {
      throw new UsageError(`--create-defaults must be JSON such as '{"UserStory":{"Team":"Red"}}': ${err.message}`)
    }
  } else if (toml.create_defaults) {
    config.createDefaults = toml.create_defaults
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
    const mark = c.ok ? MARK.ok : report.problem === 'emptyScope' && c.name === 'items' ? MARK.warn : MARK.fail
    lines.push(`${mark} ${c.name.padEnd(10)} ${c.detail}`)
    if (c.hint) lines.push(`${' '.repeat(18)}-> ${c.hint}`)
  }
  const counts = Object.entries(report.counts ?? {})
  if (counts.length > 0) {
    lines.push('', 'Open items in scope:')
    for (const [type, n] of counts) lines.push(`  ${type.padEnd(10)} ${n}`)
  }
  const required = Object.entries(report.requiredCustomFields ?? {})
  if (required.length > 0) {
    lines.push('', 'Custom fields the workspace requires on create:')
    for (const [type, fields] of required) {
      for (const f of fields) {
        const choices = f.allowedValues?.length ? ` (one of: ${f.allowedValues.join(', ')})` : ''
        lines.push(`  ${type.padEnd(10)} ${f.name} [${f.elementName}]${choices} ${f.covered ? 'set by createDefaults' : 'MISSING'}`)
      }
    }
    lines.push('', 'createDefaults for new RallyTracker({ ... }):', '', JSON.stringify({ createDefaults: report.createDefaults }, null, 2))
  }
  if (report.toml) {
    const toml = report.toml.trimEnd() + (report.createDefaultsToml ? '\n' + report.createDefaultsToml.trimEnd() : '')
    lines.push('', 'Paste this into ~/.panopticon/config.toml:', '', toml, '')
    lines.push('Keep the key itself in the environment (RALLY_API_KEY, e.g. in ~/.panopticon.env), not in config.toml.')
  }
  const verdict = report.ok ? 'OK' : report.problem === 'emptyScope' ? 'Warning' : 'Problem'
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
  const report = await native.diagnose(config)
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
