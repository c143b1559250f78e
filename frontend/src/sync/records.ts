/**
 * One generic indexed read view for the record types beyond mediation (issues 7 and 8):
 * household, patrol, incident, six_no_report, nomination, nomination_objection, points_entry.
 *
 * Each row of the `records` table is the record's view (server copy + pending outbox fields, as
 * for cases) plus a few index fields, so every screen can read one entity, one state, one
 * household's or one parent's records through a compound index:
 *   _key "<entity>:<id>"   _e entity   _s state   _d sort key (a time or date, newest last)
 *   _h household_id        _p parent (an incident's patrol, an objection's nomination)
 *   _pending 1 while outbox entries wait   _rejected 1 for a create the server refused (not accepted data:
 *   screens mark it and leave it out of balances and counts)
 * Filled by sync/view.ts (rebuildView / storeServerRecords) in the same transaction as the
 * server copy and the outbox, like the case views.
 */
export const GENERIC_ENTITIES = new Set([
  'household', 'patrol', 'incident', 'six_no_report', 'nomination', 'nomination_objection', 'points_entry',
])

export type GenericEntity =
  | 'household' | 'patrol' | 'incident' | 'six_no_report' | 'nomination' | 'nomination_objection' | 'points_entry'

export interface RecordRow {
  _key: string
  _e: string
  _s: string
  _d: string
  _h: string
  _p: string
  _pending: 0 | 1
  /** 1: a create the server refused, shown until it is fixed and resent or discarded (not accepted data) */
  _rejected: 0 | 1
  id: string
  [field: string]: any
}

function str(v: unknown): string {
  return v === null || v === undefined ? '' : String(v)
}

/** The state a list filters on. Households: active / inactive. */
export function stateOf(entity: string, v: Record<string, any>): string {
  if (entity === 'household') return v.active === false ? 'inactive' : 'active'
  if (entity === 'points_entry') return v.reverses_id ? 'reversal' : 'entry'
  return str(v.state)
}

/** The sort key of a record: when it happened (newest last in index order). */
export function sortKeyOf(entity: string, v: Record<string, any>): string {
  switch (entity) {
    case 'patrol': return str(v.started_at || v.created_at)
    case 'incident': return str(v.occurred_at || v.created_at)
    case 'six_no_report': return str(v.year)
    case 'points_entry': return str(v.occurred_on || v.created_at)
    case 'household': return str(v.head_name)
    default: return str(v.created_at || v._local_created_at)
  }
}

export function parentOf(entity: string, v: Record<string, any>): string {
  if (entity === 'incident') return str(v.patrol_id)
  if (entity === 'nomination_objection') return str(v.nomination_id)
  if (entity === 'points_entry') return str(v.reverses_id)
  return ''
}

/** A view (from computeView) as a row of the `records` table. */
export function recordRow(entity: string, view: Record<string, any>): RecordRow {
  return {
    ...view,
    id: view.id,
    _key: `${entity}:${view.id}`,
    _e: entity,
    _s: stateOf(entity, view),
    _d: sortKeyOf(entity, view),
    _h: str(view.household_id),
    _p: parentOf(entity, view),
    _pending: view._pending ? 1 : 0,
    _rejected: view._rejected ? 1 : 0,
  }
}
