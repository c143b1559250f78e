/**
 * The record-type registry (recordTypes.ts) bound to the app: messages, code tables, units, users and the
 * records this device holds. SyncCenter and ConflictView label fields, show values and title records with it.
 */
import { useI18n } from 'vue-i18n'
import { useNamer } from '../dashboard/namer'
import { appState } from '../../app/session'
import { changeKind, fieldLabel, recordLink, recordTitle, refsOf, showValue, type Names } from './recordTypes'
import type { CunzhiDB } from '../../db'

/** Records by "entity:id" (view rows), loaded ahead by `loadKnown` so titles and values read synchronously. */
export type Known = Record<string, Record<string, any>>

export function useFieldLabels() {
  const { t } = useI18n()
  const namer = useNamer()
  function names(known: Known = {}): Names {
    return {
      ...namer,
      t: (key, params) => t(key, params || {}),
      user: (id) => (id ? appState.reference?.users?.find((u) => u.id === id)?.display_name || '' : ''),
      record: (entity, id) => (id ? known[`${entity}:${id}`] : undefined),
    }
  }
  return {
    /** a field's label in the record type's words; cases by default (their details carry no type) */
    label: (field: string, entity = 'mediation_case') => fieldLabel(entity, field, names()),
    show: (value: any, field = '', entity = 'mediation_case', known: Known = {}) => showValue(entity, field, value, names(known)),
    title: (entity: string, rec: Record<string, any>, known: Known = {}) => recordTitle(entity, rec, names(known)),
    link: recordLink,
    kind: (entity: string, m: { op?: string; base_rev?: number; fields?: Record<string, any> }) => changeKind(entity, m, names()),
    typeName: (entity: string) => names().t(`rt.type.${entity}`),
  }
}

/**
 * The view rows of the given records and of the records their titles and values need (a points entry's household,
 * an objection's nomination, an event's case). Cases and their events have tables of their own, the other types
 * share `records`. `sent`: what a refused change sent, for a record this device no longer holds.
 */
export async function loadKnown(db: CunzhiDB, items: [string, string][], sent: Known = {}): Promise<Known> {
  const out: Known = {}
  const TABLES: Record<string, 'cases' | 'events' | 'records'> = { mediation_case: 'cases', case_event: 'events' }
  async function load(pairs: [string, string][]) {
    const todo = [...new Map(pairs.filter(([e, id]) => id && !(`${e}:${id}` in out)).map((p) => [`${p[0]}:${p[1]}`, p])).values()]
    await Promise.all([...new Set(todo.map(([e]) => TABLES[e] || 'records'))].map(async (table) => {
      const mine = todo.filter(([e]) => (TABLES[e] || 'records') === table)
      const keys = mine.map(([e, id]) => (table === 'records' ? `${e}:${id}` : id))
      const rows = await (db[table] as any).bulkGet(keys)
      rows.forEach((r: any, i: number) => { if (r) out[`${mine[i][0]}:${mine[i][1]}`] = r })
    }))
  }
  await load(items)
  for (const [e, id] of items) {
    const k = `${e}:${id}`
    if (sent[k]) out[k] = { id, ...sent[k], ...(out[k] || {}) }
  }
  const refs: [string, string][] = []
  for (const [e, id] of items) { const r = out[`${e}:${id}`]; if (r) refs.push(...refsOf(e, r)) }
  await load(refs)
  return out
}
