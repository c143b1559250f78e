/**
 * The online-only calls of grid administration (grids are org units, not synced records) and the
 * roster import (a file the server checks row by row). Synced records never change through here.
 */
import { token } from '../../app/session'
import { currentLang } from '../../i18n'
import { HttpError, NetworkError } from '../../sync/transport'

async function call(path: string, init: RequestInit = {}): Promise<any> {
  const headers = new Headers(init.headers || {})
  headers.set('Accept-Language', currentLang())
  const tok = token()
  if (tok) headers.set('Authorization', `Bearer ${tok}`)
  if (init.body && typeof init.body === 'string') headers.set('Content-Type', 'application/json')
  let res: Response
  try {
    res = await fetch(path, { ...init, headers })
  } catch (e) {
    throw new NetworkError(String((e as any)?.message || e))
  }
  let body: any = null
  try {
    body = await res.json()
  } catch {
    /* empty */
  }
  if (!res.ok) throw new HttpError(res.status, body)
  return body
}

/** The message of an API error in the person's language (the server wrote it), with field details. */
export function errorText(e: unknown): string {
  if (e instanceof HttpError) {
    const b: any = (e as any).body
    const details = (b?.details || []).map((d: any) => d.message || d.code).filter(Boolean)
    return [b?.message || `HTTP ${e.status}`, ...details].join(' · ')
  }
  if (e instanceof NetworkError) return 'offline'
  return String((e as any)?.message || e)
}

export interface Grid {
  code: string
  name: string
  village_code?: string
  parent_code?: string
  worker_ids: string[]
  active: boolean
}

export async function listGrids(villageCode?: string): Promise<Grid[]> {
  const q = villageCode ? `?org_code=${encodeURIComponent(villageCode)}` : ''
  const body = await call(`/api/v1/grids${q}`)
  return (body?.items || body || []).map((g: any) => ({ ...g, worker_ids: g.worker_ids || [], active: g.active !== false }))
}

export function createGrid(villageCode: string, name: string, workerIds: string[]): Promise<Grid> {
  return call('/api/v1/grids', { method: 'POST', body: JSON.stringify({ village_code: villageCode, org_code: villageCode, name, worker_ids: workerIds }) })
}

export function updateGrid(code: string, fields: Partial<Pick<Grid, 'name' | 'worker_ids' | 'active'>>): Promise<Grid> {
  return call(`/api/v1/grids/${encodeURIComponent(code)}`, { method: 'PATCH', body: JSON.stringify(fields) })
}

export interface ImportRowError {
  row: number
  field?: string
  code?: string
  message: string
}

export interface ImportResult {
  dry_run: boolean
  total: number
  valid: number
  created?: number
  updated?: number
  errors: ImportRowError[]
}

/** Sends the roster file; `dryRun` checks every row and writes nothing. */
export async function importRoster(file: File, villageCode: string, dryRun: boolean): Promise<ImportResult> {
  const form = new FormData()
  form.append('file', file)
  form.append('org_code', villageCode)
  form.append('dry_run', dryRun ? 'true' : 'false')
  const body = await call(`/api/v1/households/import?dry_run=${dryRun ? 'true' : 'false'}&org_code=${encodeURIComponent(villageCode)}`, { method: 'POST', body: form })
  return normaliseImport(body, dryRun)
}

/** Accepts the few reasonable shapes of an import answer (rows / errors, counts). */
export function normaliseImport(body: any, dryRun: boolean): ImportResult {
  const errors: ImportRowError[] = []
  for (const e of body?.errors || []) {
    if (Array.isArray(e.details) && e.details.length) {
      for (const d of e.details) errors.push({ row: e.row, field: d.field, code: d.code, message: d.message || d.code })
    } else errors.push({ row: e.row, field: e.field, code: e.code, message: e.message || e.code })
  }
  for (const r of body?.rows || []) {
    if (r.ok === false || r.errors?.length) for (const d of r.errors || []) errors.push({ row: r.row, field: d.field, code: d.code, message: d.message || d.code })
  }
  return {
    dry_run: body?.dry_run ?? dryRun, total: body?.total ?? body?.rows?.length ?? 0,
    valid: body?.valid ?? body?.ok ?? 0, created: body?.created, updated: body?.updated, errors,
  }
}
