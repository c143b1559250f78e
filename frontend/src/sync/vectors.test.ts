/**
 * The shared sync test vectors (tests/vectors/sync/*.json, written with the server's tests)
 * replayed through the device engine: a fake server answers each step with the vector's
 * answers; the device's local state must then agree with `expect_server` for the records it
 * holds, and each answer must land where the protocol says (acked, outbox, needs attention,
 * conflicts). Frontend's own examples in the same format live in sync/testing/vectors/.
 */
import { describe, it, expect } from 'vitest'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { CunzhiDB, type OutboxEntry } from '../db'
import { SyncEngine, effectiveStatus } from './engine'
import { rebuildView, plainRecord } from './view'
import type { MutationResult } from '../api/types'

const here = path.dirname(fileURLToPath(import.meta.url))
const SHARED = path.resolve(here, '../../../tests/vectors/sync')
const LOCAL = path.resolve(here, 'testing/vectors')

function jsonFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return []
  return fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(dir, f))
}

interface VectorAnswer {
  mutation_id: string
  status: MutationResult['status']
  original_status?: MutationResult['status']
  conflicts?: { field: string; client_value: any; server_value: any }[]
  conflict_id?: string
  error_code?: string
  error?: { code: string; message?: string }
  record?: Record<string, any>
}

interface Vector {
  name: string
  description?: string
  users: Record<string, { username: string; client_id: string }>
  steps: { as: string; push: any[]; answer: VectorAnswer[] }[]
  expect_server: Record<string, Record<string, any>>
}

function toResult(a: VectorAnswer, recordId: string): MutationResult {
  const status = a.status
  const eff = status === 'duplicate' ? a.original_status || 'applied' : status
  const code = a.error_code || a.error?.code
  return {
    mutation_id: a.mutation_id,
    status,
    original_status: a.original_status,
    conflicts: a.conflicts,
    conflict_id: a.conflict_id || (eff === 'conflict' ? `vector-conflict-${a.mutation_id}` : null),
    error: code ? { code, message: a.error?.message || code } : null,
    record: a.record && Object.keys(a.record).length ? { id: recordId, ...a.record } : null,
  } as MutationResult
}

const SERVER_DERIVED = ['case_number', 'deadline', 'deadline_color', 'ended_on', 'ended_as', 'created_at', 'updated_at', 'created_by', 'updated_by']

function subsetMatches(actual: Record<string, any>, expected: Record<string, any>) {
  for (const [k, v] of Object.entries(expected)) expect(actual[k], `field ${k}`).toEqual(v)
}

