/**
 * Starts and stops the per-user machinery: the user's database, the sync engine and its
 * triggers (app start, `online`, local changes (debounced), a periodic tick, Background Sync).
 */
import { ref, shallowRef } from 'vue'
import { openUserDb, wipeUserDb, getMeta, setMeta, closeUserDb, type CunzhiDB } from '../db'
import { SyncEngine, type SyncStatus } from '../sync/engine'
import { HttpTransport } from '../sync/transport'
import { onLocalChange, onQuotaError } from '../sync/outbox'
import { setViewSettings } from '../sync/view'
import { appState, clientId, saveSession, token, type Session } from './session'
import { fetchMe, fetchReference } from '../api/client'
import { currentLang } from '../i18n'
import { saveDeviceSession } from './device'
import type { Reference } from '../api/types'
import { checkPersistence, storageState } from './storage'
import { forgetUserCaches } from './userCaches'

export const engineRef = shallowRef<SyncEngine | null>(null)
export const syncStatus = ref<SyncStatus | null>(null)
export const dbRef = shallowRef<CunzhiDB | null>(null)

let cleanups: (() => void)[] = []

/** The newest cases, read as soon as the database opens (before the list mounts) for a fast cold start. */
export let firstCasesPrefetch: Promise<any[]> | null = null

function applyReference(ref: Reference | null) {
  appState.reference = ref
  if (ref?.settings) {
    setViewSettings({
      deadline_days: ref.settings.deadline_days ?? 30,
      deadline_warn_days: ref.settings.deadline_warn_days ?? 5,
    })
  }
}

let refreshing: Promise<void> | null = null

export function refreshReference(db: CunzhiDB): Promise<void> {
  refreshing ||= fetchAndStoreReference(db).finally(() => (refreshing = null))
  return refreshing
}

async function fetchAndStoreReference(db: CunzhiDB) {
  try {
    const [ref, me] = await Promise.all([fetchReference(), fetchMe()])
    await setMeta(db, 'reference', ref)
    applyReference(ref)
    if (appState.session) saveSession({ ...appState.session, user: me })
  } catch {
    /* offline: keep the cached copy */
  }
}

/** Asks for persistent storage (at sign-in and each start; the outcome is shown in 我的 and the sync page). */
export async function checkStorage() {
  await checkPersistence()
  if (storageState.nearFull) appState.storageWarning = true
}

/** Registers a Background Sync so the service worker pushes even if the page is closed. */
export async function registerBackgroundSync() {
  try {
    const reg: any = await navigator.serviceWorker?.getRegistration()
    await reg?.sync?.register('cunzhi-sync')
  } catch {
    /* not supported (Firefox, Safari): the page's own triggers cover it */
  }
}

export async function startUser(session: Session): Promise<CunzhiDB> {
  stopUser()
  const db = openUserDb(session.user.id)
  dbRef.value = db
  firstCasesPrefetch = db.cases.orderBy('received_on').reverse().limit(24).toArray().catch(() => [])
  void saveDeviceSession({ userId: session.user.id, token: session.token, clientId: clientId(), lang: currentLang() })
  const cached = await getMeta<Reference>(db, 'reference')
  applyReference(cached)
  const engine = new SyncEngine({
    db,
    clientId: clientId(),
    userId: session.user.id,
    transport: new HttpTransport({ getToken: token, getLanguage: currentLang }),
    onAuthProblem: (code) => void handleAuthProblem(code),
    onUpdateRequired: () => {
      appState.updateRequired = true
    },
    // county settings: the county admin changed a setting or a code table → the new /reference (offline: the copy stays)
    onSettingsVersion: (v) => {
      if (appState.reference && appState.reference.settings_version !== v) void refreshReference(db)
    },
  })
  engineRef.value = engine
  // a hook for the end-to-end tests and the bench (same as tapping "sync now")
  ;(window as any).__cunzhiSync = () => engine.syncNow()
  cleanups.push(engine.subscribe((s) => {
    syncStatus.value = { ...s }
    if (s.storageWarning) appState.storageWarning = true
  }))
  void engine.loadStatus()
  const onOnline = () => void engine.onlineAgain()
  window.addEventListener('online', onOnline)
  cleanups.push(() => window.removeEventListener('online', onOnline))
  const onVisible = () => {
    if (document.visibilityState === 'visible' && navigator.onLine) void engine.syncNow()
  }
  document.addEventListener('visibilitychange', onVisible)
  cleanups.push(() => document.removeEventListener('visibilitychange', onVisible))
  cleanups.push(onLocalChange(() => {
    engine.requestSync()
    void registerBackgroundSync()
  }))
  cleanups.push(onQuotaError(() => (appState.storageWarning = true)))
  // the periodic tick respects the back-off and Retry-After (engine.tick)
  const tick = setInterval(() => {
    if (navigator.onLine) void engine.tick()
  }, 60_000)
  cleanups.push(() => clearInterval(tick))
  const onMsg = (e: MessageEvent) => {
    if (e.data?.type === 'cunzhi-sync') void engine.syncNow()
  }
  navigator.serviceWorker?.addEventListener('message', onMsg)
  cleanups.push(() => navigator.serviceWorker?.removeEventListener('message', onMsg))
  cleanups.push(() => engine.stop())
  void checkStorage()
  if (!cached) await refreshReference(db)
  else void refreshReference(db)
  void engine.syncNow()
  return db
}

export function stopUser() {
  cleanups.forEach((fn) => fn())
  cleanups = []
  engineRef.value = null
  dbRef.value = null
}

async function handleAuthProblem(code: string) {
  // a sync that meets 401 stops (no retries, no ticks) until the person signs in again (a new engine)
  engineRef.value?.stop()
  if (code === 'session_revoked') {
    const uid = appState.session?.user.id
    forgetUserCaches(appState.session?.user.username) // the saved dashboard (i9), the grids
    stopUser()
    if (uid) await wipeUserDb(uid)
    await saveDeviceSession(null)
    saveSession(null)
    appState.revokedNotice = true
    localStorage.setItem('cunzhi.revoked', '1') // shown on the login page after the reload
    window.location.assign('/login')
    return
  }
  appState.needsPassword = true
}

/** @deprecated use features/auth/signOut.ts (revokes the session, wipes the data once all is sent) */
export function signOut() {
  stopUser()
  closeUserDb()
  void saveDeviceSession(null)
  saveSession(null)
}
