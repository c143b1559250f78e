/**
 * A tiny device-wide database (`cunzhi-device`) holding who is signed in, so the service
 * worker's Background Sync can push that user's outbox when no page is open.
 */
import Dexie, { type Table } from 'dexie'

export interface DeviceSession {
  key: 'current'
  userId: string
  token: string
  clientId: string
  lang: string
}

class DeviceDB extends Dexie {
  session!: Table<DeviceSession, string>
  constructor() {
    super('cunzhi-device')
    this.version(1).stores({ session: '&key' })
  }
}

let db: DeviceDB | null = null
function open() {
  if (!db) db = new DeviceDB()
  return db
}

export async function saveDeviceSession(s: Omit<DeviceSession, 'key'> | null) {
  try {
    if (s) await open().session.put({ key: 'current', ...s })
    else await open().session.delete('current')
  } catch {
    /* best effort */
  }
}

export async function loadDeviceSession(): Promise<DeviceSession | undefined> {
  return open().session.get('current')
}
