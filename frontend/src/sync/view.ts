/**
 * Read views: the server copy with the device's pending fields laid over it.
 * The server copy (table `server`) and the overlay (the outbox) stay separate; the view tables
 * are derived from both and rebuilt, inside the caller's transaction, whenever either changes.
 */
import type { CunzhiDB, CaseView, OutboxEntry } from '../db'
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

/** Search terms: bigrams of title and party names, plus single characters of party names. */
export function searchTerms(rec: Record<string, any>): string[] {
  const out = new Set<string>()
  const texts: string[] = [rec.title || '']
  const names: string[] = Array.isArray(rec.parties) ? rec.parties.map((p: any) => p?.name || '') : []
  for (const t of [...texts, ...names]) {
    const n = normalise(t)
    for (let i = 0; i + 1 < n.length; i++) out.add(n.slice(i, i + 2))
    if (n.length === 1) out.add(n)
  }
  for (const nm of names) for (const ch of normalise(nm)) out.add(ch)
  if (rec.case_number) out.add(normalise(rec.case_number).slice(-4))
  return [...out]
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
    return
  }
  const { fields, deleted, endedOn } = overlayFields(mine)
  const base: Record<string, any> = srv ? { ...srv.record } : { id, rev: 0, deleted: false }
  const merged: Record<string, any> = { ...base, ...fields, id }
  if (deleted) merged.deleted = true
  if (merged.deleted) {
    await table.delete(id)
    return
  }
  if (entity === 'mediation_case') {
    const view = merged as CaseView
    view._pending = mine.length ? 1 : 0
    view._terms = searchTerms(merged)
    const open = OPEN_STATUSES.includes(merged.status) || !merged.status
    view._open_deadline = open ? effectiveDeadline(merged, settings) || '9999-12-31' : '9999-12-31'
    view._local_ended_on = merged.ended_on ? null : endedOn
    if (!view.received_on) view.received_on = ''
    if (!view.status) view.status = 'registered'
    if (!view.category) view.category = ''
    if (!view.risk_level) view.risk_level = ''
    await db.cases.put(view)
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
