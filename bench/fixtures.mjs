// A list data set made of the recorded WSAPI responses in ../shared/fixtures/wsapi (relative to
// the repository): their descriptions, acceptance criteria and HTML, the names they carry
// (projects, iterations, workspaces, owners) as tags, scaled to N stories in the simulator, each
// with an owner and a parent feature. The code was not tuned on it: the point is data shaped
// like a real workspace's rather than like the simulator's own seed.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, wsapi } from './lib.mjs';

export const FIXTURES_DIR = path.resolve(ROOT, '../shared/fixtures/wsapi');

const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const looksHtml = (s) => /<[a-z][^>]*>/i.test(s);

/** Every text worth listing in the fixtures, by kind. */
function harvest(o, into) {
  if (Array.isArray(o)) {
    for (const x of o) harvest(x, into);
    return;
  }
  if (!o || typeof o !== 'object') return;
  for (const [k, v] of Object.entries(o)) {
    if (typeof v === 'string' && v.trim()) {
      if (k === 'Description' || k === 'Notes' || k === 'c_AcceptanceCriteria') into.texts.add(v);
      if (k === 'Name' && v.length <= 60) into.names.add(v);
    }
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      // Names of the things an artifact points at (project, iteration, owner, workspace...).
      if (typeof v._refObjectName === 'string' && v._refObjectName.trim()) {
        (k === 'Owner' || k === 'SubmittedBy' || k === 'CreatedBy' ? into.owners : into.names).add(v._refObjectName);
      }
      for (const t of v._tagsNameArray ?? []) if (t?.Name) into.tags.add(t.Name);
    }
    harvest(v, into);
  }
}

/** `{ ok, why }` or `{ ok: true, texts, tags, owners }` from the fixture directory. */
export function loadFixtures(dir = FIXTURES_DIR) {
  if (!existsSync(dir)) return { ok: false, why: `no recorded fixtures at ${dir}` };
  const into = { texts: new Set(), names: new Set(), owners: new Set(), tags: new Set() };
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.json')).sort()) {
    try {
      harvest(JSON.parse(readFileSync(path.join(dir, f), 'utf8')), into);
    } catch {
      // A fixture that is not JSON (none today) is simply not used.
    }
  }
  const texts = [...into.texts];
  if (!texts.length) return { ok: false, why: `no descriptions in the fixtures at ${dir}` };
  // The recorded Tags collections are empty: the names the fixtures carry serve as tags
  // (Rally's limit is 32 characters).
  const tags = [...new Set([...into.tags, ...into.names].map((n) => n.trim().slice(0, 32)).filter(Boolean))];
  return { ok: true, texts, tags, owners: [...into.owners] };
}

/**
 * A description as Rally's editor would store one made of these texts: paragraphs, a bold
 * heading, a list, a link, a small table, entities. `i` varies which texts and in what order.
 */
export function describe(fx, i) {
  const t = (k) => fx.texts[(i + k) % fx.texts.length];
  const para = (s) => (looksHtml(s) ? s : `<p>${esc(s)}</p>`);
  const owner = fx.owners.length ? fx.owners[i % fx.owners.length] : 'the owner';
  return `${para(t(0))}<div><b>Acceptance criteria</b></div><ul><li>${esc(t(1).replace(/<[^>]*>/g, ''))}</li>`
    + `<li>Reviewed by <i>${esc(owner)}</i> &amp; the team&nbsp;lead</li></ul>${para(t(2))}`
    + `<table><tbody><tr><td>Item</td><td>${i}</td></tr><tr><td>Source</td><td>`
    + `<a href="https://rally1.rallydev.com/#/detail/userstory/${1000 + i}">US${1000 + i}</a></td></tr></tbody></table>`;
}

/**
 * Gives every one of the `n` stories in the simulator's project (scoped down) a description
 * built from the fixtures, 3 tags, an owner and a parent feature, through WSAPI.
 */
export async function applyFixtures(sim, fx, n) {
  const q = (o) => new URLSearchParams({ pagesize: '2000', ...o });
  const users = (await wsapi(sim, `users?${q({ fetch: 'ObjectID,UserName' })}`)).Results;
  const features = (await wsapi(sim, `portfolioitem/feature?${q({ fetch: 'ObjectID' })}`)).Results;
  const tagRefs = [];
  for (const name of fx.tags.slice(0, 24)) {
    const found = (await wsapi(sim, `tag?${q({ fetch: 'ObjectID', query: `(Name = "${name.replace(/"/g, '')}")` })}`)).Results;
    const r = found[0] ?? (await wsapi(sim, 'tag/create?fetch=ObjectID', {
      method: 'POST', body: JSON.stringify({ Tag: { Name: name } }),
    })).Object;
    tagRefs.push(`/tag/${r.ObjectID}`);
  }
  const oids = [];
  for (let start = 1; oids.length < n; start += 2000) {
    const page = await wsapi(sim, `hierarchicalrequirement?${q({
      fetch: 'ObjectID', order: 'ObjectID', start: String(start), project: sim.project, projectScopeDown: 'true',
    })}`);
    oids.push(...page.Results.map((a) => a.ObjectID));
    if (page.Results.length < 2000) break;
  }
  if (oids.length !== n) throw new Error(`fixture set: ${oids.length} stories in scope, ${n} wanted`);
  let next = 0;
  const worker = async () => {
    while (next < oids.length) {
      const i = next++;
      const fields = { Description: describe(fx, i) };
      if (tagRefs.length) fields.Tags = [0, 1, 2].map((k) => ({ _ref: tagRefs[(i + k * 7) % tagRefs.length] }));
      if (users.length) fields.Owner = { _ref: `/user/${users[i % users.length].ObjectID}` };
      if (features.length) fields.PortfolioItem = { _ref: `/portfolioitem/feature/${features[i % features.length].ObjectID}` };
      const post = (f) => wsapi(sim, `hierarchicalrequirement/${oids[i]}`, {
        method: 'POST', body: JSON.stringify({ HierarchicalRequirement: f }),
      });
      // A story with a parent story cannot also have a feature: it keeps its parent.
      await post(fields).catch(() => post({ ...fields, PortfolioItem: undefined }));
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}
