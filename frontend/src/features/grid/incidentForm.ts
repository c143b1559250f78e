/** Checks an incident before it is saved (the server checks again): the fields that are missing or wrong. */
export function checkIncident(f: Record<string, any>, nowIso: string): string[] {
  const bad: string[] = []
  if (!f.type) bad.push('type')
  if (!['major', 'serious', 'general'].includes(f.severity)) bad.push('severity')
  if (!f.title || !String(f.title).trim() || String(f.title).length > 200) bad.push('title')
  if (!f.occurred_at || Number.isNaN(Date.parse(f.occurred_at)) || Date.parse(f.occurred_at) > Date.parse(nowIso) + 60_000) bad.push('occurred_at')
  return bad
}

/** "2026-11-30T09:15" (a datetime-local input, Shanghai wall time) → ISO with +08:00. */
export function localDateTimeToIso(v: string): string {
  if (!v) return ''
  return `${v.length === 16 ? v + ':00' : v}+08:00`
}

/** ISO with offset → "YYYY-MM-DDTHH:mm" in Shanghai wall time. */
export function isoToLocalDateTime(iso: string): string {
  const d = new Date(Date.parse(iso) + 8 * 3600_000)
  return d.toISOString().slice(0, 16)
}
