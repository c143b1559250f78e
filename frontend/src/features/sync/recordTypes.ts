/**
 * What the sync centre and the conflict screen need to know about each record type, in one place: the
 * type's name, how a record is titled (郭淑珍（助人为乐推荐）, 万福村 2025 年六无创建, 王建国户 +5 志愿服务), each
 * field's label and code table, how a value reads (codes by name, people and households by name, six-no
 * indicators as a list) and which fields a person may correct in a fix form. A new record type registers here
 * once. Pure functions over a `Names` (vitest: recordTypes.test.ts); fieldLabels.ts binds them to the app.
 *
 * Never editable in a fix form: the unit (org_code), the state (state / status: changed by the record's own
 * actions, under its state machine), fields the server sets, ids and lists (photos, parties, indicators).
 */
import { gridLabel, shanghaiMinute, shortName, type Namer } from '../dashboard/drill'

/** How a fix form edits a field (a field without one is never offered there). */
export type Widget = 'text' | 'textarea' | 'tel' | 'number' | 'date' | 'datetime' | 'choice'

/** How a value reads when it is not plain text or a code. */
export type ValueKind = 'datetime' | 'user' | 'users' | 'household' | 'org' | 'grid' | 'photos' | 'bool' | 'indicators'
  | 'checklist' | 'route' | 'location' | 'nomination' | 'case' | 'points' | 'extensions' | 'parties' | 'object' | 'incidents'

export interface FieldSpec {
  /** message key of the label */
  label: string
  /** the code table that names the value(s) */
  codes?: string
  kind?: ValueKind
  /** offered in a fix form with this widget (choice: the `codes` table) */
  widget?: Widget
}

/** Names for codes, units, people and the records the device holds (all synchronous). */
export interface Names extends Namer {
  /** a user's name; '' when unknown */
  user: (id: string | null | undefined) => string
  /** a record this device holds (view row), by type and id */
  record: (entity: string, id: string | null | undefined) => Record<string, any> | undefined
}

export interface RecordType {
  entity: string
  /** message key: the record type's name (道德模范推荐) */
  label: string
  /** message key: what making a new one is called (推荐, 记积分, 登记纠纷) */
  create: string
  /** the field its state machine moves, and the code table naming the states */
  state?: { field: 'state' | 'status'; codes: string }
  fields: Record<string, FieldSpec>
  /** how the record is called in lists ('' when its fields do not tell) */
  title: (rec: Record<string, any>, n: Names) => string
  /** the page of the record on the phone */
  link?: (rec: Record<string, any>) => string | null
  /** records the title needs (a points entry's household, an objection's nomination) */
  refs?: (rec: Record<string, any>) => [string, string][]
  /** a fix of a refused change opens this form (the record type's own form, with every field) */
  fixRoute?: (mutationId: string) => string
}

const PHOTOS: FieldSpec = { label: 'rt.f.photos', kind: 'photos' }
const VILLAGE: FieldSpec = { label: 'form.village', kind: 'org' }
const GRID: FieldSpec = { label: 'grid.grid', kind: 'grid' }

/** Fields every record type has, the same everywhere. */
const COMMON: Record<string, FieldSpec> = {
  org_code: VILLAGE, attachment_ids: PHOTOS, deleted: { label: 'conflict.deletedField', kind: 'bool' },
}

