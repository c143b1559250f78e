/**
 * User administration for township and county admins (online only: accounts are not synced data).
 * GET/POST /api/v1/users, PUT /api/v1/users/{id}/password, POST /api/v1/users/{id}/deactivate|activate,
 * GET /api/v1/sessions?user_id=, DELETE /api/v1/sessions/{id}.
 *
 * What an admin may do is the server's to decide (`manageable` on each account, 403 otherwise); the screen
 * offers only that. What it may create mirrors the server's table (users/service.py CREATES) so the form
 * offers only the roles and units that fit.
 */
import type { AdminSession, AdminUser, NewUser, Reference } from '../../api/types'
import { HttpError } from '../../sync/transport'
import { callJson as call } from '../../api/client'

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

export async function createUser(user: NewUser, fetchFn?: typeof fetch): Promise<AdminUser> {
  return call('/api/v1/users', {
    method: 'POST', body: JSON.stringify(user), headers: { 'Content-Type': 'application/json' },
  }, fetchFn)
}

/** The active sessions (signed-in devices) of one account. */
export async function listSessions(userId: string, fetchFn?: typeof fetch): Promise<AdminSession[]> {
  const q = new URLSearchParams({ user_id: userId })
  return (await call<{ items: AdminSession[] }>(`/api/v1/sessions?${q}`, {}, fetchFn)).items
}

export function revokeSession(sessionId: string, fetchFn?: typeof fetch): Promise<AdminSession> {
  return call(`/api/v1/sessions/${sessionId}`, { method: 'DELETE' }, fetchFn)
}

/** role → the levels of unit (in the admin's scope) it may be created at, per admin role. */
export const CREATES: Record<string, Record<string, string[]>> = {
  county_admin: {
    mediator: ['village', 'township'], grid_worker: ['village'], village_admin: ['village'],
    township_admin: ['township'], township_viewer: ['township'],
  },
  township_admin: { mediator: ['village'], grid_worker: ['village'], village_admin: ['village'], township_viewer: ['township'] },
}

/** The roles an admin may create (none for anyone else). */
export function creatableRoles(myRole: string | undefined): string[] {
  return Object.keys(CREATES[myRole || ''] || {})
}

/** The units of the admin's scope a new account of `role` fits in (from the cached /reference). */
export function unitsFor(myRole: string | undefined, myOrg: string, role: string, orgs: Reference['orgs']): Reference['orgs'] {
  const levels = CREATES[myRole || '']?.[role] || []
  return orgs.filter((o) => o.code.startsWith(myOrg) && levels.includes(o.level || ''))
}

/** What the screen offers on an account: its password, (de)activation, its sessions. */
export function actionsFor(u: AdminUser, selfId: string | undefined) {
  const self = u.id === selfId
  const manage = !self && !!u.manageable
  return { password: self || manage, deactivate: manage && u.active, activate: manage && !u.active, sessions: self || manage }
}

/** A short name of the device a session was opened on, from its User-Agent ("Android · Chrome"); '' unknown. */
export function deviceLabel(userAgent: string): string {
  const ua = userAgent || ''
  const os = /Android/.test(ua) ? 'Android' : /iPhone|iPad|iPod/.test(ua) ? 'iOS' : /HarmonyOS/.test(ua) ? 'HarmonyOS'
    : /Windows/.test(ua) ? 'Windows' : /Mac OS X|Macintosh/.test(ua) ? 'macOS' : /Linux/.test(ua) ? 'Linux' : ''
  const browser = /MicroMessenger/.test(ua) ? 'WeChat' : /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox'
    : /Chrome\/|CriOS\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : ''
  return [os, browser].filter(Boolean).join(' · ')
}

/** A failed create's field errors as {field: message} (the form marks each field), the rest under ''. */
export function fieldErrors(e: unknown): Record<string, string> {
  if (!(e instanceof HttpError)) return { '': errorText(e) }
  const out: Record<string, string> = {}
  for (const d of e.body?.details || []) {
    const field = d.field || ''
    if (!out[field]) out[field] = d.message
  }
  if (!Object.keys(out).length) out[''] = errorText(e)
  return out
}

/** The message of a failed call: the first field error's (e.g. "密码至少需要 12 个字符"), else the error's. */
export function errorText(e: unknown): string {
  if (e instanceof HttpError) return e.body?.details?.[0]?.message || e.body?.message || e.code
  return String((e as any)?.message || e)
}
