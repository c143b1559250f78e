/**
 * Persistent storage (sync-protocol.md: "the app asks for persistent storage and warns when the
 * quota is near"). The outcome of navigator.storage.persist() is kept and shown: when the
 * browser refuses, it may evict this device's unsent changes under storage pressure.
 */
import { reactive } from 'vue'

export type Persistence = 'granted' | 'refused' | 'unsupported' | 'unknown'

export const storageState = reactive({
  persistence: 'unknown' as Persistence,
  usage: null as number | null,
  quota: null as number | null,
  nearFull: false,
})

interface StorageLike {
  persist?: () => Promise<boolean>
  persisted?: () => Promise<boolean>
  estimate?: () => Promise<{ usage?: number; quota?: number }>
}

/** Asks for persistence (once granted it stays) and reads usage; never throws. */
export async function checkPersistence(storage: StorageLike | undefined = (globalThis as any).navigator?.storage, ask = true): Promise<Persistence> {
  try {
    if (!storage?.persist) storageState.persistence = 'unsupported'
    else if (await storage.persisted?.()) storageState.persistence = 'granted'
    else if (ask) storageState.persistence = (await storage.persist()) ? 'granted' : 'refused'
    else storageState.persistence = 'refused'
  } catch {
    storageState.persistence = 'unsupported'
  }
  await readUsage(storage)
  return storageState.persistence
}

export async function readUsage(storage: StorageLike | undefined = (globalThis as any).navigator?.storage) {
  try {
    const est = await storage?.estimate?.()
    if (est) {
      storageState.usage = est.usage ?? null
      storageState.quota = est.quota ?? null
      storageState.nearFull = !!(est.quota && (est.usage || 0) / est.quota > 0.85)
    }
  } catch {
    /* not available */
  }
}

export function formatBytes(n: number | null): string {
  if (n == null) return '—'
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KB`
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MB`
  return `${(n / 1024 ** 3).toFixed(1)} GB`
}
