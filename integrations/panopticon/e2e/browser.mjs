// The board in a real browser: Debian's chromium driven by puppeteer-core, against the patched
// dashboard server with only Rally configured (config.toml; the key in ~/.panopticon.env), and
// rally-sim as the oracle. Called by e2e.mjs after its dashboard section.
//
// chromium comes from apt (installed here when missing and running as root), never a
// downloaded browser build; puppeteer-core is installed by this test into
// target/panopticon-e2e/puppeteer-core/, not as a dependency of the package.
import { spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { simWrites } from './sim-writes.mjs'
import { startDashboard, until } from './sim-io.mjs'

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))


function findChromium() {
  for (const name of ['chromium', 'chromium-browser']) {
    const res = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' })
    if (res.status === 0 && res.stdout.trim()) return res.stdout.trim()
  }
  return null
}

/** Debian's chromium, installed with apt-get when missing (as root). */
function ensureChromium() {
  let path = findChromium()
  if (path) return { path }
  if (process.getuid?.() !== 0) return { error: 'chromium is not installed and this is not root: apt-get install -y chromium' }
  console.log('Installing Debian\'s chromium (apt-get install -y chromium)...')
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  const update = spawnSync('apt-get', ['update'], { encoding: 'utf8', env })
  const install = update.status === 0 ? spawnSync('apt-get', ['install', '-y', 'chromium'], { encoding: 'utf8', env }) : update
  path = findChromium()
  return path ? { path } : { error: `apt-get install chromium failed (exit ${install.status}): ${(install.stderr ?? '').trim().slice(-300)}` }
}

/** puppeteer-core, installed once into a cache directory under target/. */
async function loadPuppeteer(cacheDir) {
  const marker = join(cacheDir, 'node_modules', 'puppeteer-core', 'package.json')
  if (!existsSync(marker)) {
    mkdirSync(cacheDir, { recursive: true })
    if (!existsSync(join(cacheDir, 'package.json'))) writeFileSync(join(cacheDir, 'package.json'), '{"private":true}\n')
    console.log('Installing puppeteer-core into target/panopticon-e2e/puppeteer-core/ (npm install)...')
    const res = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--no-save', 'puppeteer-core'], { cwd: cacheDir, encoding: 'utf8' })
    if (res.status !== 0) throw new Error(`npm install puppeteer-core failed: ${(res.stderr ?? '').slice(-500)}`)
  }
  const require = createRequire(join(cacheDir, 'package.json'))
  const mod = await import(pathToFileURL(require.resolve('puppeteer-core')).href)
  return mod.default ?? mod
}

/**
 * Stubs for the dashboard's child processes: a tmux that remembers the sessions it was asked
 * to create (so /api/agents lists the spawned agent), and `pan` as Panopticon's own CLI.
 */
function writeBrowserBin(dir, checkout) {
  mkdirSync(dir, { recursive: true })
  const sessions = join(dir, 'tmux.sessions')
  writeFileSync(sessions, '')
  const write = (name, body) => {
    writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`)
    chmodSync(join(dir, name), 0o755)
  }
  write('tmux', `echo "$@" >> "${join(dir, 'tmux.log')}"
S="${sessions}"
name_after() { want="$1"; shift; while [ $# -gt 0 ]; do if [ "$1" = "$want" ]; then echo "$2" | sed 's/^=//; s/:.*$//'; return; fi; shift; done; }
case "$1" in
  new-session) n=$(name_after -s "$@"); [ -n "$n" ] && echo "$n" >> "$S"; exit 0 ;;
  has-session) n=$(name_after -t "$@"); grep -qx "$n" "$S"; exit $? ;;
  kill-session) n=$(name_after -t "$@"); grep -vx "$n" "$S" > "$S.tmp"; mv "$S.tmp" "$S"; exit 0 ;;
  list-sessions|ls)
    [ -s "$S" ] || exit 1
    case "$*" in *session_created*) while read -r n; do echo "$n|$(date +%s)"; done < "$S" ;; *) cat "$S" ;; esac
    exit 0 ;;
  capture-pane) exit 0 ;;
