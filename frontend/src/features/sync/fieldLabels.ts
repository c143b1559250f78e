import { useI18n } from 'vue-i18n'

const keys: Record<string, string> = {
  title: 'form.summary', description: 'form.description', category: 'form.category', source: 'form.source',
  risk_level: 'form.risk', escalation_flag: 'form.escalation', escalation_note: 'form.escalationNote', place: 'form.place',
  received_on: 'form.receivedOn', parties: 'form.parties', status: 'cases.status', agreement: 'detail.agreement',
  outcome_note: 'detail.outcomeNote', deadline_extensions: 'detail.extend', amount_in_dispute: 'form.amount', people_involved: 'form.people',
  content: 'event.content', participants: 'event.participants', outcome: 'event.outcome',
}

export function useFieldLabels() {
  const { t } = useI18n()
  function label(field: string) {
    return keys[field] ? t(keys[field]) : field
  }
  function show(value: any): string {
    if (value === null || value === undefined || value === '') return '—'
    if (Array.isArray(value)) return value.map((v) => (v && typeof v === 'object' ? v.name || v.new_deadline || JSON.stringify(v) : String(v))).join('、')
    if (typeof value === 'object') return Object.entries(value).filter(([, v]) => v !== null && v !== '').map(([k, v]) => `${k}: ${Array.isArray(v) ? v.length : v}`).join('; ')
    if (typeof value === 'boolean') return value ? '✓' : '✗'
    return String(value)
  }
  return { label, show }
}
