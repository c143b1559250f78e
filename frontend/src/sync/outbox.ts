/**
 * Local changes. Every change is written as (view update + outbox entry) in ONE Dexie
 * transaction: either both are stored or neither is. Feature code calls these helpers; it
 * never calls fetch to change data.
 */
import Dexie from 'dexie'
import type { CunzhiDB, OutboxEntry } from '../db'
import { getMeta } from '../db'
import { newId } from './ids'
import { shanghaiIso } from './dates'
import { rebuildView, serverKey, VIEW_TABLES } from './view'

export class StorageFullError extends Error {
  constructor(cause?: unknown) {
    super('storage_full')
    this.name = 'StorageFullError'
    ;(this as any).cause = cause
  }
}

export function isQuotaError(e: unknown): boolean {
  const err = e as any
  if (!err) return false
  const names = [err.name, err.inner?.name, err.cause?.name, err.failures?.[0]?.name]
  return names.some((n) => n === 'QuotaExceededError') || /quota/i.test(String(err.message || ''))
}

type Listener = () => void
const changeListeners = new Set<Listener>()
/** Called after each committed local change (the engine debounces a sync on it). */
export function onLocalChange(fn: Listener): () => void {
  changeListeners.add(fn)
  return () => changeListeners.delete(fn)
}

const quotaListeners = new Set<(e: StorageFullError) => void>()
export function onQuotaError(fn: (e: StorageFullError) => void): () => void {
  quotaListeners.add(fn)
  return () => quotaListeners.delete(fn)
}

export interface ChangeInput {
  entity: string
  recordId: string
  fields: Record<string, any>
  op?: 'upsert' | 'delete'
  resolvesConflict?: string | null
  /** defaults to the rev of the server copy (0 when the server has never had it) */
  baseRev?: number
  /** a place in the outbox order (a fixed create goes back to where it was); default: the end */
  seq?: number
}

export const CHANGE_TABLES = (db: CunzhiDB) => [db.server, db.outbox, ...VIEW_TABLES(db), db.meta, db.conflicts, db.rejected]

/**
 * Records a change locally: the outbox entry and the read view in one transaction.
 * Returns the stored outbox entry.
 */
export async function recordChange(db: CunzhiDB, input: ChangeInput): Promise<OutboxEntry> {
  let entry!: OutboxEntry
  try {
    await db.transaction('rw', CHANGE_TABLES(db), async () => {
      entry = await addToOutbox(db, input)
    })
  } catch (e) {
    if (isQuotaError(e)) {
      const err = new StorageFullError(e)
      quotaListeners.forEach((fn) => fn(err))
      throw err
    }
    throw e
  }
  changeListeners.forEach((fn) => fn())
  return entry
}

/** The body of recordChange; must run inside a rw transaction over CHANGE_TABLES. */
export async function addToOutbox(db: CunzhiDB, input: ChangeInput): Promise<OutboxEntry> {
  const srv = await db.server.get(serverKey(input.entity, input.recordId))
  const epoch = await getMeta<string>(db, 'server_epoch')
  const entry: OutboxEntry = {
    mutation_id: newId(),
    entity: input.entity,
    op: input.op || 'upsert',
    record_id: input.recordId,
    base_rev: input.baseRev ?? (srv ? srv.record.rev : 0),
    fields: Dexie.deepClone(input.fields || {}),
    client_time: shanghaiIso(),
    base_epoch: epoch || null,
    resolves_conflict: input.resolvesConflict || null,
    attempts: 0,
    created_at: new Date().toISOString(),
  }
  if (input.seq != null) entry.seq = input.seq
  entry.seq = await db.outbox.add(entry)
  await rebuildView(db, input.entity, input.recordId)
  return entry
}
