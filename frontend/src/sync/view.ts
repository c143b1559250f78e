/**
 * Read views: the server copy with the device's pending fields laid over it.
 * The server copy (table `server`) and the overlay (the outbox) stay separate; the view tables
 * are derived from both and rebuilt, inside the caller's transaction, whenever either changes.
 */
import type { CunzhiDB, CaseView, OutboxEntry, CaseIndexRow, ServerRow } from '../db'
import type { AnyRecord } from '../api/types'
import { effectiveDeadline, OPEN_STATUSES, ENDED_STATUSES, defaultDeadlineSettings, type DeadlineSettings } from './deadline'
import { shanghaiDate } from './dates'
import { GENERIC_ENTITIES, recordRow, type RecordRow } from './records'

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
    rj: view._rejected ? 1 : 0, o: view.org_code || '', ea: view.ended_as || null,
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

/**
 * The read view of one record: its server copy with its pending outbox entries laid over it,
 * plus derived fields; null when the record is gone (deleted, or neither copy nor pending).
 */
export function computeView(entity: string, id: string, server: Record<string, any> | undefined, mine: OutboxEntry[],
  rejectedCreate?: Record<string, any> | null): Record<string, any> | null {
  // a create the server refused stays visible (marked) until it is fixed and resent, or discarded
  const refused = !server && rejectedCreate ? rejectedCreate : null
  if (!server && mine.length === 0 && !refused) return null
  const { fields, deleted, endedOn } = overlayFields(mine)
  const base: Record<string, any> = server ? { ...server } : { ...(refused || {}), id, rev: 0, deleted: false }
  const merged: Record<string, any> = { ...base, ...fields, id }
  if (deleted) merged.deleted = true
  if (merged.deleted) return null
  merged._pending = mine.length ? 1 : 0
  merged._rejected = refused && !mine.some((e) => e.base_rev === 0 && e.op !== 'delete') ? 1 : 0
  if (entity === 'mediation_case') {
    const open = OPEN_STATUSES.includes(merged.status) || !merged.status
    merged._open_deadline = open ? effectiveDeadline(merged, settings) || '9999-12-31' : '9999-12-31'
    merged._local_ended_on = merged.ended_on ? null : endedOn
    if (!merged.received_on) merged.received_on = ''
    if (!merged.status) merged.status = 'registered'
    if (!merged.category) merged.category = ''
    if (!merged.risk_level) merged.risk_level = ''
  } else if (entity === 'case_event') {
    if (!merged.occurred_at) merged.occurred_at = ''
    if (!merged.case_id) merged.case_id = ''
  }
  return merged
}

/** Every table a view rebuild writes: name them all in a transaction that stores server copies or outbox entries. */
export const VIEW_TABLES = (db: CunzhiDB) => [db.cases, db.case_index, db.events, db.records]

/** Rebuilds the view row of one record. Call inside a rw transaction over server, outbox and the views. */
export async function rebuildView(db: CunzhiDB, entity: string, id: string): Promise<void> {
  if (entity !== 'mediation_case' && entity !== 'case_event' && !GENERIC_ENTITIES.has(entity)) return
  const srv = await db.server.get(serverKey(entity, id))
  const mine = (await db.outbox.where('record_id').equals(id).sortBy('seq')).filter((e) => e.entity === entity)
  let refused: Record<string, any> | null = null
  if (!srv) {
    const rej = (await db.rejected.where('record_id').equals(id).toArray())
      .filter((r) => r.entity === entity && r.mutation.base_rev === 0 && r.mutation.op !== 'delete')
    if (rej.length) refused = rej.sort((a, b) => a.seq - b.seq)[0].mutation.fields
  }
  await writeViews(db, [[entity, id, computeView(entity, id, srv?.record, mine, refused)]])
}

