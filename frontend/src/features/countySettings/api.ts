/**
 * The county's settings and code tables, for its county admin (online only: GET/PATCH
 * /api/v1/counties/{county}/settings, POST/PATCH/PUT /api/v1/counties/{county}/code-tables/…).
 */
import type { SettingItem } from './logic'
import { callJson as call } from '../../api/client'
import { HttpError } from '../../sync/transport'

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
