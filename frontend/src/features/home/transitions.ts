/**
 * Which state changes each role may offer on the device, per records.md. The server checks
 * every change again (a wrong one comes back under "needs attention"); the device only offers
 * what the role may do. Where /reference carries `<entity>_transitions` (state → next states),
 * that table wins over the default below; the role rules stay.
 */
import { appState } from '../../app/session'
import { mayCertify } from '../sixno/sixno'
import { disqualified } from '../nominations/nominationForm'

export type Role = 'mediator' | 'grid_worker' | 'village_admin' | 'township_admin' | 'township_viewer' | string

export interface TransitionContext {
  role: Role
  userId: string
  record: Record<string, any>
  today: string
}

type Rule = (ctx: TransitionContext) => boolean
const ADMINS: Role[] = ['village_admin', 'township_admin']
const isAdmin: Rule = (c) => ADMINS.includes(c.role)
const isTownship: Rule = (c) => c.role === 'township_admin'
const isVillage: Rule = (c) => c.role === 'village_admin'
const isAssignee: Rule = (c) => !!c.record.assignee_id && c.record.assignee_id === c.userId

/** entity → from-state → to-state → who may. */
export const MACHINES: Record<string, Record<string, Record<string, Rule>>> = {
  patrol: {
    in_progress: {
      completed: (c) => c.role === 'village_admin' || c.record.created_by === c.userId || !c.record.created_by,
      cancelled: (c) => c.role === 'village_admin' || c.record.created_by === c.userId || !c.record.created_by,
    },
  },
  incident: {
    // the server: admins assign, verify, cancel and send back; only the assignee starts handling and resolves
    reported: { assigned: isAdmin, cancelled: isAdmin },
    assigned: { handling: isAssignee, assigned: isAdmin, cancelled: isAdmin },
    handling: { resolved: isAssignee, cancelled: isAdmin },
    resolved: { verified: isAdmin, handling: isAdmin },
  },
  six_no_report: {
    open: { self_assessed: isVillage },
    rejected: { self_assessed: isVillage },
    // a report with a broken indicator cannot be certified (records.md): not offered at all
    reopened: { self_assessed: isVillage, township_certified: (c) => isTownship(c) && mayCertify(c.record), rejected: isTownship },
    self_assessed: { township_certified: (c) => isTownship(c) && mayCertify(c.record), rejected: isTownship },
  },
  nomination: {
    nominated: { village_reviewed: isVillage, rejected: isTownship },
    // a nominee with a disqualifier recorded never goes on the public poster (the server refuses it too)
    village_reviewed: { public_notice: (c) => isVillage(c) && !disqualified(c.record), rejected: isTownship },
    public_notice: {
      // approval only after the notice ended with no open objection
      township_approved: (c) => isTownship(c) && !c.record.paused && !!c.record.notice_ends_on && c.record.notice_ends_on < c.today,
      rejected: isTownship,
    },
    township_approved: { awarded: isTownship, rejected: isTownship },
  },
  nomination_objection: {
    open: { upheld: isAdmin, dismissed: isAdmin },
  },
}

/** The next states this role may move the record to (in the table's order). */
export function allowedTransitions(entity: string, ctx: TransitionContext): string[] {
  const machine = MACHINES[entity] || {}
  const state = ctx.record.state || ''
  const ref: any = appState.reference
  const fromServer: string[] | undefined = (ref?.[`${entity}_transitions`] || ref?.transitions?.[entity])?.[state]
  const rules = machine[state] || {}
  const targets = fromServer || Object.keys(rules)
  return targets.filter((to) => (rules[to] ? rules[to](ctx) : false))
}

/** States a record of the entity may still move from (open work). */
export const OPEN_STATES: Record<string, string[]> = {
  incident: ['reported', 'assigned', 'handling'],
  patrol: ['in_progress'],
  nomination: ['nominated', 'village_reviewed', 'public_notice', 'township_approved'],
  six_no_report: ['open', 'self_assessed', 'reopened', 'rejected'],
}