esac
exit 0`)
  write('pan', `exec "${process.execPath}" "${join(checkout, 'node_modules', 'tsx', 'dist', 'cli.mjs')}" "${join(checkout, 'src', 'cli', 'index.ts')}" "$@"`)
  return { tmuxLog: join(dir, 'tmux.log') }
}

// ---------------------------------------------------------------------------------------------
// In the page

/** Every column's identifiers: { todo: ['US3', ...], in_progress: [...], ... }. */
function readColumns(page) {
  return page.$$eval('[data-column]', (cols) => Object.fromEntries(cols.map((c) => [c.dataset.column, [...c.querySelectorAll('[data-issue]')].map((e) => e.dataset.issue)])))
}

/** Clicks the button whose text matches `pattern` inside `scope`; false when there is none. */
function clickButton(page, scope, pattern) {
  return page.evaluate((scope, source) => {
    const re = new RegExp(source)
    const root = document.querySelector(scope)
    const button = root && [...root.querySelectorAll('button')].find((b) => re.test(b.textContent.trim()) && !b.disabled)
    if (!button) return false
    button.click()
    return true
  }, scope, pattern.source)
}

function buttonsOf(page, scope) {
  return page.evaluate((scope) => [...(document.querySelector(scope)?.querySelectorAll('button') ?? [])].map((b) => b.textContent.trim()).filter(Boolean), scope)
}

// ---------------------------------------------------------------------------------------------

/**
 * @param ctx { checkout, scratch, repoRoot, sim, home, stubs, project, panEnv, check, section,
 *              wsapi, writeHome, rallyToml, run }
 */
export async function browserChecks(ctx) {
  const { checkout, scratch, repoRoot, sim, home, stubs, project, panEnv, check, section, wsapi, writeHome, rallyToml, run } = ctx
  section('6. the board in a real browser (Debian chromium, puppeteer-core)')

  const chromium = ensureChromium()
  check('Debian\'s chromium is there (apt-get install chromium when missing)', Boolean(chromium.path), chromium.path ?? chromium.error)
  if (!chromium.path) return
  let puppeteer
  try {
    puppeteer = await loadPuppeteer(join(repoRoot, 'target', 'panopticon-e2e', 'puppeteer-core'))
  } catch (error) {
    check('puppeteer-core installs into target/panopticon-e2e/', false, error.message)
    return
  }

  const frontend = join(checkout, 'src', 'dashboard', 'frontend')
  const viteBin = [join(frontend, 'node_modules', '.bin', 'vite'), join(checkout, 'node_modules', '.bin', 'vite')].find(existsSync)
  const build = run(viteBin, ['build'], { cwd: frontend, env: { ...panEnv, NODE_ENV: 'production' } })
  const publicDir = join(checkout, 'dist', 'dashboard', 'public')
  check('the board builds (vite build into dist/dashboard/public)', build.status === 0 && existsSync(join(publicDir, 'index.html')), (build.stdout + build.stderr).trim().split('\n').slice(-3).join(' | '))
  if (build.status !== 0) return

  // Only config.toml names Rally's server and workspace; the env file holds the key alone
  writeHome(home, sim, { toml: rallyToml(sim, '[trackers]\nprimary = "rally"'), env: { RALLY_SERVER: undefined, RALLY_WORKSPACE: undefined } })
  writeFileSync(join(home, '.panopticon', 'projects.json'), JSON.stringify([{ name: 'project', path: project }]))
  const bin = join(scratch, 'browser-bin')
  const { tmuxLog } = writeBrowserBin(bin, checkout)
  const env = { ...panEnv, PATH: `${bin}:${stubs}:${process.env.PATH}`, RALLY_API_KEY: '' }

  const sw = simWrites(sim, wsapi)
  const targets = await sw.pickTargets()
  console.log(`items: ${Object.entries(targets).map(([k, v]) => `${k} ${v.ref}`).join(', ')}`)
  const tableCell = 'Tax rounding'
  await sw.update(targets.detail, { Description: `<p>Totals per region:</p><table><tr><th>Region</th><th>Rule</th></tr><tr><td>EU</td><td>${tableCell}</td></tr></table>` })
  const postText = 'Browser check: the discussion reaches the pane'
  await sw.post(targets.detail, `<p>${postText}</p>`)
  await sw.update(targets.reopen, { ScheduleState: 'Completed' })
  await sw.addTag(targets.reset, 'planning')

  let dashboard = null
  let browser = null
  try {
    dashboard = await startDashboard(checkout, env, project)
    // Two simultaneous first polls: one tracker
    const [a, b] = await Promise.all([0, 1].map(() => fetch(`http://127.0.0.1:${dashboard.port}/api/issues`)))
    const built = (dashboard.output().match(/Rally tracker created/g) ?? []).length
    check('two simultaneous first polls build one Rally tracker, with only config.toml naming the server',
      a.status === 200 && b.status === 200 && built === 1, `statuses ${a.status}, ${b.status}; trackers built ${built}`)

    browser = await puppeteer.launch({ executablePath: chromium.path, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] })
    const page = await browser.newPage()
    await page.setViewport({ width: 1700, height: 1000 })
    const dialogs = []
    page.on('dialog', (d) => { dialogs.push(d.message()); d.accept().catch(() => {}) })
    const issuePolls = []
    page.on('request', (r) => { if (new URL(r.url()).pathname === '/api/issues') issuePolls.push({ at: Date.now(), url: r.url() }) })
    const board = `http://127.0.0.1:${dashboard.port}/`
    await page.goto(board, { waitUntil: 'domcontentloaded' })
    await page.waitForSelector('[data-issue]', { timeout: 60_000 })
    const shots = join(repoRoot, 'target', 'panopticon-e2e')
    await page.screenshot({ path: join(shots, 'board.png') })
    console.log(`screenshot: ${join(shots, 'board.png')}`)

    const steps = new BoardSteps({ page, sim, sw, check, targets, tmuxLog, shots })
    await steps.run('columns', () => steps.columns())
    await steps.run('one poll', () => steps.onePoll(issuePolls))
    await steps.run('detail pane', () => steps.detail({ tableCell, postText }))
    await steps.run('Plan', () => steps.plan())
    await steps.run('Reset', () => steps.reset())
    await steps.run('Reopen', () => steps.reopen())
    await steps.run('Start Agent', () => steps.startAgent())
    await steps.run('Close (No Merge)', () => steps.closeNoMerge())
    await steps.run('bad key', () => steps.badKey(async (key) => {
      writeHome(home, sim, { toml: rallyToml(sim, '[trackers]\nprimary = "rally"'), env: { RALLY_API_KEY: key, RALLY_SERVER: undefined, RALLY_WORKSPACE: undefined } })
    }))
    if (dialogs.length) console.log(`confirmations accepted: ${dialogs.map((d) => d.split('\n')[0]).join(' | ')}`)
  } finally {
    writeHome(home, sim, { toml: rallyToml(sim, '[trackers]\nprimary = "rally"') })
    if (browser) await browser.close().catch(() => {})
    if (dashboard) dashboard.child.kill()
  }
}

