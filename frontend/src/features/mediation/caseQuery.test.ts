import { describe, it, expect } from 'vitest'
import { filterCases } from './caseQuery'
import type { CaseIndexRow } from '../../db'

const row = (id: string, o: string, ti: string): CaseIndexRow => ({
  id, r: '2026-11-01', s: 'registered', c: 'neighbor', k: 'red', d: '2026-12-01', t: ti, ti, n: null, p: '', dl: null, e: null, pe: 0, o,
})

describe('township staff: cases by village (issue 12, item 11)', () => {
  const rows = [row('a', '340321108200', '宅基地'), row('b', '340321108201', '邻里'), row('c', '340321108201', '土地')]
  const names = new Map([['340321108200', '万福村'], ['340321108201', '石桥村']])
  it('filters by village', () => {
    expect(filterCases(rows, { village: '340321108201' }, '2026-11-30')).toEqual(['b', 'c'])
  })
  it('finds a village\'s cases by its name', () => {
    expect(filterCases(rows, { q: '石桥' }, '2026-11-30', names)).toEqual(['b', 'c'])
    expect(filterCases(rows, { q: '宅基' }, '2026-11-30', names)).toEqual(['a'])
  })
})
