import { describe, it, expect, beforeEach } from 'vitest'
import { CunzhiDB } from '../db'
import { SyncEngine } from './engine'
import { recordChange, StorageFullError, onQuotaError } from './outbox'
import { FakeServer } from './testing/fakeServer'
import { newId } from './ids'
import { plainRecord } from './view'

let n = 0
function freshDb() {
  return new CunzhiDB(`test-${Date.now()}-${n++}`)
}

function engineFor(db: CunzhiDB, server: FakeServer, user = 'A') {
  return new SyncEngine({
    db, transport: server.transport(user, `client-${user}`), clientId: `client-${user}`,
    autoSchedule: false, random: () => 0.5, lockName: `lock-${db.name}`,
  })
}

const baseCase = (title = '邻里纠纷') => ({
  org_code: '340321108200', title, category: 'neighbor', source: 'party_request',
  received_on: '2026-11-20', parties: [{ name: '张三', role: 'applicant' }], risk_level: 'yellow', status: 'registered',
})

describe('outbox', () => {
  let db: CunzhiDB
  beforeEach(() => {
    db = freshDb()
  })

  it('writes the record view and its outbox entry in one transaction', async () => {
    const id = newId()
    await recordChange(db, { entity: 'mediation_case', recordId: id, fields: baseCase() })
    expect(await db.outbox.count()).toBe(1)
    const view = await db.cases.get(id)
    expect(view?.title).toBe('邻里纠纷')
    expect(view?._pending).toBe(1)
  })

  it('a failing transaction leaves neither the record nor the outbox entry', async () => {
    const id = newId()
    const orig = db.case_index.bulkPut.bind(db.case_index)
    // the outbox entry and the case view are written; then the index write fails
    ;(db.case_index as any).bulkPut = () => Promise.reject(new Error('disk error'))
    await expect(recordChange(db, { entity: 'mediation_case', recordId: id, fields: baseCase() })).rejects.toThrow()
    ;(db.case_index as any).bulkPut = orig
    expect(await db.outbox.count()).toBe(0)
    expect(await db.cases.get(id)).toBeUndefined()
    expect(await db.case_index.get(id)).toBeUndefined()
  })

  it('surfaces quota errors as StorageFullError and tells listeners', async () => {
    const seen: StorageFullError[] = []
    const off = onQuotaError((e) => seen.push(e))
    ;(db.outbox as any).add = () => {
      const e = new Error('QuotaExceededError: quota exceeded')
      e.name = 'QuotaExceededError'
      return Promise.reject(e)
    }
    await expect(recordChange(db, { entity: 'mediation_case', recordId: newId(), fields: baseCase() })).rejects.toBeInstanceOf(StorageFullError)
    off()
    expect(seen.length).toBe(1)
  })

  it('keeps each queued mutation on its original base_rev', async () => {
    const server = new FakeServer()
    const eng = engineFor(db, server)
    const id = newId()
    await recordChange(db, { entity: 'mediation_case', recordId: id, fields: baseCase() })
    await eng.syncNow()
    server.serverEdit(id, { place: '村口' })
    await recordChange(db, { entity: 'mediation_case', recordId: id, fields: { title: 'A' } })
    await eng.pullAll() // server now at rev 2
    await recordChange(db, { entity: 'mediation_case', recordId: id, fields: { description: 'B' } })
    const ob = await db.outbox.orderBy('seq').toArray()
    expect(ob.map((o) => o.base_rev)).toEqual([1, 2])
  })
})

