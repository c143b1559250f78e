/**
 * Mediation use cases on the device. Every change goes through sync/outbox.recordChange
 * (record + outbox entry in one transaction); nothing here calls fetch.
 */
import type { CunzhiDB } from '../../db'
import { recordChange } from '../../sync/outbox'
import { newId } from '../../sync/ids'
import { shanghaiDate, shanghaiIso } from '../../sync/dates'
import type { Party } from '../../api/types'
import { validIdNumber } from '../../composables/checks'

export interface NewCaseInput {
  org_code: string
  title: string
  parties: Party[]
  category: string
  source: string
  risk_level: string
  escalation_flag: boolean
  escalation_note?: string
  description?: string
  place?: string
  received_on?: string
  mediator_ids?: string[]
  /** the patrol incident this case came from (issue 7) */
  incident_id?: string
}

function clean(fields: Record<string, any>): Record<string, any> {
  const out: Record<string, any> = {}
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) out[k] = v
  return out
}

/** Parties as the server takes them: named ones only, empty optional values left out. */
export function cleanParties(parties: Party[]): Party[] {
  return parties
    .filter((p) => p.name && p.name.trim())
    .map((p) => clean({
      ...p, name: p.name.trim(), phone: p.phone ? p.phone.replace(/ /g, '') : undefined,
      id_number: p.id_number ? p.id_number.toUpperCase() : undefined, address: (p as any).address || undefined,
    }) as Party)
}

/** Every field of a new case (also what a fixed, refused create resends). */
export function newCaseFields(input: NewCaseInput): Record<string, any> {
  return clean({
    org_code: input.org_code,
    title: input.title.trim(),
    description: input.description || undefined,
    category: input.category,
    source: input.source,
    received_on: input.received_on || shanghaiDate(),
    place: input.place || undefined,
    parties: cleanParties(input.parties),
    risk_level: input.risk_level,
    escalation_flag: !!input.escalation_flag,
    escalation_note: input.escalation_flag ? input.escalation_note || undefined : undefined,
    mediator_ids: input.mediator_ids && input.mediator_ids.length ? input.mediator_ids : undefined,
    incident_id: input.incident_id || undefined,
    status: 'registered',
  })
}

export async function createCase(db: CunzhiDB, input: NewCaseInput): Promise<string> {
  const id = newId()
  await recordChange(db, {
    entity: 'mediation_case',
    recordId: id,
    fields: newCaseFields(input),
  })
  return id
}

export function updateCase(db: CunzhiDB, id: string, fields: Record<string, any>, resolvesConflict?: string) {
  return recordChange(db, { entity: 'mediation_case', recordId: id, fields, resolvesConflict })
}

export function changeStatus(db: CunzhiDB, id: string, status: string, extra: Record<string, any> = {}) {
  return recordChange(db, { entity: 'mediation_case', recordId: id, fields: { status, ...extra } })
}

export async function addEvent(db: CunzhiDB, caseId: string, orgCode: string, fields: Record<string, any>, id = newId()): Promise<string> {
  await recordChange(db, {
    entity: 'case_event',
    recordId: id,
    fields: clean({ case_id: caseId, org_code: orgCode, occurred_at: fields.occurred_at || shanghaiIso(), ...fields }),
  })
  return id
}

export function extendDeadline(db: CunzhiDB, id: string, existing: any[], newDeadline: string, reason: string) {
  const list = (existing || []).map((e) => ({ ...e }))
  list.push({ new_deadline: newDeadline, reason })
  return recordChange(db, { entity: 'mediation_case', recordId: id, fields: { deadline_extensions: list } })
}


/**
 * The phone's check of a new deadline (the server's rule, mediation/rules.py extension_errors): later than the
 * deadline in force and not in the past. An i18n key, or '' when fine.
 */
export function checkExtension(newDeadline: string, current: string | null, today: string): string {
  if (!newDeadline) return 'checks.required'
  if (!/^\d{4}-\d{2}-\d{2}$/.test(newDeadline)) return 'checks.date'
  if (current && newDeadline <= current) return 'fieldfix.extendNotLater'
  if (newDeadline < today) return 'fieldfix.extendPast'
  return ''
}

/** A mediator whom the village's intake goes to by default: its only mediator, if it has exactly one. */
export function defaultMediator(users: { id: string; role: string; org_code: string }[], orgCode: string): string | null {
  const m = users.filter((u) => u.role === 'mediator' && u.org_code === orgCode)
  return m.length === 1 ? m[0].id : null
}

/** 性别 suggested by an ID number's 17th digit (odd: male, even: female), for a valid full number only. */
export function genderFromId(id: string | null | undefined): 'male' | 'female' | '' {
  if (!id || !validIdNumber(id)) return ''
  return Number(id[16]) % 2 === 1 ? 'male' : 'female'
}