/** Fields of mediation cases and their events (the case form edits them; labels as the case screens say). */
const CASE_FIELDS: Record<string, FieldSpec> = {
  title: { label: 'form.summary' }, description: { label: 'form.description' }, category: { label: 'form.category', codes: 'case_category' },
  source: { label: 'form.source', codes: 'case_source' }, risk_level: { label: 'form.risk', codes: 'risk_level' },
  escalation_flag: { label: 'form.escalation', kind: 'bool' }, escalation_note: { label: 'form.escalationNote' }, place: { label: 'form.place' },
  received_on: { label: 'form.receivedOn' }, parties: { label: 'form.parties', kind: 'parties' }, status: { label: 'cases.status', codes: 'case_status' },
  agreement: { label: 'detail.agreement', kind: 'object' }, outcome_note: { label: 'detail.outcomeNote' },
  deadline_extensions: { label: 'detail.extend', kind: 'extensions' }, amount_in_dispute: { label: 'form.amount' }, people_involved: { label: 'form.people' },
  mediator_ids: { label: 'form.mediators', kind: 'users' },
  'parties.name': { label: 'form.partyName' }, 'parties.role': { label: 'form.partyRole' }, 'parties.phone': { label: 'form.phone' },
  'parties.id_number': { label: 'form.idNumber' }, 'parties.address': { label: 'form.address' }, 'parties.gender': { label: 'form.gender' },
  'agreement.terms': { label: 'agreement.terms' }, 'agreement.amount': { label: 'agreement.amount' }, 'agreement.performance': { label: 'agreement.performance' },
  'agreement.signed_on': { label: 'agreement.signedOn' }, 'agreement.court_confirmation': { label: 'agreement.court' }, 'agreement.form': { label: 'agreement.form' },
  'agreement.perform_by': { label: 'rt.f.performBy' },
  'deadline_extensions.new_deadline': { label: 'detail.newDeadline' }, 'deadline_extensions.reason': { label: 'detail.reason' },
}

const EVENT_FIELDS: Record<string, FieldSpec> = {
  case_id: { label: 'conflict.caseField', kind: 'case' }, kind: { label: 'event.kind', codes: 'case_event_kind' },
  occurred_at: { label: 'event.when', kind: 'datetime', widget: 'datetime' }, participants: { label: 'event.participants', widget: 'text' },
  content: { label: 'event.content', widget: 'textarea' }, outcome: { label: 'event.outcome', widget: 'textarea' },
  fulfilled: { label: 'event.fulfilled', kind: 'bool' }, satisfaction: { label: 'event.satisfaction' },
  escalation_signs: { label: 'event.escalationSigns', kind: 'bool' },
}

function signed(points: unknown): string {
  const n = Number(points)
  if (!Number.isFinite(n)) return ''
  return n > 0 ? `+${n}` : n < 0 ? `−${Math.abs(n)}` : '0'
}

function village(code: string | null | undefined, n: Names): string {
  return code ? shortName(n.org(code)) : ''
}

