/**
 * What a drill-down row says and where it leads: the records behind a dashboard number (cases, incidents,
 * patrols, households, six-no reports, nominations, points entries, villages, mediators), each described as a
 * person reads it — title or name, village by name, date — and linked to its page where the app has one.
 * Pure functions: names come in through a Namer, so the logic is tested without the app (drill.test.ts).
 */

export type DrillKind = 'case' | 'incident' | 'patrol' | 'household' | 'six_no_report' | 'nomination' | 'points_entry'
  | 'unit' | 'mediator' | 'other'

/** Names the row needs, in the UI's language. */
export interface Namer {
  /** an org unit's name by code (a village, township or grid); the code itself when unknown */
  org: (code: string | null | undefined) => string
  /** a code's name in its code table (case_status, incident_type, six_no_indicator …) */
  code: (table: string, code: string | null | undefined) => string
  /** a message of the app */
  t: (key: string, params?: Record<string, unknown>) => string
}

export interface DrillRow {
  /** the record's main words: case number and title, incident title, grid and time … */
  text: string
  /** what tells rows apart: village, state, date … */
  detail: string[]
  /** the record's page in the app, or null (no page: households, villages, mediators) */
  to: string | null
}

const PATHS: [RegExp, DrillKind][] = [
  [/\/mediation-cases\b/, 'case'],
  [/\/incidents\b/, 'incident'],
  [/\/patrols\b/, 'patrol'],
  [/\/households\b/, 'household'],
  [/\/six-no-reports\b/, 'six_no_report'],
  [/\/nominations\b/, 'nomination'],
  [/\/points-entries\b/, 'points_entry'],
  [/\/dashboard\/units\b/, 'unit'],
  [/\/dashboard\/mediators\b/, 'mediator'],
]

/** The record type a drill link lists (from its API path). */
export function drillKind(url: string | null | undefined): DrillKind {
  const path = (url || '').split('?')[0]
  return PATHS.find(([re]) => re.test(path))?.[1] || 'other'
}

/** The record type of a dashboard list (overdue_cases, overdue_incidents, notices_in_progress …). */
export function listKind(key: string): DrillKind {
  if (key.endsWith('_cases')) return 'case'
  if (key.endsWith('_incidents')) return 'incident'
  if (key.startsWith('notices')) return 'nomination'
  return 'other'
}

/** 万福村村民委员会 → 万福村 (how people name a village). */
export function shortName(name: string): string {
  return name.replace(/(村民委员会|居民委员会|社区居委会|村委会)$/, '') || name
}

/** An ISO instant as Asia/Shanghai wall time to the minute: 2026-10-08 09:30. */
export function shanghaiMinute(iso: string | null | undefined): string {
  if (!iso) return ''
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).formatToParts(d).map((p) => [p.type, p.value]))
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`
}

/** The page of a record in the app, where there is one. */
export function recordLink(kind: DrillKind, it: Record<string, any>): string | null {
  if (!it?.id && kind !== 'six_no_report') return null
  switch (kind) {
    case 'case': return `/cases/${it.id}`
    case 'incident': return `/incidents/${it.id}`
    case 'patrol': return `/patrols/${it.id}`
    case 'nomination': return `/nominations/${it.id}`
    case 'six_no_report': return it.org_code && it.year ? `/six-no/${it.org_code}/${it.year}` : null
    case 'points_entry': return it.household_id ? `/points/households/${it.household_id}` : null
    default: return null // households (no page of their own), villages, mediators
  }
}

/** The village (or unit) a record belongs to, by its short name. */
function place(it: Record<string, any>, n: Namer): string {
  const name = it.org_name || (it.org_code ? n.org(it.org_code) : '')
  return name ? shortName(name) : ''
}

/** A grid by name, with its village when the name does not say it (every village has a 一组网格). */
export function gridLabel(code: string | null | undefined, n: Namer): string {
  if (!code) return n.t('dash.noGrid')
  const name = n.org(code)
  if (name === code) return code
  const village = code.length > 12 ? shortName(n.org(code.slice(0, 12))) : ''
  return village && village !== code.slice(0, 12) && !name.startsWith(village) ? `${village}${name}` : name
}

/** Parties as the server gave them (already masked for a role that may not see them): 张三、欧阳娜娜. */
function parties(p: unknown): string {
  if (typeof p === 'string') return p
  return Array.isArray(p) ? p.map((x: any) => x?.name).filter(Boolean).join('、') : ''
}

const clean = (xs: (string | null | undefined | false)[]): string[] => xs.filter((x): x is string => !!x)

/** How one record of a drill list (or of a dashboard list) reads, and where it leads. */
export function drillRow(kind: DrillKind, it: Record<string, any>, n: Namer): DrillRow {
  const to = recordLink(kind, it)
  switch (kind) {
    case 'case':
      return { to, text: `${it.case_number || n.t('dash.pending')} · ${it.title || ''}`,
        detail: clean([place(it, n), parties(it.parties), n.code('case_status', it.status), it.received_on && n.t('dash.receivedOn', { d: it.received_on })]) }
    case 'incident':
      return { to, text: it.title || n.code('incident_type', it.type),
        detail: clean([place(it, n), n.code('incident_type', it.type), n.code('incident_severity', it.severity), n.code('incident_state', it.state), shanghaiMinute(it.occurred_at)]) }
    case 'patrol': {
      const start = shanghaiMinute(it.started_at)
      const end = it.ended_at ? shanghaiMinute(it.ended_at) : ''
      const span = end && end.slice(0, 10) === start.slice(0, 10) ? `${start}–${end.slice(11)}` : clean([start, end]).join(' – ')
      const grid = gridLabel(it.grid_code, n)
      const village = place(it, n)
      return { to, text: `${grid} · ${span}`, detail: clean([!grid.startsWith(village) && village, n.code('patrol_state', it.state)]) }
    }
    case 'household': {
      const grid = it.grid_code ? gridLabel(it.grid_code, n) : ''
      const village = place(it, n)
      return { to, text: it.head_name || '—', detail: clean([grid && grid.startsWith(village) ? grid : village, grid && !grid.startsWith(village) && grid, it.members && n.t('dash.members', { n: it.members })]) }
    }
    case 'six_no_report': {
      const broken = (it.indicators || []).filter((i: any) => i?.status === 'broken').map((i: any) => n.code('six_no_indicator', i.code))
      return { to, text: `${place(it, n)} · ${n.t('dash.yearN', { y: it.year })}`,
        detail: clean([n.code('six_no_state', it.state), broken.length && n.t('dash.broken', { list: broken.join('、') })]) }
    }
    case 'nomination':
      return { to, text: it.nominee_name || '—',
        detail: clean([place(it, n), n.code('nomination_category', it.category), n.code('nomination_state', it.state),
          it.awarded_on ? n.t('dash.awardedOn', { d: it.awarded_on }) : it.notice_ends_on && n.t('dash.noticeUntil', { d: it.notice_ends_on })]) }
    case 'points_entry':
      return { to, text: `${n.code('points_rule', it.rule)} ${it.points > 0 ? '+' : ''}${it.points ?? ''}`, detail: clean([place(it, n), it.reason, it.occurred_on]) }
    case 'unit':
      return { to, text: shortName(it.org_name || n.org(it.org_code)), detail: it.mediators !== undefined ? [n.t('dash.mediatorsN', { n: it.mediators })] : [] }
    case 'mediator':
      return { to, text: it.display_name || '—', detail: clean([place(it, n)]) }
    default:
      return { to, text: it.title || it.display_name || it.nominee_name || it.head_name || it.org_name || it.id || '', detail: clean([place(it, n)]) }
  }
}
