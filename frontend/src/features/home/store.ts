/**
 * Reading and writing the record types of issues 7 and 8 on the device. Reads go through the
 * generic `records` view (sync/records.ts) with Dexie live queries; writes go through
 * sync/outbox.recordChange (record + outbox entry in one transaction). Nothing here calls fetch.
 */
import Dexie from 'dexie'
import type { WatchSource } from 'vue'
import { dbRef } from '../../app/runtime'
import { appState } from '../../app/session'
import { recordChange } from '../../sync/outbox'
import { newId } from '../../sync/ids'
import { useLiveQuery } from '../../composables/useLiveQuery'
import type { GenericEntity, RecordRow } from '../../sync/records'
import type { CunzhiDB } from '../../db'

export type { RecordRow }

export function db(): CunzhiDB {
  const d = dbRef.value
  if (!d) throw new Error('no database')
  return d
}

export function me() {
  return appState.session?.user || null
}

/** Every view row of one entity, newest first (by its sort key). */
export async function listRecords(d: CunzhiDB, entity: GenericEntity): Promise<RecordRow[]> {
  const rows = await d.records.where('[_e+_d]').between([entity, Dexie.minKey], [entity, Dexie.maxKey]).toArray()
  return rows.reverse()
}

export async function recordsBy(d: CunzhiDB, entity: GenericEntity, index: '_s' | '_h' | '_p', value: string): Promise<RecordRow[]> {
  const rows = await d.records.where(`[_e+${index}]`).equals([entity, value]).toArray()
  return rows.sort((a, b) => (a._d < b._d ? 1 : a._d > b._d ? -1 : 0))
}

export function getRecord(d: CunzhiDB, entity: GenericEntity, id: string) {
  return d.records.get(`${entity}:${id}`)
}

/** A live list of one entity's rows (newest first), re-read when the database changes. */
export function useRecords(entity: GenericEntity, deps: WatchSource[] = []) {
  return useLiveQuery<RecordRow[] | null>(async () => (dbRef.value ? listRecords(dbRef.value, entity) : null), null, [dbRef, ...deps])
}

export function useRecord(entity: GenericEntity, id: () => string) {
  return useLiveQuery<RecordRow | undefined>(async () => (dbRef.value ? getRecord(dbRef.value, entity, id()) : undefined), undefined, [dbRef, id])
}

function clean(fields: Record<string, any>): Record<string, any> {
  const out: Record<string, any> = {}
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) out[k] = v
  return out
}

export async function createRecord(entity: GenericEntity, fields: Record<string, any>, id: string = newId()): Promise<string> {
  await recordChange(db(), { entity, recordId: id, fields: clean(fields) })
  return id
}

export function updateRecord(entity: GenericEntity, id: string, fields: Record<string, any>) {
  return recordChange(db(), { entity, recordId: id, fields: clean(fields) })
}

/** The fields of `next` that differ from `current` (only those go into the outbox). */
export function changedFields(current: Record<string, any>, next: Record<string, any>): Record<string, any> {
  const out: Record<string, any> = {}
  for (const [k, v] of Object.entries(next)) {
    if (JSON.stringify(current[k] ?? null) !== JSON.stringify(v ?? null)) out[k] = v
  }
  return out
}

/** Whether the signed-in role may write the entity at all (from /me permissions). */
export function mayWrite(entity: string, op: 'create' | 'update' | 'delete' = 'create'): boolean {
  const perms = me()?.permissions
  if (!perms || !Object.keys(perms).length) return true // an older server: the server judges
  const ops = perms[entity]
  if (!ops) return false
  return ops.includes(op) || ops.includes('upsert') || (op !== 'delete' && ops.includes('write'))
}
