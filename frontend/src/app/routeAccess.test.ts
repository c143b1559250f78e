import { describe, it, expect } from 'vitest'
import { mayOpen } from './routeAccess'
import { featureRoutes } from '../features/home/routes'
import type { Me } from '../api/types'
import type { Access } from './routeAccess'

const user = (role: string, permissions: Record<string, string[]> = {}): Me => ({
  id: 'u', username: 'u', display_name: 'u', role, org_code: '340321108', permissions,
})
const access = (path: string) => featureRoutes.find((r) => r.path === path)?.meta?.access as Access | undefined

describe('who may open a screen by its address', () => {
  it('a form needs the permission to create what it saves', () => {
    const viewer = user('township_viewer')
    const grid = user('grid_worker', { incident: ['create'], patrol: ['create'] })
    for (const path of ['/incidents/new', '/patrols/new', '/nominations/new', '/points/new', '/households/import']) {
      expect(mayOpen(access(path), viewer), path).toBe(false)
    }
    expect(mayOpen(access('/incidents/new'), grid)).toBe(true)
    expect(mayOpen(access('/points/new'), grid)).toBe(false)
  })
  it('grid administration is for village and township admins only', () => {
    expect(mayOpen(access('/grids'), user('township_viewer'))).toBe(false)
    expect(mayOpen(access('/grids'), user('grid_worker'))).toBe(false)
    expect(mayOpen(access('/grids'), user('village_admin'))).toBe(true)
    expect(mayOpen(access('/grids'), user('township_admin'))).toBe(true)
  })
  it('lists and details are open to every signed-in role; nothing without a session', () => {
    expect(mayOpen(access('/incidents'), user('township_viewer'))).toBe(true)
    expect(mayOpen(undefined, null)).toBe(false)
  })
})
