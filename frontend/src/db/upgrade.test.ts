import { describe, it, expect } from 'vitest'
import Dexie from 'dexie'
import { CunzhiDB } from '.'

describe('database versions', () => {
  it('v1 → v2 builds the case_index projection from existing cases', async () => {
    const name = `upgrade-${Math.random()}`
    const v1 = new Dexie(name)
    v1.version(1).stores({
      server: '&key, entity', outbox: '++seq, &mutation_id, record_id', acked: '&seq, &mutation_id, acked_at',
      rejected: '&mutation_id, seq, record_id', conflicts: '&id, record_id, status', attachments: '&id, uploaded, record_id',
      meta: '&key',
      cases: '&id, received_on, [status+received_on], [category+received_on], [risk_level+received_on], _open_deadline, *_terms, _pending',
      events: '&id, case_id, [case_id+occurred_at]',
    })
    await v1.table('cases').put({
      id: 'c1', title: '宅基地纠纷', parties: [{ name: '张三', role: 'applicant' }], status: 'registered',
      category: 'homestead', risk_level: 'red', received_on: '2026-11-01', _open_deadline: '2026-12-01', _terms: ['宅基'], _pending: 0,
    })
    await v1.table('outbox').add({ mutation_id: 'm1', record_id: 'c1' })
    v1.close()

    const db = new CunzhiDB(name)
    const row = await db.case_index.get('c1')
    expect(row).toMatchObject({ id: 'c1', s: 'registered', c: 'homestead', k: 'red', r: '2026-11-01', ti: '宅基地纠纷', p: '张三' })
    expect(row!.t).toContain('张三')
    expect(await db.outbox.count()).toBe(1) // the outbox survives an upgrade
    db.close()
  })
})