export const RECORD_TYPES: Record<string, RecordType> = {
  mediation_case: {
    entity: 'mediation_case', label: 'rt.type.mediation_case', create: 'form.newTitle',
    state: { field: 'status', codes: 'case_status' },
    fields: CASE_FIELDS,
    title: (r) => r.title || '',
    link: (r) => (r.id ? `/cases/${r.id}` : null),
    fixRoute: (m) => `/cases/fix/${m}`,
  },
  case_event: {
    entity: 'case_event', label: 'rt.type.case_event', create: 'detail.addEvent',
    fields: EVENT_FIELDS,
    title: (r, n) => {
      const c = n.record('mediation_case', r.case_id)
      const kind = r.kind ? n.code('case_event_kind', r.kind) : ''
      return c?.title ? (kind ? n.t('rt.title.event', { case: c.title, kind }) : c.title) : ''
    },
    link: (r) => (r.case_id ? `/cases/${r.case_id}` : null),
    refs: (r) => (r.case_id ? [['mediation_case', r.case_id]] : []),
  },
  nomination: {
    entity: 'nomination', label: 'rt.type.nomination', create: 'nom.propose',
    state: { field: 'state', codes: 'nomination_state' },
    fields: {
      category: { label: 'rt.f.nomCategory', codes: 'nomination_category', widget: 'choice' },
      nominee_name: { label: 'nom.f.nominee_name', widget: 'text' },
      household_id: { label: 'rt.f.household', kind: 'household' },
      nominee_phone: { label: 'nom.f.nominee_phone', widget: 'tel' },
      nominee_id_number: { label: 'rt.f.nomineeIdNumber', widget: 'text' },
      deeds: { label: 'nom.f.deeds', widget: 'textarea' },
      source: { label: 'nom.f.source', codes: 'nomination_source', widget: 'choice' },
      nominator_name: { label: 'nom.f.nominator_name', widget: 'text' },
      state: { label: 'feat.state', codes: 'nomination_state' },
      disqualifiers: { label: 'nom.disqualifiers', kind: 'object' },
      'disqualifiers.criminal_record': { label: 'nom.dq.criminal_record', kind: 'bool' },
      'disqualifiers.vice': { label: 'nom.dq.vice', kind: 'bool' },
      'disqualifiers.cult': { label: 'nom.dq.cult', kind: 'bool' },
      'disqualifiers.checked_by': { label: 'rt.f.checkedBy' },
      'disqualifiers.checked_on': { label: 'rt.f.checkedOn' },
      review_note: { label: 'rt.f.reviewNote', widget: 'textarea' },
      award_title: { label: 'nom.awardTitle', widget: 'text' },
      awarded_on: { label: 'rt.f.awardedOn', widget: 'date' },
      notice_starts_on: { label: 'rt.f.noticeStartsOn' },
      notice_ends_on: { label: 'rt.f.noticeEndsOn' },
      paused: { label: 'rt.f.paused', kind: 'bool' },
    },
    title: (r, n) => {
      if (!r.nominee_name) return ''
      return r.category ? n.t('rt.title.nomination', { name: r.nominee_name, category: n.code('nomination_category', r.category) }) : r.nominee_name
    },
    link: (r) => (r.id ? `/nominations/${r.id}` : null),
  },
  nomination_objection: {
    entity: 'nomination_objection', label: 'rt.type.nomination_objection', create: 'nom.recordObjection',
    state: { field: 'state', codes: 'objection_state' },
    fields: {
      nomination_id: { label: 'rt.f.nomination', kind: 'nomination' },
      content: { label: 'nom.objContent', widget: 'textarea' },
      objector_name: { label: 'nom.objector', widget: 'text' },
      contact: { label: 'nom.contact', widget: 'tel' },
      state: { label: 'feat.state', codes: 'objection_state' },
      decision_note: { label: 'nom.decisionNote', widget: 'textarea' },
    },
    title: (r, n) => {
      const nom = n.record('nomination', r.nomination_id)
      return nom?.nominee_name ? n.t('rt.title.objection', { name: nom.nominee_name }) : ''
    },
    link: (r) => (r.nomination_id ? `/nominations/${r.nomination_id}` : null),
    refs: (r) => (r.nomination_id ? [['nomination', r.nomination_id]] : []),
  },
  six_no_report: {
    entity: 'six_no_report', label: 'rt.type.six_no_report', create: 'sixno.start',
    state: { field: 'state', codes: 'six_no_state' },
    fields: {
      year: { label: 'sixno.year' },
      indicators: { label: 'rt.f.indicators', kind: 'indicators' },
      'indicators.code': { label: 'rt.f.indicator', codes: 'six_no_indicator' },
      'indicators.status': { label: 'feat.state' },
      'indicators.evidence': { label: 'sixno.evidence' },
      'indicators.incident_ids': { label: 'rt.f.incidents', kind: 'incidents' },
      'indicators.attachment_ids': PHOTOS,
      self_assessment: { label: 'sixno.selfAssessment', widget: 'textarea' },
      state: { label: 'feat.state', codes: 'six_no_state' },
      decision_note: { label: 'sixno.decisionNote', widget: 'textarea' },
    },
    title: (r, n) => (r.org_code && r.year ? n.t('rt.title.sixNo', { village: village(r.org_code, n), year: r.year }) : ''),
    link: (r) => (r.org_code && r.year ? `/six-no/${r.org_code}/${r.year}` : null),
  },
  points_entry: {
    entity: 'points_entry', label: 'rt.type.points_entry', create: 'pts.add',
    fields: {
      household_id: { label: 'pts.f.household_id', kind: 'household' },
      rule: { label: 'pts.f.rule', codes: 'points_rule', widget: 'choice' },
      points: { label: 'rt.f.points', kind: 'points', widget: 'number' },
      reason: { label: 'pts.f.reason', widget: 'textarea' },
      occurred_on: { label: 'pts.f.occurred_on', widget: 'date' },
      reverses_id: { label: 'pts.reversal' },
    },
    title: (r, n) => {
      const h = n.record('household', r.household_id)
      const what = r.reverses_id ? n.t('pts.reversal') : r.rule ? n.code('points_rule', r.rule) : r.reason || ''
      const who = h?.head_name ? n.t('rt.title.household', { name: h.head_name }) : ''
      return [who, signed(r.points), what].filter(Boolean).join(' ')
    },
    link: (r) => (r.household_id ? `/points/households/${r.household_id}` : null),
    refs: (r) => (r.household_id ? [['household', r.household_id]] : []),
  },
  patrol: {
    entity: 'patrol', label: 'rt.type.patrol', create: 'patrol.start',
    state: { field: 'state', codes: 'patrol_state' },
    fields: {
      grid_code: GRID, state: { label: 'feat.state', codes: 'patrol_state' },
      started_at: { label: 'rt.f.startedAt', kind: 'datetime' }, ended_at: { label: 'rt.f.endedAt', kind: 'datetime' },
      route: { label: 'rt.f.route', kind: 'route' }, places_visited: { label: 'patrol.places' },
      checklist: { label: 'patrol.checklist', kind: 'checklist' }, 'checklist.item': { label: 'rt.f.item', codes: 'patrol_checklist' },
      'checklist.ok': { label: 'patrol.ok', kind: 'bool' }, 'checklist.note': { label: 'rt.f.note' },
      notes: { label: 'patrol.notes', widget: 'textarea' },
      distance_m: { label: 'rt.f.distance' }, duration_s: { label: 'rt.f.duration' },
    },
    title: (r, n) => {
      const day = shanghaiMinute(r.started_at).slice(0, 10)
      return r.grid_code ? n.t('rt.title.patrol', { grid: gridLabel(r.grid_code, n), date: day }).trim() : ''
    },
    link: (r) => (r.id ? `/patrols/${r.id}` : null),
  },
  incident: {
    entity: 'incident', label: 'rt.type.incident', create: 'incident.report',
    state: { field: 'state', codes: 'incident_state' },
    fields: {
      grid_code: GRID, patrol_id: { label: 'rt.f.patrol' }, household_id: { label: 'incident.household', kind: 'household' },
      type: { label: 'incident.type', codes: 'incident_type', widget: 'choice' },
      severity: { label: 'incident.severity', codes: 'incident_severity', widget: 'choice' },
      title: { label: 'incident.titleField', widget: 'text' }, description: { label: 'incident.description', widget: 'textarea' },
      place: { label: 'form.place', widget: 'text' }, location: { label: 'rt.f.location', kind: 'location' },
      'location.lat': { label: 'rt.f.lat' }, 'location.lon': { label: 'rt.f.lon' }, 'location.accuracy': { label: 'rt.f.accuracy' },
      occurred_at: { label: 'incident.occurredAt', kind: 'datetime', widget: 'datetime' },
      state: { label: 'feat.state', codes: 'incident_state' }, assignee_id: { label: 'incident.assignee', kind: 'user' },
      deadline: { label: 'rt.f.deadline' }, resolution: { label: 'incident.resolution', widget: 'textarea' },
      case_id: { label: 'incident.case', kind: 'case' }, resolved_on: { label: 'rt.f.resolvedOn' },
    },
    title: (r, n) => r.title || (r.type ? n.code('incident_type', r.type) : ''),
    link: (r) => (r.id ? `/incidents/${r.id}` : null),
  },
  household: {
    entity: 'household', label: 'rt.type.household', create: 'hh.new',
    fields: {
      grid_code: GRID, head_name: { label: 'rt.f.headName', widget: 'text' }, address: { label: 'hh.f.address', widget: 'text' },
      members: { label: 'rt.f.members', widget: 'number' }, phone: { label: 'hh.f.phone', widget: 'tel' },
      head_id_number: { label: 'hh.f.head_id_number', widget: 'text' }, tags: { label: 'hh.f.tags', codes: 'household_tag' },
      safe_certified_years: { label: 'rt.f.safeYears' }, active: { label: 'hh.f.active', kind: 'bool' },
    },
    title: (r, n) => (r.head_name ? n.t('rt.title.household', { name: r.head_name }) : ''),
    link: () => '/households',
  },
}

