/**
 * Finding 1 (village exploration): records the server refused must not look like accepted data, nor count in
 * a household's balance. Finding 7: the forms check what the server checks. Finding 10: what the township
 * is offered for six-no. Finding 8: a disqualified nominee is not offered for the public notice.
 */
import { describe, it, expect, vi } from 'vitest'

// the transitions read /reference from the session; no browser storage in these tests
vi.mock('../../app/session', () => ({ appState: { reference: null } }))
import { CunzhiDB } from '../../db'
import { SyncEngine } from '../../sync/engine'
import { recordChange } from '../../sync/outbox'
import { FakeServer } from '../../sync/testing/fakeServer'
import { newId } from '../../sync/ids'
import { storeServerRecords } from '../../sync/view'
import { balances, checkEntry, countable, entryProblems, householdBalance, monthlyRanking, reversedIds } from './ledger'
import { checkNomination, disqualified, villageFor } from '../nominations/nominationForm'
import { allowedTransitions } from '../home/transitions'
import { townToCertify } from '../home/homeData'
import { fixRoute, refusalReason } from '../home/refused'

let n = 0
const fresh = () => new CunzhiDB(`refused-${Date.now()}-${n++}`)
const W = '340321108200'
const e = (id: string, points: number, over: Record<string, any> = {}) =>
  ({ id, household_id: 'wu', rule: 'volunteer', points, occurred_on: '2026-11-20', reverses_id: null, ...over })

describe('refused records on the phone (finding 1)', () => {
  it('a refused points entry reaches the records view marked, with the server reason, and stays out of the balance', async () => {
    const db = fresh()
    const eng = new SyncEngine({ db, transport: new FakeServer().transport('A', 'c-A'), clientId: 'c-A', autoSchedule: false, random: () => 0.5, lockName: `l-${db.name}` })
    const hh = 'wu'
    await db.transaction('rw', [db.server, db.outbox, db.cases, db.case_index, db.events, db.records], async () => {
      await storeServerRecords(db, [
        { entity: 'points_entry', record: { id: 'p1', rev: 1, deleted: false, org_code: W, household_id: hh, rule: 'filial', points: 10, occurred_on: '2026-11-01' } as any },
        { entity: 'points_entry', record: { id: 'p2', rev: 1, deleted: false, org_code: W, household_id: hh, rule: 'clean_yard', points: 7, occurred_on: '2026-11-02' } as any },
      ])
    })
    const id = newId()
    await recordChange(db, { entity: 'points_entry', recordId: id, fields: { org_code: W, household_id: hh, rule: 'volunteer', points: 5, reason: '志愿服务', occurred_on: '2026-11-20' } })
    const sent = await db.outbox.toArray()
    await eng.applyPushResults(sent, [{ mutation_id: sent[0].mutation_id, status: 'rejected', error: { code: 'forbidden', message: '无权执行此操作' } } as any])
    const row = await db.records.get(`points_entry:${id}`)
    expect(row).toMatchObject({ _rejected: 1, _pending: 0, points: 5 })
    const rows = await db.records.where('[_e+_h]').equals(['points_entry', hh]).toArray()
    // the server's balance is 17: the refused +5 is not in it (the phone showed 22)
    expect(householdBalance(rows as any).balance).toBe(17)
    expect(balances(rows as any).get(hh)).toBe(17)
    expect(monthlyRanking(rows as any, '2026-11')).toEqual([{ household_id: hh, points: 17, rank: 1 }])
    const rej = (await db.rejected.toArray())[0]
    expect(fixRoute(rej, (m) => `/points/fix/${m}`)).toBe('/sync#attention') // a permission refusal: not "fix and resend"
    db.close()
  })

  it('two phones reversing one entry offline: the balance counts one reversal, the refused one not at all', () => {
    const entries = [e('a', 12), e('b', 2), e('rA', -2, { reverses_id: 'b', created_at: '2026-11-20T10:00:00Z' }),
      e('rB', -2, { reverses_id: 'b', _pending: 1 as const, created_at: '2026-11-20T09:00:00Z' })]
    // before B syncs, the accepted reversal (A's, pulled) counts and B's waiting one does not double it
    expect(householdBalance(entries).balance).toBe(12)
    expect(countable(entries).map((x) => x.id)).toEqual(['a', 'b', 'rA'])
    // after B syncs the server refuses B's (already_reversed): server 12, never 10
    const after = [entries[0], entries[1], entries[2], { ...entries[3], _pending: 0 as const, _rejected: 1 as const }]
    expect(balances(after).get('wu')).toBe(12)
    expect([...reversedIds(after)]).toEqual(['b'])
    // a refused entry's reversal is not counted either (the server refuses it: entry_not_found)
    expect(householdBalance([e('x', 5, { _rejected: 1 }), e('rx', -5, { reverses_id: 'x', _pending: 1 })]).balance).toBe(0)
    // what still waits is shown apart
    expect(householdBalance([e('a', 12), e('p', 5, { _pending: 1 })])).toEqual({ balance: 17, pending: 5 })
  })

  it('the reason names the server error and each field it refused; a data refusal of a create is fixed in the form', () => {
    const t = (k: string) => ({ 'sync.errors.validation_error': '内容有误' } as Record<string, string>)[k] || k
    const r: any = { mutation_id: 'm1', seq: 1, record_id: 'n1', entity: 'nomination', rejected_at: '', mutation: { base_rev: 0, op: 'upsert', fields: {} },
      error: { code: 'validation_error', message: '', details: [{ field: 'nominee_phone', code: 'invalid_phone', message: '电话号码格式不正确' }] } }
    expect(refusalReason(r, t)).toBe('内容有误 — 电话号码格式不正确')
    expect(fixRoute(r, (m) => `/nominations/fix/${m}`)).toBe('/nominations/fix/m1')
    expect(fixRoute({ ...r, mutation: { ...r.mutation, base_rev: 3 } }, (m) => `/nominations/fix/${m}`)).toBe('/sync#attention')
  })
})

