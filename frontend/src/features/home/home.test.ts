import { describe, it, expect, vi } from 'vitest'

// the transitions read /reference from the session; no browser storage in these tests
vi.mock('../../app/session', () => ({ appState: { reference: null } }))
import { gridHome, mediatorHome, unassignedCases, villageHome } from './homeData'
import { checkExtension, defaultMediator, genderFromId } from '../mediation/cases'
import { allowedTransitions } from './transitions'

const s = { deadline_days: 30, deadline_warn_days: 5 }
const today = '2026-11-30'

describe('home screens', () => {
  it("a mediator's overdue, due-soon and follow-up cases are theirs only", () => {
    const cases = [
      { id: 'over', status: 'mediating', received_on: '2026-10-01', mediator_ids: ['me'] },
      { id: 'soon', status: 'registered', received_on: '2026-11-03', mediator_ids: ['me'] },
      { id: 'fine', status: 'registered', received_on: '2026-11-29', mediator_ids: ['me'] },
      { id: 'other', status: 'mediating', received_on: '2026-10-01', mediator_ids: ['someone'] },
      { id: 'visit', status: 'fulfilling', received_on: '2026-09-01', mediator_ids: ['me'], agreement: { signed_on: '2026-09-20' } },
      { id: 'visited', status: 'agreed', received_on: '2026-09-01', mediator_ids: ['me'], agreement: { signed_on: '2026-09-20' } },
    ]
    const events = [{ case_id: 'visited', kind: 'follow_up', occurred_at: '2026-11-20T10:00:00+08:00' }]
    const h = mediatorHome(cases, events, 'me', today, s)
    expect(h.open).toBe(3)
    expect(h.overdue.map((c) => c.id)).toEqual(['over'])
    expect(h.dueSoon.map((c) => c.id)).toEqual(['soon'])
    expect(h.followUps.map((c) => c.id)).toEqual(['visit'])
  })

  it("the village's open cases with no mediator wait as 待分派: red-risk first, then overdue, then by deadline", () => {
    const cases = [
      { id: 'blue-due', status: 'registered', risk_level: 'blue', received_on: '2026-11-20', org_code: '340321108200', mediator_ids: [] },
      { id: 'yellow-over', status: 'registered', risk_level: 'yellow', received_on: '2026-10-01', org_code: '340321108200' },
      { id: 'red-fresh', status: 'registered', risk_level: 'red', received_on: '2026-11-29', org_code: '340321108200', mediator_ids: [] },
      { id: 'red-over', status: 'registered', risk_level: 'red', received_on: '2026-10-25', org_code: '340321108200', mediator_ids: [], created_by: 'grid' },
      { id: 'assigned', status: 'registered', risk_level: 'red', received_on: '2026-10-25', org_code: '340321108200', mediator_ids: ['me'] },
      { id: 'closed', status: 'declined', risk_level: 'red', received_on: '2026-10-25', org_code: '340321108200', mediator_ids: [] },
      { id: 'other-village', status: 'registered', risk_level: 'red', received_on: '2026-10-25', org_code: '340321108201', mediator_ids: [] },
    ]
    expect(unassignedCases(cases, '340321108200', today, s).map((c) => c.id)).toEqual(['red-over', 'red-fresh', 'yellow-over', 'blue-due'])
    // a grid worker's unassigned intake was nobody's: the mediator's own home did not count it
    expect(mediatorHome(cases, [], 'me', today, s).overdue.map((c) => c.id)).toEqual(['assigned'])
  })

  it('an intake defaults to the village mediator when it has exactly one; 性别 from the ID number', () => {
    const users = [
      { id: 'm1', role: 'mediator', org_code: '340321108200' }, { id: 'a1', role: 'village_admin', org_code: '340321108200' },
      { id: 'm2', role: 'mediator', org_code: '340321108201' }, { id: 'm3', role: 'mediator', org_code: '340321108201' },
    ]
    expect(defaultMediator(users, '340321108200')).toBe('m1')
    expect(defaultMediator(users, '340321108201')).toBeNull()
    expect(genderFromId('340321198503120016')).toBe('male')
    expect(genderFromId('11010519491231002X')).toBe('female')
    expect(genderFromId('340321198503120017')).toBe('')
  })

  it('a deadline extension must be later than the deadline in force and not in the past', () => {
    expect(checkExtension('2026-11-15', '2026-12-04', today)).toBe('fieldfix.extendNotLater')
    expect(checkExtension('2026-12-04', '2026-12-04', today)).toBe('fieldfix.extendNotLater')
    expect(checkExtension('2026-11-20', '2026-11-10', today)).toBe('fieldfix.extendPast')
    expect(checkExtension('2026-12-05', '2026-12-04', today)).toBe('')
    expect(checkExtension('', '2026-12-04', today)).toBe('checks.required')
  })

  it("a grid worker's patrol in progress and incidents waiting on them, overdue first", () => {
    const patrols = [
      { id: 'p1', state: 'completed', created_by: 'me', started_at: '2026-11-30T08:00:00+08:00' },
      { id: 'p2', state: 'in_progress', _pending: 1, started_at: '2026-11-30T10:00:00+08:00' },
      { id: 'p3', state: 'in_progress', created_by: 'other', started_at: '2026-11-30T10:00:00+08:00' },
    ]
    const incidents = [
      { id: 'a', state: 'assigned', assignee_id: 'me', deadline: '2026-12-05', occurred_at: '2026-11-28T10:00:00+08:00' },
      { id: 'b', state: 'handling', assignee_id: 'me', deadline: '2026-11-20', occurred_at: '2026-11-13T10:00:00+08:00' },
      { id: 'c', state: 'reported', created_by: 'me', deadline: '2026-12-01', occurred_at: '2026-11-30T10:00:00+08:00' },
      { id: 'd', state: 'assigned', assignee_id: 'other', deadline: '2026-11-01', occurred_at: '2026-10-25T10:00:00+08:00' },
      { id: 'e', state: 'resolved', assignee_id: 'me', deadline: '2026-11-01', occurred_at: '2026-10-25T10:00:00+08:00' },
    ]
    const g = gridHome(patrols, incidents, 'me', today)
    expect(g.current?.id).toBe('p2')
    expect(g.todays.map((p) => p.id)).toEqual(['p1', 'p2'])
    expect(g.waiting.map((i) => i.id)).toEqual(['b', 'c', 'a'])
    expect(g.overdue).toBe(1)
  })

  it('the village at a glance', () => {
    const v = villageHome({
      cases: [{ status: 'mediating', received_on: '2026-10-01' }, { status: 'agreed', received_on: '2026-10-01' }],
      incidents: [{ state: 'reported', deadline: '2026-12-09' }, { state: 'resolved' }, { state: 'handling', deadline: '2026-11-01' }],
      patrols: [{ started_at: '2026-11-29T08:00:00+08:00' }, { started_at: '2026-11-01T08:00:00+08:00' }],
      households: [{ safe_certified_years: [2026] }, { safe_certified_years: [] }, { active: false, safe_certified_years: [2026] }],
      year: 2026, today, s,
    })
    expect(v).toMatchObject({ openCases: 1, overdueCases: 1, unassigned: 1, openIncidents: 2, overdueIncidents: 1, toVerify: 1, patrolsWeek: 1, households: 2, safe: 1, safeRate: 0.5 })
  })
})

