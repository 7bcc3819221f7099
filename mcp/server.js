'use strict'
// rally-mcp's server: the Model Context Protocol over stdio (the official SDK's low-level
// Server), one RallyTracker, the tools of `tools.js`, writes limited by `scope.js`.

const { Server } = require('@modelcontextprotocol/sdk/server/index.js')
const { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError } = require('@modelcontextprotocol/sdk/types.js')
const { validate } = require('./schema.js')
const { Scope } = require('./scope.js')
const { TOOLS } = require('./tools.js')

/** Cap on an attachment's bytes when `--max-attachment-bytes` does not say: 5 MB. */
const DEFAULT_ATTACHMENT_BYTES = 5 * 1024 * 1024

/**
 * @param {object} o
 * @param {import('../rally').RallyTracker} o.tracker
 * @param {string} [o.issue] `--issue`: the item writes are limited to
 * @param {boolean} [o.readOnly] `--read-only`: only the read tools
 * @param {number} [o.maxAttachmentBytes]
 * @param {(text: string) => string} [o.scrub] removes the key from any text (belt and braces)
 * @param {(line: string) => void} [o.log]
 * @param {string} [o.version]
 */
function createServer({ tracker, issue, readOnly = false, maxAttachmentBytes = DEFAULT_ATTACHMENT_BYTES, scrub = (t) => t, log = () => {}, version = '0.0.0' }) {
  const scope = new Scope(tracker, issue)
  const tools = TOOLS.filter((t) => !readOnly || !t.write)
  const byName = new Map(tools.map((t) => [t.name, t]))
  const scopeNote = issue ? ` Writes are limited to ${issue} and its tasks.` : ''
  const server = new Server(
    { name: 'rally-mcp', title: 'Rally (panopticon-rally)', version },
    {
      capabilities: { tools: {} },
      instructions:
        `Rally work items through panopticon-rally.${scopeNote}${readOnly ? ' This server is read-only.' : ''} ` +
        'Ids are FormattedIDs (US12, DE3, TA7, F2), ObjectIDs or Rally URLs. There is no delete.',
    },
  )
  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: tools.map(({ name, title, description, inputSchema, annotations }) => ({ name, title, description: description + (issue && TOOLS.find((t) => t.name === name).write ? scopeNote : ''), inputSchema, annotations })),
  }))
  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    const { name, arguments: args } = request.params
    const tool = byName.get(name)
    if (!tool) {
      const hidden = TOOLS.some((t) => t.name === name) ? ' (this server is read-only)' : ''
      throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}${hidden}`)
    }
    const started = Date.now()
    try {
      const input = validate(tool.inputSchema, args)
      const result = await tool.run({ tracker, scope, maxAttachmentBytes }, input)
      log(`${name}: ok in ${Date.now() - started} ms`)
      return clean(result, scrub)
    } catch (err) {
      const code = typeof err?.code === 'string' && err.code.startsWith('RALLY_') ? err.code : 'RALLY_INTERNAL'
      const message = err instanceof Error ? err.message : String(err)
      log(`${name}: ${code} in ${Date.now() - started} ms`)
      return clean({ isError: true, content: [{ type: 'text', text: `${code}: ${message}` }] }, scrub)
    }
  })
  return { server, scope, tools }
}

/** The result with every text scrubbed of the key. */
function clean(result, scrub) {
  return { ...result, content: result.content.map((c) => (c.type === 'text' ? { ...c, text: scrub(c.text) } : c)) }
}

module.exports = { createServer, DEFAULT_ATTACHMENT_BYTES }
