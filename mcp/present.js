'use strict'
// Tool results as MCP content: items and lists as JSON text an agent reads easily, text
// attachments as text, images as image content.

const json = (value) => ({ content: [{ type: 'text', text: JSON.stringify(value, null, 2) }] })

/** The fields of an item worth showing in a list or as a relative. */
function brief(i) {
  const out = { ref: i.ref, id: i.id, artifactType: i.artifactType, title: i.title, state: i.state }
  for (const k of ['rallyState', 'assignee', 'blocked', 'blockedReason', 'estimate', 'toDo', 'actuals', 'url']) {
    if (i[k] !== undefined) out[k] = i[k]
  }
  return out
}

const PR = /https?:\/\/[^\s)<>"\]]+\/(?:pull|pulls|merge_requests|pull-requests)\/\d+/gi

const TEXT_TYPES = /^(text\/|application\/(json|xml|x-yaml|yaml|javascript|x-sh|x-ndjson|csv|sql|toml)\b)|\+(json|xml)\b/i
const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp'])

/** Bytes that decode as UTF-8 text without control characters other than tab and newlines. */
function asText(bytes) {
  try {
    const t = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
    return /[\u0000-\u0008\u000e-\u001f]/.test(t) ? undefined : t
  } catch {
    return undefined
  }
}

/** The image type the bytes really are (a screenshot saved as application/octet-stream still shows). */
function sniffImage(b) {
  const starts = (...sig) => sig.every((x, i) => b[i] === x)
  if (starts(0x89, 0x50, 0x4e, 0x47)) return 'image/png'
  if (starts(0xff, 0xd8, 0xff)) return 'image/jpeg'
  if (starts(0x47, 0x49, 0x46, 0x38)) return 'image/gif'
  if (starts(0x52, 0x49, 0x46, 0x46) && b[8] === 0x57 && b[9] === 0x45) return 'image/webp'
  return undefined
}

const present = {
  text: (t) => ({ content: [{ type: 'text', text: t }] }),
  issue: (i) => json(i),
  comment: (c) => json(c),
  list(found, limit) {
    return json({ count: found.length, limit, items: found.map(brief) })
  },
  item(issue, { parent, children, comments, all, attachments }) {
    const linked = new Set(issue.pullRequests ?? [])
    for (const c of all) for (const m of c.body.matchAll(PR)) linked.add(m[0])
    const total = all.length
    return json({
      ...issue,
      parent: parent ? brief(parent) : issue.parentRef ? { ref: issue.parentRef, id: issue.parentId } : null,
      children: children.filter((c) => c.artifactType !== 'Task').map(brief),
      tasks: children.filter((c) => c.artifactType === 'Task').map(brief),
      discussion: { total, shown: comments.length, posts: comments.map(({ author, createdAt, body }) => ({ author, createdAt, body })) },
      attachments: attachments.map(({ id, name, contentType, size, description, author, createdAt }) => ({
        id,
        name,
        contentType,
        size,
        ...(description ? { description } : {}),
        ...(author ? { author } : {}),
        createdAt,
      })),
      pullRequestLinks: [...linked],
    })
  },
  attachment({ attachment: a, content }) {
    const head = `${a.name} (${a.contentType || 'no content type'}, ${a.size} bytes, on ${a.issueId})`
    const bytes = Buffer.from(content.buffer, content.byteOffset, content.byteLength)
    const image = IMAGE_TYPES.has(a.contentType.toLowerCase()) ? sniffImage(bytes) ?? a.contentType : sniffImage(bytes)
    if (image) {
      return { content: [{ type: 'text', text: head }, { type: 'image', data: bytes.toString('base64'), mimeType: image }] }
    }
    const t = TEXT_TYPES.test(a.contentType) || !a.contentType || a.contentType === 'application/octet-stream' ? asText(bytes) : undefined
    if (t !== undefined) return { content: [{ type: 'text', text: `${head}:\n\n${t}` }] }
    return {
      content: [
        {
          type: 'text',
          text: `${head}: a binary file this server does not show (neither text nor an image). ${a.description ? `Description: ${a.description}` : ''}`.trim(),
        },
      ],
    }
  },
}

module.exports = { present, brief }
