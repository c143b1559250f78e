import { computed } from 'vue'
import { useI18n } from 'vue-i18n'
import { appState } from '../app/session'
import type { CodeItem } from '../api/types'

/** Names of code-table entries in the UI language, from the cached /reference. */
export function useCodes() {
  const { locale, t, te } = useI18n()
  const tables = computed(() => appState.reference?.code_tables || {})
  function list(table: string): CodeItem[] {
    return tables.value[table] || []
  }
  function name(table: string, code: string | null | undefined): string {
    if (!code) return ''
    // a code the county has deactivated keeps its label on old records (never offered: list() has active ones only)
    const item = list(table).find((c) => c.code === code) || appState.reference?.inactive_codes?.[table]?.find((c) => c.code === code)
    if (item) return locale.value === 'en' ? item.name_en || item.name_zh : item.name_zh
    const key = table === 'case_status' ? `status.${code}` : table === 'risk_level' ? `riskLevel.${code}` : table === 'case_event_kind' ? `kinds.${code}` : ''
    return key && te(key) ? t(key) : code
  }
  function options(table: string, fallback: string[] = []) {
    const items = list(table)
    const codes = items.length ? items.map((i) => i.code) : fallback
    return codes.map((code) => ({ code, name: name(table, code) }))
  }
  return { name, options, list }
}
