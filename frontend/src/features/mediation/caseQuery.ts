/**
 * Case list queries over the `cases` view, by index and key only: the list gets ids in
 * display order (newest intake first); rows are fetched for the visible window alone.
 */
import Dexie from 'dexie'
import type { CunzhiDB } from '../../db'
import { normalise } from '../../sync/view'

export interface CaseFilter {
  q?: string
  status?: string
  category?: string
  risk?: string
  overdue?: boolean
}

async function idsByCompound(db: CunzhiDB, index: string, value: string): Promise<string[]> {
  return (await db.cases
    .where(index)
    .between([value, Dexie.minKey], [value, Dexie.maxKey])
    .reverse()
    .primaryKeys()) as string[]
}

async function searchIds(db: CunzhiDB, q: string): Promise<Set<string>> {
  const n = normalise(q)
  let candidates: Set<string>
  if (n.length === 1) {
    candidates = new Set((await db.cases.where('_terms').startsWith(n).primaryKeys()) as string[])
  } else {
    const grams: string[] = []
    for (let i = 0; i + 1 < n.length && grams.length < 3; i++) grams.push(n.slice(i, i + 2))
    const sets = await Promise.all(grams.map(async (g) => new Set((await db.cases.where('_terms').equals(g).primaryKeys()) as string[])))
    candidates = sets.reduce((a, b) => new Set([...a].filter((x) => b.has(x))))
  }
  if (n.length <= 2) return candidates
  const rows = await db.cases.bulkGet([...candidates])
  const hit = new Set<string>()
  for (const r of rows) {
    if (!r) continue
    const hay = [r.title, r.case_number, ...(r.parties || []).map((p: any) => p?.name)].map((x) => normalise(x || '')).join('\u0001')
    if (hay.includes(n)) hit.add(r.id)
  }
  return hit
}

export async function queryCaseIds(db: CunzhiDB, f: CaseFilter, today: string): Promise<string[]> {
  let ordered: string[]
  const used = new Set<string>()
  if (f.status) {
    ordered = await idsByCompound(db, '[status+received_on]', f.status)
    used.add('status')
  } else if (f.category) {
    ordered = await idsByCompound(db, '[category+received_on]', f.category)
    used.add('category')
  } else if (f.risk) {
    ordered = await idsByCompound(db, '[risk_level+received_on]', f.risk)
    used.add('risk')
  } else {
    ordered = (await db.cases.orderBy('received_on').reverse().primaryKeys()) as string[]
  }
  const sets: Set<string>[] = []
  if (f.category && !used.has('category')) sets.push(new Set(await idsByCompound(db, '[category+received_on]', f.category)))
  if (f.risk && !used.has('risk')) sets.push(new Set(await idsByCompound(db, '[risk_level+received_on]', f.risk)))
  if (f.overdue) sets.push(new Set((await db.cases.where('_open_deadline').below(today).primaryKeys()) as string[]))
  if (f.q && f.q.trim()) sets.push(await searchIds(db, f.q.trim()))
  if (!sets.length) return ordered
  return ordered.filter((id) => sets.every((s) => s.has(id)))
}
