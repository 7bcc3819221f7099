// `pan work issue <Rally id>` gives the agent rally-mcp: the prompt lists the item's attachments,
// the (stubbed) claude is started with --mcp-config, and the server that file names answers an
// MCP client: tools/list, the item, and a refused write outside its --issue scope.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'

/**
 * @param {object} o
 * @param {(args: string[], opts?: object) => {status: number, stdout: string, stderr: string}} o.pan
 * @param {{apiKey: string}} o.sim
 * @param {string} o.home the test HOME (its ~/.panopticon.env holds the key)
 * @param {string} o.stubs the directory of the tmux/claude stubs (claude.log)
 * @param {string} o.project the git project `pan` runs in
 * @param {Record<string, string>} o.panEnv
 * @param {string} o.otherRef another item, for the out-of-scope write
 * @param {(name: string, ok: boolean, detail?: string) => void} o.check
 */
export async function checkAgentMcp({ pan, sim, home, stubs, project, panEnv, otherRef, check }) {
  const ref = 'DE1' // the simulator seeds a log file and a screenshot on it
  const agentDir = join(home, '.panopticon', 'agents', `agent-${ref.toLowerCase()}`)
  const res = pan(['work', 'issue', ref], { cwd: project })
  const prompt = existsSync(join(agentDir, 'initial-prompt.md')) ? readFileSync(join(agentDir, 'initial-prompt.md'), 'utf8') : ''
  check(`pan work issue ${ref}: the prompt lists its attachments and the Rally tools`,
    res.status === 0 && /### Attachments/.test(prompt) && prompt.includes('checkout-error.log (text/plain') && prompt.includes('screenshot.png (image/png') && prompt.includes('rally_get_attachment'),
    `exit ${res.status}; ${prompt.split('\n').filter((l) => /Attachments|\.log|\.png|rally_/.test(l)).join(' | ').slice(0, 400)}; stderr: ${res.stderr.trim().slice(0, 300)}`)

  // The launcher tmux would run: claude (the stub) records its arguments.
  const launcher = join(agentDir, 'launcher.sh')
  const ran = existsSync(launcher) ? spawnSync('bash', [launcher], { env: panEnv, encoding: 'utf8' }) : { status: -1 }
  const claudeLog = existsSync(join(stubs, 'claude.log')) ? readFileSync(join(stubs, 'claude.log'), 'utf8') : ''
  const configPath = new RegExp(`--mcp-config (\\S*agent-${ref.toLowerCase()}\\S*)`).exec(claudeLog)?.[1]
  const config = configPath && existsSync(configPath) ? readFileSync(configPath, 'utf8') : ''
  const server = config ? JSON.parse(config).mcpServers?.rally : undefined
  check('the agent is started with --mcp-config naming rally-mcp --issue <ref>, and no key in that file',
    ran.status === 0 && server !== undefined && /rally-mcp\.js$/.test(server.args[0]) && server.args.slice(1).join(' ') === `--issue ${ref}` && !config.includes(sim.apiKey),
    `launcher exit ${ran.status}; --mcp-config ${configPath}; ${config.replace(/\s+/g, ' ').slice(0, 300)}`)
  if (!server) return

  // The server as claude would start it: the agent's HOME, where rally-mcp finds the settings.
  const client = new Client({ name: 'e2e-agent', version: '1.0.0' })
  let detail = ''
  let ok = false
  try {
    await client.connect(new StdioClientTransport({ command: server.command, args: server.args, env: { PATH: panEnv.PATH, HOME: home }, stderr: 'ignore' }))
    const tools = (await client.listTools()).tools.map((t) => t.name)
    const item = JSON.parse((await client.callTool({ name: 'rally_get_issue', arguments: {} })).content[0].text)
    const refused = await client.callTool({ name: 'rally_add_comment', arguments: { issueId: otherRef, body: 'not mine' } })
    const said = JSON.stringify(item) + JSON.stringify(refused)
    detail = `tools ${tools.join(',')}; item ${item.ref} with ${item.attachments?.length} attachments; other write: ${refused.content[0].text.slice(0, 120)}`
    ok = tools.length === 9 && tools.includes('rally_get_attachment') && item.ref === ref && item.attachments?.length === 2 &&
      refused.isError === true && /^RALLY_OUT_OF_SCOPE/.test(refused.content[0].text) && !said.includes(sim.apiKey)
  } catch (err) {
    detail = `MCP client: ${err.message}`
  } finally {
    await client.close().catch(() => {})
  }
  check('the configured server answers tools/list, reads the item and refuses a write outside its scope', ok, detail)
}
