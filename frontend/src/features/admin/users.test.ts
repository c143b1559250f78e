import { beforeAll, describe, expect, it, vi } from 'vitest'
import type { AdminUser, Reference } from '../../api/types'
import { HttpError } from '../../sync/transport'

// the module reads the session (localStorage) as it loads; the unit tests run in node
vi.stubGlobal('localStorage', { getItem: () => null, setItem: () => undefined, removeItem: () => undefined })
let m: typeof import('./users')
beforeAll(async () => {
  m = await import('./users')
}, 60_000)
const actionsFor = (...a: Parameters<typeof m.actionsFor>) => m.actionsFor(...a)
const createUser = (...a: Parameters<typeof m.createUser>) => m.createUser(...a)
const creatableRoles = (...a: Parameters<typeof m.creatableRoles>) => m.creatableRoles(...a)
const deviceLabel = (...a: Parameters<typeof m.deviceLabel>) => m.deviceLabel(...a)
const fieldErrors = (...a: Parameters<typeof m.fieldErrors>) => m.fieldErrors(...a)
const listSessions = (...a: Parameters<typeof m.listSessions>) => m.listSessions(...a)
const revokeSession = (...a: Parameters<typeof m.revokeSession>) => m.revokeSession(...a)
const unitsFor = (...a: Parameters<typeof m.unitsFor>) => m.unitsFor(...a)

const ORGS: Reference['orgs'] = [
  { code: '340321', name: '怀远县', level: 'county' },
  { code: '340321108', name: '万福镇', level: 'township' },
  { code: '340321108200', name: '万福村', level: 'village' },
  { code: '340321108200001', name: '第一网格', level: 'grid' },
  { code: '340321108201', name: '镇东村', level: 'village' },
  { code: '340321109', name: '唐集镇', level: 'township' },
  { code: '340321109200', name: '唐集村', level: 'village' },
]

const user = (over: Partial<AdminUser>): AdminUser => ({
  id: 'u1', username: 'u', display_name: 'U', role: 'mediator', org_code: '340321108200', active: true,
  password_changed_at: null, manageable: true, ...over,
})

describe('what an admin may create', () => {
  it('offers a township admin the village roles and viewers, never its own rank or above', () => {
    expect(creatableRoles('township_admin')).toEqual(['mediator', 'grid_worker', 'village_admin', 'township_viewer'])
    expect(creatableRoles('county_admin')).toContain('township_admin')
    expect(creatableRoles('county_admin')).not.toContain('county_admin')
    expect(creatableRoles('mediator')).toEqual([])
    expect(creatableRoles(undefined)).toEqual([])
  })
  it('offers only units of the right level inside the admin\'s scope', () => {
    const names = (role: string, me = 'township_admin', org = '340321108') => unitsFor(me, org, role, ORGS).map((o) => o.name)
    expect(names('mediator')).toEqual(['万福村', '镇东村']) // not the township, not a grid, not 唐集村
    expect(names('township_viewer')).toEqual(['万福镇'])
    expect(names('township_admin')).toEqual([])
    expect(names('mediator', 'county_admin', '340321')).toEqual(['万福镇', '万福村', '镇东村', '唐集镇', '唐集村'])
    expect(names('township_admin', 'county_admin', '340321')).toEqual(['万福镇', '唐集镇'])
  })
})

describe('what the screen offers on an account', () => {
  it('all actions on an account the server says it manages', () => {
    expect(actionsFor(user({}), 'me')).toEqual({ password: true, deactivate: true, activate: false, sessions: true })
    expect(actionsFor(user({ active: false }), 'me')).toEqual({ password: true, deactivate: false, activate: true, sessions: true })
  })
  it('nothing on a peer or a higher rank', () => {
    expect(actionsFor(user({ manageable: false, role: 'township_admin' }), 'me'))
      .toEqual({ password: false, deactivate: false, activate: false, sessions: false })
    expect(actionsFor(user({ manageable: undefined }), 'me').password).toBe(false)
  })
  it('its own password and devices, never deactivating itself', () => {
    expect(actionsFor(user({ id: 'me', manageable: false }), 'me'))
      .toEqual({ password: true, deactivate: false, activate: false, sessions: true })
  })
})

describe('sessions and accounts on the wire', () => {
  const ok = (body: unknown, status = 200) => vi.fn<(path: string, init?: any) => Promise<Response>>(async () => new Response(JSON.stringify(body), { status }))

  it('lists one account\'s sessions and revokes one', async () => {
    const f = ok({ items: [{ id: 's1' }], next_cursor: null })
    expect(await listSessions('u-1', f as any)).toEqual([{ id: 's1' }])
    expect(f.mock.calls[0][0]).toBe('/api/v1/sessions?user_id=u-1')
    const d = ok({ id: 's1', revoked_at: 'now' })
    await revokeSession('s1', d as any)
    expect(d.mock.calls[0][0]).toBe('/api/v1/sessions/s1')
    expect(d.mock.calls[0][1].method).toBe('DELETE')
  })
  it('posts a new account as JSON', async () => {
    const f = ok({ id: 'n1', username: 'wanfucun.zhang' }, 201)
    const body = { username: 'wanfucun.zhang', display_name: '张', role: 'mediator', org_code: '340321108200', password: 'x'.repeat(12) }
    expect((await createUser(body, f as any)).id).toBe('n1')
    const [path, init] = f.mock.calls[0]
    expect(path).toBe('/api/v1/users')
    expect(init.method).toBe('POST')
    expect(JSON.parse(init.body)).toEqual(body)
  })
  it('turns a refusal into a message per field', async () => {
    const f = ok({ code: 'validation_error', message: '提交的数据有误', details: [
      { field: 'username', code: 'invalid_username', message: '用户名只能用…' },
      { field: 'password', code: 'password_too_short', message: '密码至少需要 12 个字符' },
      { field: 'password', code: 'other', message: 'second' }] }, 422)
    const e = await createUser({} as any, f as any).catch((x) => x)
    expect(fieldErrors(e)).toEqual({ username: '用户名只能用…', password: '密码至少需要 12 个字符' })
    expect(fieldErrors(new HttpError(403, { code: 'forbidden', message: '无权执行此操作' }))).toEqual({ '': '无权执行此操作' })
    expect(fieldErrors(new Error('offline'))).toEqual({ '': 'offline' })
  })
})

describe('device names', () => {
  it('names the system and browser a session signed in from', () => {
    expect(deviceLabel('Mozilla/5.0 (Linux; Android 14; Pixel 5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36')).toBe('Android · Chrome')
    expect(deviceLabel('Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1')).toBe('iOS · Safari')
    expect(deviceLabel('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 Edg/126.0')).toBe('Windows · Edge')
    expect(deviceLabel('Mozilla/5.0 (Linux; Android 13) AppleWebKit/537.36 Chrome/116 Mobile Safari/537.36 MicroMessenger/8.0')).toBe('Android · WeChat')
    expect(deviceLabel('python-httpx/0.27')).toBe('')
    expect(deviceLabel('')).toBe('')
  })
})
