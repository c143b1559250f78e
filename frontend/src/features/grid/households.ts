/** Household roster rules on the device (the server checks again). */
import { validIdNumber } from '../../composables/checks'

export const SAFE_TARGET = 0.97

export interface HouseholdForm {
  head_name: string
  address: string
  members: number | string
  phone: string
  head_id_number: string
  grid_code: string
  tags: string[]
  active: boolean
}

const PHONE = /^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$/
// the one ID number check of the phone (composables/checks.ts: the check digit and a real date of birth, as the
// server checks)
export { validIdNumber }

/** Fields that are missing or wrong (masked values that were not touched are fine). */
export function checkHousehold(f: HouseholdForm): string[] {
  const bad: string[] = []
  const name = f.head_name.trim()
  if (!name || name.length > 50) bad.push('head_name')
  if (f.address.length > 200) bad.push('address')
  const m = Number(f.members)
  if (!Number.isInteger(m) || m < 1 || m > 30) bad.push('members')
  if (f.phone && !f.phone.includes('*') && !PHONE.test(f.phone.replace(/\s/g, ''))) bad.push('phone')
  if (f.head_id_number && !f.head_id_number.includes('*') && !validIdNumber(f.head_id_number)) bad.push('head_id_number')
  return bad
}

/** The safe-household rate of a year over active households. */
export function safeRate(households: Record<string, any>[], year: number): { safe: number; total: number; rate: number } {
  const active = households.filter((h) => h.active !== false)
  const safe = active.filter((h) => (h.safe_certified_years || []).includes(year)).length
  return { safe, total: active.length, rate: active.length ? safe / active.length : 0 }
}

/** The certified years with `year` added or removed, sorted. */
export function withYear(years: number[] | undefined, year: number, on: boolean): number[] {
  const set = new Set(years || [])
  if (on) set.add(year)
  else set.delete(year)
  return [...set].sort((a, b) => a - b)
}