class BoardSteps {
  constructor({ page, sim, sw, check, targets, tmuxLog, shots }) {
    Object.assign(this, { page, sim, sw, check, targets, tmuxLog, shots })
  }

  async run(name, fn) {
    try {
      await fn()
    } catch (error) {
      this.check(`browser: ${name}`, false, (error.stack ?? String(error)).split('\n').slice(0, 4).join('\n'))
    }
  }

  card(ref) {
    return `[data-issue="${ref}"]`
  }

  /** Clicks a card itself (not one of its buttons): selects or deselects it. */
  select(ref) {
    return this.page.$eval(this.card(ref), (el) => el.click())
  }

  async reload() {
    await this.page.reload({ waitUntil: 'domcontentloaded' })
    await this.page.waitForSelector('[data-column]', { timeout: 60_000 })
  }

  async columns() {
    await sleep(1000)
    const columns = await readColumns(this.page)
    const open = await this.sw.openStories()
    const column = { open: 'todo', in_progress: 'in_progress' }
    const where = Object.fromEntries(Object.entries(columns).flatMap(([c, refs]) => refs.map((r) => [r, c])))
    const untagged = open.filter((i) => !i.tags.includes('planning'))
    const wrong = untagged.filter((i) => where[i.ref] !== column[i.state]).map((i) => `${i.ref} (${i.rallyState}) in ${where[i.ref] ?? 'no column'}`)
    this.check('browser: every open Rally story is on the board in its column (Defined → To Do, In-Progress → In Progress)',
      untagged.length > 0 && wrong.length === 0, `${untagged.length} stories; misplaced: ${wrong.slice(0, 8).join(', ') || 'none'}; columns ${JSON.stringify(Object.fromEntries(Object.entries(columns).map(([c, r]) => [c, r.length])))}`)
    const tagged = open.filter((i) => i.tags.includes('planning'))
    this.check('browser: a Rally item tagged planning is in the Planning column',
      tagged.length > 0 && tagged.every((i) => where[i.ref] === 'planning'), tagged.map((i) => `${i.ref} in ${where[i.ref] ?? 'no column'}`).join(', '))
  }

  async onePoll(polls) {
    const from = Date.now()
    await sleep(10_500)
    const during = polls.filter((p) => p.at >= from)
    this.check('browser: one /api/issues poll per tab per interval (at most 3 in 10.5 s at 5 s)',
      during.length >= 1 && during.length <= 3, `${during.length} requests: ${[...new Set(during.map((p) => new URL(p.url).search || '(no query)'))].join(', ')}`)
  }

