import { useI18n } from 'vue-i18n'
import { useCodes } from '../../composables/useCodes'
import { appState } from '../../app/session'
import { userNames } from './conflictSides'

const keys: Record<string, string> = {
  title: 'form.summary', description: 'form.description', category: 'form.category', source: 'form.source',
  risk_level: 'form.risk', escalation_flag: 'form.escalation', escalation_note: 'form.escalationNote', place: 'form.place',
  received_on: 'form.receivedOn', parties: 'form.parties', status: 'cases.status', agreement: 'detail.agreement',
  outcome_note: 'detail.outcomeNote', deadline_extensions: 'detail.extend', amount_in_dispute: 'form.amount', people_involved: 'form.people',
  content: 'event.content', participants: 'event.participants', outcome: 'event.outcome', mediator_ids: 'form.mediators',
  kind: 'event.kind', occurred_at: 'event.when', name: 'form.partyName', role: 'form.partyRole', phone: 'form.phone',
  id_number: 'form.idNumber', address: 'form.address', gender: 'form.gender', deleted: 'conflict.deletedField',
  terms: 'agreement.terms', amount: 'agreement.amount', performance: 'agreement.performance', signed_on: 'agreement.signedOn',
  court_confirmation: 'agreement.court', form: 'agreement.form', attachment_ids: 'detail.photos', new_deadline: 'detail.newDeadline',
  reason: 'detail.reason', fulfilled: 'event.fulfilled', satisfaction: 'event.satisfaction', escalation_signs: 'event.escalationSigns',
  case_id: 'conflict.caseField', org_code: 'form.village',
}

/** Which code table names a field's values. */
const CODE_TABLES: Record<string, string> = {
  status: 'case_status', category: 'case_category', source: 'case_source', risk_level: 'risk_level', kind: 'case_event_kind',
}

/** Labels for field names (also nested paths such as "parties.0.phone") and readable values (codes as their names). */
export function useFieldLabels() {
  const { t, te } = useI18n()
  const codes = useCodes()
  function one(field: string) {
    return keys[field] ? t(keys[field]) : field
  }
  function label(field: string) {
    if (!field) return ''
    const parts = field.split('.')
    return parts.map((p) => (/^\d+$/.test(p) ? String(Number(p) + 1) : one(p))).join(' · ')
  }
  function show(value: any, field = ''): string {
    if (value === null || value === undefined || value === '') return '—'
    if (CODE_TABLES[field] && typeof value === 'string') return codes.name(CODE_TABLES[field], value)
    if (field === 'court_confirmation' || (field === 'form' && (value === 'written' || value === 'oral'))) return te(`agreement.${value}`) ? t(`agreement.${value}`) : String(value)
    if (field === 'role' && te(`roles.${value}`)) return t(`roles.${value}`)
    if (field === 'attachment_ids' && Array.isArray(value)) return t('conflict.photos', { n: value.length })
    if (field === 'mediator_ids' && Array.isArray(value)) return value.length ? userNames(value, appState.reference?.users || [], t('fieldfix.cfUnknownUser')) : '—'
    if (field === 'gender' && typeof value === 'string' && te(`fieldfix.gender.${value}`)) return t(`fieldfix.gender.${value}`)
    if (Array.isArray(value)) {
      return value.map((v) => (v && typeof v === 'object'
        ? v.name ? [v.name, v.role && te(`roles.${v.role}`) ? t(`roles.${v.role}`) : '', v.phone || ''].filter(Boolean).join(' ')
          : v.new_deadline ? `${v.new_deadline} ${v.reason || ''}`.trim() : show(v)
        : String(v))).join('；')
    }
    if (typeof value === 'object') {
      return Object.entries(value).filter(([, v]) => v !== null && v !== '' && !(Array.isArray(v) && !v.length))
        .map(([k, v]) => `${one(k)}：${show(v, k)}`).join('；')
    }
    if (typeof value === 'boolean') return value ? t('detail.yes') : t('detail.no')
    return String(value)
  }
  return { label, show }
}
