/**
 * The online-only calls of grid administration (grids are org units, not synced records) and the
 * roster import (a file the server checks row by row). Synced records never change through here.
 */
import { token } from '../../app/session'
import { GRIDS_KEY } from '../../app/userCaches'
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
  worker_ids: string[]
  retired: boolean
}

export async function listGrids(villageCode?: string): Promise<Grid[]> {
  const q = villageCode ? `?village_code=${encodeURIComponent(villageCode)}` : ''
  const body = await call(`/api/v1/grids${q}`)
  const grids: Grid[] = (body?.items || []).map((g: any) => ({ ...g, worker_ids: g.worker_ids || [], retired: !!g.retired }))
  rememberGrids(grids)
  return grids
}

export function createGrid(villageCode: string, name: string, workerIds: string[]): Promise<Grid> {
  return call('/api/v1/grids', { method: 'POST', body: JSON.stringify({ village_code: villageCode, name, worker_ids: workerIds }) })
}

export function updateGrid(code: string, fields: Partial<Pick<Grid, 'name' | 'worker_ids' | 'retired'>>): Promise<Grid> {
  return call(`/api/v1/grids/${encodeURIComponent(code)}`, { method: 'PATCH', body: JSON.stringify(fields) })
}

/** The last grid list seen online (workers, retired), kept for offline use; /reference has names only. */
export function rememberGrids(grids: Grid[]) {
  try {
    localStorage.setItem(GRIDS_KEY, JSON.stringify(grids))
  } catch {
    /* storage full: the reference names still work */
  }
}
export function rememberedGrids(): Grid[] {
  try {
    return JSON.parse(localStorage.getItem(GRIDS_KEY) || '[]')
  } catch {
    return []
  }
}

export interface ImportRowError {
  row: number
  field?: string
  column?: string
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
  const body = await call('/api/v1/households/import', { method: 'POST', body: form })
  return normaliseImport(body, dryRun)
}

/** The import answer: counts, and an error per bad cell (row, field, its column header, code, message). */
export function normaliseImport(body: any, dryRun: boolean): ImportResult {
  const errors: ImportRowError[] = []
  for (const e of body?.errors || []) errors.push({ row: e.row, field: e.field, column: e.column, code: e.code, message: e.message || e.code })
  return {
    dry_run: body?.dry_run ?? dryRun, total: typeof body?.rows === 'number' ? body.rows : 0,
    valid: body?.valid ?? 0, created: body?.created, updated: body?.updated, errors,
  }
}
