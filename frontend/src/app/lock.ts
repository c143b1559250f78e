/**
 * App lock: an optional PIN (4–6 digits) that hides everything — personal data included — on a
 * shared phone until it is entered. Asked when the app starts and when it comes back after being
 * hidden for a while. The PIN is kept only as a salted PBKDF2 hash, per user, in localStorage (read
 * before anything is drawn). Forgetting it: sign out and sign in with the password (the lock is
 * then removed; the data and the outbox stay).
 */
import { reactive } from 'vue'

export const LOCK_AFTER_MS = 60_000
const key = (userId: string) => `cunzhi.lock.${userId}`

interface Stored {
  salt: string
  hash: string
  iterations: number
}

export const lockState = reactive({ locked: false, enabled: false, failures: 0 })

const hex = (b: ArrayBuffer | Uint8Array) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, '0')).join('')

async function derive(pin: string, salt: string, iterations: number): Promise<string> {
  const base = await crypto.subtle.importKey('raw', new TextEncoder().encode(pin), 'PBKDF2', false, ['deriveBits'])
  const bits = await crypto.subtle.deriveBits({ name: 'PBKDF2', salt: new TextEncoder().encode(salt), iterations, hash: 'SHA-256' }, base, 256)
  return hex(bits)
}

export const validPin = (pin: string) => /^\d{4,6}$/.test(pin)

function read(userId: string, storage: Storage): Stored | null {
  try {
    const raw = storage.getItem(key(userId))
    return raw ? (JSON.parse(raw) as Stored) : null
  } catch {
    return null
  }
}

export function lockEnabled(userId: string, storage: Storage = localStorage): boolean {
  return !!read(userId, storage)
}

export async function setPin(userId: string, pin: string, storage: Storage = localStorage): Promise<void> {
  if (!validPin(pin)) throw new Error('pin_format')
  const salt = hex(crypto.getRandomValues(new Uint8Array(16)))
  const iterations = 100_000
  storage.setItem(key(userId), JSON.stringify({ salt, iterations, hash: await derive(pin, salt, iterations) }))
  lockState.enabled = true
}

export function removePin(userId: string, storage: Storage = localStorage): void {
  storage.removeItem(key(userId))
  lockState.enabled = false
  lockState.locked = false
}

export async function checkPin(userId: string, pin: string, storage: Storage = localStorage): Promise<boolean> {
  const s = read(userId, storage)
  if (!s) return true
  const ok = (await derive(pin, s.salt, s.iterations)) === s.hash
  if (ok) {
    lockState.locked = false
    lockState.failures = 0
  } else lockState.failures++
  return ok
}

/** At start: locked if this user has a PIN. */
export function initLock(userId: string | null | undefined, storage: Storage = localStorage): void {
  lockState.enabled = !!userId && lockEnabled(userId, storage)
  lockState.locked = lockState.enabled
}

let hiddenAt = 0
/** Locks again when the app comes back after LOCK_AFTER_MS hidden. */
export function watchVisibility(now = () => Date.now()): () => void {
  const on = () => {
    if (document.visibilityState === 'hidden') hiddenAt = now()
    else if (lockState.enabled && hiddenAt && now() - hiddenAt >= LOCK_AFTER_MS) lockState.locked = true
  }
  document.addEventListener('visibilitychange', on)
  return () => document.removeEventListener('visibilitychange', on)
}
