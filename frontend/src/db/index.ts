/**
 * The device's local database (IndexedDB through Dexie). One database per user:
 * `cunzhi-u-<user id>`, so one user's outbox is never pushed under another's session and a
 * revoked session can wipe exactly that user's data.
 *
 * What is stored where:
 *  - server      the last server copy of every record (key "<entity>:<id>"), as pulled or as a
 *                push answer returned it. Never edited locally.
 *  - outbox      mutations authored here and not yet acknowledged, in authoring order (seq).
 *                The local overlay of a record is the fields of its outbox entries, in order.
 *  - cases/events  read views: server copy with the pending outbox fields laid over it, plus
 *                derived index fields (search terms, open deadline). Rebuilt from server+outbox
 *                whenever either changes, in the same transaction.
 *  - acked       mutations authored here that the server acknowledged (180 days), in original
 *                order: re-sent after a 409 reset_required.
 *  - rejected    "needs attention": rejected mutations with the server's reason. Never vanish
 *                until the person resends a fix or discards them.
 *  - conflicts   stored conflicts (from push answers and GET /conflicts) to show and resolve.
 *  - attachments photo blobs and their upload state.
 *  - meta        cursor, server_epoch, reference data, last sync time, me.
 */
import Dexie, { type Table } from 'dexie'
import type { AnyRecord, Mutation, ApiError, FieldConflict, MutationResult } from '../api/types'
import { indexRow, genericViewRows } from '../sync/view'
import type { RecordRow } from '../sync/records'

export interface ServerRow {
  key: string
  entity: string
  id: string
  record: AnyRecord
}

export interface OutboxEntry extends Mutation {
  seq?: number
  attempts: number
  last_error?: string | null
  created_at: string
}

export interface AckedEntry extends Mutation {
  seq: number
  acked_at: string
  status: string
}

export interface RejectedEntry {
  mutation_id: string
  seq: number
  mutation: Mutation
  error: ApiError
  rejected_at: string
  record_id: string
  entity: string
}

export interface ConflictRow {
  id: string
  entity: string
  record_id: string
  base_rev: number
  fields: FieldConflict[]
  status: 'open' | 'resolving' | 'resolved'
  created_at: string
  mine: 0 | 1
  /** who made the change kept in the conflict (its client_value); not indexed, no schema version */
  created_by?: string | null
  resolving_mutation_id?: string | null
}

export interface AttachmentRow {
  id: string
  entity: string
  record_id: string
  /** the photo; null once uploaded (the server has it; the thumbnail stays) */
  blob: Blob | null
  content_type: string
  size: number
  sha256: string
  uploaded: 0 | 1
  /** the server refused it for good (size, type): needs attention, never retried */
  failed?: 0 | 1
  /** a small JPEG kept after the full photo is uploaded and freed */
  thumb?: Blob | null
  attempts: number
  next_try_at: number
  last_error?: string | null
  created_at: string
}

/** One line of the sync log (7 days): what was sent and how the server answered. */
export interface SyncLogRow {
  id?: number
  at: string
  kind: 'push' | 'pull' | 'photo' | 'reset' | 'error'
  /** push: answers by effective status; pull: records received; photo: uploaded / refused */
  counts: Record<string, number>
  /** push: each mutation (entity, record, op, effective status, error code) — at most 50 */
  items?: { entity: string; record_id: string; status: string; code?: string | null }[]
  /** error: the code of the problem */
  code?: string | null
}

/** A form's unsaved input, kept as the person types (survives reload, camera killing the tab). */
export interface DraftRow {
  key: string
  updated_at: string
  value: any
}

export interface MetaRow {
  key: string
  value: any
}

/**
 * A slim projection of each case view for the list: the list loads these few fields of every
 * case once (one getAll) and filters/searches them in memory, which stays well under 100 ms
 * with 5,000 cases on a slow phone; full rows are read only for the visible window.
 */
export interface CaseIndexRow {
  id: string
  r: string // received_on
  s: string // status
  c: string // category
  k: string // risk_level
  d: string // open deadline ('9999-12-31' when not open)
  t: string // normalised search text: title, party names, case number
  // display fields, so the list draws rows without reading full records
  ti: string // title
  n: string | null // case_number
  p: string // party names
  dl: string | null // effective deadline
  e: string | null // ended_on (server) or the local date it ended
  pe: 0 | 1 // has pending changes
  rj?: 0 | 1 // a create the server refused (needs attention)
  o?: string // org_code (village), for township staff
  ea?: string | null // ended_as (server): an archived case that was declined stays grey
}

