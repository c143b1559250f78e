/** The names a dashboard row needs (drill.ts's Namer) from the cached /reference and the app's messages. */
import { useI18n } from 'vue-i18n'
import { useCodes } from '../../composables/useCodes'
import { orgName, useFeatureCodes } from '../home/codes'
import type { Namer } from './drill'

const CASE_TABLES = new Set(['case_status', 'risk_level', 'case_category', 'case_source', 'case_event_kind'])

export function useNamer(): Namer {
  const { t } = useI18n()
  const caseCodes = useCodes()
  const featureCodes = useFeatureCodes()
  return {
    org: orgName,
    code: (table, code) => (CASE_TABLES.has(table) ? caseCodes.name(table, code) : featureCodes.name(table, code)),
    t: (key, params) => t(key, params || {}),
  }
}