export function recordType(entity: string): RecordType | undefined {
  return RECORD_TYPES[entity]
}

/** The spec of a field or a nested path ("parties.0.phone", "indicators.2.evidence"), indexes ignored. */
export function fieldSpec(entity: string, path: string): FieldSpec | undefined {
  const fields = RECORD_TYPES[entity]?.fields || {}
  const clean = path.split('.').filter((p) => !/^\d+$/.test(p)).join('.')
  return fields[clean] || COMMON[clean]
}

/**
 * A field's label: "parties.0.phone" → "当事人 · 1 · 电话". A part the type does not know keeps its name
 * (a defect the registry test looks for).
 */
export function fieldLabel(entity: string, path: string, n: Pick<Names, 't'>): string {
  if (!path) return ''
  const parts = path.split('.')
  const out: string[] = []
  const named: string[] = []
  for (const p of parts) {
    if (/^\d+$/.test(p)) {
      out.push(String(Number(p) + 1))
      continue
    }
    named.push(p)
    const spec = fieldSpec(entity, named.join('.'))
    out.push(spec ? n.t(spec.label) : p)
  }
  return out.join(' · ')
}

/** How a value reads: codes by name, people, units and households by name, lists and objects in words. */
export function showValue(entity: string, path: string, value: any, n: Names): string {
  if (value === null || value === undefined || value === '' || (Array.isArray(value) && !value.length)) return '—'
  const spec = fieldSpec(entity, path)
  const yesNo = (v: unknown) => n.t(v ? 'detail.yes' : 'detail.no')
  switch (spec?.kind) {
    case 'bool': return yesNo(value)
    case 'datetime': return typeof value === 'string' ? shanghaiMinute(value) || value : String(value)
    case 'user': return n.user(value) || n.t('fieldfix.cfUnknownUser')
    case 'users': return Array.isArray(value) ? value.map((id) => n.user(id) || n.t('fieldfix.cfUnknownUser')).join('、') : String(value)
    case 'household': { const h = n.record('household', value); return h?.head_name ? n.t('rt.title.household', { name: h.head_name }) : n.t('rt.unknownRecord') }
    case 'nomination': return n.record('nomination', value)?.nominee_name || n.t('rt.unknownRecord')
    case 'case': return n.record('mediation_case', value)?.title || n.t('rt.unknownRecord')
    case 'org': return n.org(value)
    case 'grid': return gridLabel(value, n)
    case 'photos': return Array.isArray(value) ? n.t('conflict.photos', { n: value.length }) : String(value)
    case 'incidents': return Array.isArray(value) ? n.t('rt.incidentsN', { n: value.length }) : String(value)
    case 'route': return Array.isArray(value) ? n.t('patrol.pointsN', { n: value.length }) : String(value)
    case 'points': return signed(value)
    case 'location': return value && typeof value === 'object' && value.lat != null ? `${Number(value.lat).toFixed(5)}, ${Number(value.lon).toFixed(5)}` : String(value)
    case 'indicators':
      // one line each: 无刑事案件：达标 · 佐证：派出所证明…
      return Array.isArray(value) ? value.map((i) => indicatorLine(i, n)).join('\n') : String(value)
    case 'checklist':
      return Array.isArray(value) ? value.map((c) => [n.code('patrol_checklist', c?.item), c?.ok === undefined ? '' : n.t(c.ok ? 'patrol.ok' : 'patrol.issue'), c?.note || '']
        .filter(Boolean).join(' ')).join('\n') : String(value)
    case 'extensions':
      return Array.isArray(value) ? value.map((v) => `${v?.new_deadline || ''} ${v?.reason || ''}`.trim()).join(n.t('rt.sep')) : String(value)
    case 'parties':
      return Array.isArray(value) ? value.map((v) => [v?.name, v?.role ? n.t(`roles.${v.role}`) : '', v?.phone].filter(Boolean).join(' ')).join(n.t('rt.sep')) : String(value)
    default: break
  }
  if (spec?.codes) {
    if (Array.isArray(value)) return value.map((c) => n.code(spec.codes!, String(c))).join('、')
    if (typeof value === 'string') return n.code(spec.codes, value)
  }
  if (Array.isArray(value)) return value.map((v) => (v && typeof v === 'object' ? showObject(entity, path, v, n) : String(v))).join(n.t('rt.sep'))
  if (typeof value === 'object') return showObject(entity, path, value, n)
  if (typeof value === 'boolean') return yesNo(value)
  return String(value)
}

