/**
 * Issue 12, defects 1–8: nothing lost, nothing stuck. Each test failed before its fix.
 */
import { describe, it, expect } from 'vitest'
import { CunzhiDB } from '../db'
import { SyncEngine } from './engine'
import { recordChange } from './outbox'
import { resendRejected } from './attention'
import { FakeServer } from './testing/fakeServer'
import { HttpError, NetworkError, type Transport } from './transport'
import { newId } from './ids'
import { storeAttachment, preparePhoto, PhotoUnsupportedError, waitingPhotoCount } from './attachments'
import { describeSyncError } from './errors'
import { checkPersistence, storageState } from '../app/storage'

let n = 0
const freshDb = () => new CunzhiDB(`rel-${Date.now()}-${n++}`)

function engineFor(db: CunzhiDB, server: FakeServer, transport?: Transport, extra: Partial<SyncEngine['o']> = {}) {
  return new SyncEngine({
    db, transport: transport || server.transport('A', 'client-A'), clientId: 'client-A',
    autoSchedule: false, random: () => 0.5, lockName: `lock-${db.name}`, userId: 'A', ...extra,
  })
}

const baseCase = (title = '邻里纠纷') => ({
  org_code: '340321108200', title, category: 'neighbor', source: 'party_request',
  received_on: '2026-11-20', parties: [{ name: '张三', role: 'applicant' }], risk_level: 'yellow', status: 'registered',
})

/** A transport that cuts the connection on the calls `cut` picks. */
function cutting(server: FakeServer, cut: { pull?: (cursor: string | null) => boolean; push?: () => boolean }): Transport {
  const tr = server.transport('A', 'client-A')
  return {
    ...tr,
    pull: async (c, l) => {
      if (cut.pull?.(c)) throw new NetworkError('cut')
      return tr.pull(c, l)
    },
    push: async (b) => {
      if (cut.push?.()) throw new NetworkError('cut')
      return tr.push(b)
    },
  }
}

/** One case acked before a backup and one edit acked after it; then the server restores the backup. */
async function restoredScenario() {
  const db = freshDb()
  const server = new FakeServer()
  const a = newId(), b = newId()
  const eng = engineFor(db, server)
  await recordChange(db, { entity: 'mediation_case', recordId: a, fields: baseCase('before backup') })
  await eng.syncNow()
  const backup = server.snapshot()
  await recordChange(db, { entity: 'mediation_case', recordId: b, fields: baseCase('lost by restore') })
  await recordChange(db, { entity: 'mediation_case', recordId: a, fields: { title: 'acked, lost' } })
  await eng.syncNow()
  server.restoreTo(backup)
  return { db, server, a, b }
}

describe('defect 1: an interrupted reset resumes', () => {
  it('a reset cut off during the full pull replays the acknowledged log on the next start', async () => {
    const { db, server, b } = await restoredScenario()
    let cutFull = true
    const eng = engineFor(db, server, cutting(server, { pull: (c) => c === null && cutFull && !(cutFull = false) }))
    expect(await eng.syncNow()).toBe('failed')
    expect(server.records.has(b)).toBe(false)
    // a new engine (the app restarted) finishes the reset
    const eng2 = engineFor(db, server)
    expect(await eng2.syncNow()).toBe('ok')
    expect(server.records.get(b)?.record.title).toBe('lost by restore')
    expect(await db.meta.get('reset')).toBeUndefined()
  })

  it('a reset cut off during the replay sends the rest of the log on the next cycle', async () => {
    const { db, server, a, b } = await restoredScenario()
    let pushes = 0
    const eng = engineFor(db, server, cutting(server, { push: () => ++pushes === 2 }), { batchSize: 1 })
    expect(await eng.syncNow()).toBe('failed')
    expect(await eng.syncNow()).toBe('ok')
    expect(server.records.get(b)?.record.title).toBe('lost by restore')
    expect(server.records.get(a)?.record.title).toBe('acked, lost')
  })
})

describe('defect 2: on a reset the acknowledged log goes before the outbox', () => {
  it('a newer queued edit of the same field is not overwritten by the older acknowledged value', async () => {
    const { db, server, a } = await restoredScenario()
    await recordChange(db, { entity: 'mediation_case', recordId: a, fields: { title: 'newest, queued' } })
    const eng = engineFor(db, server)
    const before = server.pushes.length
    expect(await eng.syncNow()).toBe('ok')
    const sent = server.pushes.slice(before).flatMap((p) => p.mutations.map((m) => m.fields.title))
    expect(sent.indexOf('newest, queued')).toBeGreaterThan(sent.indexOf('acked, lost'))
    expect(server.records.get(a)?.record.title).toBe('newest, queued')
    expect((await db.cases.get(a))?.title).toBe('newest, queued')
  })
})

