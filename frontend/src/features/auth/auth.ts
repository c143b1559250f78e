import { login, fetchMe, fetchReference } from '../../api/client'
import { appState, clientId, saveSession } from '../../app/session'
import { startUser, refreshReference } from '../../app/runtime'
import { setMeta, openUserDb } from '../../db'
import { processPendingSignOuts } from './signOut'

/** Signs in (online), opens this user's own database, caches /me and /reference for offline use. */
export async function signIn(username: string, password: string): Promise<void> {
  const tok = await login(username.trim(), password, clientId())
  const me = await fetchMe(tok.access_token)
  const session = { token: tok.access_token, expires_at: tok.expires_at, session_id: tok.session_id, user: me }
  // a sign-out made offline finishes first (its waiting changes sent, its session revoked, its copy wiped): else it
  // could wipe this user's database under the new session, and the sign-in failed ("登录失败")
  await processPendingSignOuts()
  const db = openUserDb(me.id)
  try {
    const ref = await fetchReference(tok.access_token)
    await setMeta(db, 'reference', ref)
  } catch {
    /* fetched again at start */
  }
  await setMeta(db, 'me', me)
  saveSession(session)
  appState.needsPassword = false
  await startUser(session)
}

/** After 401 session_expired: a new token for the same user; the outbox is untouched. */
export async function reauthenticate(password: string): Promise<void> {
  const s = appState.session
  if (!s) throw new Error('no session')
  const tok = await login(s.user.username, password, clientId())
  const next = { ...s, token: tok.access_token, expires_at: tok.expires_at, session_id: tok.session_id }
  saveSession(next)
  appState.needsPassword = false
  const db = await startUser(next)
  void refreshReference(db)
}
