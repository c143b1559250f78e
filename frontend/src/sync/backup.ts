/**
 * A local backup: what this phone has not synced yet, in a file an admin can import on the
 * server if the phone is dying (`python -m cunzhi device-backup import FILE`, which replays it
 * through the normal push as the original user: the same mutation ids, so nothing applies twice).
 */
import type { CunzhiDB } from '../db'
import type { Me, Mutation } from '../api/types'

export const BACKUP_FORMAT = 'cunzhi-device-backup'

export interface DeviceBackup {
  format: typeof BACKUP_FORMAT
  version: 1
  exported_at: string
  user: { id: string; username: string; org_code: string }
  client_id: string
  /** waiting changes, in outbox order */
  mutations: Mutation[]
  /** changes the server refused (kept for the record; the import does not resend them) */
  rejected: { mutation: Mutation; error_code: string }[]
  /** photos not uploaded yet */
  attachments: { id: string; entity: string; record_id: string; content_type: string; sha256: string; data_base64: string }[]
}

async function base64(blob: Blob): Promise<string> {
  const bytes = new Uint8Array(await blob.arrayBuffer())
  let bin = ''
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(bin)
}

export async function buildBackup(db: CunzhiDB, user: Pick<Me, 'id' | 'username' | 'org_code'>, clientId: string): Promise<DeviceBackup> {
  const outbox = await db.outbox.orderBy('seq').toArray()
  const rejected = await db.rejected.orderBy('seq').toArray()
  const photos = await db.attachments.where('uploaded').equals(0).toArray()
  return {
    format: BACKUP_FORMAT,
    version: 1,
    exported_at: new Date().toISOString(),
    user: { id: user.id, username: user.username, org_code: user.org_code },
    client_id: clientId,
    mutations: outbox.map((e) => {
      const m: Mutation = {
        mutation_id: e.mutation_id, entity: e.entity, op: e.op, record_id: e.record_id, base_rev: e.base_rev,
        fields: e.fields, client_time: e.client_time,
      }
      if (e.base_epoch) m.base_epoch = e.base_epoch
      if (e.resolves_conflict) m.resolves_conflict = e.resolves_conflict
      return m
    }),
    rejected: rejected.map((r) => ({ mutation: r.mutation, error_code: r.error.code })),
    attachments: await Promise.all(photos.filter((p) => p.blob).map(async (p) => ({
      id: p.id, entity: p.entity, record_id: p.record_id, content_type: p.content_type, sha256: p.sha256,
      data_base64: await base64(p.blob!),
    }))),
  }
}

/** Saves the backup as a file (the browser's download); returns how many changes it holds. */
export async function downloadBackup(db: CunzhiDB, user: Me): Promise<number> {
  const { clientId } = await import('../app/session')
  const b = await buildBackup(db, user, clientId())
  const blob = new Blob([JSON.stringify(b)], { type: 'application/json' })
  const a = document.createElement('a')
  a.href = URL.createObjectURL(blob)
  a.download = `cunzhi-backup-${user.username}-${b.exported_at.slice(0, 16).replace(/[:T]/g, '')}.json`
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000)
  return b.mutations.length + b.attachments.length
}