  async detail({ tableCell, postText }) {
    const { page } = this
    const t = this.targets.detail
    await this.select(t.ref)
    const pane = `[data-issue-detail="${t.ref}"]`
    await page.waitForSelector(pane, { timeout: 20_000 })
    await page.waitForSelector(`${pane} [data-section="discussion"] [data-comment-id], ${pane} [data-section="discussion"] .text-red-400`, { timeout: 30_000 }).catch(() => {})
    const seen = await page.evaluate((pane) => {
      const root = document.querySelector(pane)
      const text = (sel) => root.querySelector(sel)?.textContent.trim() ?? null
      const table = root.querySelector('[data-section="description"] table')
      return {
        state: text('[data-field="state"]'),
        type: text('[data-field="type"]'),
        parent: text('[data-field="parent"]'),
        table: table ? table.textContent : null,
        discussion: text('[data-section="discussion"]'),
        all: root.textContent,
      }
    }, pane)
    await page.screenshot({ path: join(this.shots, 'detail.png') })
    const item = await this.sw.story(t.ref)
    this.check(`browser: the detail pane shows ${t.ref}'s Rally state (${item.rallyState}), type and parent (${t.parentRef})`,
      seen.state === item.rallyState && seen.type === 'User Story' && seen.parent?.includes(t.parentRef),
      `state "${seen.state}", type "${seen.type}", parent "${seen.parent}"`)
    this.check('browser: the description\'s table is rendered as a <table> (GFM)', seen.table?.includes(tableCell) === true, `table: ${seen.table ?? 'none'}`)
    this.check('browser: the pane shows the item\'s discussion', seen.discussion?.includes(postText) === true, `discussion: ${(seen.discussion ?? 'none').slice(0, 200)}`)
    this.check('browser: no invented e-mail and no "Linear" in a Rally item\'s pane', !/@rally\b/.test(seen.all) && !/Linear/.test(seen.all), /Linear|@rally/.test(seen.all) ? seen.all.match(/.{0,40}(Linear|@rally).{0,40}/)[0] : '')
    await this.select(t.ref)
  }

  async plan() {
    const { page } = this
    const t = this.targets.plan
    const before = await this.sw.story(t.ref)
    if (!(await clickButton(page, this.card(t.ref), /^Plan$/))) throw new Error(`no Plan button on ${t.ref}: ${await buttonsOf(page, this.card(t.ref))}`)
    await page.waitForFunction(() => [...document.querySelectorAll('button')].some((b) => b.textContent.trim() === 'Start Planning'), { timeout: 20_000 })
    const dialogText = await page.evaluate(() => document.body.innerText)
    const said = dialogText.match(/.*(in Linear|in Rally).*/)?.[0] ?? ''
    await clickButton(page, 'body', /^Start Planning$/)
    const after = await until(async () => {
      const s = await this.sw.story(t.ref)
      return { ok: s.tags.includes('planning'), s }
    }, 30_000)
    this.check(`browser: Plan on ${t.ref} tags it planning in Rally (${before.rallyState} → tags ${JSON.stringify(after.s.tags)})`, after.ok, `tags ${JSON.stringify(after.s.tags)}; ScheduleState ${after.s.rallyState}`)
    this.check('browser: the Plan dialog does not say "Linear" for a Rally item', !/Linear/.test(said), said)
    await page.keyboard.press('Escape')
    await clickButton(page, 'body', /^(Close|Cancel)$/)
  }

  async reset() {
    const { page } = this
    const t = this.targets.reset
    await this.reload()
    const before = await this.sw.story(t.ref)
    // A To Do card has Reset; a Planning card has Abort, whose confirmation offers the deep wipe
    let pressed = await clickButton(page, this.card(t.ref), /^(Reset|🔥 Deep Wipe)$/)
    if (!pressed && (await clickButton(page, this.card(t.ref), /^Abort$/))) {
      pressed = await until(() => clickButton(page, this.card(t.ref), /Deep Wipe$/), 10_000)
    }
    if (!pressed) throw new Error(`no Reset button on ${t.ref}: ${await buttonsOf(page, this.card(t.ref))}`)
    const after = await until(async () => {
      const s = await this.sw.story(t.ref)
      return { ok: s.rallyState === 'Defined' && !s.tags.includes('planning'), s }
    }, 30_000)
    this.check(`browser: Reset on ${t.ref} leaves it Defined with the planning tag removed`, after.ok,
      `before ${before.rallyState} ${JSON.stringify(before.tags)}; after ${after.s.rallyState} ${JSON.stringify(after.s.tags)}`)
  }

