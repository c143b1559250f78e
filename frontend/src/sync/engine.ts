/**
 * The device sync engine (sync-protocol.md, "What the device must do").
 *
 * One cycle: push the outbox (in order, batches of ≤ 500), pull every page since the cursor
 * (page + cursor in one transaction), refresh open conflicts, upload pending photos.
 * Only one tab runs a cycle at a time (Web Locks). Failures back off exponentially with
 * jitter; 503 honours Retry-After; 401 asks for the password (outbox kept) or, when the
 * session was revoked, lets the app wipe this user's database; 426 keeps the outbox and
 * offers the update; 409 reset_required runs the reset path (see resetAndReplay).
 */
import type { CunzhiDB, OutboxEntry, AckedEntry } from '../db'
import { getMeta, setMeta } from '../db'
import type { Mutation, MutationResult, PullResponse, StoredConflict } from '../api/types'
import { HttpError, NetworkError, type Transport } from './transport'
import { rebuildView, serverKey, storeServerRecords, VIEW_TABLES } from './view'
import { uploadPendingAttachments } from './attachments'
import { isQuotaError } from './outbox'

export const BATCH_LIMIT = 500
export const ACKED_RETENTION_DAYS = 180
/** An update answered unknown_record this many times with no create of its record left here → needs attention. */
export const UNKNOWN_RECORD_GIVE_UP = 5

export type SyncState =
  | 'idle' | 'syncing' | 'offline' | 'error' | 'auth_required' | 'revoked' | 'update_required' | 'busy'

export interface SyncStatus {
  state: SyncState
  lastSyncAt: string | null
  lastError: string | null
  failures: number
  nextRetryAt: number | null
  storageWarning: boolean
}

export interface EngineOptions {
  db: CunzhiDB
  transport: Transport
  clientId: string
  batchSize?: number
  pullLimit?: number
  random?: () => number
  baseDelayMs?: number
  maxDelayMs?: number
  onAuthProblem?: (code: string) => void
  onUpdateRequired?: () => void
  /** used to avoid timers in tests */
  autoSchedule?: boolean
  lockName?: string
}

export type CycleOutcome = 'ok' | 'locked' | 'failed' | 'auth' | 'update_required'

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms))

function stripOutbox(e: OutboxEntry | AckedEntry): Mutation {
  const m: Mutation = {
    mutation_id: e.mutation_id,
    entity: e.entity,
    op: e.op,
    record_id: e.record_id,
    base_rev: e.base_rev,
    fields: e.fields,
    client_time: e.client_time,
  }
  if (e.base_epoch) m.base_epoch = e.base_epoch
  if (e.resolves_conflict) m.resolves_conflict = e.resolves_conflict
  return m
}

/** The status a result stands for (a duplicate stands for its original answer). */
export function effectiveStatus(r: MutationResult): string {
  return r.status === 'duplicate' ? r.original_status || 'applied' : r.status
}

let inProcessLock: Promise<unknown> = Promise.resolve()

export class SyncEngine {
  status: SyncStatus = {
    state: 'idle', lastSyncAt: null, lastError: null, failures: 0, nextRetryAt: null, storageWarning: false,
  }
  private listeners = new Set<(s: SyncStatus) => void>()
  private timer: ReturnType<typeof setTimeout> | null = null
  private debounceTimer: ReturnType<typeof setTimeout> | null = null
  private stopped = false

  constructor(public o: EngineOptions) {}

  get db(): CunzhiDB {
    return this.o.db
  }

  subscribe(fn: (s: SyncStatus) => void): () => void {
    this.listeners.add(fn)
    fn(this.status)
    return () => this.listeners.delete(fn)
  }

  private set(patch: Partial<SyncStatus>) {
    this.status = { ...this.status, ...patch }
    this.listeners.forEach((fn) => fn(this.status))
  }

  async loadStatus() {
    const last = await getMeta<string>(this.db, 'last_sync_at')
    this.set({ lastSyncAt: last })
  }

  stop() {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    if (this.debounceTimer) clearTimeout(this.debounceTimer)
  }