describe('push', () => {
  let db: CunzhiDB
  let server: FakeServer
  let eng: SyncEngine
  beforeEach(() => {
    db = freshDb()
    server = new FakeServer()
    eng = engineFor(db, server)
  })

  it('pushes in outbox order and stores acks, case number and server copy', async () => {
    const ids = [newId(), newId(), newId()]
    for (const [i, id] of ids.entries()) await recordChange(db, { entity: 'mediation_case', recordId: id, fields: baseCase(`t${i}`) })
    await recordChange(db, { entity: 'mediation_case', recordId: ids[0], fields: { place: '村委会' } })
    expect(await eng.syncNow()).toBe('ok')
    const sent = server.pushes.flatMap((p) => p.mutations)
    expect(sent.map((m) => m.record_id)).toEqual([...ids, ids[0]])
    expect(sent[3].base_rev).toBe(0)
    expect(await db.outbox.count()).toBe(0)
    expect(await db.acked.count()).toBe(4)
    const v = await db.cases.get(ids[0])
    expect(v?.case_number).toMatch(/^340321108200-2026-\d{4}$/)
    expect(v?.place).toBe('村委会')
    expect(v?._pending).toBe(0)
  })

  it('splits the outbox into batches of at most the batch size', async () => {
    const e2 = new SyncEngine({ ...eng.o, batchSize: 2 })
    for (let i = 0; i < 5; i++) await recordChange(db, { entity: 'mediation_case', recordId: newId(), fields: baseCase(`t${i}`) })
    await e2.syncNow()
    expect(server.pushes.map((p) => p.mutations.length)).toEqual([2, 2, 1])
  })

  it('after a lost answer resends the same mutation_id and changes nothing', async () => {
    const id = newId()
    await recordChange(db, { entity: 'mediation_case', recordId: id, fields: baseCase() })
    server.loseNextAnswers = 1
    expect(await eng.syncNow()).toBe('failed')
    expect(eng.status.state).toBe('offline')
    expect(await db.outbox.count()).toBe(1)
    expect(await eng.syncNow()).toBe('ok')
    const [first, second] = server.pushes
    expect(second.mutations[0].mutation_id).toBe(first.mutations[0].mutation_id)
    expect(server.records.size).toBe(1)
    expect(server.records.get(id)!.record.rev).toBe(1)
    expect(await db.outbox.count()).toBe(0)
    expect((await db.acked.toArray())[0].status).toBe('applied')
  })

  it('keeps a rejected mutation in needs attention, and the others apply', async () => {
    const ok1 = newId(), bad = newId(), ok2 = newId()
    await recordChange(db, { entity: 'mediation_case', recordId: ok1, fields: baseCase('a') })
    await recordChange(db, { entity: 'mediation_case', recordId: bad, fields: { ...baseCase(''), title: '' } })
    await recordChange(db, { entity: 'mediation_case', recordId: ok2, fields: baseCase('c') })
    await eng.syncNow()
    const rej = await db.rejected.toArray()
    expect(rej.length).toBe(1)
    expect(rej[0].record_id).toBe(bad)
    expect(rej[0].error.code).toBe('validation_error')
    expect(rej[0].error.details?.[0].field).toBe('title')
    expect(await db.cases.get(ok1)).toBeTruthy()
    expect(await db.cases.get(ok2)).toBeTruthy()
    // still there after another sync
    await eng.syncNow()
    expect(await db.rejected.count()).toBe(1)
  })

  it('keeps an update answered unknown_record and sends it again after', async () => {
    const id = newId()
    // an update whose create this device never had (e.g. the create is on another device)
    await recordChange(db, { entity: 'mediation_case', recordId: id, fields: { place: 'x' }, baseRev: 1 })
    await eng.syncNow()
    expect(await db.outbox.count()).toBe(1)
    expect((await db.outbox.toArray())[0].last_error).toBe('unknown_record')
    expect(await db.rejected.count()).toBe(0)
    // the create arrives on the server from elsewhere; the retry applies
    server.records.set(id, { entity: 'mediation_case', record: { ...baseCase(), id, rev: 1, deleted: false }, fieldRev: {} })
    await eng.syncNow()
    expect(await db.outbox.count()).toBe(0)
    expect((await db.cases.get(id))?.place).toBe('x')
  })

  it('honours 503 busy with Retry-After and keeps the outbox', async () => {
    await recordChange(db, { entity: 'mediation_case', recordId: newId(), fields: baseCase() })
    server.busyNext = 1
    const before = Date.now()
    expect(await eng.syncNow()).toBe('failed')
    expect(eng.status.state).toBe('busy')
    expect(eng.status.nextRetryAt! - before).toBeGreaterThanOrEqual(900)
    expect(await db.outbox.count()).toBe(1)
  })

  it('backs off exponentially with jitter', () => {
    const e = new SyncEngine({ ...eng.o, random: () => 1 })
    expect(e.backoffDelay(1)).toBe(2000)
    expect(e.backoffDelay(3)).toBe(8000)
    const e0 = new SyncEngine({ ...eng.o, random: () => 0 })
    expect(e0.backoffDelay(3)).toBe(4000)
    expect(e.backoffDelay(50)).toBe(300000)
  })

  it('a pull that does not fit in storage is surfaced, and the cursor does not move', async () => {
    const other = new CunzhiDB(`quota-other-${Date.now()}`)
    await recordChange(other, { entity: 'mediation_case', recordId: newId(), fields: baseCase() })
    await engineFor(other, server, 'B').syncNow()
    ;(db.case_index as any).bulkPut = () => {
      const err = new Error('QuotaExceededError')
      err.name = 'QuotaExceededError'
      return Promise.reject(err)
    }
    expect(await eng.syncNow()).toBe('failed')
    expect(eng.status.storageWarning).toBe(true)
    expect(await db.meta.get('cursor')).toBeUndefined()
    expect(await db.server.count()).toBe(0)
  })

  it('on 426 keeps the outbox and asks for the update', async () => {
    let asked = false
    const e = new SyncEngine({ ...eng.o, onUpdateRequired: () => (asked = true) })
    await recordChange(db, { entity: 'mediation_case', recordId: newId(), fields: baseCase() })
    server.upgradeRequired = true
    expect(await e.syncNow()).toBe('update_required')
    expect(asked).toBe(true)
    expect(await db.outbox.count()).toBe(1)
  })

  it('on 401 session_expired keeps the outbox and asks for the password', async () => {
    let code = ''
    const e = new SyncEngine({ ...eng.o, onAuthProblem: (c) => (code = c) })
    await recordChange(db, { entity: 'mediation_case', recordId: newId(), fields: baseCase() })
    server.authError = 'session_expired'
    expect(await e.syncNow()).toBe('auth')
    expect(code).toBe('session_expired')
    expect(e.status.state).toBe('auth_required')
    expect(await db.outbox.count()).toBe(1)
  })
})

