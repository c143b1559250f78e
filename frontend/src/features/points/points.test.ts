import { describe, it, expect } from 'vitest'
import { balances, checkEntry, monthlyRanking, reversalOf, reversedIds } from './ledger'
import { checkNomination, noticeStatus } from '../nominations/nominationForm'
import { checkHousehold, safeRate, validIdNumber, withYear } from '../grid/households'
import { checkIncident } from '../grid/incidentForm'
import { searchHouseholds } from '../home/householdSearch'

const e = (id: string, hh: string, points: number, on: string, reverses_id: string | null = null) => ({ id, household_id: hh, rule: 'volunteer', points, occurred_on: on, reverses_id })

describe('morality bank ledger', () => {
  it('balances equal the sum of entries after reversals', () => {
    const entries = [e('1', 'a', 5, '2026-11-02'), e('2', 'a', 10, '2026-11-03'), e('3', 'b', -5, '2026-11-04'), e('4', 'a', -10, '2026-11-05', '2')]
    const b = balances(entries)
    expect(b.get('a')).toBe(5)
    expect(b.get('b')).toBe(-5)
    expect([...reversedIds(entries)]).toEqual(['2'])
  })

  it('ranks a month, ties share a rank, other months left out', () => {
    const entries = [e('1', 'a', 5, '2026-11-02'), e('2', 'b', 5, '2026-11-10'), e('3', 'c', 10, '2026-11-30'), e('4', 'a', 50, '2026-10-31')]
    expect(monthlyRanking(entries, '2026-11')).toEqual([
      { household_id: 'c', points: 10, rank: 1 }, { household_id: 'a', points: 5, rank: 2 }, { household_id: 'b', points: 5, rank: 2 },
    ])
  })

  it('a reversal carries the opposite points and names the entry', () => {
    expect(reversalOf(e('9', 'a', 10, '2026-11-01'), '录错了', '2026-11-30')).toEqual({ household_id: 'a', rule: 'volunteer', points: -10, reason: '录错了', occurred_on: '2026-11-30', reverses_id: '9' })
  })

  it('refuses 0, 5,000, a missing household or reason', () => {
    expect(checkEntry({ household_id: 'a', rule: 'volunteer', points: 5, reason: '扫雪' })).toEqual([])
    expect(checkEntry({ household_id: 'a', rule: 'volunteer', points: 0, reason: 'x' })).toEqual(['points'])
    expect(checkEntry({ household_id: 'a', rule: 'volunteer', points: 5000, reason: 'x' })).toEqual(['points'])
    expect(checkEntry({ household_id: 'a', rule: 'redeem', points: '', reason: 'x' })).toEqual(['points'])
    expect(checkEntry({ rule: 'volunteer', points: 5, reason: ' ' })).toEqual(['household_id', 'reason'])
  })
})

describe('form checks', () => {
  it('a best_family nomination needs a household; deeds and name required', () => {
    const ok = { category: 'filial_piety', nominee_name: '王芳', deeds: '照顾瘫痪婆婆十年', source: 'villagers' }
    expect(checkNomination(ok)).toEqual([])
    expect(checkNomination({ ...ok, category: 'best_family' })).toEqual(['household_id'])
    expect(checkNomination({ ...ok, category: 'best_family', household_id: 'h1' })).toEqual([])
    expect(checkNomination({ ...ok, deeds: ' ', nominee_name: '' })).toEqual(['nominee_name', 'deeds'])
  })

  it('the notice is over only after its last day', () => {
    const n = { state: 'public_notice', notice_starts_on: '2026-11-20', notice_ends_on: '2026-11-27' }
    expect(noticeStatus(n, '2026-11-27')).toEqual({ active: true, over: false, paused: false })
    expect(noticeStatus(n, '2026-11-28')).toEqual({ active: false, over: true, paused: false })
    expect(noticeStatus({ ...n, paused: true }, '2026-11-28').paused).toBe(true)
  })

  it('households: head name, members 1–30, phone and ID number checked, masked values pass', () => {
    const f = { head_name: '李大山', address: '东庄 12 号', members: 4, phone: '', head_id_number: '', grid_code: '', tags: [], active: true }
    expect(checkHousehold(f)).toEqual([])
    expect(checkHousehold({ ...f, head_name: ' ', members: 31 })).toEqual(['head_name', 'members'])
    expect(checkHousehold({ ...f, phone: '12345' })).toEqual(['phone'])
    expect(checkHousehold({ ...f, phone: '138****1234', head_id_number: '340321********1234' })).toEqual([])
    expect(validIdNumber('11010519491231002X')).toBe(true)
    expect(validIdNumber('110105194912310021')).toBe(false)
    // the right check digit on a date of birth that does not exist (month 13, 30 February): the server refuses it
    expect(checkHousehold({ ...f, head_id_number: '110105194913310021' })).toEqual(['head_id_number'])
    expect(checkHousehold({ ...f, head_id_number: '340321199002301235' })).toEqual(['head_id_number'])
  })

  it('safe-household rate counts active households certified for the year', () => {
    const hh = [{ safe_certified_years: [2026] }, { safe_certified_years: [2025] }, { safe_certified_years: [2026], active: false }, {}]
    expect(safeRate(hh, 2026)).toEqual({ safe: 1, total: 3, rate: 1 / 3 })
    expect(withYear([2025], 2026, true)).toEqual([2025, 2026])
    expect(withYear([2025, 2026], 2026, false)).toEqual([2025])
  })

  it('incidents: type, severity, title, and not in the future', () => {
    const now = '2026-11-30T10:00:00+08:00'
    const ok = { type: 'dispute', severity: 'general', title: '邻里争吵', occurred_at: '2026-11-30T09:00:00+08:00' }
    expect(checkIncident(ok, now)).toEqual([])
    expect(checkIncident({ ...ok, occurred_at: '2026-12-01T09:00:00+08:00' }, now)).toEqual(['occurred_at'])
    expect(checkIncident({ ...ok, type: '', title: '', severity: 'x' }, now)).toEqual(['type', 'severity', 'title'])
  })

  it('finds a household by head name or address, ignoring spaces', () => {
    const rows = [{ head_name: '李大山', address: '东庄 12 号' }, { head_name: '王小二', address: '西庄 3 号' }]
    expect(searchHouseholds(rows, '东庄12').map((h) => h.head_name)).toEqual(['李大山'])
    expect(searchHouseholds(rows, '王').map((h) => h.head_name)).toEqual(['王小二'])
  })
})