describe('forms check what the server checks (findings 2, 7)', () => {
  const today = '2026-12-01'
  it('points: 兑换 is negative, the date is not after today', () => {
    const ok = { household_id: 'a', rule: 'redeem', points: -20, reason: '兑换洗衣粉', occurred_on: today }
    expect(entryProblems(ok, today)).toEqual([])
    expect(entryProblems({ ...ok, points: 20 }, today)).toEqual([{ field: 'points', key: 'pts.checks.negative' }])
    expect(entryProblems({ ...ok, occurred_on: '2027-01-15' }, today)).toEqual([{ field: 'occurred_on', key: 'checks.future' }])
    expect(checkEntry({ ...ok, points: 20, occurred_on: '2027-01-15' }, today)).toEqual(['points', 'occurred_on'])
    expect(entryProblems({ ...ok, rule: 'volunteer', points: 0 }, today)[0].key).toBe('pts.checks.zero')
  })

  it('nominations: the phone number in the form the server takes, and a village', () => {
    const ok = { category: 'filial_piety', nominee_name: '张德福', deeds: '照顾孤寡老人', source: 'villagers' }
    expect(checkNomination({ ...ok, nominee_phone: '13800138000' })).toEqual([])
    expect(checkNomination({ ...ok, nominee_phone: '12345' })).toEqual(['nominee_phone'])
    expect(checkNomination({ ...ok, nominee_phone: '1380013800' })).toEqual(['nominee_phone'])
    expect(checkNomination({ ...ok, nominee_phone: '0552-6012345' })).toEqual([])
    // a township admin: the township's own 9-digit code is not a village
    expect(checkNomination({ ...ok, org_code: villageFor('340321108', '') })).toEqual(['org_code'])
    expect(villageFor('340321108', W)).toBe(W)
    expect(villageFor('340321108', '', '340321108201')).toBe('340321108201')
    expect(villageFor(W, null)).toBe(W)
  })
})

describe('what is offered (findings 8, 10)', () => {
  const today = '2026-12-01'
  const ctx = (role: string, record: Record<string, any>) => ({ role, userId: 'u1', record, today })
  const broken = [{ code: 'no_drugs', status: 'broken' }, { code: 'no_cult', status: 'ok' }]
  it('six-no: 认定 is not offered on a report with a broken indicator', () => {
    expect(allowedTransitions('six_no_report', ctx('township_admin', { state: 'reopened', indicators: broken }))).toEqual(['rejected'])
    expect(allowedTransitions('six_no_report', ctx('township_admin', { state: 'self_assessed', indicators: broken }))).toEqual(['rejected'])
    expect(allowedTransitions('six_no_report', ctx('township_admin', { state: 'self_assessed', indicators: [] }))).toEqual(['township_certified', 'rejected'])
  })

  it('the 待认定六无村 tile counts this year\'s reports that can be certified now', () => {
    const reports = [
      { year: 2026, state: 'self_assessed', indicators: [] },
      { year: 2026, state: 'reopened', indicators: broken },
      { year: 2025, state: 'self_assessed', indicators: [] },
      { year: 2026, state: 'township_certified', indicators: [] },
    ]
    expect(townToCertify(reports, 2026)).toBe(1)
  })

  it('a nominee with a disqualifier recorded is not offered for the public notice', () => {
    const n = { state: 'village_reviewed', disqualifiers: { criminal_record: true, vice: false, cult: false } }
    expect(disqualified(n)).toBe(true)
    expect(allowedTransitions('nomination', ctx('village_admin', n))).toEqual([])
    expect(allowedTransitions('nomination', ctx('village_admin', { ...n, disqualifiers: { criminal_record: false } }))).toEqual(['public_notice'])
  })
})
