import { describe, it, expect } from 'vitest'
import { deadlineColor, effectiveDeadline } from './deadline'
import { filterCases, sortIndex } from '../features/mediation/caseQuery'
import { indexRow } from './view'

const s = { deadline_days: 30, deadline_warn_days: 5 }
const today = '2026-11-28'

describe('deadline colour (product.md "Deadline")', () => {
  it('open cases: green with more than 5 days left, yellow within 5, red past', () => {
    expect(deadlineColor({ status: 'registered', deadline: '2026-12-04' }, today, s)).toBe('green')
    expect(deadlineColor({ status: 'mediating', deadline: '2026-12-03' }, today, s)).toBe('yellow')
    expect(deadlineColor({ status: 'mediating', deadline: '2026-11-28' }, today, s)).toBe('yellow')
    expect(deadlineColor({ status: 'registered', deadline: '2026-11-27' }, today, s)).toBe('red')
  })
  it('ended cases: green on time, red late; declined/terminated/referred grey', () => {
    expect(deadlineColor({ status: 'agreed', deadline: '2026-11-20', ended_on: '2026-11-20' }, today, s)).toBe('green')
    expect(deadlineColor({ status: 'fulfilled', deadline: '2026-11-20', ended_on: '2026-11-21' }, today, s)).toBe('red')
    for (const st of ['declined', 'terminated', 'referred']) expect(deadlineColor({ status: st, deadline: '2020-01-01' }, today, s)).toBe('grey')
  })
  it('computes the deadline on the device before the server has: received_on + days, or the last extension', () => {
    expect(effectiveDeadline({ received_on: '2026-11-01' }, s)).toBe('2026-12-01')
    expect(effectiveDeadline({ received_on: '2026-11-01', deadline: '2026-12-01', deadline_extensions: [{ new_deadline: '2026-12-20', reason: 'x' }] }, s)).toBe('2026-12-20')
  })
})

describe('case list filtering', () => {
  const rows = sortIndex([
    indexRow({ id: 'a', title: '张三与李四宅基地纠纷', parties: [{ name: '张三' }, { name: '李四' }], status: 'registered', category: 'homestead', risk_level: 'red', received_on: '2026-11-01', _open_deadline: '2026-12-01' }),
    indexRow({ id: 'b', title: '工资纠纷', parties: [{ name: '王五' }], status: 'mediating', category: 'labor_wage', risk_level: 'blue', received_on: '2026-10-01', _open_deadline: '2026-10-31', case_number: '340321108200-2026-0042' }),
    indexRow({ id: 'c', title: '邻里纠纷', parties: [{ name: 'Zhang Wei' }], status: 'agreed', category: 'neighbor', risk_level: 'yellow', received_on: '2026-11-20', _open_deadline: '9999-12-31' }),
  ])
  it('orders newest intake first', () => expect(filterCases(rows, {}, today)).toEqual(['c', 'a', 'b']))
  it('searches title, party names and case number', () => {
    expect(filterCases(rows, { q: '李四' }, today)).toEqual(['a'])
    expect(filterCases(rows, { q: '纠纷' }, today)).toEqual(['c', 'a', 'b'])
    expect(filterCases(rows, { q: 'zhang wei' }, today)).toEqual(['c'])
    expect(filterCases(rows, { q: '0042' }, today)).toEqual(['b'])
  })
  it('filters status, category, risk and overdue together', () => {
    expect(filterCases(rows, { status: 'mediating' }, today)).toEqual(['b'])
    expect(filterCases(rows, { category: 'homestead', risk: 'red' }, today)).toEqual(['a'])
    expect(filterCases(rows, { overdue: true }, today)).toEqual(['b'])
  })
})

describe('one badge rule for ended cases (issue 12, item 11)', () => {
  it('an archived case that was declined stays grey; an archived agreed one says how it ended', async () => {
    const { deadlineColor, deadlineLabelKey } = await import('./deadline')
    const declined = { status: 'archived', ended_as: 'declined', received_on: '2026-10-01', ended_on: '2026-10-02' }
    expect(deadlineColor(declined, '2026-11-30')).toBe('grey')
    expect(deadlineLabelKey(declined, 'grey')).toBe('color.grey')
    const agreed = { status: 'archived', ended_as: 'agreed', received_on: '2026-10-01', ended_on: '2026-10-05' }
    expect(deadlineColor(agreed, '2026-11-30')).toBe('green')
    expect(deadlineLabelKey(agreed, 'green')).toBe('colorEnded.green')
    expect(deadlineLabelKey({ status: 'mediating' }, 'green')).toBe('color.green')
    expect(deadlineLabelKey({ status: 'declined' }, 'grey')).toBe('color.grey')
  })
})
