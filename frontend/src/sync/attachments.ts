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

/** Formats the server takes as they are, and the largest photo stored uncompressed. */
export const RAW_TYPES = ['image/jpeg', 'image/png', 'image/webp']
export const MAX_RAW_BYTES = 4 * 1024 * 1024

export class PhotoUnsupportedError extends Error {
  constructor(public type: string, public size: number) {
    super('photo_unsupported')
    this.name = 'PhotoUnsupportedError'
  }
}

/**
 * A photo ready to store: compressed to JPEG; when the phone cannot decode it (HEIC on some
 * browsers, a broken file) it is kept as it is only if the server takes that format at that
 * size; otherwise PhotoUnsupportedError (the person is told at once, not after a week of retries).
 */
export async function preparePhoto(
  file: Blob,
  compress: (f: Blob) => Promise<Blob> = (f) => compressImage(f),
  thumbnail: (f: Blob) => Promise<Blob> = (f) => compressImage(f, THUMB_SIDE, 0.7),
): Promise<{ blob: Blob; thumb: Blob | null }> {
  let blob: Blob
  try {
    blob = await compress(file)
  } catch {
    if (!RAW_TYPES.includes(file.type) || file.size > MAX_RAW_BYTES) throw new PhotoUnsupportedError(file.type, file.size)
    blob = file
  }
  let thumb: Blob | null
  try {
    thumb = await thumbnail(blob)
  } catch {
    thumb = null
  }
  return { blob, thumb }
}

export const THUMB_SIDE = 240

/** Photos still to upload (not refused for good). */
export async function waitingPhotoCount(db: CunzhiDB): Promise<number> {
  return db.attachments.where('uploaded').equals(0).filter((a) => !a.failed).count()
}

/** Photos the server refused for good: "needs attention". */
export function failedPhotos(db: CunzhiDB): Promise<AttachmentRow[]> {
  return db.attachments.where('uploaded').equals(0).filter((a) => !!a.failed).toArray()
}

/** Stores a (compressed) photo for a record, with an optional thumbnail; returns its attachment id. */
export async function storeAttachment(db: CunzhiDB, blob: Blob, entity: string, recordId: string, thumb: Blob | null = null): Promise<string> {
  const id = newId()
  const row: AttachmentRow = {
    id, entity, record_id: recordId, blob, thumb, content_type: blob.type || 'image/jpeg', size: blob.size,
    sha256: await sha256Hex(blob), uploaded: 0, failed: 0, attempts: 0, next_try_at: 0, created_at: new Date().toISOString(),
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

/** Answers that will not change on a retry: the photo itself is refused (too large, not an image, bad checksum). */
const REFUSED = new Set([400, 413, 415, 422])

const isCreate = (m: { op: string; base_rev: number }) => m.op !== 'delete' && m.base_rev === 0

/**
 * A 404 on upload (the record is absent or out of scope) is final when the record will not reach the server:
 * its create was refused for good (in "needs attention", not sent again), or nothing of it waits in the outbox
 * (the server has had every change and still answers 404: deleted, or out of this person's scope). While its
 * create still waits to be sent, the photo waits for it.
 */
async function recordWillNotArrive(db: CunzhiDB, recordId: string): Promise<boolean> {
  const waiting = await db.outbox.where('record_id').equals(recordId).toArray()
  if (!waiting.length) return true
  if (waiting.some(isCreate)) return false
  return (await db.rejected.where('record_id').equals(recordId).toArray()).some((r) => isCreate(r.mutation))
}

/**
 * Uploads every photo that is due. A photo the server refuses for good is marked failed
 * ("needs attention", where the person can try it again), a 404 too once its record will not arrive; other failures are rescheduled with backoff. An uploaded photo's blob is
 * freed (the server has it; the thumbnail stays for the lists). Returns the uploaded count.
 */
export async function uploadPendingAttachments(db: CunzhiDB, transport: Transport, now = Date.now()): Promise<number> {
  if (!transport.putAttachment) return 0
  const due = await db.attachments.where('uploaded').equals(0).filter((a) => a.next_try_at <= now && !a.failed && !!a.blob).toArray()
  let done = 0
  for (const a of due) {
    try {
      await transport.putAttachment({
        id: a.id, blob: a.blob!, sha256: a.sha256, entity: a.entity, record_id: a.record_id, content_type: a.content_type,
      })
      await db.attachments.update(a.id, { uploaded: 1, last_error: null, blob: null })
      done++
    } catch (e) {
      if (e instanceof HttpError && (REFUSED.has(e.status) || (e.status === 404 && await recordWillNotArrive(db, a.record_id)))) {
        await db.attachments.update(a.id, { failed: 1, attempts: a.attempts + 1, last_error: e.code })
        continue
      }
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
