/**
 * Case list queries. The list reads the slim `case_index` projection of every case once (one
 * getAll, kept live) and filters and searches it in memory; full rows are fetched only for the
 * visible window (see CaseList.vue). Order: newest intake first.
 */
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
