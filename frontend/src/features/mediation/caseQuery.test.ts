import { describe, it, expect } from 'vitest'
import { filterCases, readInPages } from './caseQuery'
import { CunzhiDB, type CaseIndexRow } from '../../db'

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

describe('the case index is read in pages (one IndexedDB request, one main-thread task, each)', () => {
  let n = 0
  for (const count of [0, 1, 10, 11, 37]) {
    it(`returns each of ${count} rows once, in pages of at most 10`, async () => {
      const db = new CunzhiDB(`case-index-pages-${Date.now()}-${n++}`)
      const rows = Array.from({ length: count }, (_, i) => row(`id-${String(i).padStart(3, '0')}`, '340321108200', `t${i}`))
      await db.case_index.bulkPut([...rows].reverse())
      const pages: number[] = []
      const got = await readInPages(db.case_index, 10, (k) => pages.push(k))
      expect(got.map((r) => r.id)).toEqual(rows.map((r) => r.id))
      expect(Math.max(...pages)).toBeLessThanOrEqual(10)
      expect(pages.length).toBe(Math.floor(count / 10) + 1)
      db.close()
      await db.delete()
    })
  }
})