  /** Debounced sync after local changes. */
  requestSync(delayMs = 800) {
    if (this.stopped) return
    if (this.debounceTimer) clearTimeout(this.debounceTimer)
    this.debounceTimer = setTimeout(() => void this.syncNow(), delayMs)
  }

  backoffDelay(failures: number): number {
    const base = this.o.baseDelayMs ?? 2000
    const max = this.o.maxDelayMs ?? 5 * 60_000
    const exp = Math.min(max, base * 2 ** Math.max(0, failures - 1))
    const r = (this.o.random || Math.random)()
    return Math.round(exp / 2 + r * (exp / 2)) // "equal jitter"
  }

  private scheduleRetry(ms: number) {
    if (this.o.autoSchedule === false || this.stopped) {
      this.set({ nextRetryAt: Date.now() + ms })
      return
    }
    if (this.timer) clearTimeout(this.timer)
    this.set({ nextRetryAt: Date.now() + ms })
    this.timer = setTimeout(() => void this.syncNow(), ms)
  }

  /** Runs one cycle under the cross-tab lock; returns 'locked' if another tab is syncing. */
  async syncNow(): Promise<CycleOutcome> {
    if (this.stopped) return 'failed'
    const name = this.o.lockName || `cunzhi-sync-${this.db.name}`
    const locks: any = (globalThis as any).navigator?.locks
    if (locks?.request) {
      return locks.request(name, { ifAvailable: true }, async (lock: unknown) => {
        if (!lock) return 'locked'
        return this.cycle()
      })
    }
    const prev = inProcessLock
    let release!: () => void
    inProcessLock = new Promise<void>((r) => (release = r))
    try {
      await prev
      return await this.cycle()
    } finally {
      release()
    }
  }

  private async cycle(): Promise<CycleOutcome> {
    this.set({ state: 'syncing', nextRetryAt: null })
    try {
      try {
        await this.pushOutbox()
        await this.pullAll()
      } catch (e) {
        if (e instanceof HttpError && e.status === 409 && e.code === 'reset_required') {
          await this.resetAndReplay()
        } else throw e
      }
      await this.refreshConflicts().catch(() => undefined)
      if (this.o.transport.putAttachment) await uploadPendingAttachments(this.db, this.o.transport).catch(() => undefined)
      await this.pruneAcked()
      const now = new Date().toISOString()
      await setMeta(this.db, 'last_sync_at', now)
      this.set({ state: 'idle', lastSyncAt: now, lastError: null, failures: 0 })
      return 'ok'
    } catch (e) {
      return this.handleFailure(e)
    }
  }

  private handleFailure(e: unknown): CycleOutcome {
    if (e instanceof HttpError) {
      if (e.status === 401) {
        const code = e.code === 'session_revoked' ? 'session_revoked' : e.code || 'not_authenticated'
        this.set({ state: code === 'session_revoked' ? 'revoked' : 'auth_required', lastError: code })
        this.o.onAuthProblem?.(code)
        return 'auth'
      }
      if (e.status === 426) {
        this.set({ state: 'update_required', lastError: 'upgrade_required' })
        this.o.onUpdateRequired?.()
        return 'update_required'
      }
      if (e.status === 503) {
        const failures = this.status.failures + 1
        const ms = e.retryAfter != null ? e.retryAfter * 1000 : this.backoffDelay(failures)
        this.set({ state: 'busy', lastError: e.code, failures })
        this.scheduleRetry(ms)
        return 'failed'
      }
    }
    const failures = this.status.failures + 1
    const offline = e instanceof NetworkError
    if (isQuotaError(e)) this.set({ storageWarning: true }) // a pulled page did not fit: tell the person
    this.set({
      state: offline ? 'offline' : 'error',
      lastError: e instanceof HttpError ? e.code : String((e as any)?.message || e),
      failures,
    })
    this.scheduleRetry(this.backoffDelay(failures))
    return 'failed'
  }

