/**
 * Photos: compressed on the phone, stored as blobs in IndexedDB, uploaded with
 * PUT /api/v1/attachments/{id} (idempotent by id) with retry and backoff until it succeeds.
 * A record refers to photos by attachment_ids and may sync before its photos do.
 */
import type { CunzhiDB, AttachmentRow } from '../db'
import type { Transport } from './transport'
import { HttpError } from './transport'
import { newId } from './ids'
import { isQuotaError, StorageFullError } from './outbox'

export const MAX_SIDE = 1600

export async function sha256Hex(blob: Blob): Promise<string> {
  const buf = await blob.arrayBuffer()
  const digest = await crypto.subtle.digest('SHA-256', buf)
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('')
}

/** Scales so the longest side is at most maxSide px, returns a JPEG blob. Browser only. */
export async function compressImage(file: Blob, maxSide = MAX_SIDE, quality = 0.8): Promise<Blob> {
  const bitmap: ImageBitmap = await createImageBitmap(file)
  const scale = Math.min(1, maxSide / Math.max(bitmap.width, bitmap.height))
  const w = Math.max(1, Math.round(bitmap.width * scale))
  const h = Math.max(1, Math.round(bitmap.height * scale))
  let out: Blob
  if (typeof OffscreenCanvas !== 'undefined') {
    const canvas = new OffscreenCanvas(w, h)
    const ctx = canvas.getContext('2d')!
    ctx.drawImage(bitmap, 0, 0, w, h)
    out = await canvas.convertToBlob({ type: 'image/jpeg', quality })
  } else {
    const canvas = document.createElement('canvas')
    canvas.width = w
    canvas.height = h
    canvas.getContext('2d')!.drawImage(bitmap, 0, 0, w, h)
    out = await new Promise<Blob>((resolve, reject) =>
      canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('encode failed'))), 'image/jpeg', quality),
    )
  }
  bitmap.close?.()
  return out
}

/** Stores a (compressed) photo for a record; returns its attachment id. */
export async function storeAttachment(db: CunzhiDB, blob: Blob, entity: string, recordId: string): Promise<string> {
  const id = newId()
  const row: AttachmentRow = {
    id, entity, record_id: recordId, blob, content_type: blob.type || 'image/jpeg', size: blob.size,
    sha256: await sha256Hex(blob), uploaded: 0, attempts: 0, next_try_at: 0, created_at: new Date().toISOString(),
  }
  try {
    await db.attachments.add(row)
  } catch (e) {
    if (isQuotaError(e)) throw new StorageFullError(e)
    throw e
  }
  return id
}

export function attachmentBackoff(attempts: number, random = Math.random): number {
  const exp = Math.min(3600_000, 2000 * 2 ** Math.max(0, attempts - 1))
  return Math.round(exp / 2 + random() * (exp / 2))
}

/** Uploads every photo that is due; failures are rescheduled with backoff. Returns uploaded count. */
export async function uploadPendingAttachments(db: CunzhiDB, transport: Transport, now = Date.now()): Promise<number> {
  if (!transport.putAttachment) return 0
  const due = await db.attachments.where('uploaded').equals(0).filter((a) => a.next_try_at <= now).toArray()
  let done = 0
  for (const a of due) {
    try {
      await transport.putAttachment({
        id: a.id, blob: a.blob, sha256: a.sha256, entity: a.entity, record_id: a.record_id, content_type: a.content_type,
      })
      await db.attachments.update(a.id, { uploaded: 1, last_error: null })
      done++
    } catch (e) {
      const attempts = a.attempts + 1
      await db.attachments.update(a.id, {
        attempts, next_try_at: Date.now() + attachmentBackoff(attempts),
        last_error: e instanceof HttpError ? e.code : String((e as any)?.message || e),
      })
      if (e instanceof HttpError && (e.status === 401 || e.status === 426)) throw e
    }
  }
  return done
}