describe('defect 3: the replay honours every answer, by its effective status', () => {
  it('a replayed mutation answered (duplicate of) rejected goes to needs attention', async () => {
    const { db, server } = await restoredScenario()
    const acked = await db.acked.orderBy('seq').toArray()
    const last = acked[acked.length - 1]
    server.answers.set(last.mutation_id, {
      user: 'A', result: { mutation_id: last.mutation_id, status: 'rejected', error: { code: 'validation_error', message: 'no' } },
    })
    expect(await engineFor(db, server).syncNow()).toBe('ok')
    const rej = await db.rejected.toArray()
    expect(rej.map((r) => r.mutation_id)).toEqual([last.mutation_id])
    expect(await db.acked.get(last.seq)).toBeUndefined()
  })

  it('a replayed update answered unknown_record is kept and sent again, not dropped', async () => {
    const db = freshDb()
    const server = new FakeServer()
    const eng = engineFor(db, server)
    const backup = server.snapshot()
    // a record another device created; this device edited it; the restore lost both
    const id = newId()
    server.records.set(id, { entity: 'mediation_case', record: { ...baseCase(), id, rev: 1, deleted: false }, fieldRev: {} })
    ;(server as any).bump(id)
    await eng.pullAll()
    await recordChange(db, { entity: 'mediation_case', recordId: id, fields: { place: '村口' } })
    await eng.syncNow()
    expect(await db.acked.count()).toBe(1)
    server.restoreTo(backup)
    await eng.syncNow()
    const outbox = await db.outbox.toArray()
    expect(outbox.map((o) => o.fields)).toEqual([{ place: '村口' }])
    expect(outbox[0].last_error).toBe('unknown_record')
    // the other device's create comes back: the kept edit applies
    server.records.set(id, { entity: 'mediation_case', record: { ...baseCase(), id, rev: 1, deleted: false }, fieldRev: {} })
    await eng.syncNow()
    expect(server.records.get(id)?.record.place).toBe('村口')
  })
})

describe('defect 4: a rejected create stays visible and is fixed in its form', () => {
  it('stays in the list with its error; its events wait; the fix goes before them', async () => {
    const db = freshDb()
    const server = new FakeServer()
    const eng = engineFor(db, server)
    const id = newId(), ev = newId()
    await recordChange(db, { entity: 'mediation_case', recordId: id, fields: { ...baseCase(), title: '' } })
    await recordChange(db, { entity: 'case_event', recordId: ev, fields: { case_id: id, org_code: '340321108200', kind: 'session', occurred_at: '2026-11-20T10:00:00+08:00', content: 'x' } })
    await eng.syncNow()
    const view = await db.cases.get(id)
    expect(view).toBeTruthy()
    expect(view?._rejected).toBe(1)
    expect(await db.case_index.get(id)).toBeTruthy()
    const rej = await db.rejected.toArray()
    expect(rej.map((r) => r.record_id)).toEqual([id])
    // the event is not rejected: it waits for its case
    expect((await db.outbox.toArray()).map((o) => o.record_id)).toEqual([ev])
    expect((await db.events.get(ev))?.case_id).toBe(id)
    await eng.syncNow()
    expect(await db.rejected.count()).toBe(1)
    // fixed (the form sends every field of the create) and resent: the create goes first
    await resendRejected(db, rej[0].mutation_id, { ...baseCase(), title: '修好了' })
    const order = (await db.outbox.orderBy('seq').toArray()).map((o) => o.record_id)
    expect(order).toEqual([id, ev])
    expect(await eng.syncNow()).toBe('ok')
    expect(server.records.get(id)?.record.title).toBe('修好了')
    expect(server.records.has(ev)).toBe(true)
    expect((await db.cases.get(id))?._rejected).toBe(0)
  })
})

function jpeg(size = 8): Blob {
  const b = new Uint8Array(size)
  b.set([0xff, 0xd8, 0xff, 0xe0])
  return new Blob([b], { type: 'image/jpeg' })
}

describe('defect 5: photos', () => {
  it('counts waiting photos, frees uploaded blobs (keeps the thumbnail)', async () => {
    const db = freshDb()
    const server = new FakeServer()
    const thumb = jpeg(4)
    const id = await storeAttachment(db, jpeg(64), 'mediation_case', 'c1', thumb)
    expect(await waitingPhotoCount(db)).toBe(1)
    await engineFor(db, server).syncNow()
    expect(server.attachments.has(id)).toBe(true)
    const row = await db.attachments.get(id)
    expect(row?.uploaded).toBe(1)
    expect(row?.blob).toBeNull()
    expect(row?.thumb?.size).toBe(4)
    expect(await waitingPhotoCount(db)).toBe(0)
  })

  it('a photo the server refuses moves to needs attention and is not retried', async () => {
    const db = freshDb()
    const server = new FakeServer()
    server.refuseAttachments = { status: 413, code: 'too_large' }
    const id = await storeAttachment(db, jpeg(64), 'mediation_case', 'c1')
    const eng = engineFor(db, server)
    expect(await eng.syncNow()).toBe('ok')
    const row = await db.attachments.get(id)
    expect(row?.failed).toBe(1)
    expect(row?.last_error).toBe('too_large')
    expect(await waitingPhotoCount(db)).toBe(0)
    server.refuseAttachments = null
    await eng.syncNow()
    expect(server.attachments.has(id)).toBe(false)
  })

  it('uploads photos even when the pull fails', async () => {
    const db = freshDb()
    const server = new FakeServer()
    server.pullError = new HttpError(500, { code: 'internal', message: '' })
    const id = await storeAttachment(db, jpeg(64), 'mediation_case', 'c1')
    expect(await engineFor(db, server).syncNow()).toBe('failed')
    expect(server.attachments.has(id)).toBe(true)
  })

  it('a photo that cannot be compressed is refused on the phone unless it is a small JPEG/PNG/WebP', async () => {
    const broken = async () => {
      throw new Error('decode failed')
    }
    const heic = new Blob([new Uint8Array(8 * 1024 * 1024)], { type: 'image/heic' })
    await expect(preparePhoto(heic, broken)).rejects.toBeInstanceOf(PhotoUnsupportedError)
    const bigJpeg = new Blob([new Uint8Array(8 * 1024 * 1024)], { type: 'image/jpeg' })
    await expect(preparePhoto(bigJpeg, broken)).rejects.toBeInstanceOf(PhotoUnsupportedError)
    const small = jpeg(1000)
    expect((await preparePhoto(small, broken)).blob).toBe(small)
  })
})