  /** Pushes the outbox in order, in batches, until nothing sendable is left. */
  async pushOutbox(): Promise<void> {
    const tried = new Set<string>()
    let batchSize = this.o.batchSize ?? BATCH_LIMIT
    for (;;) {
      const batch = await this.db.outbox
        .orderBy('seq')
        .filter((e) => !tried.has(e.mutation_id))
        .limit(batchSize)
        .toArray()
      if (!batch.length) return
      let res
      try {
        res = await this.o.transport.push({ client_id: this.o.clientId, mutations: batch.map(stripOutbox) })
      } catch (e) {
        if (e instanceof HttpError && e.status === 413 && batchSize > 1) {
          batchSize = Math.max(1, Math.floor(batchSize / 2))
          continue
        }
        throw e
      }
      batch.forEach((m) => tried.add(m.mutation_id))
      await this.applyPushResults(batch, res.results)
    }
  }

  /** Stores a batch's answers in one transaction: acks, conflicts, rejections, server copies. */
  async applyPushResults(sent: OutboxEntry[], results: MutationResult[]): Promise<void> {
    const byId = new Map(sent.map((m) => [m.mutation_id, m]))
    const db = this.db
    await db.transaction('rw', [db.server, db.outbox, db.acked, db.rejected, db.conflicts, ...VIEW_TABLES(db), db.meta], async () => {
      const now = new Date().toISOString()
      const touched = new Set<string>()
      for (const r of results) {
        const m = byId.get(r.mutation_id)
        if (!m) continue
        const eff = effectiveStatus(r)
        if (r.record && r.record.id) await putServerRecord(db, m.entity, r.record)
        touched.add(`${m.entity}\u0000${m.record_id}`)
        if (eff === 'rejected' && r.error?.code === 'unknown_record') {
          // Its create has not reached the server yet: keep it and send it again after.
          const attempts = (m.attempts || 0) + 1
          const createPending = await db.outbox
            .where('record_id').equals(m.record_id)
            .filter((o) => o.seq! < m.seq! && o.base_rev === 0).count()
          if (attempts >= UNKNOWN_RECORD_GIVE_UP && !createPending) {
            await db.outbox.delete(m.seq!)
            await db.rejected.put({
              mutation_id: m.mutation_id, seq: m.seq!, mutation: stripOutbox(m), error: r.error,
              rejected_at: now, record_id: m.record_id, entity: m.entity,
            })
          } else {
            await db.outbox.update(m.seq!, { attempts, last_error: 'unknown_record' })
          }
          continue
        }
        await db.outbox.delete(m.seq!)
        if (eff === 'rejected') {
          await db.rejected.put({
            mutation_id: m.mutation_id, seq: m.seq!, mutation: stripOutbox(m),
            error: r.error || { code: 'rejected', message: '' },
            rejected_at: now, record_id: m.record_id, entity: m.entity,
          })
          if (m.resolves_conflict) await db.conflicts.update(m.resolves_conflict, { status: 'open', resolving_mutation_id: null })
          continue
        }
        await db.acked.put({ ...stripOutbox(m), seq: m.seq!, acked_at: now, status: eff })
        if (eff === 'conflict' && r.conflict_id) {
          await db.conflicts.put({
            id: r.conflict_id, entity: m.entity, record_id: m.record_id,
            base_rev: r.record?.rev ?? m.base_rev, fields: r.conflicts || [],
            status: 'open', created_at: now, mine: 1,
          })
        }
        if (m.resolves_conflict) {
          if (eff === 'applied' || eff === 'merged') await db.conflicts.delete(m.resolves_conflict)
          else await db.conflicts.update(m.resolves_conflict, { status: 'open', resolving_mutation_id: null })
        }
      }
      for (const t of touched) {
        const [entity, id] = t.split('\u0000')
        await rebuildView(db, entity, id)
      }
    })
  }

  /** Pulls every page since the stored cursor; each page and its cursor in one transaction. */
  async pullAll(): Promise<number> {
    let count = 0
    for (let guard = 0; guard < 100_000; guard++) {
      const cursor = await getMeta<string>(this.db, 'cursor')
      const page = await this.o.transport.pull(cursor || null, this.o.pullLimit ?? 500)
      await this.storePage(page)
      count += page.changes.length
      if (!page.has_more) break
    }
    return count
  }

  async storePage(page: PullResponse): Promise<void> {
    const db = this.db
    await db.transaction('rw', [db.server, db.outbox, ...VIEW_TABLES(db), db.meta, db.conflicts], async () => {
      await storeServerRecords(db, page.changes)
      await setMeta(db, 'cursor', page.cursor)
      if (page.server_epoch) await setMeta(db, 'server_epoch', page.server_epoch)
    })
  }

