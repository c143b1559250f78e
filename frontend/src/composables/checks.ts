/**
 * Checks on the phone that match the server's (backend/cunzhi/sync/fields.py, mediation/rules.py):
 * shown next to the field before anything is queued. Each returns an i18n key under `checks.*`
 * or '' when the value is fine. Masked values (with '*', as the server sends them to masked
 * readers) pass: they are the server's own.
 */
const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
const ID_CHECK = '10X98765432'

/** GB 11643: 17 digits and a check digit (0-9 or X), a real date of birth. */
export function validIdNumber(v: string): boolean {
  if (!/^\d{17}[\dXx]$/.test(v)) return false
  const total = ID_WEIGHTS.reduce((sum, w, i) => sum + Number(v[i]) * w, 0)
  if (ID_CHECK[total % 11] !== v[17].toUpperCase()) return false
  const y = Number(v.slice(6, 10)), m = Number(v.slice(10, 12)), d = Number(v.slice(12, 14))
  const dt = new Date(Date.UTC(y, m - 1, d))
  return dt.getUTCFullYear() === y && dt.getUTCMonth() === m - 1 && dt.getUTCDate() === d
}

/** A mainland mobile (1[3-9] + 9 digits) or a landline with area code (0xx(x)-xxxxxxx(x)). */
export function validPhone(v: string): boolean {
  const s = v.replace(/ /g, '')
  return /^1[3-9]\d{9}$/.test(s) || /^0\d{2,3}-?\d{7,8}$/.test(s)
}

export const isMasked = (v: string) => v.includes('*')

export function checkRequired(v: unknown): string {
  if (v === null || v === undefined) return 'checks.required'
  if (typeof v === 'string' && !v.trim()) return 'checks.required'
  if (Array.isArray(v) && !v.length) return 'checks.required'
  return ''
}

export function checkPhone(v: string | null | undefined): string {
  if (!v) return ''
  return isMasked(v) || validPhone(v) ? '' : 'checks.phone'
}

export function checkIdNumber(v: string | null | undefined): string {
  if (!v) return ''
  return isMasked(v) || validIdNumber(v) ? '' : 'checks.idNumber'
}

/** today: 'YYYY-MM-DD' in Asia/Shanghai (sync/dates.shanghaiDate) */
export function checkNotFuture(v: string | null | undefined, today: string): string {
  if (!v) return ''
  if (!/^\d{4}-\d{2}-\d{2}/.test(v)) return 'checks.date'
  return v.slice(0, 10) > today ? 'checks.future' : ''
}

/** The server's error code of a field detail, as a `checks.*` key where the phone has one. */
export function serverCodeKey(code: string | null | undefined): string {
  const map: Record<string, string> = {
    required: 'checks.required', invalid_phone: 'checks.phone', invalid_id_number: 'checks.idNumber',
    future_date: 'checks.future', invalid_date: 'checks.date', invalid_choice: 'checks.choice',
    agreement_required: 'checks.agreementTerms', terms_required: 'checks.agreementTerms', signed_on_required: 'checks.signedOn',
    outcome_note_required: 'checks.required', too_long: 'checks.tooLong', unknown_mediator: 'checks.mediator',
  }
  return (code && map[code]) || 'checks.invalid'
}