describe('pull and overlay', () => {
  it('shows pulled server state with pending fields laid over it, server copy kept apart', async () => {
    const db = freshDb()
    const server = new FakeServer()
    const eng = engineFor(db, server)
    const id = newId()
    await recordChange(db, { entity: 'mediation_case', recordId: id, fields: baseCase() })
    await eng.syncNow()
    // offline edit of the title; meanwhile another device changes the place
    await recordChange(db, { entity: 'mediation_case', recordId: id, fields: { title: '本机标题' } })
    server.serverEdit(id, { place: '镇上', title: '服务器标题' })
    await eng.pullAll()
    const view = await db.cases.get(id)
    expect(view?.title).toBe('本机标题') // pending field over pulled state
    expect(view?.place).toBe('镇上') // pulled
    expect(view?._pending).toBe(1)
    const srv = await db.server.get(`mediation_case:${id}`)
    expect(srv?.record.title).toBe('服务器标题') // server copy untouched by the overlay
    // pushing it: the server had another change to title → conflict stored, server value shows
    await eng.syncNow()
    const conflicts = await db.conflicts.toArray()
    expect(conflicts.length).toBe(1)
    expect(conflicts[0].fields[0]).toMatchObject({ field: 'title', client_value: '本机标题', server_value: '服务器标题' })
    expect((await db.cases.get(id))?.title).toBe('服务器标题')
  })

  it('stores a pulled page and its cursor together, paging until done', async () => {
    const db = freshDb()
    const server = new FakeServer()
    const other = new CunzhiDB(`other-${Date.now()}`)
    const writer = engineFor(other, server, 'B')
    for (let i = 0; i < 7; i++) await recordChange(other, { entity: 'mediation_case', recordId: newId(), fields: baseCase(`r${i}`) })
    await writer.syncNow()
    const eng = new SyncEngine({ ...engineFor(db, server).o, pullLimit: 3 })
    expect(await eng.pullAll()).toBe(7)
    expect(await db.cases.count()).toBe(7)
    expect((await db.meta.get('cursor'))?.value).toBe(String(server.seq))
  })

  it('resolves a conflict offline through an outbox mutation with resolves_conflict', async () => {
    const db = freshDb()
    const server = new FakeServer()
    const eng = engineFor(db, server)
    const id = newId()
    await recordChange(db, { entity: 'mediation_case', recordId: id, fields: baseCase() })
    await eng.syncNow()
    await recordChange(db, { entity: 'mediation_case', recordId: id, fields: { risk_level: 'red' } })
    server.serverEdit(id, { risk_level: 'blue' })
    await eng.syncNow()
    const [c] = await db.conflicts.toArray()
    expect(c.status).toBe('open')
    await recordChange(db, { entity: 'mediation_case', recordId: id, fields: { risk_level: 'red' }, resolvesConflict: c.id })
    expect((await db.cases.get(id))?.risk_level).toBe('red')
    await eng.syncNow()
    expect(await db.conflicts.count()).toBe(0)
    expect(server.records.get(id)!.record.risk_level).toBe('red')
    expect(server.conflicts.get(c.id)!.status).toBe('resolved')
  })
})

