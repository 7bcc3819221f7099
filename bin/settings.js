'use strict'
// The settings rally-doctor and rally-mcp share: flags, then RALLY_* in the environment, then
// Panopticon's own files (~/.panopticon/config.toml, ~/.panopticon.env); and the scrubbing
// that keeps the key out of everything they print.

const { existsSync, readFileSync } = require('node:fs')
const { homedir } = require('node:os')
const { join } = require('node:path')

const ENV_NAMES = ['RALLY_API_KEY', 'RALLY_SERVER', 'RALLY_WORKSPACE', 'RALLY_PROJECT']

class UsageError extends Error {}

// The flags every tool over these settings takes.
const SETTING_FLAGS = {
  '--server': 'server',
  '--workspace': 'workspace',
  '--project': 'project',
  '--api-key': 'apiKey',
  '--proxy': 'proxy',
  '--ca-file': 'caFile',
  '--env-file': 'envFile',
  // The same: Node itself ends the process when an `--env-file` path anywhere in its arguments
  // does not exist (`node: <path>: not found`, exit 9), before this code runs.
  '--panopticon-env': 'envFile',
  '--config': 'config',
  '--create-defaults': 'createDefaults',
}

/**
 * The setting flags plus a tool's own: `valued` maps `--flag` to the key its value goes to,
 * `switches` maps `--flag` to `[key, value]`. `--help`/`-h` sets `help`; anything else is a
 * UsageError.
 */
function parseArgs(argv, { valued = {}, switches = {} } = {}) {
  const out = { scopeDown: undefined, scopeUp: undefined }
  const values = { ...SETTING_FLAGS, ...valued }
  const flags = { '--no-scope-down': ['scopeDown', false], '--scope-up': ['scopeUp', true], ...switches }
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i]
    let inline
    const eq = arg.indexOf('=')
    if (arg.startsWith('--') && eq > 0) {
      inline = arg.slice(eq + 1)
      arg = arg.slice(0, eq)
    }
    if (arg === '--help' || arg === '-h') out.help = true
    else if (Object.hasOwn(flags, arg)) out[flags[arg][0]] = flags[arg][1]
    else if (Object.hasOwn(values, arg)) {
      const value = inline ?? argv[++i]
      if (value === undefined || value === '') throw new UsageError(`${arg} needs a value`)
      out[values[arg]] = value
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
  if (args.envFile && !existsSync(args.envFile)) throw new UsageError(`the env file ${args.envFile} does not exist`)
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

/** Belt and braces: the report never holds the key, but nothing printed may contain it. */
function scrub(text, key) {
  return key && key.length >= 4 ? text.split(key).join('***') : text
}

module.exports = { ENV_NAMES, UsageError, parseArgs, readEnvFile, readPanopticonToml, buildConfig, scrub }