  /**
   * 409 reset_required: keep the outbox; clear the replica and the cursor; pull from the
   * beginning; re-send the log of acknowledged mutations in their original order (the server
   * answers duplicate for those it has and applies those it lost); then push the outbox.
   */
  async resetAndReplay(): Promise<void> {
    const db = this.db
    await db.transaction('rw', [db.server, db.outbox, ...VIEW_TABLES(db), db.meta, db.conflicts], async () => {
      await db.server.clear()
      await db.cases.clear()
      await db.case_index.clear()
      await db.events.clear()
      await db.records.clear()
      await db.meta.delete('cursor')
      await db.meta.delete('server_epoch')
      const pending = await db.outbox.toArray()
      const seen = new Set<string>()
      for (const e of pending) {
        const k = `${e.entity}\u0000${e.record_id}`
        if (seen.has(k)) continue
        seen.add(k)
        await rebuildView(db, e.entity, e.record_id)
      }
    })
    await this.pullAll()
    await this.replayAcked()
    await this.pushOutbox()
    await this.pullAll()
  }

  async replayAcked(): Promise<void> {
    const cutoff = new Date(Date.now() - ACKED_RETENTION_DAYS * 86400_000).toISOString()
    const log = (await this.db.acked.orderBy('seq').toArray()).filter((a) => a.acked_at >= cutoff)
    const size = this.o.batchSize ?? BATCH_LIMIT
    for (let i = 0; i < log.length; i += size) {
      const batch = log.slice(i, i + size)
      const res = await this.o.transport.push({ client_id: this.o.clientId, mutations: batch.map(stripOutbox) })
      const db = this.db
      const byId = new Map(batch.map((m) => [m.mutation_id, m]))
      await db.transaction('rw', [db.server, db.outbox, ...VIEW_TABLES(db), db.conflicts, db.meta], async () => {
        for (const r of res.results) {
          const m = byId.get(r.mutation_id)
          if (!m) continue
          if (r.record && r.record.id) {
            await putServerRecord(db, m.entity, r.record)
            await rebuildView(db, m.entity, m.record_id)
          }
          if (r.status === 'conflict' && r.conflict_id) {
            await db.conflicts.put({
              id: r.conflict_id, entity: m.entity, record_id: m.record_id, base_rev: r.record?.rev ?? m.base_rev,
              fields: r.conflicts || [], status: 'open', created_at: new Date().toISOString(), mine: 1,
            })
          }
        }
      })
    }
  }

  /** Brings the open conflicts of the caller's scope into the local table (for the conflicts screen). */
  async refreshConflicts(): Promise<void> {
    if (!this.o.transport.openConflicts) return
    const items: StoredConflict[] = await this.o.transport.openConflicts()
    const db = this.db
    await db.transaction('rw', db.conflicts, async () => {
      const openIds = new Set(items.map((c) => c.id))
      const local = await db.conflicts.toArray()
      for (const c of local) {
        if (c.status === 'open' && !openIds.has(c.id)) await db.conflicts.delete(c.id)
      }
      for (const c of items) {
        const existing = await db.conflicts.get(c.id)
        if (existing?.status === 'resolving') continue
        await db.conflicts.put({
          id: c.id, entity: c.entity, record_id: c.record_id, base_rev: c.base_rev, fields: c.fields,
          status: 'open', created_at: c.created_at || new Date().toISOString(), mine: existing?.mine ?? 0,
        })
      }
    })
  }

  async pruneAcked(): Promise<void> {
    const cutoff = new Date(Date.now() - ACKED_RETENTION_DAYS * 86400_000).toISOString()
    await this.db.acked.where('acked_at').below(cutoff).delete()
  }
}

/** Keeps the newest server copy (never goes back to an older rev). */
export async function putServerRecord(db: CunzhiDB, entity: string, record: any): Promise<void> {
  const key = serverKey(entity, record.id)
  const old = await db.server.get(key)
  if (old && (old.record.rev ?? 0) > (record.rev ?? 0)) return
  await db.server.put({ key, entity, id: record.id, record })
}

export { wait }