  async reopen() {
    const { page } = this
    const t = this.targets.reopen
    await this.reload()
    await page.evaluate(() => {
      const box = [...document.querySelectorAll('label')].find((l) => /Include completed/.test(l.textContent))?.querySelector('input')
      if (box && !box.checked) box.click()
    })
    await page.waitForSelector(this.card(t.ref), { timeout: 30_000 })
    const before = await this.sw.story(t.ref)
    if (!(await clickButton(page, this.card(t.ref), /^Reopen$/))) throw new Error(`no Reopen button on ${t.ref}: ${await buttonsOf(page, this.card(t.ref))}`)
    const after = await until(async () => {
      const s = await this.sw.story(t.ref)
      return { ok: s.rallyState === 'Defined' && s.posts.length > before.posts.length, s }
    }, 30_000)
    this.check(`browser: Reopen on ${t.ref} (${before.rallyState}) leaves it Defined with a post saying so`, after.ok,
      `ScheduleState ${after.s.rallyState}; new posts ${JSON.stringify(after.s.posts.slice(before.posts.length)).slice(0, 200)}`)
    await page.evaluate(() => {
      const box = [...document.querySelectorAll('label')].find((l) => /Include completed/.test(l.textContent))?.querySelector('input')
      if (box && box.checked) box.click()
    })
  }

  async startAgent() {
    const { page } = this
    const t = this.targets.start
    await this.reload()
    if (!(await clickButton(page, this.card(t.ref), /^Start Agent$/))) throw new Error(`no Start Agent button on ${t.ref}: ${await buttonsOf(page, this.card(t.ref))}`)
    const session = `agent-${t.ref.toLowerCase()}`
    const after = await until(async () => {
      const s = await this.sw.story(t.ref)
      const log = existsSync(this.tmuxLog) ? readFileSync(this.tmuxLog, 'utf8') : ''
      return { ok: s.rallyState === 'In-Progress' && log.includes(`new-session -d -s ${session}`), s, spawned: log.includes(`new-session -d -s ${session}`) }
    }, 120_000, 1000)
    this.check(`browser: Start Agent on ${t.ref} spawns ${session} and leaves the item In-Progress`, after.ok, `spawned ${after.spawned}; ScheduleState ${after.s.rallyState}`)
  }

  async closeNoMerge() {
    const { page } = this
    const t = this.targets.start
    await this.reload()
    await page.waitForSelector(this.card(t.ref), { timeout: 30_000 })
    await this.select(t.ref)
    const found = await until(() => page.evaluate(() => [...document.querySelectorAll('button')].some((b) => b.textContent.trim() === 'Close (No Merge)')), 20_000)
    if (!found) throw new Error(`no running-agent pane with Close (No Merge) for ${t.ref}`)
    const label = await page.evaluate(() => [...document.querySelectorAll('a')].map((a) => a.textContent.trim()).find((x) => /Issue$/.test(x)) ?? '')
    await page.screenshot({ path: join(this.shots, 'agent-pane.png') })
    this.check('browser: the running agent\'s pane links "Rally Issue", not "Linear Issue"', label === 'Rally Issue', `link "${label}"`)
    const before = await this.sw.story(t.ref)
    await clickButton(page, 'body', /Close \(No Merge\)$/)
    const after = await until(async () => {
      const s = await this.sw.story(t.ref)
      return { ok: s.rallyState === 'Accepted' && s.posts.length > before.posts.length, s }
    }, 30_000)
    this.check(`browser: Close (No Merge) on ${t.ref} leaves it Accepted with a post`, after.ok,
      `ScheduleState ${after.s.rallyState}; new posts ${JSON.stringify(after.s.posts.slice(before.posts.length)).slice(0, 200)}`)
  }

  async badKey(setKey) {
    const { page } = this
    const badKey = '_browserRefusedKey0123456789abcdef'
    await setKey(badKey)
    await this.reload()
    await page.waitForSelector('[data-source-error="rally"]', { timeout: 30_000 })
    const seen = await page.evaluate(() => ({
      banner: document.querySelector('[data-source-error="rally"]').textContent,
      html: document.querySelector('[data-source-error="rally"]').innerHTML,
      columns: document.querySelectorAll('[data-column]').length,
      body: document.body.innerText,
    }))
    await page.screenshot({ path: join(this.shots, 'bad-key.png') })
    this.check('browser: a bad key keeps the columns and shows a short banner, without the key or HTML',
      seen.columns >= 5 && seen.banner.length > 0 && seen.banner.length < 300 && /Rally/.test(seen.banner) && !seen.body.includes(badKey) && !/[<>]/.test(seen.banner) && !/<[a-z]/i.test(seen.html),
      `${seen.columns} columns; banner (${seen.banner.length} chars): ${seen.banner}`)
  }
}

