/** Calendar dates are Asia/Shanghai dates (sync-protocol.md "Dates"). */
const fmt = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit',
})

export function shanghaiDate(d: Date = new Date()): string {
  return fmt.format(d)
}

/** ISO 8601 time with the +08:00 offset (the device clock; used only as client_time). */
export function shanghaiIso(d: Date = new Date()): string {
  const local = new Date(d.getTime() + 8 * 3600_000)
  return local.toISOString().replace('Z', '+08:00')
}

export function addDays(date: string, days: number): string {
  const [y, m, dd] = date.split('-').map(Number)
  const t = Date.UTC(y, m - 1, dd) + days * 86400_000
  return new Date(t).toISOString().slice(0, 10)
}

export function daysBetween(from: string, to: string): number {
  const [y1, m1, d1] = from.split('-').map(Number)
  const [y2, m2, d2] = to.split('-').map(Number)
  return Math.round((Date.UTC(y2, m2 - 1, d2) - Date.UTC(y1, m1 - 1, d1)) / 86400_000)
}
