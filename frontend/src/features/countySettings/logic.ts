/** The screen's own rules, without the network (unit-tested). */

export interface SettingItem {
  key: string
  kind: 'int' | 'bool'
  value: number | boolean
  own: boolean
  min?: number
  max?: number
}

/** The settings that differ from what the server holds (what a save sends). */
export function changedSettings(items: SettingItem[], form: Record<string, number | boolean>): Record<string, number | boolean> {
  const out: Record<string, number | boolean> = {}
  for (const s of items) if (s.key in form && form[s.key] !== s.value) out[s.key] = form[s.key]
  return out
}

/** The order after moving one code up (-1) or down (+1); the same order at either end. */
export function moved(codes: string[], code: string, by: -1 | 1): string[] {
  const i = codes.indexOf(code)
  const j = i + by
  if (i < 0 || j < 0 || j >= codes.length) return codes
  const out = [...codes]
  ;[out[i], out[j]] = [out[j], out[i]]
  return out
}
