/**
 * The signed-in session and the per-install client id. The token and the user are kept in
 * localStorage so the app opens and works offline after a restart without signing in again.
 */
import { reactive } from 'vue'
import type { Me, Reference } from '../api/types'
import { newId } from '../sync/ids'

const CLIENT_KEY = 'cunzhi.client_id'
const SESSION_KEY = 'cunzhi.session'

export interface Session {
  token: string
  expires_at: string
  session_id?: string
  user: Me
}

export function clientId(): string {
  let id = localStorage.getItem(CLIENT_KEY)
  if (!id) {
    id = newId()
    localStorage.setItem(CLIENT_KEY, id)
  }
  return id
}

function load(): Session | null {
  try {
    const raw = localStorage.getItem(SESSION_KEY)
    return raw ? (JSON.parse(raw) as Session) : null
  } catch {
    return null
  }
}

export const appState = reactive({
  session: load() as Session | null,
  reference: null as Reference | null,
  /** set when the server said 401 session_expired / not_authenticated: ask for the password */
  needsPassword: false,
  revokedNotice: localStorage.getItem('cunzhi.revoked') === '1',
  updateAvailable: false,
  updateRequired: false,
  storageWarning: false,
})

export function saveSession(s: Session | null) {
  appState.session = s
  if (s) localStorage.setItem(SESSION_KEY, JSON.stringify(s))
  else localStorage.removeItem(SESSION_KEY)
}

export function token(): string | null {
  return appState.session?.token || null
}
