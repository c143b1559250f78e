/**
 * Who stands behind each side of a stored conflict, and which choice the state rules can never accept.
 * Pure functions (conflictSides.test.ts); ConflictView shows them.
 */
export interface RefUser { id: string; display_name: string; role?: string; org_code?: string }

/** The client value is the change of whoever pushed it (`created_by`): this user ("mine") or someone named. */
export function proposer(row: { mine?: number; created_by?: string | null }, meId: string | undefined, users: RefUser[]):
  { mine: true } | { mine: false; name: string | null } {
  if (row.mine || (meId && row.created_by === meId)) return { mine: true }
  const u = row.created_by ? users.find((x) => x.id === row.created_by) : undefined
  return { mine: false, name: u?.display_name || null }
}

/** Names for a list of user ids (mediator_ids), in order; an id not on the list gets `unknown`. */
export function userNames(ids: unknown, users: RefUser[], unknown: string): string {
  if (!Array.isArray(ids)) return ''
  return ids.map((id) => users.find((u) => u.id === id)?.display_name || unknown).join('、')
}

/**
 * A status choice the server will refuse: changing the record's current status to it is not a transition the
 * rules allow (keeping the current status is always fine).
 */
export function forbiddenStatus(field: string, value: unknown, current: string | undefined,
  transitions: Record<string, string[]>): boolean {
  if (field !== 'status' || typeof value !== 'string' || !current || value === current) return false
  return !(transitions[current] || []).includes(value)
}

/**
 * The conflicts this user is asked to settle — the sync bar counts them and the sync page lists them, the same
 * rows (finding 3): open or being resolved, of a record type the user may change. Someone else's conflict on a
 * record this user may write counts too: anyone who may write the record may settle it (sync-protocol.md 4).
 */
export function conflictsToSettle<T extends { entity: string; status: string; mine?: number }>(rows: T[],
  mayUpdate: (entity: string) => boolean): T[] {
  return rows.filter((c) => c.status !== 'resolved' && (c.mine || mayUpdate(c.entity)))
    .sort((a, b) => Number(b.mine || 0) - Number(a.mine || 0))
}

/** Codes no edit of the sent values can cure: resending the change can never work, so it is not offered. */
const NEVER_WORKS = new Set(['invalid_transition', 'invalid_initial_status', 'not_deletable', 'append_only'])
export function cannotBeFixed(error: { code?: string; details?: { code?: string | null }[] | null } | null | undefined): boolean {
  return !!error && (NEVER_WORKS.has(error.code || '') || (error.details || []).some((d) => NEVER_WORKS.has(d.code || '')))
}

/**
 * A state choice of a conflict on a record type with a state machine (nomination, six-no report, objection,
 * patrol, incident): keeping the current state is fine; a state no one may move the record to from its
 * current one is 'rules'; one the rules allow but not to this role is 'role'.
 */
export function stateChoice(value: unknown, current: string | undefined, possible: string[], allowed: string[]): '' | 'rules' | 'role' {
  if (typeof value !== 'string' || !current || value === current) return ''
  if (!possible.includes(value)) return 'rules'
  return allowed.includes(value) ? '' : 'role'
}
