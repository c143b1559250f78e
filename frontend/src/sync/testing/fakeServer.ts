/**
 * A small in-memory server that follows sync-protocol.md closely enough to test the device
 * engine: idempotent mutation ids, per-field three-way merge, unknown_record, a change feed
 * with cursors and an epoch, and fault switches (lost answers, 503, 409 reset, 426, 401).
 */
import type { Mutation, MutationResult, PushRequest, PushResponse, PullResponse, StoredConflict } from '../../api/types'
import { HttpError, NetworkError, type Transport } from '../transport'

interface Held {
  entity: string
  record: Record<string, any>
  fieldRev: Record<string, { rev: number; sender: string }>
}

const SERVER_OWNED = ['id', 'rev', 'deleted', 'created_at', 'updated_at', 'created_by', 'updated_by', 'case_number']

export class FakeServer {
  records = new Map<string, Held>()
  answers = new Map<string, { user: string; result: MutationResult }>()
  log: { seq: number; id: string }[] = []
  seq = 0
  epoch = 'epoch-1'
  serial = 0
  conflicts = new Map<string, StoredConflict>()
  pushes: PushRequest[] = []
  // fault switches
  loseNextAnswers = 0
  busyNext = 0
  resetOnNextPull = false
  upgradeRequired = false
  authError: string | null = null
  failNetwork = false
  /** the whole push is refused (400/422 envelope error) when a mutation matches */
  envelopeError: ((m: Mutation) => boolean) | null = null
  /** the whole push answers 413 when a mutation matches */
  tooLarge: ((m: Mutation) => boolean) | null = null
  /** every pull fails with this (e.g. a 500) */
  pullError: Error | null = null
  /** the county settings' stamp the pull carries ('' : none, as an older server) */
  settingsVersion = ''
  /** photo uploads: stored bodies; refuseAttachments answers every upload with this status/code */
  attachments = new Map<string, { sha256: string; size: number }>()
  refuseAttachments: { status: number; code: string } | null = null

  transport(user = 'A', clientId = 'client-A'): Transport {
    return {
      push: async (body) => this.push(body, user, clientId),
      pull: async (cursor, limit) => this.pull(cursor, limit),
      openConflicts: async () => [...this.conflicts.values()].filter((c) => c.status === 'open'),
      putAttachment: async (a) => {
        this.gate()
        if (this.refuseAttachments) throw new HttpError(this.refuseAttachments.status, { code: this.refuseAttachments.code, message: '' })
        this.attachments.set(a.id, { sha256: a.sha256, size: a.blob.size })
        return { id: a.id, sha256: a.sha256, size: a.blob.size, content_type: a.content_type } as any
      },
    }
  }

  private gate() {
    if (this.failNetwork) throw new NetworkError('offline')
    if (this.authError) throw new HttpError(401, { code: this.authError, message: '' })
    if (this.upgradeRequired) throw new HttpError(426, { code: 'upgrade_required', message: '' })
    if (this.busyNext > 0) {
      this.busyNext--
      throw new HttpError(503, { code: 'busy', message: '' }, 1)
    }
  }

  push(body: PushRequest, user: string, clientId: string): PushResponse {
    this.gate()
    if (this.tooLarge && body.mutations.some(this.tooLarge)) throw new HttpError(413, { code: 'payload_too_large', message: '' })
    if (this.envelopeError && body.mutations.some(this.envelopeError))
      throw new HttpError(422, { code: 'validation_error', message: 'bad request', details: [{ field: 'mutations.0.fields', code: 'invalid', message: '' }] })
    this.pushes.push(JSON.parse(JSON.stringify(body)))
    const results = body.mutations.map((m) => this.applyOne(m, user, clientId))
    if (this.loseNextAnswers > 0) {
      this.loseNextAnswers--
      throw new NetworkError('answer lost')
    }
    return { results, server_time: new Date().toISOString() }
  }

  private applyOne(m: Mutation, user: string, sender: string): MutationResult {
    const prev = this.answers.get(m.mutation_id)
    if (prev) {
      if (prev.user !== user)
        return { mutation_id: m.mutation_id, status: 'rejected', error: { code: 'forbidden', message: '' } }
      const held = this.records.get(m.record_id)
      return {
        ...prev.result, status: 'duplicate', original_status: prev.result.status,
        record: held ? { ...held.record } : prev.result.record,
      }
    }
    const result = this.merge(m, sender)
    // unknown_record is not stored: the device sends it again after the create
    if (result.error?.code !== 'unknown_record') this.answers.set(m.mutation_id, { user, result })
    return result
  }

