/** The dashboard's calls (online reads, never through sync) and the last dashboard kept for offline viewing. */
import { appState } from '../../app/session'
import { dashboardKey } from '../../app/userCaches'
import { currentLang } from '../../i18n'

export interface Figure {
  label: string
  value: number | null
  numerator: number | null
  denominator: number | null
  target: number | null
  formula: string
  drill: string | null
  drill_denominator: string | null
  available: boolean
}
export interface Item { key: string; label: string; count: number; drill: string; state?: string; state_label?: string; broken?: string[] }
export interface Dashboard {
  org_code: string
  org_name: string
  level: string
  from: string
  to: string
  as_of: string
  figures: Record<string, Figure>
  breakdowns: Record<string, Item[]>
  lists: Record<string, Record<string, any>[]>
  titles: { breakdowns: Record<string, string>; lists: Record<string, string> }
}
export interface Compare {
  keys: string[]
  labels: Record<string, string>
  townships: { org_code: string; org_name: string; figures: Record<string, { value: number | null; available: boolean; drill: string | null }> }[]
}
export interface Params { org_code?: string; from?: string; to?: string; [k: string]: string | undefined }

export class ApiError extends Error {
  constructor(public status: number, public body: any) {
    super(body?.message || `HTTP ${status}`)
  }
}

async function call(path: string): Promise<Response> {
  const headers: Record<string, string> = { 'Accept-Language': currentLang() }
  const token = appState.session?.token
  if (token) headers.Authorization = `Bearer ${token}`
  const res = await fetch(path, { headers })
  if (!res.ok) {
    let body = null
    try { body = await res.json() } catch { /* not json */ }
    throw new ApiError(res.status, body)
  }
  return res
}

export function query(p: { [k: string]: string | undefined }): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(p)) if (v) q.set(k, v)
  return q.toString()
}

export async function fetchDashboard(p: Params): Promise<Dashboard> {
  return (await call(`/api/v1/dashboard?${query(p)}`)).json()
}

export async function fetchCompare(p: Params): Promise<Compare> {
  return (await call(`/api/v1/dashboard/compare?${query(p)}`)).json()
}

/** Every record a drill link lists (pages of 500, at most `max`). */
export async function fetchDrill(url: string, max = 2000): Promise<{ items: any[]; more: boolean }> {
  const items: any[] = []
  let cursor: string | null = null
  do {
    const sep = url.includes('?') ? '&' : '?'
    const page: any = await (await call(`${url}${sep}limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)).json()
    items.push(...page.items)
    cursor = page.next_cursor || null
  } while (cursor && items.length < max)
  return { items, more: !!cursor }
}

/** The file name the server gives (filename*, in the request's language: 万福镇看板-…-超期案件.csv), else filename. */
export function dispositionName(header: string | null): string | null {
  if (!header) return null
  const star = /filename\*=UTF-8''([^;]+)/i.exec(header)
  if (star) {
    try { return decodeURIComponent(star[1].trim()) } catch { /* malformed: the plain name below */ }
  }
  return /filename="([^"]+)"/i.exec(header)?.[1] || null
}

export async function download(p: Params, format: 'xlsx' | 'csv', table?: string) {
  const res = await call(`/api/v1/dashboard/export?${query({ ...p, format, table })}`)
  const blob = await res.blob()
  const name = dispositionName(res.headers.get('Content-Disposition'))
    || `dashboard-${p.org_code || ''}-${p.from || ''}-${p.to || ''}${table ? '-' + table : ''}.${format}`
  const a = document.createElement('a')
  a.href = URL.createObjectURL(blob)
  a.download = name
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(a.href), 1000)
}

// ---- the last dashboard, kept for offline viewing (one per user) ----------------------------------
export interface Saved { saved_at: string; params: Params; data: Dashboard; compare?: Compare | null }

function key(): string {
  return dashboardKey(appState.session?.user.username || 'anon')
}

export function saveLast(s: Saved) {
  try { localStorage.setItem(key(), JSON.stringify(s)) } catch { /* full: the live view still works */ }
}

export function loadLast(): Saved | null {
  try {
    const raw = localStorage.getItem(key())
    return raw ? (JSON.parse(raw) as Saved) : null
  } catch {
    return null
  }
}