describe('reset_required', () => {
  it('keeps the outbox, re-pulls from the start and re-sends acknowledged mutations in order', async () => {
    const db = freshDb()
    const server = new FakeServer()
    const eng = engineFor(db, server)
    const a = newId(), b = newId()
    await recordChange(db, { entity: 'mediation_case', recordId: a, fields: baseCase('before backup') })
    await eng.syncNow()
    const backup = server.snapshot()
    await recordChange(db, { entity: 'mediation_case', recordId: b, fields: baseCase('lost by restore') })
    await recordChange(db, { entity: 'mediation_case', recordId: a, fields: { place: 'also lost' } })
    await eng.syncNow()
    expect(await db.acked.count()).toBe(3)
    // the server is restored from the backup: b and the place edit are gone
    server.restoreTo(backup)
    expect(server.records.has(b)).toBe(false)
    // queued offline, not yet sent
    await recordChange(db, { entity: 'mediation_case', recordId: a, fields: { description: 'queued' } })
    const pushesBefore = server.pushes.length
    expect(await eng.syncNow()).toBe('ok')
    const pushes = server.pushes.slice(pushesBefore)
    const acked = await db.acked.orderBy('seq').toArray()
    // the cycle's pull meets the 409 before anything is pushed; the reset path re-sends the whole
    // acknowledged log in its original order first (the server answers duplicate for what it
    // kept, applies what it lost), and only then the outbox (sync-protocol.md, Pull/reset)
    const sent = pushes.flatMap((p) => p.mutations)
    const replayedIds = acked.slice(0, 3).map((m) => m.mutation_id)
    expect(sent.slice(0, 3).map((m) => m.mutation_id)).toEqual(replayedIds)
    expect(sent.slice(3).map((m) => m.fields)).toEqual([{ description: 'queued' }])
    expect(acked[3].fields).toEqual({ description: 'queued' })
    expect(acked.length).toBe(4)
    expect(server.records.get(b)?.record.title).toBe('lost by restore')
    expect(server.records.get(a)?.record.place).toBe('also lost')
    expect(server.records.get(a)?.record.description).toBe('queued')
    expect(await db.outbox.count()).toBe(0)
    const view = plainRecord((await db.cases.get(a))!)
    expect(view.place).toBe('also lost')
    expect((await db.meta.get('server_epoch'))?.value).toBe('epoch-2')
  })
})

describe('one pusher at a time', () => {
  it('two sync calls at once never send a mutation twice', async () => {
    const db = freshDb()
    const server = new FakeServer()
    const a = engineFor(db, server)
    const b = engineFor(db, server)
    for (let i = 0; i < 3; i++) await recordChange(db, { entity: 'mediation_case', recordId: newId(), fields: baseCase(`t${i}`) })
    await Promise.all([a.syncNow(), b.syncNow()])
    const sent = server.pushes.flatMap((p) => p.mutations.map((m) => m.mutation_id))
    expect(sent.length).toBe(3)
    expect(new Set(sent).size).toBe(3)
  })
})
