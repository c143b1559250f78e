/**
 * Read views: the server copy with the device's pending fields laid over it.
 * The server copy (table `server`) and the overlay (the outbox) stay separate; the view tables
 * are derived from both and rebuilt, inside the caller's transaction, whenever either changes.
 */
import type { CunzhiDB, CaseView, OutboxEntry, CaseIndexRow } from '../db'
import { effectiveDeadline, OPEN_STATUSES, ENDED_STATUSES, defaultDeadlineSettings, type DeadlineSettings } from './deadline'
import { shanghaiDate } from './dates'

let settings: DeadlineSettings = { ...defaultDeadlineSettings }

export function setViewSettings(s: Partial<DeadlineSettings>) {
  settings = { ...settings, ...s }
}
export function getViewSettings(): DeadlineSettings {
  return settings
}

export const serverKey = (entity: string, id: string) => `${entity}:${id}`

/** Normalises text for search: lower case, no white space. */
export function normalise(text: string): string {
  return (text || '').toLowerCase().replace(/\s+/g, '')
}

/** The text a list search matches: title, party names, case number. */
export function searchText(rec: Record<string, any>): string {
  const names: string[] = Array.isArray(rec.parties) ? rec.parties.map((p: any) => p?.name || '') : []
  return [rec.title || '', ...names, rec.case_number || ''].map(normalise).join('\u0001')
}

export function indexRow(view: Record<string, any>): CaseIndexRow {
  return {
    id: view.id, r: view.received_on || '', s: view.status || '', c: view.category || '', k: view.risk_level || '',
    d: view._open_deadline || '9999-12-31', t: searchText(view),
    ti: view.title || '', n: view.case_number || null,
    p: Array.isArray(view.parties) ? view.parties.map((x: any) => x?.name || '').join('、') : '',
    dl: effectiveDeadline(view, settings), e: view.ended_on || view._local_ended_on || null, pe: view._pending ? 1 : 0,
  }
}

export function overlayFields(entries: OutboxEntry[]): { fields: Record<string, any>; deleted: boolean; endedOn: string | null } {
  const fields: Record<string, any> = {}
  let deleted = false
  let endedOn: string | null = null
  for (const e of entries) {
    if (e.op === 'delete') deleted = true
    else Object.assign(fields, e.fields)
    if (e.fields && ENDED_STATUSES.includes(e.fields.status)) endedOn = (e.client_time || '').slice(0, 10) || shanghaiDate()
  }
  return { fields, deleted, endedOn }
}

/** Rebuilds the view row of one record. Call inside a rw transaction over server, outbox, cases, events. */
export async function rebuildView(db: CunzhiDB, entity: string, id: string): Promise<void> {
  const srv = await db.server.get(serverKey(entity, id))
  const pending = await db.outbox.where('record_id').equals(id).sortBy('seq')
  const mine = pending.filter((e) => e.entity === entity)
  const table = entity === 'mediation_case' ? db.cases : entity === 'case_event' ? db.events : null
  if (!table) return
  if (!srv && mine.length === 0) {
    await table.delete(id)
    if (entity === 'mediation_case') await db.case_index.delete(id)
    return
  }
  const { fields, deleted, endedOn } = overlayFields(mine)
  const base: Record<string, any> = srv ? { ...srv.record } : { id, rev: 0, deleted: false }
  const merged: Record<string, any> = { ...base, ...fields, id }
  if (deleted) merged.deleted = true
  if (merged.deleted) {
    await table.delete(id)
    if (entity === 'mediation_case') await db.case_index.delete(id)
    return
  }
  if (entity === 'mediation_case') {
    const view = merged as CaseView
    view._pending = mine.length ? 1 : 0
    const open = OPEN_STATUSES.includes(merged.status) || !merged.status
    view._open_deadline = open ? effectiveDeadline(merged, settings) || '9999-12-31' : '9999-12-31'
    view._local_ended_on = merged.ended_on ? null : endedOn
    if (!view.received_on) view.received_on = ''
    if (!view.status) view.status = 'registered'
    if (!view.category) view.category = ''
    if (!view.risk_level) view.risk_level = ''
    await db.cases.put(view)
    await db.case_index.put(indexRow(view))
  } else {
    ;(merged as any)._pending = mine.length ? 1 : 0
    if (!merged.occurred_at) merged.occurred_at = ''
    if (!merged.case_id) merged.case_id = ''
    await db.events.put(merged as any)
  }
}

/** Strips the view-only fields, giving the record as the device believes it to be. */
export function plainRecord<T extends Record<string, any>>(view: T): T {
  const out: Record<string, any> = {}
  for (const [k, v] of Object.entries(view)) if (!k.startsWith('_')) out[k] = v
  return out as T
}
