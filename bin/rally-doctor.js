#!/usr/bin/env node
'use strict'
// rally-doctor: checks a Rally tracker configuration the way the tracker will use it and says,
// in plain words, what works, what does not, and what to paste into ~/.panopticon/config.toml.

const { UsageError, buildConfig, parseArgs: parseSettings, scrub } = require('./settings.js')

const USAGE = `usage: rally-doctor [--server HOST|URL] [--workspace REF] [--project REF]
                    [--no-scope-down] [--scope-up] [--proxy URL] [--ca-file PEM]
                    [--config TOML] [--panopticon-env PATH] [--json] [--api-key KEY]
                    [--create-defaults '{"UserStory":{"Team":"Red"}}']

Settings come from the flags, then RALLY_API_KEY, RALLY_SERVER, RALLY_WORKSPACE and
RALLY_PROJECT in the environment, then Panopticon's own files: the [trackers.rally] table of
~/.panopticon/config.toml (its api_key_env names the key's variable) and ~/.panopticon.env.
Prefer RALLY_API_KEY over --api-key: command lines end up in shell history and process lists.

Exit codes: 0 all good, 2 configuration invalid, 3 server unreachable or TLS failure,
4 API key refused, 5 workspace or project not found, 6 no open items in scope, 7 creates will be
refused (a required custom field has no createDefaults value), 1 other.`

function parseArgs(argv) {
  return { json: false, ...parseSettings(argv, { switches: { '--json': ['json', true] } }) }
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