describe('defect 6: persistent storage', () => {
  it('keeps the outcome of persist() and the storage used', async () => {
    await checkPersistence({ persisted: async () => false, persist: async () => false, estimate: async () => ({ usage: 5e6, quota: 1e8 }) })
    expect(storageState.persistence).toBe('refused')
    expect(storageState.usage).toBe(5e6)
    await checkPersistence({ persisted: async () => false, persist: async () => true, estimate: async () => ({ usage: 9, quota: 10 }) })
    expect(storageState.persistence).toBe('granted')
    expect(storageState.nearFull).toBe(true)
  })
})

describe('defect 7: one bad mutation does not stop the outbox', () => {
  it('a push refused as a whole (422) is narrowed to the bad mutation, which needs attention', async () => {
    const db = freshDb()
    const server = new FakeServer()
    const ids = [newId(), newId(), newId(), newId(), newId()]
    for (const [i, id] of ids.entries()) await recordChange(db, { entity: 'mediation_case', recordId: id, fields: baseCase(`t${i}`) })
    server.envelopeError = (m) => m.record_id === ids[2]
    expect(await engineFor(db, server).syncNow()).toBe('ok')
    expect([...server.records.keys()].sort()).toEqual([ids[0], ids[1], ids[3], ids[4]].sort())
    const rej = await db.rejected.toArray()
    expect(rej.map((r) => r.record_id)).toEqual([ids[2]])
    expect(rej[0].error.code).toBe('validation_error')
    expect(await db.outbox.count()).toBe(0)
  })

  it('a single mutation too large for the server (413) needs attention; the rest go', async () => {
    const db = freshDb()
    const server = new FakeServer()
    const big = newId(), ok = newId()
    await recordChange(db, { entity: 'mediation_case', recordId: big, fields: baseCase('big') })
    await recordChange(db, { entity: 'mediation_case', recordId: ok, fields: baseCase('ok') })
    server.tooLarge = (m) => m.record_id === big
    expect(await engineFor(db, server).syncNow()).toBe('ok')
    expect(server.records.has(ok)).toBe(true)
    expect((await db.rejected.toArray()).map((r) => [r.record_id, r.error.code])).toEqual([[big, 'payload_too_large']])
  })

  it('the periodic tick waits for the back-off and Retry-After', async () => {
    const db = freshDb()
    const server = new FakeServer()
    const eng = engineFor(db, server)
    await recordChange(db, { entity: 'mediation_case', recordId: newId(), fields: baseCase() })
    server.busyNext = 1
    expect(await eng.syncNow()).toBe('failed')
    const pushes = server.pushes.length
    expect(await eng.tick()).toBe('waiting')
    expect(server.pushes.length).toBe(pushes)
    expect(await eng.tick(Date.now() + 120_000)).toBe('ok')
  })

  it('says what went wrong in words, not NetworkError', () => {
    const t = (k: string) => k
    expect(describeSyncError('network', t)).toBe('sync.errors.network')
    expect(describeSyncError('TypeError: Failed to fetch', t)).toBe('sync.errors.network')
    expect(describeSyncError('busy', t)).toBe('sync.errors.busy')
    expect(describeSyncError('something odd', t)).toBe('sync.errors.other')
  })
})

describe('defect 8: the conflicts count is the person\'s own', () => {
  it('marks conflicts created by this user as mine, others not', async () => {
    const db = freshDb()
    const server = new FakeServer()
    server.conflicts.set('c1', { id: 'c1', entity: 'mediation_case', record_id: 'r1', base_rev: 1, fields: [], status: 'open', created_by: 'A' })
    server.conflicts.set('c2', { id: 'c2', entity: 'mediation_case', record_id: 'r2', base_rev: 1, fields: [], status: 'open', created_by: 'B' })
    await engineFor(db, server).syncNow()
    expect((await db.conflicts.toArray()).filter((c) => c.mine).map((c) => c.id)).toEqual(['c1'])
  })
})
