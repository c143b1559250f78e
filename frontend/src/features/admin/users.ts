/**
 * User administration for township and county admins (online only: accounts are not synced data).
 * GET /api/v1/users, PUT /api/v1/users/{id}/password, POST /api/v1/users/{id}/deactivate|activate.
 */
import type { AdminUser, ApiError } from '../../api/types'
import { token } from '../../app/session'
import { currentLang } from '../../i18n'
import { HttpError, NetworkError } from '../../sync/transport'

async function call<T>(path: string, init: RequestInit = {}, fetchFn: typeof fetch = fetch): Promise<T> {
  const headers = new Headers(init.headers || {})
  headers.set('Accept-Language', currentLang())
  const t = token()
  if (t) headers.set('Authorization', `Bearer ${t}`)
  let res: Response
  try {
    res = await fetchFn(path, { ...init, headers })
  } catch (e) {
    throw new NetworkError(String((e as any)?.message || e))
  }
  if (!res.ok) {
    let body: ApiError | null
    try {
      body = await res.json()
    } catch {
      body = null
    }
    throw new HttpError(res.status, body)
  }
  return (await res.json()) as T
}

export async function listUsers(fetchFn?: typeof fetch): Promise<AdminUser[]> {
  return (await call<{ items: AdminUser[] }>('/api/v1/users', {}, fetchFn)).items
}

export function setPassword(userId: string, password: string, fetchFn?: typeof fetch): Promise<AdminUser> {
  return call(`/api/v1/users/${userId}/password`, {
    method: 'PUT', body: JSON.stringify({ password }), headers: { 'Content-Type': 'application/json' },
  }, fetchFn)
}

export function setActive(userId: string, active: boolean, fetchFn?: typeof fetch): Promise<AdminUser> {
  return call(`/api/v1/users/${userId}/${active ? 'activate' : 'deactivate'}`, { method: 'POST' }, fetchFn)
}

/** The message of a failed call: the first field error's (e.g. "密码至少需要 12 个字符"), else the error's. */
export function errorText(e: unknown): string {
  if (e instanceof HttpError) return e.body?.details?.[0]?.message || e.body?.message || e.code
  return String((e as any)?.message || e)
}