  private merge(m: Mutation, sender: string): MutationResult {
    const held = this.records.get(m.record_id)
    const base = { mutation_id: m.mutation_id }
    for (const k of Object.keys(m.fields)) {
      if (SERVER_OWNED.includes(k))
        return { ...base, status: 'rejected', error: { code: 'validation_error', message: 'server-owned', details: [{ field: k, code: 'read_only', message: '' }] } }
    }
    if (!held) {
      if (m.entity === 'case_event' && m.base_rev === 0 && !this.records.has(m.fields.case_id))
        return { ...base, status: 'rejected', error: { code: 'validation_error', message: 'case not found', details: [{ field: 'case_id', code: 'case_not_found', message: '' }] } }
      if (m.base_rev > 0 || m.op === 'delete')
        return { ...base, status: 'rejected', error: { code: 'unknown_record', message: 'unknown record' } }
      if (m.entity === 'mediation_case' && !m.fields.title)
        return { ...base, status: 'rejected', error: { code: 'validation_error', message: 'title required', details: [{ field: 'title', code: 'required', message: 'required' }] } }
      const rec: Record<string, any> = { ...m.fields, id: m.record_id, rev: 1, deleted: false }
      if (m.entity === 'mediation_case') rec.case_number = `340321108200-2026-${String(++this.serial).padStart(4, '0')}`
      const fieldRev: Held['fieldRev'] = {}
      for (const k of Object.keys(m.fields)) fieldRev[k] = { rev: 1, sender }
      this.records.set(m.record_id, { entity: m.entity, record: rec, fieldRev })
      this.bump(m.record_id)
      return { ...base, status: 'applied', record: { ...rec } }
    }
    if (m.fields.title === '')
      return { ...base, status: 'rejected', error: { code: 'validation_error', message: 'title required', details: [{ field: 'title', code: 'required', message: 'required' }] } }
    const conflicts: { field: string; client_value: any; server_value: any }[] = []
    const apply: Record<string, any> = {}
    for (const [k, v] of Object.entries(m.fields)) {
      const fr = held.fieldRev[k]
      const changedByOther = fr && fr.rev > m.base_rev && fr.sender !== sender
      if (!changedByOther) apply[k] = v
      else if (JSON.stringify(held.record[k]) !== JSON.stringify(v))
        conflicts.push({ field: k, client_value: v, server_value: held.record[k] })
    }
    if (m.resolves_conflict) {
      const c = this.conflicts.get(m.resolves_conflict)
      if (!c || c.record_id !== m.record_id)
        return { ...base, status: 'rejected', error: { code: 'validation_error', message: '', details: [{ field: 'resolves_conflict', code: 'invalid', message: '' }] } }
      // the resolving device chose with knowledge of the server's value: it applies
      for (const f of c.fields) if (f.field in m.fields) apply[f.field] = m.fields[f.field]
      conflicts.length = 0
      c.status = 'resolved'
    }
    const stale = held.record.rev !== m.base_rev
    if (Object.keys(apply).length) {
      held.record.rev += 1
      for (const [k, v] of Object.entries(apply)) {
        held.record[k] = v
        held.fieldRev[k] = { rev: held.record.rev, sender }
      }
      this.bump(m.record_id)
    }
    if (conflicts.length) {
      const id = `conflict-${this.conflicts.size + 1}`
      this.conflicts.set(id, { id, entity: m.entity, record_id: m.record_id, base_rev: m.base_rev, fields: conflicts, status: 'open' })
      return { ...base, status: 'conflict', conflict_id: id, conflicts, record: { ...held.record } }
    }
    return { ...base, status: stale ? 'merged' : 'applied', record: { ...held.record } }
  }

  /** A change made directly on the server (another device) */
  serverEdit(id: string, fields: Record<string, any>, sender = 'other-device') {
    const held = this.records.get(id)!
    held.record.rev += 1
    for (const [k, v] of Object.entries(fields)) {
      held.record[k] = v
      held.fieldRev[k] = { rev: held.record.rev, sender }
    }
    this.bump(id)
  }

  private bump(id: string) {
    this.log = this.log.filter((l) => l.id !== id)
    this.log.push({ seq: ++this.seq, id })
  }

  pull(cursor: string | null, limit: number): PullResponse {
    this.gate()
    if (this.pullError) throw this.pullError
    if (this.resetOnNextPull && cursor) {
      this.resetOnNextPull = false
      throw new HttpError(409, { code: 'reset_required', message: '' })
    }
    const after = cursor ? Number(cursor) : 0
    const page = this.log.filter((l) => l.seq > after).slice(0, limit)
    const last = page.length ? page[page.length - 1].seq : after
    return {
      changes: page.map((l) => {
        const h = this.records.get(l.id)!
        return { entity: h.entity, record: { ...h.record } }
      }),
      cursor: String(last),
      has_more: this.log.some((l) => l.seq > last),
      server_epoch: this.epoch,
      ...(this.settingsVersion ? { settings_version: this.settingsVersion } : {}),
    }
  }

  /** Simulates restoring a backup taken when the log was at `seq`: later changes are lost. */
  restoreTo(snapshot: FakeServer) {
    this.records = new Map([...snapshot.records].map(([k, v]) => [k, JSON.parse(JSON.stringify(v))]))
    this.answers = new Map(snapshot.answers)
    this.log = [...snapshot.log]
    this.seq = snapshot.seq
    this.epoch = 'epoch-2'
    this.resetOnNextPull = true
  }

  snapshot(): FakeServer {
    const s = new FakeServer()
    s.records = new Map([...this.records].map(([k, v]) => [k, JSON.parse(JSON.stringify(v))]))
    s.answers = new Map(this.answers)
    s.log = [...this.log]
    s.seq = this.seq
    return s
  }
}
