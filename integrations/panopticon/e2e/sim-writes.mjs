// The browser test's view of rally-sim over WSAPI: picking the stories each step acts on,
// setting up what a step needs (a description with a table, a post, a Completed item, a tag),
// and reading a story back (state, tags, posts) after each step.

const api = (sim, path) => `${sim.url}/slm/webservice/v2.0/${path}`

async function send(sim, path, body) {
  const res = await fetch(api(sim, path), {
    method: 'POST',
    headers: { ZSESSIONID: sim.apiKey, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  })
  const json = await res.json()
  const result = json.OperationResult ?? json.CreateResult ?? Object.values(json)[0]
  if (!res.ok || result?.Errors?.length) throw new Error(`POST ${path}: ${res.status} ${JSON.stringify(json).slice(0, 300)}`)
  return result
}

async function get(sim, url, fetchFields) {
  const u = new URL(url)
  u.searchParams.set('fetch', fetchFields)
  const res = await fetch(u, { headers: { ZSESSIONID: sim.apiKey } })
  const json = await res.json()
  return Object.values(json)[0]
}

export function simWrites(sim, wsapi) {
  const storyByRef = async (ref) => {
    const [s] = await wsapi(sim, 'hierarchicalrequirement', { query: `(FormattedID = "${ref}")`, fetch: 'FormattedID,ScheduleState,ObjectID' })
    if (!s) throw new Error(`no story ${ref} in the simulator`)
    return s
  }

  return {
    /** Five distinct open stories: detail (with a parent), plan, reset, start (Defined), reopen. */
    async pickTargets() {
      const stories = await wsapi(sim, 'hierarchicalrequirement', { query: '(ScheduleState = "Defined")', fetch: 'FormattedID,ScheduleState,ObjectID,PortfolioItem,Parent', order: 'FormattedID' })
      const touched = new Set(['US1', 'US2'])
      const free = stories.filter((s) => !touched.has(s.FormattedID))
      const withParent = free.find((s) => s.PortfolioItem?._ref || s.Parent?._ref)
      if (!withParent) throw new Error('no Defined story with a parent in the simulator')
      const parent = await get(sim, (withParent.PortfolioItem ?? withParent.Parent)._ref, 'FormattedID')
      const rest = free.filter((s) => s !== withParent)
      if (rest.length < 4) throw new Error(`only ${rest.length + 1} Defined stories to act on`)
      const t = (s) => ({ ref: s.FormattedID, oid: s.ObjectID })
      return {
        detail: { ...t(withParent), parentRef: parent.FormattedID },
        plan: t(rest[0]),
        reset: t(rest[1]),
        start: t(rest[2]),
        reopen: t(rest[3]),
      }
    },

    update(target, fields) {
      return send(sim, `hierarchicalrequirement/${target.oid}`, { HierarchicalRequirement: fields })
    },

    post(target, html) {
      return send(sim, 'conversationpost/create', { ConversationPost: { Artifact: `/hierarchicalrequirement/${target.oid}`, Text: html } })
    },

    async addTag(target, name) {
      let [tag] = await wsapi(sim, 'tag', { query: `(Name = "${name}")`, fetch: 'Name,ObjectID' })
      if (!tag) tag = (await send(sim, 'tag/create', { Tag: { Name: name } })).Object
      const ref = tag._ref ?? `/tag/${tag.ObjectID}`
      return send(sim, `HierarchicalRequirement/${target.oid}/Tags/add`, { CollectionItems: [{ _ref: ref.replace(/^.*\/tag\//i, '/tag/') }] })
    },

    /** A story as Rally has it now: ScheduleState, tag names, post texts (oldest first). */
    async story(ref) {
      const s = await storyByRef(ref)
      const [tags, posts] = await Promise.all([
        wsapi(sim, `HierarchicalRequirement/${s.ObjectID}/Tags`, { fetch: 'Name' }),
        wsapi(sim, `HierarchicalRequirement/${s.ObjectID}/Discussion`, { fetch: 'Text,CreationDate', order: 'CreationDate' }),
      ])
      return { ref, rallyState: s.ScheduleState, tags: tags.map((t) => t.Name), posts: posts.map((p) => p.Text) }
    },

    /** Open stories with their Panopticon state and whether they carry a given tag. */
    async openStories() {
      const [stories, tagged] = await Promise.all([
        wsapi(sim, 'hierarchicalrequirement', { query: '((ScheduleState = "Defined") OR (ScheduleState = "In-Progress"))', fetch: 'FormattedID,ScheduleState' }),
        wsapi(sim, 'hierarchicalrequirement', { query: '(Tags.Name contains "planning")', fetch: 'FormattedID' }),
      ])
      const planning = new Set(tagged.map((s) => s.FormattedID))
      return stories.map((s) => ({
        ref: s.FormattedID,
        rallyState: s.ScheduleState,
        state: s.ScheduleState === 'Defined' ? 'open' : 'in_progress',
        tags: planning.has(s.FormattedID) ? ['planning'] : [],
      }))
    },
  }
}
