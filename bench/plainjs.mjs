// The plain-JS incumbent for the CPU comparison: what a TypeScript adapter does with a WSAPI
// QueryResult after `JSON.parse`. Deliberately cheap: the HTML "conversion" is a naive regex
// strip, far less work than the addon's real HTML→Markdown, so the comparison favours JS.

const TYPES = {
  HierarchicalRequirement: ['UserStory', 'userstory'],
  Defect: ['Defect', 'defect'],
  Task: ['Task', 'task'],
  'PortfolioItem/Feature': ['Feature', 'portfolioitem/feature'],
};
const PRIORITY = { 'Resolve Immediately': 1, 'High Attention': 2, Normal: 3, Low: 4 };
const ENTITIES = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'", '&nbsp;': ' ' };

export function stripHtmlNaive(html) {
  if (!html) return '';
  return html
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/(p|div|li|h\d)>/gi, '\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&(amp|lt|gt|quot|#39|nbsp);/g, (m) => ENTITIES[m])
    .trim();
}

function state(a) {
  const s = typeof a.State === 'string' ? a.State : a.State?.Name ?? a.State?._refObjectName;
  if (a._type === 'Defect' && s === 'Closed') return 'closed';
  const v = a._type === 'Task' ? s : a._type.startsWith('PortfolioItem') ? null : a.ScheduleState;
  if (v === 'In-Progress') return 'in_progress';
  if (v === 'Completed' || v === 'Accepted') return 'closed';
  return 'open';
}

const oidOf = (r) => r?.ObjectID ?? (r?._ref ? Number(r._ref.slice(r._ref.lastIndexOf('/') + 1)) : undefined);

export function mapArtifactNaive(a, webBase) {
  const [artifactType, webType] = TYPES[a._type] ?? ['UserStory', 'userstory'];
  const parent = a.Parent ?? a.PortfolioItem ?? a.WorkProduct ?? a.Requirement ?? null;
  const issue = {
    id: String(a.ObjectID),
    ref: a.FormattedID,
    title: a.Name ?? '',
    description: stripHtmlNaive(a.Description),
    state: state(a),
    labels: (a.Tags?._tagsNameArray ?? []).map((t) => t.Name),
    url: `${webBase}/#/detail/${webType}/${a.ObjectID}`,
    tracker: 'rally',
    createdAt: a.CreationDate,
    updatedAt: a.LastUpdateDate,
    artifactType,
  };
  if (a.Owner) issue.assignee = a.Owner._refObjectName;
  const p = PRIORITY[a.Priority];
  if (p) issue.priority = p;
  const due = a.TargetDate ?? a.PlannedEndDate;
  if (due) issue.dueDate = due;
  if (parent) {
    issue.parentId = String(oidOf(parent));
    if (parent.FormattedID) issue.parentRef = parent.FormattedID;
  }
  const raw = a._type === 'Task' || a._type === 'Defect' ? a.State : a.ScheduleState;
  if (typeof raw === 'string') issue.rallyState = raw;
  return issue;
}
