#!/usr/bin/env node
'use strict'
// rally-mcp: a Model Context Protocol server (stdio) over panopticon-rally's RallyTracker, for
// an agent working one Rally item: `rally-mcp --issue US123` limits every write to US123 and
// its tasks. Settings as rally-doctor takes them.

const { UsageError, buildConfig, parseArgs, scrub } = require('./settings.js')

const USAGE = `usage: rally-mcp [--issue ID] [--read-only] [--max-attachment-bytes N]
                 [--server HOST|URL] [--workspace REF] [--project REF]
                 [--no-scope-down] [--scope-up] [--proxy URL] [--ca-file PEM]
                 [--config TOML] [--panopticon-env PATH] [--api-key KEY]

A Model Context Protocol server on stdin/stdout. --issue limits every write to that item and
its tasks (anything else is refused before a request is made); reads stay anywhere in the
configured workspace and project. --read-only offers only the read tools. There is no delete.

Settings come from the flags, then RALLY_API_KEY, RALLY_SERVER, RALLY_WORKSPACE and
RALLY_PROJECT in the environment, then ~/.panopticon/config.toml ([trackers.rally]) and
~/.panopticon.env, as for rally-doctor. Diagnostics go to stderr and never show the key.`

function main() {
  let args
  let config
  try {
    args = parseArgs(process.argv.slice(2), {
      valued: { '--issue': 'issue', '--max-attachment-bytes': 'maxAttachmentBytes' },
      switches: { '--read-only': ['readOnly', true] },
    })
    if (args.help) {
      process.stdout.write(USAGE + '\n')
      return
    }
    config = buildConfig(args, process.env)
    if (args.maxAttachmentBytes !== undefined && !/^[1-9]\d{0,7}$/.test(args.maxAttachmentBytes)) {
      throw new UsageError('--max-attachment-bytes must be a whole number of bytes up to 52428800')
    }
    if (Number(args.maxAttachmentBytes) > 52428800) throw new UsageError('--max-attachment-bytes must be at most 52428800')
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    process.stderr.write(`rally-mcp: ${err.message}\n\n${USAGE}\n`)
    process.exitCode = 2
    return
  }
  const hide = (text) => scrub(String(text), config.apiKey)
  const log = (line) => process.stderr.write(hide(`rally-mcp: ${line}\n`))
  if (args.apiKey) log('note: --api-key is visible to other users of this machine; prefer RALLY_API_KEY')
  let RallyTracker
  try {
    ;({ RallyTracker } = require('../rally.js'))
  } catch (err) {
    log(`the native part of panopticon-rally could not be loaded: ${err.message}`)
    process.exitCode = 1
    return
  }
  let tracker
  try {
    tracker = new RallyTracker({ ...config, logger: (e) => e.level === 'warn' && log(e.message) })
  } catch (err) {
    log(`${err.code ?? 'error'}: ${err.message}`)
    process.exitCode = 2
    return
  }
  const { StdioServerTransport } = require('@modelcontextprotocol/sdk/server/stdio.js')
  const { createServer } = require('../mcp/server.js')
  const { server, scope } = createServer({
    tracker,
    issue: args.issue,
    readOnly: args.readOnly === true,
    maxAttachmentBytes: args.maxAttachmentBytes === undefined ? undefined : Number(args.maxAttachmentBytes),
    scrub: hide,
    log,
    version: require('../package.json').version,
  })
  // The scoped item is read while the client connects, so the first write is decided at once.
  scope.load()?.catch((err) => log(`--issue ${args.issue}: ${err.code ?? 'error'}: ${err.message}`))
  server.connect(new StdioServerTransport()).catch((err) => {
    log(`stdio transport failed: ${err.message}`)
    process.exitCode = 1
  })
}

main()
