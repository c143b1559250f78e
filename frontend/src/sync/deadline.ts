/**
 * Deadline colour, computed on the device with the server's rule (product.md "Deadline"):
 * green — open with more than `warnDays` left, or ended on time; yellow — open, due within
 * `warnDays`; red — open past its deadline, or ended late; grey — declined, terminated, referred.
 */
import { addDays, daysBetween, shanghaiDate } from './dates'

export type DeadlineColor = 'green' | 'yellow' | 'red' | 'grey'

export const OPEN_STATUSES = ['registered', 'mediating']
export const GREY_STATUSES = ['declined', 'terminated', 'referred']
export const ENDED_STATUSES = ['agreed', 'fulfilling', 'fulfilled', 'archived', ...GREY_STATUSES]

export interface DeadlineSettings {
  deadline_days: number
  deadline_warn_days: number
}

export const defaultDeadlineSettings: DeadlineSettings = { deadline_days: 30, deadline_warn_days: 5 }

/** The deadline in force: the last extension, else the server's deadline, else received_on + days. */
export function effectiveDeadline(rec: Record<string, any>, s: DeadlineSettings = defaultDeadlineSettings): string | null {
  const ext = Array.isArray(rec.deadline_extensions) ? rec.deadline_extensions : []
  if (ext.length) return ext[ext.length - 1].new_deadline
  if (rec.deadline) return rec.deadline
  if (rec.received_on) return addDays(rec.received_on, s.deadline_days)
  return null
}

export function deadlineColor(
  rec: Record<string, any>,
  today: string = shanghaiDate(),
  s: DeadlineSettings = defaultDeadlineSettings,
): DeadlineColor {
  if (GREY_STATUSES.includes(rec.status) || (rec.status === 'archived' && GREY_STATUSES.includes(rec.ended_as))) return 'grey'
  const deadline = effectiveDeadline(rec, s)
  if (!deadline) return 'grey'
  if (OPEN_STATUSES.includes(rec.status) || !rec.status) {
    const left = daysBetween(today, deadline)
    if (left < 0) return 'red'
    if (left <= s.deadline_warn_days) return 'yellow'
    return 'green'
  }
  const ended = rec.ended_on || rec._local_ended_on || today
  return ended <= deadline ? 'green' : 'red'
}

/**
 * The one rule for the badge's words, everywhere (list, detail): an open case says how its
 * deadline stands (正常 / 将到期 / 超期); an ended one — archived included — says how it ended
 * (按期办结 / 超期办结), or 已结束 for declined, terminated and referred. Returns an i18n key.
 */
export function deadlineLabelKey(rec: Record<string, any>, color: DeadlineColor): string {
  const open = OPEN_STATUSES.includes(rec.status) || !rec.status
  if (color === 'grey') return 'color.grey'
  return open ? `color.${color}` : `colorEnded.${color}`
}
