/**
 * Code names for the record types of issues 7 and 8: from the county's code table in the cached
 * /reference when the server sends it (its names win), else the defaults of records.md in this
 * app's own messages (codes.<table>.<code>), so the screens work before the first sync.
 */
import { useI18n } from 'vue-i18n'
import { appState } from '../../app/session'
import { rememberedGrids } from '../grid/api'

export const DEFAULT_CODES: Record<string, string[]> = {
  incident_type: ['dispute', 'safety_hazard', 'public_order', 'environment', 'illegal_building', 'livelihood', 'special_population', 'other',
    'criminal_case', 'mass_incident', 'cult', 'drugs', 'pyramid_selling', 'major_safety_accident'],
  incident_severity: ['major', 'serious', 'general'],
  incident_state: ['reported', 'assigned', 'handling', 'resolved', 'verified', 'cancelled'],
  patrol_state: ['in_progress', 'completed', 'cancelled'],
  patrol_checklist: ['fire_safety', 'water_safety', 'road_safety', 'building_safety', 'special_population', 'environment', 'disputes'],
  household_tag: ['left_behind', 'low_income', 'military'],
  six_no_indicator: ['no_criminal_case', 'no_mass_incident', 'no_cult', 'no_drugs', 'no_pyramid_selling', 'no_major_safety_accident'],
  six_no_state: ['open', 'self_assessed', 'township_certified', 'rejected', 'reopened'],
  nomination_category: ['helping_others', 'bravery', 'honesty', 'dedication', 'filial_piety', 'best_family'],
  nomination_source: ['self', 'villagers', 'organisation'],
  nomination_state: ['nominated', 'village_reviewed', 'public_notice', 'township_approved', 'rejected', 'awarded'],
  objection_state: ['open', 'upheld', 'dismissed'],
  points_rule: ['volunteer', 'filial', 'clean_yard', 'littering', 'redeem'],
}

/** Other names the server may give a table (the first one present wins). */
const ALIASES: Record<string, string[]> = {
  patrol_checklist: ['patrol_checklist', 'checklist_item', 'patrol_checklist_item'],
  household_tag: ['household_tag', 'household_tags'],
  nomination_category: ['nomination_category'],
  nomination_source: ['nomination_source'],
  points_rule: ['points_rule', 'points_rules'],
  incident_severity: ['incident_severity', 'severity'],
}

export const DEFAULT_RULE_POINTS: Record<string, number | null> = { volunteer: 5, filial: 10, clean_yard: 2, littering: -5, redeem: null }

function serverTable(table: string): any[] | null {
  const tables = appState.reference?.code_tables || {}
  for (const name of ALIASES[table] || [table]) if (tables[name]?.length) return tables[name]
  return null
}

/** A code the county has deactivated: its label for old records (county settings); never offered. */
function inactiveItem(table: string, code: string): any {
  const tables = appState.reference?.inactive_codes || {}
  for (const name of ALIASES[table] || [table]) {
    const item = tables[name]?.find((c) => c.code === code)
    if (item) return item
  }
  return null
}

export function useFeatureCodes() {
  const { t, te, locale } = useI18n()
  function name(table: string, code: string | null | undefined): string {
    if (!code) return ''
    const item = serverTable(table)?.find((c: any) => c.code === code) || inactiveItem(table, code)
    if (item) return locale.value === 'en' ? item.name_en || item.name_zh : item.name_zh
    const key = `codes.${table}.${code}`
    return te(key) ? t(key) : code
  }
  function codes(table: string): string[] {
    const items = serverTable(table)
    return items ? items.map((i: any) => i.code) : DEFAULT_CODES[table] || []
  }
  function options(table: string) {
    return codes(table).map((code) => ({ code, name: name(table, code) }))
  }
  /** A points rule's default points (null: entered by hand, e.g. redeem). */
  function rulePoints(code: string): number | null {
    const item = serverTable('points_rule')?.find((c: any) => c.code === code)
    if (item && 'points' in item) return item.points ?? null
    return DEFAULT_RULE_POINTS[code] ?? null
  }
  return { name, codes, options, rulePoints }
}

/** County settings from the cached /reference (numbers), with records.md's defaults. */
export function settings(): Record<string, any> {
  return { notice_days: 7, safe_household_target: 97, ...(appState.reference?.settings || {}) }
}

/**
 * Grids of a village that are in use: the org units of level grid in /reference, with workers and
 * retirement from /reference `grids` (or the last online grid list, features/grid/api.ts).
 */
export function gridsOf(villageCode: string): { code: string; name: string; worker_ids?: string[] }[] {
  const fromRef: any[] = appState.reference?.grids || []
  const known = new Map<string, any>([...rememberedGrids(), ...fromRef].map((g) => [g.code, g]))
  const orgGrids = (appState.reference?.orgs || []).filter((o: any) => o.level === 'grid')
  const all = new Map<string, any>()
  for (const o of orgGrids) all.set(o.code, { ...o, ...(known.get(o.code) || {}) })
  for (const g of known.values()) if (!all.has(g.code)) all.set(g.code, g)
  return [...all.values()]
    .filter((g) => (g.village_code || g.parent_code || g.code.slice(0, 12)) === villageCode && !g.retired)
    .map((g) => ({ code: g.code, name: g.name, worker_ids: g.worker_ids }))
    .sort((a, b) => a.code.localeCompare(b.code))
}

export function gridName(code: string | null | undefined): string {
  if (!code) return ''
  return (appState.reference?.orgs || []).find((o: any) => o.code === code)?.name || code
}

export function userName(id: string | null | undefined): string {
  if (!id) return ''
  return appState.reference?.users?.find((u) => u.id === id)?.display_name || id.slice(0, 8)
}

export function orgName(code: string | null | undefined): string {
  if (!code) return ''
  return (appState.reference?.orgs || []).find((o: any) => o.code === code)?.name || code
}
