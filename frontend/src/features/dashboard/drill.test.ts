import { describe, it, expect } from 'vitest'
import { type Namer, drillKind, drillRow, gridLabel, listKind, recordLink, shanghaiMinute } from './drill'

const ORGS: Record<string, string> = {
  '340321108200': '万福村村民委员会', '340321108201': '镇东村村民委员会',
  '340321108200001': '一组网格', '340321108201001': '镇东村一组网格',
}
const CODES: Record<string, Record<string, string>> = {
  incident_type: { livelihood: '民生诉求' }, incident_severity: { general: '一般' }, incident_state: { assigned: '已指派' },
  case_status: { mediating: '调解中' }, patrol_state: { completed: '已完成' }, six_no_state: { open: '创建中' },
  six_no_indicator: { no_criminal_case: '无刑事案件' }, nomination_category: { helping_others: '助人为乐' },
  nomination_state: { public_notice: '公示中', awarded: '已表彰' },
}
const MSG: Record<string, string> = { 'dash.receivedOn': '受理 {d}', 'dash.yearN': '{y} 年度', 'dash.broken': '未达标：{list}',
  'dash.noticeUntil': '公示至 {d}', 'dash.awardedOn': '表彰 {d}', 'dash.members': '{n} 口人', 'dash.noGrid': '未划网格', 'dash.pending': '待编号' }
const n: Namer = {
  org: (c) => (c ? ORGS[c] || c : ''),
  code: (table, c) => (c ? CODES[table]?.[c] || c : ''),
  t: (key, p = {}) => (MSG[key] || key).replace(/\{(\w+)\}/g, (_, k) => String(p[k])),
}

describe('dashboard drill-down rows', () => {
  it('knows the record type of every drill link and list', () => {
    expect(drillKind('/api/v1/incidents?org_code=340321108&overdue=true')).toBe('incident')
    expect(drillKind('/api/v1/patrols?org_code=340321108&state=completed')).toBe('patrol')
    expect(drillKind('/api/v1/mediation-cases?org_code=340321108')).toBe('case')
    expect(drillKind('/api/v1/households?org_code=340321108&active=true')).toBe('household')
    expect(drillKind('/api/v1/six-no-reports?org_code=340321108200&year=2026')).toBe('six_no_report')
    expect(drillKind('/api/v1/nominations?state=awarded')).toBe('nomination')
    expect(drillKind('/api/v1/points-entries?household_id=x')).toBe('points_entry')
    expect(drillKind('/api/v1/dashboard/units?level=village')).toBe('unit')
    expect(drillKind('/api/v1/dashboard/mediators?level=township')).toBe('mediator')
    expect(drillKind(null)).toBe('other')
    expect(['overdue_cases', 'red_risk_cases', 'overdue_incidents', 'notices_in_progress'].map(listKind))
      .toEqual(['case', 'case', 'incident', 'nomination'])
  })

  it('an incident reads by its title, village by name and time in Asia/Shanghai, and opens its page', () => {
    const row = drillRow('incident', { id: 'i1', org_code: '340321108200', title: '村民反映自来水压力不足', type: 'livelihood',
      severity: 'general', state: 'assigned', occurred_at: '2026-10-08T01:30:00Z' }, n)
    expect(row).toEqual({ to: '/incidents/i1', text: '村民反映自来水压力不足',
      detail: ['万福村', '民生诉求', '一般', '已指派', '2026-10-08 09:30'] })
    expect(row.detail.join(' ')).not.toContain('340321108200')
  })

  it('a patrol reads by its grid (with the village) and its time, not the grid code', () => {
    const row = drillRow('patrol', { id: 'p1', org_code: '340321108200', grid_code: '340321108200001', state: 'completed',
      started_at: '2026-11-30T15:55:00.000+08:00', ended_at: '2026-11-30T17:17:00.000+08:00' }, n)
    expect(row).toEqual({ to: '/patrols/p1', text: '万福村一组网格 · 2026-11-30 15:55–17:17', detail: ['已完成'] })
    expect(gridLabel('340321108201001', n)).toBe('镇东村一组网格') // the name already says its village
    expect(gridLabel('340321108299009', n)).toBe('340321108299009') // unknown: its code rather than nothing
    expect(gridLabel(null, n)).toBe('未划网格')
  })

  it("a six-no report opens the village's report of its year, with the broken indicators by name", () => {
    const row = drillRow('six_no_report', { id: 'r1', org_code: '340321108200', year: 2026, state: 'open',
      indicators: [{ code: 'no_criminal_case', status: 'broken' }, { code: 'no_cult', status: 'ok' }] }, n)
    expect(row).toEqual({ to: '/six-no/340321108200/2026', text: '万福村 · 2026 年度', detail: ['创建中', '未达标：无刑事案件'] })
  })

  it('cases, nominations and points entries link; households, villages and mediators have no page', () => {
    const c = drillRow('case', { id: 'c1', case_number: null, title: '宅基地纠纷', org_code: '340321108201', status: 'mediating',
      received_on: '2026-11-02', parties: [{ name: '张*' }, { name: '欧***' }] }, n)
    expect(c).toEqual({ to: '/cases/c1', text: '待编号 · 宅基地纠纷', detail: ['镇东村', '张*、欧***', '调解中', '受理 2026-11-02'] })
    // the dashboard's own list items: parties already joined (and masked by the server), the unit named
    const listed = drillRow(listKind('overdue_cases'), { id: 'c2', case_number: '340321108200-2026-0001', title: '排水沟',
      org_code: '340321108200', org_name: '万福村村民委员会', parties: '袁**、郭**', status: 'mediating' }, n)
    expect(listed.to).toBe('/cases/c2')
    expect(listed.detail.slice(0, 2)).toEqual(['万福村', '袁**、郭**'])
    const nom = drillRow('nomination', { id: 'n1', org_code: '340321108200', nominee_name: '孙**', category: 'helping_others',
      state: 'public_notice', notice_ends_on: '2026-12-04' }, n)
    expect(nom).toEqual({ to: '/nominations/n1', text: '孙**', detail: ['万福村', '助人为乐', '公示中', '公示至 2026-12-04'] })
    expect(recordLink('points_entry', { id: 'e1', household_id: 'h1' })).toBe('/points/households/h1')
    const hh = drillRow('household', { id: 'h1', org_code: '340321108200', grid_code: '340321108200001', head_name: '高建国', members: 6 }, n)
    expect(hh).toEqual({ to: null, text: '高建国', detail: ['万福村一组网格', '6 口人'] })
    expect(drillRow('unit', { org_code: '340321108201', org_name: '镇东村村民委员会', mediators: 0 }, n).to).toBeNull()
    expect(drillRow('mediator', { id: 'u1', display_name: '王秀英', org_code: '340321108200' }, n))
      .toEqual({ to: null, text: '王秀英', detail: ['万福村'] })
  })

  it('formats instants as Asia/Shanghai wall time to the minute', () => {
    expect(shanghaiMinute('2026-11-30T17:30:00Z')).toBe('2026-12-01 01:30')
    expect(shanghaiMinute('2026-10-08T09:30:00.000+08:00')).toBe('2026-10-08 09:30')
    expect(shanghaiMinute(null)).toBe('')
    expect(shanghaiMinute('not a time')).toBe('not a time')
  })
})
