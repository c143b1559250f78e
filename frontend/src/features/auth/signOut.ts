/**
 * Signing out on a shared phone: the session ends on the server and this user's local database is wiped —
 * but never before what is waiting to sync has reached the server.
 *
 * A sign-out is first written to localStorage (`cunzhi.pending_signouts`), so it survives a closed app and
 * works offline: the app is signed out at once, and whenever the network is there (now, on `online`, at the
 * next start) each pending sign-out pushes that user's outbox with the old token, then revokes the session
 * (`DELETE /api/v1/sessions/{id}`), then deletes the user's database. If the server already refuses the token
 * (401), nothing more can be sent with it: a revoked session wipes the data as the app always does, an expired
 * one leaves the waiting changes for the user's next sign-in on this phone.
 */
import { CunzhiDB, closeUserDb, dbNameFor, wipeUserDb } from '../../db'
import { SyncEngine } from '../../sync/engine'
import { HttpTransport } from '../../sync/transport'
import { appState, clientId, saveSession } from '../../app/session'
import { saveDeviceSession } from '../../app/device'
import { dbRef, stopUser } from '../../app/runtime'
import { currentLang } from '../../i18n'
import { forgetUserCaches } from '../../app/userCaches'

const KEY = 'cunzhi.pending_signouts'

export interface PendingSignOut {
  userId: string
  token: string
  sessionId?: string
  clientId: string
  lang: string
  at: string
}

export type SignOutResult = 'done' | 'queued'

export interface SignOutDeps {
  fetchFn?: typeof fetch
  online?: () => boolean
}

export function pendingSignOuts(): PendingSignOut[] {
  try {
    return JSON.parse(localStorage.getItem(KEY) || '[]') as PendingSignOut[]
  } catch {
    return []
  }
}

function savePending(list: PendingSignOut[]) {
  if (list.length) localStorage.setItem(KEY, JSON.stringify(list))
  else localStorage.removeItem(KEY)
}

/** Changes and photos of this user not yet on the server (what the warning before signing out counts). */
export async function waitingChanges(db: CunzhiDB): Promise<number> {
  const [changes, photos] = await Promise.all([db.outbox.count(), db.attachments.where('uploaded').equals(0).count()])
  return changes + photos
}

/** Waiting changes of the signed-in user (0 when nobody is signed in). */
export async function waitingChangesOfCurrentUser(): Promise<number> {
  const db = dbRef.value
  return db ? waitingChanges(db) : 0
}

/** Signs the current user out: the app at once; the server and the wipe as soon as they can happen. */
export async function signOut(deps: SignOutDeps = {}): Promise<SignOutResult> {
  const s = appState.session
  if (!s) return 'done'
  const entry: PendingSignOut = {
    userId: s.user.id, token: s.token, sessionId: s.session_id, clientId: clientId(), lang: currentLang(),
    at: new Date().toISOString(),
  }
  savePending([...pendingSignOuts().filter((p) => p.token !== s.token), entry])
  forgetUserCaches(s.user.username)
  stopUser()
  closeUserDb()
  await saveDeviceSession(null) // the service worker must not push with this session any more
  saveSession(null)
  appState.needsPassword = false
  await processPendingSignOuts(deps)
  return pendingSignOuts().some((p) => p.token === entry.token) ? 'queued' : 'done'
}

let running: Promise<void> | null = null

/** Finishes every pending sign-out the network allows (safe to call often: one run at a time). */
export function processPendingSignOuts(deps: SignOutDeps = {}): Promise<void> {
  if (!running) running = run(deps).finally(() => (running = null))
  return running
}

async function run(deps: SignOutDeps): Promise<void> {
  const online = deps.online ?? (() => navigator.onLine !== false)
  for (const p of pendingSignOuts()) {
    if (!online()) return
    if (appState.session?.user.id === p.userId) {
      // signed in again on this phone meanwhile: the old session still ends, the data stays for the new one
      if (await revoke(p, deps) !== 'network') drop(p)
      continue
    }
    const outcome = await finish(p, deps)
    if (outcome !== 'later') drop(p)
  }
}

function drop(p: PendingSignOut) {
  savePending(pendingSignOuts().filter((x) => x.token !== p.token))
}

async function finish(p: PendingSignOut, deps: SignOutDeps): Promise<'done' | 'later' | 'kept'> {
  const db = new CunzhiDB(dbNameFor(p.userId))
  let waiting: number
  try {
    waiting = await waitingChanges(db)
    if (waiting > 0) {
      const engine = new SyncEngine({
        db, clientId: p.clientId, autoSchedule: false,
        transport: new HttpTransport({ getToken: () => p.token, getLanguage: () => p.lang, fetchFn: deps.fetchFn }),
      })
      const outcome = await engine.syncNow()
      if (outcome === 'auth') {
        db.close()
        if (engine.status.lastError === 'session_revoked') {
          await wipeUserDb(p.userId)
          return 'done'
        }
        return 'kept' // expired: the changes wait for this user's next sign-in
      }
      waiting = await waitingChanges(db)
    }
  } finally {
    db.close()
  }
  if (waiting > 0) return 'later'
  const r = await revoke(p, deps)
  if (r === 'network') return 'later'
  await wipeUserDb(p.userId)
  return 'done'
}

async function revoke(p: PendingSignOut, deps: SignOutDeps): Promise<'ok' | 'gone' | 'network'> {
  if (!p.sessionId) return 'gone'
  const f = deps.fetchFn || fetch
  try {
    const res = await f(`/api/v1/sessions/${p.sessionId}`, {
      method: 'DELETE', headers: { Authorization: `Bearer ${p.token}`, 'Accept-Language': p.lang },
    })
    if (res.ok) return 'ok'
    if (res.status === 401 || res.status === 404) return 'gone' // already ended
    return 'network' // 5xx: try again later
  } catch {
    return 'network'
  }
}

/** Finishes pending sign-outs now and whenever the network comes back. */
export function installSignOutQueue(deps: SignOutDeps = {}): () => void {
  const onOnline = () => void processPendingSignOuts(deps)
  window.addEventListener('online', onOnline)
  void processPendingSignOuts(deps)
  return () => window.removeEventListener('online', onOnline)
}
