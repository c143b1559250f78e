/**
 * The county's settings and code tables, for its county admin (online only: GET/PATCH
 * /api/v1/counties/{county}/settings, POST/PATCH/PUT /api/v1/counties/{county}/code-tables/…).
 */
import type { ApiError } from '../../api/types'
import { token } from '../../app/session'
import { currentLang } from '../../i18n'
import { HttpError, NetworkError } from '../../sync/transport'
import type { SettingItem } from './logic'

export type { SettingItem } from './logic'

export interface CodeEntry {
  code: string
  name_zh: string
  name_en: string
  active: boolean
  points?: number | null
}

export interface CodeTable {
  table: string
  own: boolean
  has_points: boolean
  entries: CodeEntry[]
}

export interface CountyConfig {
  county_code: string
  settings_version: string
  settings: SettingItem[]
  code_tables: CodeTable[]
  fixed_tables: string[]
}

export interface HistoryItem {
  at: string
  user_id: string
  display_name: string
  action: string
  table: string | null
  code: string | null
  key: string | null
  before: unknown
  after: unknown
}

async function call<T>(path: string, init: RequestInit = {}, fetchFn: typeof fetch = fetch): Promise<T> {
  const headers = new Headers(init.headers || {})
  headers.set('Accept-Language', currentLang())
  if (init.body) headers.set('Content-Type', 'application/json')
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

const base = (county: string) => `/api/v1/counties/${county}`

export function loadConfig(county: string, fetchFn?: typeof fetch): Promise<CountyConfig> {
  return call(`${base(county)}/settings`, {}, fetchFn)
}

export function saveSettings(county: string, values: Record<string, number | boolean>, fetchFn?: typeof fetch): Promise<CountyConfig> {
  return call(`${base(county)}/settings`, { method: 'PATCH', body: JSON.stringify(values) }, fetchFn)
}

export function addCode(county: string, table: string, entry: { code: string; name_zh: string; name_en: string; points?: number | null },
  fetchFn?: typeof fetch): Promise<CodeTable> {
  return call(`${base(county)}/code-tables/${table}/codes`, { method: 'POST', body: JSON.stringify(entry) }, fetchFn)
}

export function changeCode(county: string, table: string, code: string,
  change: { name_zh?: string; name_en?: string; active?: boolean; points?: number | null }, fetchFn?: typeof fetch): Promise<CodeTable> {
  return call(`${base(county)}/code-tables/${table}/codes/${code}`, { method: 'PATCH', body: JSON.stringify(change) }, fetchFn)
}

export function reorder(county: string, table: string, codes: string[], fetchFn?: typeof fetch): Promise<CodeTable> {
  return call(`${base(county)}/code-tables/${table}/order`, { method: 'PUT', body: JSON.stringify({ codes }) }, fetchFn)
}

export async function loadHistory(county: string, fetchFn?: typeof fetch): Promise<HistoryItem[]> {
  return (await call<{ items: HistoryItem[] }>(`${base(county)}/settings/history?limit=50`, {}, fetchFn)).items
}

/** The message of a failed call: the first field error's, else the error's. */
export function errorText(e: unknown): string {
  if (e instanceof HttpError) return e.body?.details?.[0]?.message || e.body?.message || e.code
  return String((e as any)?.message || e)
}
