import { describe, it, expect } from 'vitest'
import Dexie from 'dexie'
import { CunzhiDB } from '../db'
import { recordChange } from './outbox'
import { storeServerRecords } from './view'
import { newId } from './ids'

let n = 0
const fresh = () => new CunzhiDB(`records-${Date.now()}-${n++}`)

describe('generic record views (issues 7, 8)', () => {
  it('a local patrol lands in records with its index fields, pending', async () => {
    const db = fresh()
    const id = newId()
    await recordChange(db, { entity: 'patrol', recordId: id, fields: { org_code: '340321108200', grid_code: '340321108200001', state: 'in_progress', started_at: '2026-11-30T08:00:00+08:00' } })
    const row = await db.records.get(`patrol:${id}`)
    expect(row).toMatchObject({ _e: 'patrol', _s: 'in_progress', _d: '2026-11-30T08:00:00+08:00', _pending: 1, grid_code: '340321108200001' })
    const byState = await db.records.where('[_e+_s]').equals(['patrol', 'in_progress']).toArray()
    expect(byState.map((r) => r.id)).toEqual([id])
  })

  it('pulled records keep the pending overlay and are indexed by household and parent', async () => {
    const db = fresh()
    const inc = newId(), hh = newId(), patrol = newId()
    await db.transaction('rw', [db.server, db.outbox, db.cases, db.case_index, db.events, db.records], async () => {
      await storeServerRecords(db, [
        { entity: 'incident', record: { id: inc, rev: 1, deleted: false, org_code: '340321108200', state: 'reported', household_id: hh, patrol_id: patrol, title: '电线老化', occurred_at: '2026-11-29T10:00:00+08:00' } as any },
        { entity: 'household', record: { id: hh, rev: 2, deleted: false, org_code: '340321108200', head_name: '李大山', members: 4 } as any },
      ])
    })
    await recordChange(db, { entity: 'incident', recordId: inc, fields: { state: 'assigned', assignee_id: 'u1' } })
    const row = await db.records.get(`incident:${inc}`)
    expect(row).toMatchObject({ state: 'assigned', _s: 'assigned', _pending: 1, title: '电线老化', rev: 1 })
    expect((await db.records.where('[_e+_h]').equals(['incident', hh]).toArray()).length).toBe(1)
    expect((await db.records.where('[_e+_p]').equals(['incident', patrol]).toArray()).length).toBe(1)
    expect((await db.records.get(`household:${hh}`))?._s).toBe('active')
    // a tombstone removes the view
    await db.transaction('rw', [db.server, db.outbox, db.cases, db.case_index, db.events, db.records], async () => {
      await storeServerRecords(db, [{ entity: 'household', record: { id: hh, rev: 3, deleted: true } as any }])
    })
    expect(await db.records.get(`household:${hh}`)).toBeUndefined()
  })

  it('the upgrade to v4 builds the views from server copies and the outbox', async () => {
    const name = `records-upgrade-${Math.random()}`
    const v2 = new Dexie(name)
    v2.version(2).stores({
      server: '&key, entity', outbox: '++seq, &mutation_id, record_id', acked: '&seq, &mutation_id, acked_at',
      rejected: '&mutation_id, seq, record_id', conflicts: '&id, record_id, status', attachments: '&id, uploaded, record_id',
      meta: '&key', cases: '&id, received_on, _pending', events: '&id, case_id, [case_id+occurred_at]', case_index: '&id',
    })
    await v2.table('server').put({ key: 'points_entry:p1', entity: 'points_entry', id: 'p1', record: { id: 'p1', rev: 1, household_id: 'h1', points: 5, rule: 'volunteer', occurred_on: '2026-11-01' } })
    await v2.table('outbox').add({ mutation_id: 'm1', entity: 'nomination', op: 'upsert', record_id: 'n1', base_rev: 0, fields: { state: 'nominated', nominee_name: '王芳' } })
    v2.close()
    const db = new CunzhiDB(name)
    const p = await db.records.get('points_entry:p1')
    expect(p).toMatchObject({ _e: 'points_entry', _h: 'h1', _d: '2026-11-01', _s: 'entry' })
    expect(await db.records.get('nomination:n1')).toMatchObject({ nominee_name: '王芳', _pending: 1, _s: 'nominated' })
    db.close()
  })
})
