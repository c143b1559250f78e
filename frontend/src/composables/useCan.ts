import { appState } from '../app/session'
import { can, type Op } from '../app/permissions'

/** `can('mediation_case', 'update')` for the signed-in user (reactive: reads appState). */
export function useCan() {
  return (entity: string, op: Op) => can(entity, op, appState.session?.user)
}
