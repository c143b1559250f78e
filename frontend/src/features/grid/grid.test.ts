import { describe, it, expect } from 'vitest'
import { acceptPoint, haversine, mergeRoutes, patrolDuration, routeDistance, routeSvgPoints, MAX_ROUTE_POINTS } from './route'
import { byUrgency, incidentColor, incidentDeadline } from './incidentDeadline'
import { sixNoReportId, uuid5 } from '../sixno/derivedId'

const p = (lat: number, lon: number, at: string) => ({ lat, lon, at, accuracy: 10 })

describe('patrol route', () => {
  it('measures distance along the route with the haversine formula', () => {
    // one thousandth of a degree of latitude is about 111 m
    expect(Math.round(haversine({ lat: 32.9, lon: 117.2 }, { lat: 32.901, lon: 117.2 }))).toBe(111)
    const route = [p(32.9, 117.2, '2026-11-30T08:00:00+08:00'), p(32.901, 117.2, '2026-11-30T08:01:00+08:00'), p(32.901, 117.201, '2026-11-30T08:02:00+08:00')]
    // 111 m north then about 93 m east (cos 32.9°)
    expect(routeDistance(route)).toBeGreaterThan(200)
    expect(routeDistance(route)).toBeLessThan(210)
    expect(routeDistance([])).toBe(0)
    expect(routeDistance(route.slice(0, 1))).toBe(0)
  })

  it('duration from start to end, or to now while in progress; never negative', () => {
    expect(patrolDuration('2026-11-30T08:00:00+08:00', '2026-11-30T09:30:00+08:00')).toBe(5400)
    expect(patrolDuration('2026-11-30T08:00:00+08:00', null, new Date('2026-11-30T00:10:00Z'))).toBe(600)
    expect(patrolDuration('2026-11-30T09:00:00+08:00', '2026-11-30T08:00:00+08:00')).toBe(0)
    expect(patrolDuration(null, null)).toBe(0)
  })

  it('keeps a fix only when it moved, or time passed, with a usable accuracy, up to 5,000 points', () => {
    const r = [p(32.9, 117.2, '2026-11-30T08:00:00+08:00')]
    expect(acceptPoint(r, p(32.90001, 117.2, '2026-11-30T08:00:05+08:00'))).toBe(false) // ~1 m, 5 s
    expect(acceptPoint(r, p(32.9001, 117.2, '2026-11-30T08:00:05+08:00'))).toBe(true) // ~11 m
    expect(acceptPoint(r, p(32.9, 117.2, '2026-11-30T08:00:31+08:00'))).toBe(true) // standing still 31 s
    expect(acceptPoint(r, { ...p(32.91, 117.2, '2026-11-30T08:00:05+08:00'), accuracy: 900 })).toBe(false)
    const full = Array.from({ length: MAX_ROUTE_POINTS }, (_, i) => p(32.9 + i * 0.001, 117.2, `2026-11-30T08:00:00+08:00`))
    expect(acceptPoint(full, p(40, 117.2, '2026-11-30T09:00:00+08:00'))).toBe(false)
  })

  it('merges the saved buffer with the record copy by time, without duplicates', () => {
    const a = [p(1, 1, '2026-11-30T08:00:00+08:00'), p(2, 2, '2026-11-30T08:00:10+08:00')]
    const b = [p(2, 2, '2026-11-30T08:00:10+08:00'), p(3, 3, '2026-11-30T08:00:20+08:00')]
    expect(mergeRoutes(b, a).map((x) => x.lat)).toEqual([1, 2, 3])
  })

  it('draws the route as SVG points inside the box, north up', () => {
    const pts = routeSvgPoints([p(32.9, 117.2, ''), p(32.91, 117.2, '')], 300, 200, 10).split(' ')
    expect(pts).toHaveLength(2)
    const [x1, y1] = pts[0].split(',').map(Number)
    const [x2, y2] = pts[1].split(',').map(Number)
    expect(x1).toBe(x2) // same longitude
    expect(y2).toBeLessThan(y1) // further north is higher up
    expect(y1).toBeLessThanOrEqual(190)
    expect(y2).toBeGreaterThanOrEqual(10)
    expect(routeSvgPoints([p(1, 1, '')], 300, 200)).toBe('150.0,100.0')
    expect(routeSvgPoints([])).toBe('')
  })
})

describe('incident deadline', () => {
  it('defaults to the date occurred + the severity days (Asia/Shanghai dates)', () => {
    // 23:30 UTC is already the next day in Shanghai
    expect(incidentDeadline({ occurred_at: '2026-11-29T23:30:00Z', severity: 'major' })).toBe('2026-12-01')
    expect(incidentDeadline({ occurred_at: '2026-11-30T10:00:00+08:00', severity: 'serious' })).toBe('2026-12-03')
    expect(incidentDeadline({ occurred_at: '2026-11-30T10:00:00+08:00', severity: 'general' })).toBe('2026-12-07')
    expect(incidentDeadline({ occurred_at: '2026-11-30T10:00:00+08:00', severity: 'general' }, { incident_deadline_days_general: 10 })).toBe('2026-12-10')
    expect(incidentDeadline({ deadline: '2026-12-24', occurred_at: '2026-11-30T10:00:00+08:00', severity: 'general' })).toBe('2026-12-24')
  })

  it('colours like a case: open green/yellow/red, ended on time or late, cancelled grey', () => {
    const base = { occurred_at: '2026-11-30T10:00:00+08:00', severity: 'general' } // due 12-07
    expect(incidentColor({ ...base, state: 'reported' }, '2026-12-01')).toBe('green')
    expect(incidentColor({ ...base, state: 'assigned' }, '2026-12-06')).toBe('yellow')
    expect(incidentColor({ ...base, state: 'handling' }, '2026-12-08')).toBe('red')
    expect(incidentColor({ ...base, state: 'resolved', updated_at: '2026-12-05T10:00:00+08:00' }, '2026-12-20')).toBe('green')
    expect(incidentColor({ ...base, state: 'verified', updated_at: '2026-12-09T10:00:00+08:00' }, '2026-12-20')).toBe('red')
    expect(incidentColor({ ...base, state: 'cancelled' }, '2026-12-20')).toBe('grey')
  })

  it('puts overdue incidents first, then the nearest deadline', () => {
    const rows = [
      { id: 'later', state: 'reported', deadline: '2026-12-20', occurred_at: '2026-11-30T10:00:00+08:00' },
      { id: 'overdue', state: 'assigned', deadline: '2026-11-20', occurred_at: '2026-11-13T10:00:00+08:00' },
      { id: 'soon', state: 'handling', deadline: '2026-12-01', occurred_at: '2026-11-29T10:00:00+08:00' },
    ]
    expect(rows.sort(byUrgency('2026-11-30')).map((r) => r.id)).toEqual(['overdue', 'soon', 'later'])
  })
})

describe('derived six-no report id', () => {
  it('is the uuid5 of the natural key, the same as the server computes', () => {
    // values from Python: uuid.uuid5(UUID('6f1c2a52-…'), 'six_no_report/340321108200/2026')
    expect(sixNoReportId('340321108200', 2026)).toBe('390c52fa-f600-5884-82e6-dbb83d333957')
    expect(uuid5('six_no_report/340321108201/2025' + 'x'.repeat(80))).toBe('dd8d4481-93ed-533a-834b-dd1b5f764312')
  })
})
