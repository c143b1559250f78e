/**
 * Records the server refused (finding 1): a refused create stays visible in the lists as `_rejected`
 * (sync/records.ts), a refused change leaves the server's version in place. Either way the screen shows
 * it as refused, with the server's reason and the way to fix it — as mediation cases do (CaseDetail).
 */
import type { CunzhiDB, RejectedEntry } from '../../db'
import { isPermissionRefusal } from '../../app/permissions'
import { syncErrorKey } from '../../sync/errors'
import { serverCodeKey } from '../../composables/checks'

export const isCreate = (r: RejectedEntry) => r.mutation.base_rev === 0 && r.mutation.op !== 'delete'

/** The refusals of one record, oldest first. */
export async function refusalsOf(db: CunzhiDB, entity: string, recordId: string): Promise<RejectedEntry[]> {
  const rows = (await db.rejected.where('record_id').equals(recordId).toArray()).filter((r) => r.entity === entity)
  return rows.sort((a, b) => a.seq - b.seq)
}

/** Ids of the records of an entity with a refusal waiting for the person (for a list's marks). */
export async function refusedIds(db: CunzhiDB, entity: string): Promise<Set<string>> {
  return new Set((await db.rejected.toArray()).filter((r) => r.entity === entity).map((r) => r.record_id))
}

/** The server's reason in words: the error, then each field's message (as the server worded it). */
export function refusalReason(r: RejectedEntry, t: (k: string, v?: Record<string, unknown>) => string): string {
  const key = syncErrorKey(r.error.code)
  const head = key !== 'sync.errors.other' ? t(key) : r.error.message || t(key)
  const details = (r.error.details || []).map((d) => d.message || t(serverCodeKey(d.code))).filter(Boolean)
  return details.length ? `${head} — ${details.join('；')}` : head
}

/** Where the person fixes it: the form (a refused create of the data's fault), else the sync centre. */
export function fixRoute(r: RejectedEntry, formPath: ((mutationId: string) => string) | null): string {
  if (formPath && isCreate(r) && !isPermissionRefusal(r.error.code)) return formPath(r.mutation_id)
  return '/sync#attention'
}