/** A mediation case as the UI sees it: server copy + pending fields + derived index fields. */
export type CaseView = AnyRecord & {
  _pending: 0 | 1
  _rejected?: 0 | 1
  _open_deadline: string
  _local_ended_on?: string | null
}

/** Points of a patrol being recorded on this device, saved every few seconds (a killed tab loses seconds). */
export interface RouteBuffer {
  patrol_id: string
  points: { lat: number; lon: number; at: string; accuracy: number | null }[]
  places: string[]
  saved_at: string
}

export class CunzhiDB extends Dexie {
  server!: Table<ServerRow, string>
  outbox!: Table<OutboxEntry, number>
  acked!: Table<AckedEntry, number>
  rejected!: Table<RejectedEntry, string>
  conflicts!: Table<ConflictRow, string>
  attachments!: Table<AttachmentRow, string>
  meta!: Table<MetaRow, string>
  cases!: Table<CaseView, string>
  events!: Table<AnyRecord, string>
  case_index!: Table<CaseIndexRow, string>
  /** grid work, six-no, nominations, points (issues 7, 8): see sync/records.ts */
  records!: Table<RecordRow, string>
  route_buffer!: Table<RouteBuffer, string>
  sync_log!: Table<SyncLogRow, number>
  drafts!: Table<DraftRow, string>

  constructor(name: string) {
    super(name)
    this.version(1).stores({
      server: '&key, entity',
      outbox: '++seq, &mutation_id, record_id',
      acked: '&seq, &mutation_id, acked_at',
      rejected: '&mutation_id, seq, record_id',
      conflicts: '&id, record_id, status',
      attachments: '&id, uploaded, record_id',
      meta: '&key',
      cases: '&id, received_on, [status+received_on], [category+received_on], [risk_level+received_on], _open_deadline, *_terms, _pending',
      events: '&id, case_id, [case_id+occurred_at]',
    })
    // v2: the list filters a slim in-memory projection instead of multi-entry search terms
    // (measured: the multi-entry index made search ~0.5 s at 4x CPU with 5,000 cases and slowed pulls)
    this.version(2)
      .stores({
        cases: '&id, received_on, _pending',
        case_index: '&id',
      })
      .upgrade(async (tx) => {
        await tx.table('cases').toCollection().each((c: any) => tx.table('case_index').put(indexRow(c)))
      })
    // ---- field app (issue 12): sync log, form drafts; index rows gain village and "refused" ----
    this.version(3)
      .stores({
        sync_log: '++id, at',
        drafts: '&key, updated_at',
      })
      .upgrade(async (tx) => {
        await tx.table('cases').toCollection().each((c: any) => tx.table('case_index').put(indexRow(c)))
      })
    // ---- v4 (f78-front, issues 7 + 8: grid work, six-no, nominations, points) ----------------
    // One generic indexed view for household, patrol, incident, six_no_report, nomination,
    // nomination_objection, points_entry (sync/records.ts). Server copies of these already sit in
    // `server` (pulled since v1); the upgrade builds their views from it and the outbox.
    this.version(4)
      .stores({
        records: '&_key, [_e+_d], [_e+_s], [_e+_h], [_e+_p], _pending',
        // the route of a patrol being recorded, saved every few seconds (features/grid/recorder.ts)
        route_buffer: '&patrol_id',
      })
      .upgrade(async (tx) => {
        const server = await tx.table('server').toArray()
        const outbox = await tx.table('outbox').toArray()
        const rows = genericViewRows(server, outbox)
        if (rows.length) await tx.table('records').bulkPut(rows)
      })
    // ---- end v4 ------------------------------------------------------------------------------
  }
}

export function dbNameFor(userId: string): string {
  return `cunzhi-u-${userId}`
}

let current: CunzhiDB | null = null

/** Opens (or returns) the database of the signed-in user. */
export function openUserDb(userId: string): CunzhiDB {
  const name = dbNameFor(userId)
  if (current && current.name === name) return current
  if (current) current.close()
  current = new CunzhiDB(name)
  return current
}

export function currentDb(): CunzhiDB {
  if (!current) throw new Error('no user database open')
  return current
}

export function closeUserDb(): void {
  current?.close()
  current = null
}

/** Deletes everything this device holds for one user (session revoked). */
export async function wipeUserDb(userId: string): Promise<void> {
  const name = dbNameFor(userId)
  if (current && current.name === name) {
    current.close()
    current = null
  }
  await Dexie.delete(name)
}

export async function getMeta<T = any>(db: CunzhiDB, key: string, fallback: T | null = null): Promise<T | null> {
  const row = await db.meta.get(key)
  return row ? (row.value as T) : fallback
}

export function setMeta(db: CunzhiDB, key: string, value: any) {
  return db.meta.put({ key, value })
}

export type { MutationResult }
