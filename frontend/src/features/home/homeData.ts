/**
 * What each role's home screen counts, from the local records (so it works offline). Pure
 * functions over view rows, tested in home.test.ts.
 */
import { deadlineColor, effectiveDeadline, OPEN_STATUSES, type DeadlineSettings } from '../../sync/deadline'
import { addDays } from '../../sync/dates'
import { byUrgency, INCIDENT_OPEN, incidentDeadline } from '../grid/incidentDeadline'
import { mayCertify } from '../sixno/sixno'

export const FOLLOW_UP_EVERY_DAYS = 30

/** A mediator's cases: overdue, due soon (yellow), and follow-ups due (agreed or fulfilling, no visit in 30 days). */
export function mediatorHome(cases: Record<string, any>[], events: Record<string, any>[], userId: string, today: string, s: DeadlineSettings) {
  const mine = cases.filter((c) => (c.mediator_ids || []).includes(userId) || (!c.mediator_ids?.length && c.created_by === userId))
  const open = mine.filter((c) => OPEN_STATUSES.includes(c.status))
  const overdue = open.filter((c) => deadlineColor(c, today, s) === 'red')
  const dueSoon = open.filter((c) => deadlineColor(c, today, s) === 'yellow')
  const lastVisit = new Map<string, string>()
  for (const e of events) {
    if (e.kind !== 'follow_up') continue
    const d = String(e.occurred_at || '').slice(0, 10)
    if (d > (lastVisit.get(e.case_id) || '')) lastVisit.set(e.case_id, d)
  }
  const cutoff = addDays(today, -FOLLOW_UP_EVERY_DAYS)
  const followUps = mine.filter((c) => {
    if (!['agreed', 'fulfilling'].includes(c.status)) return false
    const since = lastVisit.get(c.id) || c.agreement?.signed_on || c.ended_on || c.received_on || today
    return since <= cutoff
  })
  const byDeadline = (a: any, b: any) => String(effectiveDeadline(a, s)).localeCompare(String(effectiveDeadline(b, s)))
  return { open: open.length, overdue: overdue.sort(byDeadline), dueSoon: dueSoon.sort(byDeadline), followUps }
}

const RISK_ORDER: Record<string, number> = { red: 0, orange: 1, yellow: 2, blue: 3 }

/**
 * Open cases of the village that no mediator has yet (a grid worker's intake, say): the village's mediators and
 * admin see them as 待分派 so none is lost. Red-risk first, then overdue, then by deadline.
 */
export function unassignedCases(cases: Record<string, any>[], orgCode: string, today: string, s: DeadlineSettings) {
  const rows = cases.filter((c) => OPEN_STATUSES.includes(c.status) && !c._rejected && !(c.mediator_ids || []).length
    && !!orgCode && String(c.org_code || '').startsWith(orgCode))
  const key = (c: any) => [c.risk_level === 'red' ? 0 : 1, deadlineColor(c, today, s) === 'red' ? 0 : 1] as const
  return rows.sort((a, b) => {
    const [ka, kb] = [key(a), key(b)]
    return ka[0] - kb[0] || ka[1] - kb[1]
      || String(effectiveDeadline(a, s)).localeCompare(String(effectiveDeadline(b, s)))
      || (RISK_ORDER[a.risk_level] ?? 9) - (RISK_ORDER[b.risk_level] ?? 9)
  })
}

/** A grid worker's day: the patrol in progress (or today's), and incidents waiting on them, overdue first. */
export function gridHome(patrols: Record<string, any>[], incidents: Record<string, any>[], userId: string, today: string, settings: Record<string, any> = {}) {
  const mine = (p: any) => p.created_by === userId || (!p.created_by && p._pending)
  const current = patrols.find((p) => p.state === 'in_progress' && mine(p)) || null
  const todays = patrols.filter((p) => mine(p) && String(p.started_at || '').slice(0, 10) === today)
  const waiting = incidents
    .filter((i) => INCIDENT_OPEN.includes(i.state) && (i.assignee_id === userId || (!i.assignee_id && (i.created_by === userId || (!i.created_by && i._pending)))))
    .sort(byUrgency(today, settings))
  const overdue = waiting.filter((i) => (incidentDeadline(i, settings) || '9999') < today).length
  return { current, todays, waiting, overdue }
}

/** The village at a glance (a village admin's home). */
export function villageHome(input: {
  cases: Record<string, any>[]; incidents: Record<string, any>[]; patrols: Record<string, any>[]; households: Record<string, any>[]
  year: number; today: string; s: DeadlineSettings; settings?: Record<string, any>
}) {
  const { cases, incidents, patrols, households, year, today, s } = input
  const openCases = cases.filter((c) => OPEN_STATUSES.includes(c.status))
  const weekAgo = addDays(today, -7)
  const active = households.filter((h) => h.active !== false)
  const safe = active.filter((h) => (h.safe_certified_years || []).includes(year))
  return {
    openCases: openCases.length,
    overdueCases: openCases.filter((c) => deadlineColor(c, today, s) === 'red').length,
    unassigned: incidents.filter((i) => i.state === 'reported').length,
    openIncidents: incidents.filter((i) => INCIDENT_OPEN.includes(i.state)).length,
    overdueIncidents: incidents.filter((i) => INCIDENT_OPEN.includes(i.state) && (incidentDeadline(i, input.settings) || '9999') < today).length,
    toVerify: incidents.filter((i) => i.state === 'resolved').length,
    patrolsWeek: patrols.filter((p) => String(p.started_at || '').slice(0, 10) > weekAgo).length,
    households: active.length,
    safe: safe.length,
    safeRate: active.length ? safe.length / active.length : 0,
  }
}

/**
 * The township's 待认定六无村: this year's reports it can certify now (self-assessed or re-opened, no indicator
 * broken) — what the tile opens (/six-no shows this year), not the reports a broken indicator holds back.
 */
export function townToCertify(reports: Record<string, any>[], year: number): number {
  return reports.filter((r) => Number(r.year) === year && !r._rejected && mayCertify(r)).length
}
