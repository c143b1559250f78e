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
  if (GREY_STATUSES.includes(rec.status)) return 'grey'
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
