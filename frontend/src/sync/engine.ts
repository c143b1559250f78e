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
import type { CunzhiDB, OutboxEntry, AckedEntry, SyncLogRow } from '../db'
import { getMeta, setMeta } from '../db'
import type { Mutation, MutationResult, PullResponse, StoredConflict } from '../api/types'
import { HttpError, NetworkError, type Transport } from './transport'
import { rebuildView, serverKey, storeServerRecords, VIEW_TABLES } from './view'
import { uploadPendingAttachments } from './attachments'
import { isQuotaError } from './outbox'
import { newId } from './ids'

export const BATCH_LIMIT = 500
export const ACKED_RETENTION_DAYS = 180
/** An update answered unknown_record this many times with no create of its record left here → needs attention. */
export const UNKNOWN_RECORD_GIVE_UP = 5
/** How long the sync log keeps its lines. */
export const SYNC_LOG_DAYS = 7

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
  /** a pull page's stamp of the county's settings and code tables: the app refetches /reference when it changes */
  onSettingsVersion?: (version: string) => void
  /** the signed-in user's id: conflicts this user's pushes caused count as "mine" */
  userId?: string
  /** used to avoid timers in tests */
  autoSchedule?: boolean
  lockName?: string
}

export type CycleOutcome = 'ok' | 'locked' | 'failed' | 'auth' | 'update_required'