async function writeViews(db: CunzhiDB, items: [string, string, Record<string, any> | null][]): Promise<void> {
  const casePut: CaseView[] = [], caseDel: string[] = [], eventPut: any[] = [], eventDel: string[] = []
  const recPut: RecordRow[] = [], recDel: string[] = []
  for (const [entity, id, view] of items) {
    if (entity === 'mediation_case') view ? casePut.push(view as CaseView) : caseDel.push(id)
    else if (entity === 'case_event') view ? eventPut.push(view) : eventDel.push(id)
    else if (GENERIC_ENTITIES.has(entity)) view ? recPut.push(recordRow(entity, view)) : recDel.push(serverKey(entity, id))
  }
  if (recPut.length) await db.records.bulkPut(recPut)
  if (recDel.length) await db.records.bulkDelete(recDel)
  if (casePut.length) {
    await db.cases.bulkPut(casePut)
    await db.case_index.bulkPut(casePut.map(indexRow))
  }
  if (caseDel.length) {
    await db.cases.bulkDelete(caseDel)
    await db.case_index.bulkDelete(caseDel)
  }
  if (eventPut.length) await db.events.bulkPut(eventPut)
  if (eventDel.length) await db.events.bulkDelete(eventDel)
}

/**
 * Stores a page of server records and rebuilds their views in bulk (a first pull brings
 * thousands). Keeps the newest copy: an older rev never replaces a newer one.
 * Call inside a rw transaction over server, outbox and the views.
 */
export async function storeServerRecords(db: CunzhiDB, changes: { entity: string; record: Record<string, any> }[]): Promise<void> {
  const latest = new Map<string, { entity: string; record: Record<string, any> }>()
  for (const ch of changes) {
    const k = serverKey(ch.entity, ch.record.id)
    const prev = latest.get(k)
    if (!prev || (prev.record.rev ?? 0) <= (ch.record.rev ?? 0)) latest.set(k, ch)
  }
  const keys = [...latest.keys()]
  const existing = await db.server.bulkGet(keys)
  const rows: ServerRow[] = []
  keys.forEach((k, i) => {
    const ch = latest.get(k)!
    const old = existing[i]
    if (old && (old.record.rev ?? 0) > (ch.record.rev ?? 0)) return
    rows.push({ key: k, entity: ch.entity, id: ch.record.id, record: ch.record as AnyRecord })
  })
  if (!rows.length) return
  await db.server.bulkPut(rows)
  const ids = [...new Set(rows.map((r) => r.id))]
  const pending = await db.outbox.where('record_id').anyOf(ids).toArray()
  const byRecord = new Map<string, OutboxEntry[]>()
  for (const e of pending.sort((a, b) => a.seq! - b.seq!)) {
    const k = serverKey(e.entity, e.record_id)
    if (!byRecord.has(k)) byRecord.set(k, [])
    byRecord.get(k)!.push(e)
  }
  await writeViews(db, rows.map((r) => [r.entity, r.id, computeView(r.entity, r.id, r.record, byRecord.get(r.key) || [])]))
}

/** The generic views (sync/records.ts) of all server copies and outbox entries: the v4 upgrade. */
export function genericViewRows(server: ServerRow[], outbox: OutboxEntry[]): RecordRow[] {
  const mine = new Map<string, OutboxEntry[]>()
  for (const e of [...outbox].sort((a, b) => a.seq! - b.seq!)) {
    if (!GENERIC_ENTITIES.has(e.entity)) continue
    const k = serverKey(e.entity, e.record_id)
    if (!mine.has(k)) mine.set(k, [])
    mine.get(k)!.push(e)
  }
  const out: RecordRow[] = []
  const seen = new Set<string>()
  for (const r of server) {
    if (!GENERIC_ENTITIES.has(r.entity)) continue
    seen.add(r.key)
    const v = computeView(r.entity, r.id, r.record, mine.get(r.key) || [])
    if (v) out.push(recordRow(r.entity, v))
  }
  for (const [k, entries] of mine) {
    if (seen.has(k)) continue
    const v = computeView(entries[0].entity, entries[0].record_id, undefined, entries)
    if (v) out.push(recordRow(entries[0].entity, v))
  }
  return out
}

/** Strips the view-only fields, giving the record as the device believes it to be. */
export function plainRecord<T extends Record<string, any>>(view: T): T {
  const out: Record<string, any> = {}
  for (const [k, v] of Object.entries(view)) if (!k.startsWith('_')) out[k] = v
  return out as T
}