function showObject(entity: string, path: string, value: Record<string, any>, n: Names): string {
  return Object.entries(value).filter(([, v]) => v !== null && v !== '' && v !== undefined && !(Array.isArray(v) && !v.length))
    .map(([k, v]) => n.t('rt.pair', { k: fieldLabel(entity, `${path}.${k}`, n).split(' · ').pop(), v: showValue(entity, `${path}.${k}`, v, n) })).join(n.t('rt.sep'))
}

function indicatorLine(i: any, n: Names): string {
  if (!i || typeof i !== 'object') return String(i)
  const name = n.code('six_no_indicator', i.code)
  const head = i.status ? n.t('rt.pair', { k: name, v: n.t(`sixno.status.${i.status}`) }) : name
  const rest: string[] = []
  if (i.evidence) rest.push(n.t('rt.evidenceIs', { e: i.evidence }))
  if (Array.isArray(i.incident_ids) && i.incident_ids.length) rest.push(n.t('rt.incidentsN', { n: i.incident_ids.length }))
  if (Array.isArray(i.attachment_ids) && i.attachment_ids.length) rest.push(n.t('conflict.photos', { n: i.attachment_ids.length }))
  return [head, ...rest].join(' · ')
}

/** A record by its title; without one, its type and a short id (never a bare UUID). */
export function recordTitle(entity: string, rec: Record<string, any>, n: Names): string {
  const type = RECORD_TYPES[entity]
  const title = type ? type.title(rec, n) : ''
  if (title) return title
  const name = type ? n.t(type.label) : entity
  return rec.id ? `${name} ${String(rec.id).slice(0, 8)}` : name
}