export async function replayVector(v: Vector) {
  const devices: Record<string, { db: CunzhiDB; engine: SyncEngine }> = {}
  for (const [key, u] of Object.entries(v.users)) {
    const db = new CunzhiDB(`vector-${v.name}-${key}-${Math.random()}`)
    const engine = new SyncEngine({
      db, clientId: u.client_id, autoSchedule: false,
      transport: { push: async () => { throw new Error('not used') }, pull: async () => { throw new Error('not used') } },
    })
    devices[key] = { db, engine }
  }
  const lastTouch = new Map<string, string>() // record id → user whose answer came last
  const answered = new Set<string>() // record fields any answer of the vector shows
  // the server's record as the vector reveals it so far (answers are subsets: this completes them)
  const latest = new Map<string, Record<string, any>>()
  const conflictIds = new Map<string, string>() // mutation id → conflict id answered to it

  for (const [i, step] of v.steps.entries()) {
    const { db, engine } = devices[step.as]
    expect(db, `step ${i}: unknown user ${step.as}`).toBeTruthy()
    // what the device has queued for this step, in the vector's order
    const sent: OutboxEntry[] = []
    await db.transaction('rw', [db.outbox, db.acked, db.rejected, db.server, db.cases, db.case_index, db.events, db.records, db.meta, db.conflicts], async () => {
      for (const raw of step.push) {
        const m = { ...raw }
        if (typeof m.resolves_conflict === 'string' && m.resolves_conflict.startsWith('$conflict_id:'))
          m.resolves_conflict = conflictIds.get(m.resolves_conflict.slice('$conflict_id:'.length)) || m.resolves_conflict
        // a device editing a record it never got an answer for must have pulled it: give it the server's copy
        const known = latest.get(m.record_id)
        if (m.base_rev > 0 && known && !(await db.server.get(`${m.entity}:${m.record_id}`))) {
          await db.server.put({ key: `${m.entity}:${m.record_id}`, entity: m.entity, id: m.record_id, record: { ...known } })
          await rebuildView(db, m.entity, m.record_id)
        }
        let entry = await db.outbox.where('mutation_id').equals(m.mutation_id).first()
        if (!entry) {
          // a resend of an acknowledged mutation stands for a lost answer: back into the outbox
          await db.acked.where('mutation_id').equals(m.mutation_id).delete()
          const e: OutboxEntry = { ...m, attempts: 0, created_at: new Date().toISOString() }
          e.seq = await db.outbox.add(e)
          entry = e
          await rebuildView(db, m.entity, m.record_id)
        }
        sent.push(entry)
      }
    })
    // the device sends in outbox order: the vector's order must be that order
    const seqs = sent.map((s) => s.seq!)
    expect([...seqs].sort((a, b) => a - b), `step ${i}: push order`).toEqual(seqs)
    const byId = new Map(step.push.map((m) => [m.mutation_id, m]))
    const results = step.answer.map((a) => toResult(a, byId.get(a.mutation_id)?.record_id))
    for (const r of results) if (r.conflict_id) conflictIds.set(r.mutation_id, r.conflict_id)
    // Vectors give a subset of the record (often just rev). The full record the server would
    // send is: what this device held, plus the mutation's fields where they applied (all but
    // the conflicting ones), plus the answer's subset.
    const running = new Map<string, Record<string, any>>()
    for (const r of results) {
      if (!r.record) continue
      const m = byId.get(r.mutation_id)!
      const held = running.has(m.record_id) ? { record: running.get(m.record_id)! }
        : latest.has(m.record_id) ? { record: latest.get(m.record_id)! }
        : await db.server.get(`${m.entity}:${m.record_id}`)
      const base: Record<string, any> = { id: m.record_id, deleted: false, ...(held ? held.record : {}) }
      const eff = effectiveStatus(r)
      if (r.status !== 'duplicate' && (eff === 'applied' || eff === 'merged' || eff === 'conflict')) {
        const lost = new Set((r.conflicts || []).map((c) => c.field))
        if (m.op === 'delete') {
          if (!lost.has('deleted') && eff !== 'conflict') base.deleted = true
        } else {
          for (const [k, val] of Object.entries(m.fields || {})) if (!lost.has(k)) base[k] = val
          if (!lost.has('deleted') && held?.record.deleted && eff !== 'conflict') base.deleted = false
        }
      }
      for (const k of Object.keys(r.record)) answered.add(k)
      r.record = { ...base, ...r.record }
      running.set(m.record_id, r.record)
      const prev = latest.get(m.record_id)
      if (!prev || (prev.rev ?? 0) <= (r.record.rev ?? 0)) latest.set(m.record_id, { ...r.record })
    }
    await engine.applyPushResults(sent, results)

    for (const r of results) {
      const m = byId.get(r.mutation_id)!
      const eff = effectiveStatus(r)
      const inOutbox = await db.outbox.where('mutation_id').equals(r.mutation_id).count()
      if (eff === 'rejected' && r.error?.code === 'unknown_record') {
        expect(inOutbox, `step ${i}: unknown_record stays queued`).toBe(1)
        continue
      }
      expect(inOutbox, `step ${i}: ${r.mutation_id} leaves the outbox`).toBe(0)
      if (eff === 'rejected') {
        const rej = await db.rejected.get(r.mutation_id)
        expect(rej?.error.code, `step ${i}: rejection kept for the person`).toBe(r.error?.code || 'rejected')
      } else {
        expect(await db.acked.where('mutation_id').equals(r.mutation_id).count(), `step ${i}: acked log`).toBe(1)
        if (r.record) lastTouch.set(m.record_id, step.as)
      }
      if (eff === 'conflict' && r.conflicts?.length) {
        const c = await db.conflicts.get(r.conflict_id!)
        expect(c?.fields.map((f) => f.field)).toEqual(r.conflicts.map((f) => f.field))
      }
    }
  }

  let checked = 0
  for (const [recordId, expected] of Object.entries(v.expect_server)) {
    for (const [key, { db }] of Object.entries(devices)) {
      // any entity the vector names (grid work adds patrol, incident, household)
      const srv = (await db.server.toArray()).find((s) => s.id === recordId)
      if (!srv) continue
      const upToDate = 'rev' in expected ? srv.record.rev === expected.rev : lastTouch.get(recordId) === key
      if (!upToDate) continue
      // server-assigned values reach a device only in a full record: check them when the vector shows them
      const exp = Object.fromEntries(Object.entries(expected).filter(([k]) => !SERVER_DERIVED.includes(k) || answered.has(k)))
      subsetMatches(srv.record, exp)
      const pending = await db.outbox.where('record_id').equals(recordId).count()
      const hasView = srv.entity === 'mediation_case' || srv.entity === 'case_event'
      const view = srv.entity === 'mediation_case' ? await db.cases.get(recordId) : hasView ? await db.events.get(recordId) : undefined
      if (!pending && hasView) {
        if (expected.deleted) expect(view, `${recordId}: a tombstone leaves the views`).toBeUndefined()
        else subsetMatches(plainRecord(view || {}), exp)
      }
      checked++
    }
  }
  return checked
}

const shared = jsonFiles(SHARED)
const local = jsonFiles(LOCAL)

describe('shared sync vectors', () => {
  it('the shared vector folder has vectors', () => {
    if (process.env.CUNZHI_ALLOW_NO_VECTORS === '1') return
    expect(shared.length, `no vectors in ${SHARED}`).toBeGreaterThan(0)
  })
  for (const file of [...shared, ...local]) {
    const v: Vector = JSON.parse(fs.readFileSync(file, 'utf8'))
    it(`${path.basename(path.dirname(file))}/${path.basename(file)}: ${v.name}`, async () => {
      const checked = await replayVector(v)
      if (Object.keys(v.expect_server).length) expect(checked).toBeGreaterThan(0)
    })
  }
})
