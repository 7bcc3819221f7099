// rally-mcp as a Model Context Protocol client sees it: the package's bin spawned over stdio by
// the official SDK's client, against a spawned simulator; every response and the server's
// stderr kept, so a test can check what the server ever said.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { repoRoot } from './sim.mjs'

export const BIN = join(repoRoot, 'bin', 'rally-mcp.js')

/** Connects a client to `rally-mcp <args>` configured for `sim` through RALLY_* variables. */
export async function mcpClient(sim, args = []) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, ...args],
    // A HOME of its own: no ~/.panopticon files of the machine running the tests.
    env: {
      PATH: process.env.PATH ?? '',
      HOME: mkdtempSync(join(tmpdir(), 'rally-mcp-home-')),
      RALLY_API_KEY: sim.apiKey,
      RALLY_SERVER: sim.url,
      RALLY_WORKSPACE: sim.workspace,
      RALLY_PROJECT: sim.project,
    },
    stderr: 'pipe',
  })
  let stderr = ''
  transport.stderr?.on('data', (d) => {
    stderr += d
  })
  const client = new Client({ name: 'rally-mcp-test', version: '1.0.0' })
  await client.connect(transport)
  const said = []
  return {
    client,
    said,
    stderr: () => stderr,
    async call(name, args = {}) {
      const r = await client.callTool({ name, arguments: args })
      said.push(JSON.stringify(r))
      return r
    },
    async list() {
      const r = await client.listTools()
      said.push(JSON.stringify(r))
      return r.tools
    },
    close: () => client.close(),
  }
}

/** The text of a result's first text content. */
export const textOf = (r) => r.content.find((c) => c.type === 'text')?.text ?? ''
/** A result's first text content, parsed as JSON. */
export const jsonOf = (r) => JSON.parse(textOf(r))
