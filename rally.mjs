// ESM entry: the same classes as the CommonJS entry (one module instance, so `instanceof`
// agrees whichever way a program loads the package).
import rally from './rally.js'

export const { RallyTracker, RallyError, IssueNotFoundError, TrackerAuthError, parseIssueId } = rally
export default rally
