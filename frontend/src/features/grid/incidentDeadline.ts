/**
 * An incident's deadline and colour (records.md): the server sets `deadline` to the date of
 * `occurred_at` + the severity's days (county settings, 1 / 3 / 7 by default); before the first
 * sync the device computes the same. Colours as a case's: green — open with more than the
 * warning days left, or ended on time; yellow — open, due within them; red — open past the
 * deadline, or ended late; grey — cancelled.
 */
import { addDays, daysBetween, shanghaiDate } from '../../sync/dates'
import type { DeadlineColor } from '../../sync/deadline'

export const INCIDENT_OPEN = ['reported', 'assigned', 'handling']
export const SEVERITY_DAYS_DEFAULT: Record<string, number> = { major: 1, serious: 3, general: 7 }

export function severityDays(severity: string, settings: Record<string, any> = {}): number {
  const v = settings[`incident_deadline_days_${severity}`]
  const n = Number(v)
  return Number.isFinite(n) && n > 0 ? n : SEVERITY_DAYS_DEFAULT[severity] ?? 7
}

export function incidentDeadline(rec: Record<string, any>, settings: Record<string, any> = {}): string | null {
  if (rec.deadline) return rec.deadline
  if (!rec.occurred_at) return null
  return addDays(shanghaiDate(new Date(rec.occurred_at)), severityDays(rec.severity, settings))
}

/** Warning days: a 1-day deadline is yellow on its day; longer ones a day before. */
function warnDays(rec: Record<string, any>, settings: Record<string, any>): number {
  const w = Number(settings.incident_deadline_warn_days)
  return Number.isFinite(w) && w >= 0 ? w : 1
}

export function incidentColor(rec: Record<string, any>, today: string = shanghaiDate(), settings: Record<string, any> = {}): DeadlineColor {
  if (rec.state === 'cancelled') return 'grey'
  const deadline = incidentDeadline(rec, settings)
  if (!deadline) return 'grey'
  if (INCIDENT_OPEN.includes(rec.state) || !rec.state) {
    const left = daysBetween(today, deadline)
    if (left < 0) return 'red'
    if (left <= warnDays(rec, settings)) return 'yellow'
    return 'green'
  }
  const ended = rec.resolved_on || (rec.resolved_at ? shanghaiDate(new Date(rec.resolved_at)) : null) || (rec.updated_at ? shanghaiDate(new Date(rec.updated_at)) : today)
  return ended <= deadline ? 'green' : 'red'
}

/** Sort for "waiting on me": overdue first, then by deadline, then newest. */
export function byUrgency(today: string, settings: Record<string, any> = {}) {
  return (a: Record<string, any>, b: Record<string, any>) => {
    const da = incidentDeadline(a, settings) || '9999-12-31', dbb = incidentDeadline(b, settings) || '9999-12-31'
    const oa = da < today ? 0 : 1, ob = dbb < today ? 0 : 1
    if (oa !== ob) return oa - ob
    if (da !== dbb) return da < dbb ? -1 : 1
    return String(b.occurred_at || '').localeCompare(String(a.occurred_at || ''))
  }
}
