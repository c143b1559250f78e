/**
 * What the signed-in role may do, from the server's `/me` permissions
 * ({entity: ["create", "update", "delete"]}). The phone offers only these actions; the server
 * still decides (a refusal is shown as such, never as "fix and resend").
 */
import type { Me } from '../api/types'

export type Op = 'create' | 'update' | 'delete'

export function can(entity: string, op: Op, user: Me | null | undefined): boolean {
  if (!user) return false
  return (user.permissions?.[entity] || []).includes(op)
}

/** The error codes that mean "this role may not", not "the data is wrong". */
export const PERMISSION_CODES = new Set(['forbidden', 'not_permitted', 'permission_denied', 'out_of_scope'])
export function isPermissionRefusal(code: string | null | undefined): boolean {
  return !!code && PERMISSION_CODES.has(code)
}