describe('transitions offered by role', () => {
  const ctx = (role: string, record: Record<string, any>, userId = 'u1') => ({ role, userId, record, today })
  it('incidents: admins assign, verify, cancel; only the assignee handles and resolves', () => {
    expect(allowedTransitions('incident', ctx('village_admin', { state: 'reported' }))).toEqual(['assigned', 'cancelled'])
    expect(allowedTransitions('incident', ctx('grid_worker', { state: 'reported' }))).toEqual([])
    expect(allowedTransitions('incident', ctx('grid_worker', { state: 'assigned', assignee_id: 'u1' }))).toEqual(['handling'])
    expect(allowedTransitions('incident', ctx('village_admin', { state: 'assigned', assignee_id: 'u2' }))).toEqual(['assigned', 'cancelled'])
    expect(allowedTransitions('incident', ctx('grid_worker', { state: 'handling', assignee_id: 'u1' }))).toEqual(['resolved'])
    expect(allowedTransitions('incident', ctx('township_admin', { state: 'resolved' }))).toEqual(['verified', 'handling'])
  })
  it('nominations: approval only after the notice, with no open objection; the village reviews and publishes', () => {
    const n = { state: 'public_notice', notice_ends_on: '2026-11-29', paused: false }
    expect(allowedTransitions('nomination', ctx('township_admin', n))).toEqual(['township_approved', 'rejected'])
    expect(allowedTransitions('nomination', ctx('township_admin', { ...n, paused: true }))).toEqual(['rejected'])
    expect(allowedTransitions('nomination', ctx('township_admin', { ...n, notice_ends_on: '2026-11-30' }))).toEqual(['rejected'])
    expect(allowedTransitions('nomination', ctx('village_admin', { state: 'nominated' }))).toEqual(['village_reviewed'])
    expect(allowedTransitions('nomination', ctx('mediator', { state: 'nominated' }))).toEqual([])
  })
  it('six-no: the village self-assesses, the township certifies or rejects', () => {
    expect(allowedTransitions('six_no_report', ctx('village_admin', { state: 'open' }))).toEqual(['self_assessed'])
    expect(allowedTransitions('six_no_report', ctx('township_admin', { state: 'open' }))).toEqual([])
    expect(allowedTransitions('six_no_report', ctx('township_admin', { state: 'self_assessed' }))).toEqual(['township_certified', 'rejected'])
  })
})
