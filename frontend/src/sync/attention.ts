/**
 * What the person does with "needs attention" entries and conflicts. A fix is resent as a NEW
 * mutation (the server keeps the rejected id's answer for good); a discard is explicit.
 * Resolving a conflict works offline: it is an outbox mutation with resolves_conflict.
 */
import type { CunzhiDB } from '../db'
import { addToOutbox, CHANGE_TABLES } from './outbox'
import { rebuildView } from './view'

type Notify = () => void
let notify: Notify = () => undefined
export function setAttentionNotify(fn: Notify) {
  notify = fn
}

export async function resendRejected(db: CunzhiDB, mutationId: string, fields: Record<string, any>): Promise<void> {
  await db.transaction('rw', CHANGE_TABLES(db), async () => {
    const r = await db.rejected.get(mutationId)
    if (!r) throw new Error('not found')
    const create = r.mutation.base_rev === 0 && r.mutation.op !== 'delete'
    await db.rejected.delete(mutationId)
    await addToOutbox(db, {
      entity: r.entity, recordId: r.record_id, fields, op: r.mutation.op,
      resolvesConflict: r.mutation.resolves_conflict || null,
      // a fixed create takes its original place, before the changes that waited for it
      seq: create ? r.seq : undefined, baseRev: create ? 0 : undefined,
    })
  })
  notify()
}

export async function discardRejected(db: CunzhiDB, mutationId: string): Promise<void> {
  await db.transaction('rw', CHANGE_TABLES(db), async () => {
    const r = await db.rejected.get(mutationId)
    if (!r) return
    await db.rejected.delete(mutationId)
    await rebuildView(db, r.entity, r.record_id)
  })
}

/** values: the chosen value of every field of the conflict. */
export async function resolveConflict(db: CunzhiDB, conflictId: string, values: Record<string, any>): Promise<void> {
  await db.transaction('rw', CHANGE_TABLES(db), async () => {
    const c = await db.conflicts.get(conflictId)
    if (!c) throw new Error('not found')
    // an earlier resolution the server refused is superseded by this one (no longer "needs attention")
    const stale = (await db.rejected.toArray()).filter((r) => r.mutation.resolves_conflict === conflictId)
    if (stale.length) await db.rejected.bulkDelete(stale.map((r) => r.mutation_id))
    const entry = await addToOutbox(db, { entity: c.entity, recordId: c.record_id, fields: values, resolvesConflict: conflictId })
    await db.conflicts.update(conflictId, { status: 'resolving', resolving_mutation_id: entry.mutation_id })
  })
  notify()
}
