/**
 * 道德银行 on the device: balances, monthly rankings and a household's history from the local
 * points entries (append-only; a correction is a new entry that names the one it reverses).
 */
import { checkNotFuture } from '../../composables/checks'
import { shanghaiDate } from '../../sync/dates'

export interface Entry {
  id: string
  household_id: string
  rule: string
  points: number
  reason?: string
  occurred_on?: string
  created_at?: string
  reverses_id?: string | null
  /** view marks (sync/records.ts): waiting to be sent; a create the server refused */
  _pending?: 0 | 1
  _rejected?: 0 | 1
}

/**
 * The entries the server counts (or will count once sent): not those it refused, not a reversal of a refused
 * entry, and one reversal per entry — when two phones reversed the same entry offline, the server keeps the
 * first it got (an accepted one before one still waiting) and refuses the other as already_reversed.
 */
export function countable<T extends Entry>(entries: T[]): T[] {
  const refused = new Set(entries.filter((e) => e._rejected).map((e) => e.id))
  const kept = entries.filter((e) => !e._rejected && !(e.reverses_id && refused.has(e.reverses_id)))
  const reversal = new Map<string, T>()
  for (const e of kept) {
    if (!e.reverses_id) continue
    const prev = reversal.get(e.reverses_id)
    const earlier = (x: T) => `${x._pending ? 1 : 0}${x.created_at || '~'}`
    if (!prev || earlier(e) < earlier(prev)) reversal.set(e.reverses_id, e)
  }
  return kept.filter((e) => !e.reverses_id || reversal.get(e.reverses_id) === e)
}

/** Balance per household: the sum of the entries the server counts (reversals carry the opposite points). */
export function balances(entries: Entry[]): Map<string, number> {
  const out = new Map<string, number>()
  for (const e of countable(entries)) out.set(e.household_id, (out.get(e.household_id) || 0) + (Number(e.points) || 0))
  return out
}

/** One household's balance, and how much of it still waits to be sent (shown apart). */
export function householdBalance(entries: Entry[]): { balance: number; pending: number } {
  let balance = 0, pending = 0
  for (const e of countable(entries)) {
    balance += Number(e.points) || 0
    if (e._pending) pending += Number(e.points) || 0
  }
  return { balance, pending }
}

function monthOf(e: Entry): string {
  return String(e.occurred_on || e.created_at || '').slice(0, 7)
}

/** Households ranked by the points of one month (YYYY-MM), ties by name order of the caller. */
export function monthlyRanking(entries: Entry[], month: string): { household_id: string; points: number; rank: number }[] {
  const sums = new Map<string, number>()
  for (const e of countable(entries)) if (monthOf(e) === month) sums.set(e.household_id, (sums.get(e.household_id) || 0) + (Number(e.points) || 0))
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
  return new Set(countable(entries).filter((e) => e.reverses_id).map((e) => e.reverses_id as string))
}

/** The correction of an entry: the opposite points, the same household and rule, naming it. */
export function reversalOf(e: Entry, reason: string, today: string): Omit<Entry, 'id'> {
  return { household_id: e.household_id, rule: e.rule, points: -Number(e.points), reason, occurred_on: today, reverses_id: e.id }
}

/** Rules whose points are always negative (兑换: points spent), as the server's points/rules.NEGATIVE_ONLY. */
export const NEGATIVE_ONLY = ['redeem']

export interface EntryProblem {
  field: 'household_id' | 'rule' | 'points' | 'reason' | 'occurred_on'
  /** an i18n key (`checks.*`, `pts.checks.*`) */
  key: string
}

/**
 * What is wrong with a new entry, as the server would say it (points/entities.py): household, rule, points
 * −1,000…1,000 and not 0, negative for 兑换, a reason, a date not after today (Asia/Shanghai).
 */
export function entryProblems(f: { household_id?: string | null; rule?: string; points?: number | string | null; reason?: string; occurred_on?: string | null }, today: string): EntryProblem[] {
  const bad: EntryProblem[] = []
  if (!f.household_id) bad.push({ field: 'household_id', key: 'checks.required' })
  if (!f.rule) bad.push({ field: 'rule', key: 'checks.required' })
  const p = Number(f.points)
  if (f.points === '' || f.points == null || !Number.isInteger(p)) bad.push({ field: 'points', key: 'checks.required' })
  else if (p === 0) bad.push({ field: 'points', key: 'pts.checks.zero' })
  else if (p < -1000 || p > 1000) bad.push({ field: 'points', key: 'pts.checks.range' })
  else if (NEGATIVE_ONLY.includes(f.rule || '') && p > 0) bad.push({ field: 'points', key: 'pts.checks.negative' })
  if (!f.reason || !f.reason.trim()) bad.push({ field: 'reason', key: 'checks.required' })
  const when = checkNotFuture(f.occurred_on, today)
  if (when) bad.push({ field: 'occurred_on', key: when })
  return bad
}

/** The fields of a new entry that are wrong (see entryProblems). */
export function checkEntry(f: Parameters<typeof entryProblems>[0], today = shanghaiDate()): string[] {
  return entryProblems(f, today).map((b) => b.field)
}
