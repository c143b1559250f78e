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
})
