/** Pushes the signed-in user's outbox from the service worker (no page open). */
import { CunzhiDB, dbNameFor } from '../db'
import { SyncEngine } from '../sync/engine'
import { HttpTransport } from '../sync/transport'
import { loadDeviceSession, saveDeviceSession } from '../app/device'

export async function runBackgroundSync(): Promise<void> {
  const s = await loadDeviceSession()
  if (!s) return
  const db = new CunzhiDB(dbNameFor(s.userId))
  try {
    const engine = new SyncEngine({
      db, clientId: s.clientId, autoSchedule: false,
      transport: new HttpTransport({ getToken: () => s.token, getLanguage: () => s.lang }),
    })
    const outcome = await engine.syncNow()
    // 401: this session is over; later background syncs must not retry with it (the page asks for the password)
    if (outcome === 'auth') await saveDeviceSession(null)
    // a failure makes the browser retry the sync event later
    if (outcome === 'failed') throw new Error('sync failed')
  } finally {
    db.close()
  }
}
