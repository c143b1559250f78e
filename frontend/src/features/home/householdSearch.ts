import { normalise } from '../../sync/view'

/** Households whose head name or address contains the query (white space ignored), active first. */
export function searchHouseholds<T extends Record<string, any>>(rows: T[], query: string): T[] {
  const q = normalise(query)
  const hits = q ? rows.filter((h) => normalise(`${h.head_name || ''}\u0001${h.address || ''}`).includes(q)) : rows.slice()
  return hits.sort((a, b) => Number(b.active !== false) - Number(a.active !== false) || String(a.head_name).localeCompare(String(b.head_name), 'zh-CN'))
}
