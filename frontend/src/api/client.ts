/**
 * A small fetch wrapper for the calls that are not sync: login, me, reference, attachment
 * download. Data changes never go through here (they go through sync/outbox).
 */
import type { Me, Reference, TokenResponse } from './types'
import { HttpError, NetworkError } from '../sync/transport'

export interface ClientContext {
  getToken: () => string | null
  getLanguage: () => string
}

let ctx: ClientContext = { getToken: () => null, getLanguage: () => 'zh-CN' }
export function configureClient(c: ClientContext) {
  ctx = c
}

async function request(path: string, init: RequestInit = {}, token?: string | null,
  fetchFn: typeof fetch = fetch): Promise<Response> {
  const headers = new Headers(init.headers || {})
  headers.set('Accept-Language', ctx.getLanguage())
  const t = token === undefined ? ctx.getToken() : token
  if (t) headers.set('Authorization', `Bearer ${t}`)
  let res: Response
  try {
    res = await fetchFn(path, { ...init, headers })
  } catch (e) {
    throw new NetworkError(String((e as any)?.message || e))
  }
  if (!res.ok) {
    let body = null
    try {
      body = await res.json()
    } catch {
      /* not json */
    }
    throw new HttpError(res.status, body)
  }
  return res
}

export async function login(username: string, password: string, clientId: string): Promise<TokenResponse> {
  const body = new URLSearchParams({ username, password, client_id: clientId, grant_type: 'password' })
  const res = await request('/api/v1/auth/token', {
    method: 'POST', body, headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  }, null)
  return res.json()
}

export async function fetchMe(token?: string): Promise<Me> {
  return (await request('/api/v1/me', {}, token)).json()
}

export async function fetchReference(token?: string): Promise<Reference> {
  return (await request('/api/v1/reference', {}, token)).json()
}

export async function fetchAttachment(id: string): Promise<Blob> {
  return (await request(`/api/v1/attachments/${id}`)).blob()
}

/** An online admin call (integrations, users): JSON in, JSON out; errors as HttpError / NetworkError. */
export async function apiJson<T = any>(path: string, method = 'GET', body?: unknown): Promise<T> {
  const init: RequestInit = { method }
  if (body !== undefined) {
    init.body = JSON.stringify(body)
    init.headers = { 'Content-Type': 'application/json' }
  }
  const res = await request(path, init)
  return res.status === 204 ? (null as T) : res.json()
}

/** An online call with a JSON answer (the admin screens: users, county settings); a string body is sent as JSON;
 * errors as HttpError / NetworkError. `fetchFn`: the tests' server. */
export async function callJson<T>(path: string, init: RequestInit = {}, fetchFn: typeof fetch = fetch): Promise<T> {
  const headers = new Headers(init.headers || {})
  if (typeof init.body === 'string') headers.set('Content-Type', 'application/json')
  const res = await request(path, { ...init, headers }, undefined, fetchFn)
  return res.status === 204 ? (null as T) : ((await res.json()) as T)
}