/** Status codes of a push refused as a whole because of what it carries (not the network, not the session). */
const ENVELOPE_ERRORS = new Set([400, 413, 422])

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

  /**
   * The network is back: photos waiting out a back-off from the offline time are due now, and a
   * cycle runs at once.
   */
  async onlineAgain(): Promise<CycleOutcome> {
    await this.db.attachments.where('uploaded').equals(0).filter((a) => !a.failed).modify({ next_try_at: 0 }).catch(() => undefined)
    return this.syncNow()
  }

  private again = false

  /** Runs one cycle under the cross-tab lock; returns 'locked' if another tab is syncing. */
  async syncNow(): Promise<CycleOutcome> {
    if (this.stopped) return 'failed'
    const name = this.o.lockName || `cunzhi-sync-${this.db.name}`
    const locks: any = (globalThis as any).navigator?.locks
    if (locks?.request) {
      const out: CycleOutcome = await locks.request(name, { ifAvailable: true }, async (lock: unknown) => {
        if (!lock) return 'locked'
        return this.cycle()
      })
      if (out === 'locked') this.again = true // a cycle asked for while one runs (in this tab): run once more after it
      else if (this.again) {
        this.again = false
        this.requestSync(100)
      }
      return out
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

  /**
   * The periodic tick: a cycle only when no back-off or Retry-After wait is running
   * (the 60-second timer must not hammer a busy server). `now` is for tests.
   */
  async tick(now = Date.now()): Promise<CycleOutcome | 'waiting'> {
    if (this.status.state === 'syncing') return 'waiting'
    if (this.status.nextRetryAt && now < this.status.nextRetryAt) return 'waiting'
    return this.syncNow()
  }

  /**
   * One cycle. A reset left unfinished (the app was killed, the network dropped) is finished
   * first; then a pull, so a 409 reset_required is met before the outbox is pushed (the spec's
   * order on a reset: the acknowledged log first, then the outbox); then the outbox, and a pull
   * of what the push changed. Photos upload whatever happened to the pull or push.
   */
  private async cycle(): Promise<CycleOutcome> {
    this.set({ state: 'syncing', nextRetryAt: null })
    let failure: unknown = null
    try {
      await this.pullOrReset()
      const pushed = await this.pushOutbox()
      if (pushed) await this.pullOrReset()
      await this.refreshConflicts().catch(() => undefined)
      await this.pruneAcked()
    } catch (e) {
      failure = e
    }
    try {
      await this.uploadPhotos()
    } catch (e) {
      failure = failure || e
    }
    await this.pruneLog()
    if (failure) {
      const outcome = this.handleFailure(failure)
      await this.log({ kind: 'error', counts: {}, code: this.status.lastError })
      return outcome
    }
    const now = new Date().toISOString()
    await setMeta(this.db, 'last_sync_at', now)
    this.set({ state: 'idle', lastSyncAt: now, lastError: null, failures: 0 })
    return 'ok'
  }

  private async uploadPhotos(): Promise<void> {
    if (!this.o.transport.putAttachment) return
    const before = await this.db.attachments.where('uploaded').equals(0).filter((a) => !!a.failed).count()
    const done = await uploadPendingAttachments(this.db, this.o.transport)
    const refused = (await this.db.attachments.where('uploaded').equals(0).filter((a) => !!a.failed).count()) - before
    if (done || refused > 0) await this.log({ kind: 'photo', counts: { uploaded: done, refused: Math.max(0, refused) } })
  }

  /** Finishes an interrupted reset, then pulls; a 409 reset_required starts (and finishes) a reset. */
  async pullOrReset(): Promise<void> {
    try {
      await this.finishReset()
      await this.pullAll()
    } catch (e) {
      if (!(e instanceof HttpError && e.status === 409 && e.code === 'reset_required')) throw e
      await this.beginReset()
      await this.finishReset()
      await this.pullAll()
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
    const quota = isQuotaError(e)
    if (quota) this.set({ storageWarning: true }) // a pulled page did not fit: tell the person
    // a code, never a raw message ("Failed to fetch"): the UI turns it into words (sync/errors.ts)
    this.set({
      state: offline ? 'offline' : 'error',
      lastError: offline ? 'network' : e instanceof HttpError ? e.code : quota ? 'storage_full' : 'internal',
      failures,
    })
    if (!offline && !quota && !(e instanceof HttpError)) console.error('sync cycle failed', e)
    this.scheduleRetry(this.backoffDelay(failures))
    return 'failed'
  }

  /**
   * Pushes the outbox in order, in batches, until nothing sendable is left; returns how many
   * mutations were answered. A push refused as a whole because of what it carries (400/422,
   * 413) is narrowed by halving the batch until the one bad mutation is alone; that one goes to
   * "needs attention" and the rest keep moving. Entries waiting for a rejected create of their
   * record (or of their case) are held until the person fixes it.
   */
  async pushOutbox(): Promise<number> {
    const tried = new Set<string>()
    const full = this.o.batchSize ?? BATCH_LIMIT
    let batchSize = full
    let answered = 0
    for (;;) {
      const blocked = await rejectedCreates(this.db)
      const batch = await this.db.outbox
        .orderBy('seq')
        .filter((e) => !tried.has(e.mutation_id) && !dependsOn(e, blocked))
        .limit(batchSize)
        .toArray()
      if (!batch.length) return answered
      let res
      try {
        res = await this.o.transport.push({ client_id: this.o.clientId, mutations: batch.map(stripOutbox) })
      } catch (e) {
        if (e instanceof HttpError && ENVELOPE_ERRORS.has(e.status)) {
          if (batch.length > 1) {
            batchSize = Math.max(1, Math.floor(batch.length / 2))
            continue
          }
          await this.isolate(batch[0], e)
          tried.add(batch[0].mutation_id)
          continue
        }
        throw e
      }
      batch.forEach((m) => tried.add(m.mutation_id))
      answered += batch.length
      await this.applyPushResults(batch, res.results)
      await this.logPush(batch, res.results)
      batchSize = Math.min(full, batchSize * 2)
    }
  }

  /** A line of the sync log; never fails a cycle. */
  async log(row: Omit<SyncLogRow, 'at'>): Promise<void> {
    try {
      await this.db.sync_log.add({ ...row, at: new Date().toISOString() })
    } catch {
      /* the log is a convenience */
    }
  }

  private async logPush(sent: OutboxEntry[], results: MutationResult[]): Promise<void> {
    const byId = new Map(sent.map((m) => [m.mutation_id, m]))
    const counts: Record<string, number> = {}
    const items: NonNullable<SyncLogRow['items']> = []
    for (const r of results) {
      const eff = effectiveStatus(r)
      counts[eff] = (counts[eff] || 0) + 1
      const m = byId.get(r.mutation_id)
      if (m && items.length < 50) items.push({ entity: m.entity, record_id: m.record_id, status: eff, code: r.error?.code || null })
    }
    await this.log({ kind: 'push', counts, items })
  }

  async pruneLog(now = Date.now()): Promise<void> {
    const cutoff = new Date(now - SYNC_LOG_DAYS * 86400_000).toISOString()
    await this.db.sync_log.where('at').below(cutoff).delete().catch(() => undefined)
  }

  /** One mutation the server refuses to even read: "needs attention" with the server's reason. */
  private async isolate(m: OutboxEntry, e: HttpError): Promise<void> {
    const db = this.db
    const error = e.body && e.body.code ? e.body : { code: e.status === 413 ? 'payload_too_large' : 'validation_error', message: '' }
    await db.transaction('rw', [db.server, db.outbox, db.rejected, ...VIEW_TABLES(db), db.meta, db.conflicts], async () => {
      await db.outbox.delete(m.seq!)
      await db.rejected.put({
        mutation_id: m.mutation_id, seq: m.seq!, mutation: stripOutbox(m), error,
        rejected_at: new Date().toISOString(), record_id: m.record_id, entity: m.entity,
      })
      await rebuildView(db, m.entity, m.record_id)
    })
  }

  /** Stores a batch's answers in one transaction: acks, conflicts, rejections, server copies. */
  async applyPushResults(sent: OutboxEntry[], results: MutationResult[]): Promise<void> {
    const byId = new Map(sent.map((m) => [m.mutation_id, m]))
    const db = this.db
    await db.transaction('rw', [db.server, db.outbox, db.acked, db.rejected, db.conflicts, ...VIEW_TABLES(db), db.meta], async () => {
      const now = new Date().toISOString()
      const touched = new Set<string>()
      const blocked = await rejectedCreates(db)
      for (const r of results) {
        const m = byId.get(r.mutation_id)
        if (!m) continue
        const eff = effectiveStatus(r)
        if (eff === 'rejected' && dependsOn(m, blocked)) {
          // its record's (or its case's) create was refused: it waits for the person's fix. The
          // server keeps its answer to this id for good, so it goes again under a new id.
          await db.outbox.update(m.seq!, { mutation_id: newId(), last_error: 'waiting_for_create' })
          continue
        }
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
          if (isCreate(m)) blocked.add(m.record_id)
          if (m.resolves_conflict) await db.conflicts.update(m.resolves_conflict, { status: 'open', resolving_mutation_id: null })
          continue
        }
        await db.acked.put({ ...stripOutbox(m), seq: m.seq!, acked_at: now, status: eff })
        if (eff === 'conflict' && r.conflict_id) {
          await db.conflicts.put({
            id: r.conflict_id, entity: m.entity, record_id: m.record_id,
            base_rev: r.record?.rev ?? m.base_rev, fields: r.conflicts || [],
            status: 'open', created_at: now, mine: 1, created_by: this.o.userId || null,
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
      if (!page.has_more) {
        if (page.settings_version) this.o.onSettingsVersion?.(page.settings_version)
        break
      }
    }
    if (count) await this.log({ kind: 'pull', counts: { received: count } })
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
    await this.beginReset()
    await this.finishReset()
    await this.pushOutbox()
    await this.pullAll()
  }

  /**
   * Clears the replica and the cursor and records "reset in progress" in the same transaction,
   * so a reset cut off later (network, app killed) is finished on the next cycle.
   */
  async beginReset(): Promise<void> {
    await this.log({ kind: 'reset', counts: {} })
    const db = this.db
    await db.transaction('rw', [db.server, db.outbox, db.rejected, ...VIEW_TABLES(db), db.meta, db.conflicts], async () => {
      await db.server.clear()
      await db.cases.clear()
      await db.case_index.clear()
      await db.events.clear()
      await db.records.clear()
      await db.meta.delete('cursor')
      await db.meta.delete('server_epoch')
      await setMeta(db, 'reset', { started_at: new Date().toISOString(), replayed_seq: -1 })
      const pending = [...await db.outbox.toArray(), ...(await db.rejected.toArray())]
      const seen = new Set<string>()
      for (const e of pending) {
        const k = `${e.entity}\u0000${e.record_id}`
        if (seen.has(k)) continue
        seen.add(k)
        await rebuildView(db, e.entity, e.record_id)
      }
    })
  }

  /** Finishes a reset in progress: the full pull (resumes from its stored cursor), then the rest of the acknowledged log. */
  async finishReset(): Promise<void> {
    if (!(await getMeta(this.db, 'reset'))) return
    await this.pullAll()
    await this.replayAcked()
    await this.db.meta.delete('reset')
  }

  /**
   * Re-sends the acknowledged log after the last batch already replayed (progress is stored
   * with each batch's answers), honouring each answer by its effective status: a conflict is
   * stored, a rejection goes to "needs attention", an unknown_record goes back to the outbox.
   */
  async replayAcked(): Promise<void> {
    const cutoff = new Date(Date.now() - ACKED_RETENTION_DAYS * 86400_000).toISOString()
    const progress = (await getMeta<{ replayed_seq: number }>(this.db, 'reset'))?.replayed_seq ?? -1
    const log = (await this.db.acked.where('seq').above(progress).sortBy('seq')).filter((a) => a.acked_at >= cutoff)
    const size = this.o.batchSize ?? BATCH_LIMIT
    for (let i = 0; i < log.length; i += size) {
      const batch = log.slice(i, i + size)
      const res = await this.o.transport.push({ client_id: this.o.clientId, mutations: batch.map(stripOutbox) })
      const db = this.db
      const byId = new Map(batch.map((m) => [m.mutation_id, m]))
      await db.transaction('rw', [db.server, db.outbox, db.acked, db.rejected, ...VIEW_TABLES(db), db.conflicts, db.meta], async () => {
        const now = new Date().toISOString()
        for (const r of res.results) {
          const m = byId.get(r.mutation_id)
          if (!m) continue
          const eff = effectiveStatus(r)
          if (r.record && r.record.id) await putServerRecord(db, m.entity, r.record)
          if (eff === 'rejected' && r.error?.code === 'unknown_record') {
            // its record is not on the server (yet): keep sending it, as any queued change
            await db.acked.delete(m.seq)
            const { acked_at: _a, status: _s, ...mutation } = m
            await db.outbox.put({ ...mutation, attempts: 1, last_error: 'unknown_record', created_at: now })
          } else if (eff === 'rejected') {
            await db.acked.delete(m.seq)
            await db.rejected.put({
              mutation_id: m.mutation_id, seq: m.seq, mutation: stripOutbox(m),
              error: r.error || { code: 'rejected', message: '' }, rejected_at: now, record_id: m.record_id, entity: m.entity,
            })
          } else if (eff === 'conflict' && r.conflict_id) {
            await db.conflicts.put({
              id: r.conflict_id, entity: m.entity, record_id: m.record_id, base_rev: r.record?.rev ?? m.base_rev,
              fields: r.conflicts || [], status: 'open', created_at: now, mine: 1, created_by: this.o.userId || null,
            })
          }
          await rebuildView(db, m.entity, m.record_id)
        }
        await setMeta(db, 'reset', { ...(await getMeta(db, 'reset')), replayed_seq: batch[batch.length - 1].seq })
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
          status: 'open', created_at: c.created_at || new Date().toISOString(),
          mine: existing?.mine || (this.o.userId && c.created_by === this.o.userId ? 1 : 0),
          created_by: c.created_by || existing?.created_by || null,
        })
      }
    })
  }

  async pruneAcked(): Promise<void> {
    const cutoff = new Date(Date.now() - ACKED_RETENTION_DAYS * 86400_000).toISOString()
    await this.db.acked.where('acked_at').below(cutoff).delete()
  }
}

const isCreate = (m: { op: string; base_rev: number }) => m.op !== 'delete' && m.base_rev === 0

/** Records whose create was refused and waits in "needs attention" (not fixed and resent yet). */
async function rejectedCreates(db: CunzhiDB): Promise<Set<string>> {
  const rows = (await db.rejected.toArray()).filter((r) => isCreate(r.mutation))
  if (!rows.length) return new Set()
  const ids = rows.map((r) => r.record_id)
  const resent = new Set((await db.outbox.where('record_id').anyOf(ids).toArray()).filter(isCreate).map((e) => e.record_id))
  return new Set(ids.filter((id) => !resent.has(id)))
}

/** A change that cannot go before the create of its record (or of the case it belongs to). */
function dependsOn(m: { record_id: string; fields: Record<string, any> }, blocked: Set<string>): boolean {
  return blocked.size > 0 && (blocked.has(m.record_id) || (typeof m.fields?.case_id === 'string' && blocked.has(m.fields.case_id)))
}

/** Keeps the newest server copy (never goes back to an older rev). */
export async function putServerRecord(db: CunzhiDB, entity: string, record: any): Promise<void> {
  const key = serverKey(entity, record.id)
  const old = await db.server.get(key)
  if (old && (old.record.rev ?? 0) > (record.rev ?? 0)) return
  await db.server.put({ key, entity, id: record.id, record })
}

export { wait }
