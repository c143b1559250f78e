/**
 * 道德银行 on the device: balances, monthly rankings and a household's history from the local
 * points entries (append-only; a correction is a new entry that names the one it reverses).
 */
export interface Entry {
  id: string
  household_id: string
  rule: string
  points: number
  reason?: string
  occurred_on?: string
  created_at?: string
  reverses_id?: string | null
}

/** Balance per household: the sum of every entry (reversals included, they carry the opposite points). */
export function balances(entries: Entry[]): Map<string, number> {
  const out = new Map<string, number>()
  for (const e of entries) out.set(e.household_id, (out.get(e.household_id) || 0) + (Number(e.points) || 0))
  return out
}

function monthOf(e: Entry): string {
  return String(e.occurred_on || e.created_at || '').slice(0, 7)
}

/** Households ranked by the points of one month (YYYY-MM), ties by name order of the caller. */
export function monthlyRanking(entries: Entry[], month: string): { household_id: string; points: number; rank: number }[] {
  const sums = new Map<string, number>()
  for (const e of entries) if (monthOf(e) === month) sums.set(e.household_id, (sums.get(e.household_id) || 0) + (Number(e.points) || 0))
  const rows = [...sums.entries()].map(([household_id, points]) => ({ household_id, points })).sort((a, b) => b.points - a.points)
  let rank = 0, prev: number | null = null
  return rows.map((r, i) => {
    if (r.points !== prev) rank = i + 1
    prev = r.points
    return { ...r, rank }
  })
}

/** Ids of entries that a later entry reverses (they cannot be reversed twice). */
export function reversedIds(entries: Entry[]): Set<string> {
  return new Set(entries.filter((e) => e.reverses_id).map((e) => e.reverses_id as string))
}

/** The correction of an entry: the opposite points, the same household and rule, naming it. */
export function reversalOf(e: Entry, reason: string, today: string): Omit<Entry, 'id'> {
  return { household_id: e.household_id, rule: e.rule, points: -Number(e.points), reason, occurred_on: today, reverses_id: e.id }
}

/** What is wrong with a new entry (the server checks again): household, rule, points −1,000…1,000 and not 0, reason. */
export function checkEntry(f: { household_id?: string | null; rule?: string; points?: number | string | null; reason?: string }): string[] {
  const bad: string[] = []
  if (!f.household_id) bad.push('household_id')
  if (!f.rule) bad.push('rule')
  const p = Number(f.points)
  if (f.points === '' || f.points == null || !Number.isInteger(p) || p === 0 || p < -1000 || p > 1000) bad.push('points')
  if (!f.reason || !f.reason.trim()) bad.push('reason')
  return bad
}
