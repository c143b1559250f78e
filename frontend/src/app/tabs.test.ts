import { describe, it, expect } from 'vitest'
import { activeTab, allTabs, visibleTabs, type TabDef } from './tabs'
import type { Me } from '../api/types'

const user = (role: string, permissions: Record<string, string[]> = {}): Me => ({
  id: 'u', username: 'u', display_name: 'u', role, org_code: '1', permissions,
})

describe('tab registry', () => {
  const tabs: TabDef[] = [
    { path: '/', icon: '', labelKey: 'a', order: 10, match: ['/cases'] },
    { path: '/grid', icon: '', labelKey: 'g', order: 20, roles: ['grid_worker'] },
    { path: '/nominate', icon: '', labelKey: 'n', order: 30, permission: { entity: 'nomination', op: 'create' } },
    { path: '/me', icon: '', labelKey: 'm', order: 90, match: ['/sync'] },
  ]
  it('shows a tab only to the roles and permissions it names', () => {
    expect(visibleTabs(user('mediator'), tabs).map((t) => t.path)).toEqual(['/', '/me'])
    expect(visibleTabs(user('grid_worker'), tabs).map((t) => t.path)).toEqual(['/', '/grid', '/me'])
    expect(visibleTabs(user('viewer', { nomination: ['create'] }), tabs).map((t) => t.path)).toEqual(['/', '/nominate', '/me'])
    expect(visibleTabs(null, tabs)).toEqual([])
  })
  it('marks the tab of a nested route active', () => {
    expect(activeTab('/cases/abc', tabs)?.path).toBe('/')
    expect(activeTab('/', tabs)?.path).toBe('/')
    expect(activeTab('/sync', tabs)?.path).toBe('/me')
    expect(activeTab('/grid/x', tabs)?.path).toBe('/grid')
    expect(activeTab('/gridx', tabs)).toBeUndefined()
  })
  it('every role sees the cases list and 我的', () => {
    const paths = allTabs().map((t) => t.path)
    expect(paths[0]).toBe('/')
    expect(paths[paths.length - 1]).toBe('/me')
  })
})
