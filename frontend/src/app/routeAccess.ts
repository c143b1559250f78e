/**
 * Who may open a screen: a route's `meta.access` names the roles or the `/me` permission it needs, as a tab does
 * (app/tabs.ts). A role is offered only what it may do — a form it may not submit is not reachable by typing its
 * address either: the router sends it to its own landing screen.
 */
import type { Me } from '../api/types'
import { can, type Op } from './permissions'

export interface Access {
  /** roles that may open it; absent = every role */
  roles?: string[]
  /** a permission that must be granted; absent = none needed */
  permission?: { entity: string; op: Op }
}

export function mayOpen(access: Access | undefined, user: Me | null | undefined): boolean {
  if (!user) return false
  if (!access) return true
  if (access.roles && !access.roles.includes(user.role)) return false
  if (access.permission && !can(access.permission.entity, access.permission.op, user)) return false
  return true
}

/** Route meta helpers: `meta: creates('incident')`. */
export const creates = (entity: string) => ({ access: { permission: { entity, op: 'create' as Op } } })
export const forRoles = (...roles: string[]) => ({ access: { roles } })
