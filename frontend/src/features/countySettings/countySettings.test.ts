import { describe, it, expect } from 'vitest'
import { CunzhiDB } from '../../db'
import { SyncEngine } from '../../sync/engine'
import { FakeServer } from '../../sync/testing/fakeServer'
import { changedSettings, moved } from './logic'

describe('county settings screen helpers', () => {
  it('moves a code up or down, and not past either end', () => {
    expect(moved(['a', 'b', 'c'], 'b', -1)).toEqual(['b', 'a', 'c'])
    expect(moved(['a', 'b', 'c'], 'b', 1)).toEqual(['a', 'c', 'b'])
    expect(moved(['a', 'b', 'c'], 'a', -1)).toEqual(['a', 'b', 'c'])
    expect(moved(['a', 'b', 'c'], 'c', 1)).toEqual(['a', 'b', 'c'])
  })

  it('a save sends only the settings that changed', () => {
    const items = [
      { key: 'deadline_days', kind: 'int' as const, value: 30, own: false, min: 1, max: 365 },
      { key: 'points_field_writers', kind: 'bool' as const, value: false, own: false },
    ]
    expect(changedSettings(items, { deadline_days: 30, points_field_writers: false })).toEqual({})
    expect(changedSettings(items, { deadline_days: 45, points_field_writers: true })).toEqual({ deadline_days: 45, points_field_writers: true })
  })
})

describe('the pull tells the app when the county settings changed', () => {
  it('hands the last page\'s stamp to onSettingsVersion, and nothing when the server sends none', async () => {
    const server = new FakeServer()
    const seen: string[] = []
    const db = new CunzhiDB(`cs-${Date.now()}`)
    const engine = new SyncEngine({
      db, transport: server.transport('A', 'client-A'), clientId: 'client-A', autoSchedule: false,
      random: () => 0.5, lockName: `lock-${db.name}`, onSettingsVersion: (v) => seen.push(v),
    })
    await engine.pullAll()
    expect(seen).toEqual([])
    server.settingsVersion = 'v1'
    await engine.pullAll()
    server.settingsVersion = 'v2'
    await engine.pullAll()
    expect(seen).toEqual(['v1', 'v2'])
  })
})