export function recordLink(entity: string, rec: Record<string, any>): string | null {
  return RECORD_TYPES[entity]?.link?.(rec) || null
}

/** What a change did, in words: 推荐 / 记积分 (a new record), 转为「已自评」 (a state change), 修改, 删除. */
export function changeKind(entity: string, m: { op?: string; base_rev?: number; fields?: Record<string, any> }, n: Names): string {
  const type = RECORD_TYPES[entity]
  if (m.op === 'delete') return n.t('rt.delete')
  if (m.base_rev === 0) return type ? n.t(type.create) : n.t('rt.create')
  const st = type?.state
  if (st && m.fields && typeof m.fields[st.field] === 'string') return n.t('detail.moveTo', { s: n.code(st.codes, m.fields[st.field]) })
  return n.t('detail.edit')
}

/** Fields the fix form never offers, whatever the record type. */
const NEVER_EDITABLE = new Set(['id', 'rev', 'org_code', 'state', 'status', 'created_at', 'updated_at', 'created_by', 'updated_by', 'deleted'])

export interface FixField { field: string; widget: Widget; label: string; codes?: string }

/**
 * The fields a fix form offers for a refused change: the refused ones a person may edit; when the refusal names
 * no field, every editable field of the change. Empty: nothing here can cure it (open the record instead).
 */
export function fixFields(entity: string, sent: Record<string, any>, details: { field?: string | null }[] | null | undefined): FixField[] {
  const type = RECORD_TYPES[entity]
  if (!type) return []
  const editable = (f: string) => !NEVER_EDITABLE.has(f) && !!type.fields[f]?.widget
  const named = [...new Set((details || []).map((d) => (d.field || '').split('.')[0]).filter(Boolean))]
  const chosen = named.length ? named.filter(editable) : Object.keys(sent).filter(editable)
  return chosen.map((f) => ({ field: f, widget: type.fields[f].widget!, label: type.fields[f].label, codes: type.fields[f].codes }))
}

/** A value of the change as the fix form's input holds it. */
export function toInput(widget: Widget, value: any): string {
  if (value === null || value === undefined) return ''
  if (widget === 'datetime' && typeof value === 'string') return shanghaiMinute(value).replace(' ', 'T')
  return String(value)
}

/** The input back as the value sent: numbers as numbers, a datetime as an instant (Asia/Shanghai), blank as null. */
export function fromInput(widget: Widget, input: string): any {
  const v = input.trim()
  if (!v) return null
  if (widget === 'number') return Number.isFinite(Number(v)) ? Number(v) : v
  if (widget === 'datetime') {
    const d = new Date(`${v.length === 16 ? `${v}:00` : v}+08:00`)
    return Number.isNaN(d.getTime()) ? v : d.toISOString()
  }
  return widget === 'textarea' ? input : v
}

/** [entity, id] of the records a list of items needs for their titles (the records themselves, then their refs). */
export function refsOf(entity: string, rec: Record<string, any>): [string, string][] {
  return RECORD_TYPES[entity]?.refs?.(rec) || []
}
