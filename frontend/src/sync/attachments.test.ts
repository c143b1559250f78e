import { describe, it, expect } from 'vitest'
import { CunzhiDB } from '../db'
import { storeAttachment, uploadPendingAttachments, sha256Hex } from './attachments'
import { HttpError, NetworkError, type Transport, type AttachmentUpload } from './transport'

function photo(): Blob {
  return new Blob([new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4])], { type: 'image/jpeg' })
}

describe('photo uploads', () => {
  it('retries with backoff until the upload succeeds, idempotent by id', async () => {
    const db = new CunzhiDB(`att-${Math.random()}`)
    const blob = photo()
    const id = await storeAttachment(db, blob, 'mediation_case', 'case-1')
    const calls: AttachmentUpload[] = []
    let fail = 2
    const transport: Transport = {
      push: async () => { throw new Error('unused') },
      pull: async () => { throw new Error('unused') },
      putAttachment: async (a) => {
        calls.push(a)
        if (fail-- > 0) throw fail === 1 ? new NetworkError() : new HttpError(503, { code: 'busy', message: '' })
        return { id: a.id, sha256: a.sha256, content_type: a.content_type, size: 8 }
      },
    }
    expect(await uploadPendingAttachments(db, transport)).toBe(0)
    let row = await db.attachments.get(id)
    expect(row?.uploaded).toBe(0)
    expect(row?.attempts).toBe(1)
    expect(row!.next_try_at).toBeGreaterThan(Date.now())
    // not due yet: nothing sent
    expect(await uploadPendingAttachments(db, transport)).toBe(0)
    expect(calls.length).toBe(1)
    await uploadPendingAttachments(db, transport, Date.now() + 3600_000) // second failure
    expect(await uploadPendingAttachments(db, transport, Date.now() + 7200_000)).toBe(1)
    row = await db.attachments.get(id)
    expect(row?.uploaded).toBe(1)
    expect(new Set(calls.map((c) => c.id))).toEqual(new Set([id]))
    expect(calls[0].sha256).toBe(await sha256Hex(blob))
    expect(calls[0]).toMatchObject({ entity: 'mediation_case', record_id: 'case-1' })
  })

  it('a 404 is final when the record will never reach the server (create refused, or nothing of it waits)', async () => {
    const db = new CunzhiDB(`att-${Math.random()}`)
    const refusedCase = await storeAttachment(db, photo(), 'mediation_case', 'case-refused')
    const waitingCase = await storeAttachment(db, photo(), 'mediation_case', 'case-waiting')
    const goneCase = await storeAttachment(db, photo(), 'mediation_case', 'case-gone')
    const create = (record_id: string, mutation_id: string) => ({
      mutation_id, entity: 'mediation_case', op: 'upsert', record_id, base_rev: 0, client_time: '2026-11-30T09:00:00+08:00', fields: {},
    }) as any
    // the create of case-refused was refused for good ("needs attention"); a later edit of it is held in the outbox
    await db.rejected.put({ mutation_id: 'm1', seq: 1, mutation: create('case-refused', 'm1'), record_id: 'case-refused',
      entity: 'mediation_case', error: { code: 'validation_error', message: '' } as any, rejected_at: new Date().toISOString() })
    await db.outbox.add({ ...create('case-refused', 'm2'), base_rev: 1 } as any)
    // case-waiting's create has not been sent yet (no network for the push): its photo waits for it
    await db.outbox.add(create('case-waiting', 'm3') as any)
    // case-gone: nothing of it waits, the server has every change and answers 404 (deleted, or out of scope)
    let calls = 0
    const transport: Transport = {
      push: async () => { throw new Error('unused') },
      pull: async () => { throw new Error('unused') },
      putAttachment: async () => {
        calls++
        throw new HttpError(404, { code: 'not_found', message: '' })
      },
    }
    expect(await uploadPendingAttachments(db, transport)).toBe(0)
    expect(calls).toBe(3)
    const row = async (id: string) => (await db.attachments.get(id))!
    expect(await row(refusedCase)).toMatchObject({ failed: 1, last_error: 'not_found' })
    expect(await row(goneCase)).toMatchObject({ failed: 1, last_error: 'not_found' })
    expect((await row(waitingCase)).failed).toBe(0)
    expect((await row(waitingCase)).next_try_at).toBeGreaterThan(Date.now())
    // refused ones are no longer tried; the waiting one is, when due
    await uploadPendingAttachments(db, transport, Date.now() + 3600_000)
    expect(calls).toBe(4)
  })
})
