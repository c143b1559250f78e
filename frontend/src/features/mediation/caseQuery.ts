/**
 * Case list queries. The list reads the slim `case_index` projection of every case once (in pages,
 * kept live) and filters and searches it in memory; full rows are fetched only for the
 * visible window (see CaseList.vue). Order: newest intake first.
 */
import type { Table } from 'dexie'
import type { CaseIndexRow } from '../../db'
import { normalise } from '../../sync/view'

export interface CaseFilter {
  q?: string
  status?: string
  category?: string
  risk?: string
  overdue?: boolean
  /** a village's org code (township staff) */
  village?: string
}

export function sortIndex(rows: CaseIndexRow[]): CaseIndexRow[] {
  return rows.sort((a, b) => (a.r < b.r ? 1 : a.r > b.r ? -1 : a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
}

/** orgNames: village code → name, so a search for a village's name finds its cases. */
export function filterCases(rows: CaseIndexRow[], f: CaseFilter, today: string, orgNames?: Map<string, string>): string[] {
  const q = f.q ? normalise(f.q) : ''
  const villagesHit = new Set<string>()
  if (q && orgNames) for (const [code, name] of orgNames) if (normalise(name).includes(q)) villagesHit.add(code)
  const out: string[] = []
  for (const r of rows) {
    if (f.village && r.o !== f.village) continue
    if (f.status && r.s !== f.status) continue
    if (f.category && r.c !== f.category) continue
    if (f.risk && r.k !== f.risk) continue
    if (f.overdue && !(r.d < today)) continue
    if (q && !r.t.includes(q) && !(r.o && villagesHit.has(r.o))) continue
    out.push(r.id)
  }
  return out
}

/** rows per IndexedDB read of readInPages */
export const INDEX_PAGE = 250

/**
 * Every row of a table keyed by `id`, read in primary-key pages of `page` rows. Each page is its own
 * IndexedDB request, so its rows are delivered (and deserialised) in a task of their own: one toArray()
 * of a village's 5,000 index rows was one task of ~190 ms on the main thread — ~750 ms at a phone's
 * 4× slower CPU, most of the case list's Lighthouse total blocking time. Only Dexie promises are awaited,
 * so this runs inside a live query.
 */
export async function readInPages<T extends { id: string }>(table: Table<T, string>, page = INDEX_PAGE, onPage?: (n: number) => void): Promise<T[]> {
  const out: T[] = []
  let last: string | null = null
  for (;;) {
    const rows: T[] = last === null ? await table.orderBy(':id').limit(page).toArray() : await table.where(':id').above(last).limit(page).toArray()
    onPage?.(rows.length)
    for (const r of rows) out.push(r)
    if (rows.length < page) return out
    last = rows[rows.length - 1].id
  }
}
