import { describe, it, expect, beforeAll, beforeEach, vi } from 'vitest'

// localStorage and window as a phone's browser has them (the unit tests run in node)
const store = new Map<string, string>()
vi.stubGlobal('localStorage', {
  getItem: (k: string) => (store.has(k) ? store.get(k)! : null),
  setItem: (k: string, v: string) => void store.set(k, String(v)),
  removeItem: (k: string) => void store.delete(k),
  clear: () => store.clear(),
})
vi.stubGlobal('navigator', { userAgent: 'node', onLine: true })
vi.stubGlobal('window', { addEventListener: () => undefined, removeEventListener: () => undefined, location: {} })

type Mod = typeof import('./signOut')
let m: Mod
let session: typeof import('../../app/session')
let dbm: typeof import('../../db')
let outbox: typeof import('../../sync/outbox')

beforeAll(async () => {
  m = await import('./signOut')
  session = await import('../../app/session')
  dbm = await import('../../db')
  outbox = await import('../../sync/outbox')
}, 60_000) // the app's modules (Vant included) load slowly on a busy machine

interface Call { method: string; url: string; auth: string | null }

/** A server that accepts pushes, has nothing to pull, and revokes sessions (or is unreachable). */
function fakeServer(opts: { reachable?: () => boolean; pushStatus?: number } = {}) {
  const calls: Call[] = []
  const fetchFn = (async (url: string, init: RequestInit = {}) => {
    if (opts.reachable && !opts.reachable()) throw new TypeError('Failed to fetch')
    const method = init.method || 'GET'
    const auth = new Headers(init.headers || {}).get('Authorization')
    calls.push({ method, url, auth })
    const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
    if (url.startsWith('/api/v1/sync/push')) {
      if (opts.pushStatus) return json({ code: 'session_expired', message: '', details: [] }, opts.pushStatus)
      const body = JSON.parse(String(init.body))
      return json({ results: body.mutations.map((x: any) => ({ mutation_id: x.mutation_id, status: 'applied' })), server_time: '' })
    }
    if (url.startsWith('/api/v1/sync/pull')) return json({ changes: [], cursor: 'c1', has_more: false, server_time: '' })
    if (url.startsWith('/api/v1/conflicts')) return json({ items: [], next_cursor: null })
    if (url.startsWith('/api/v1/sessions/') && method === 'DELETE') return json({ id: url.split('/').pop() })
    return json({ code: 'not_found', message: '', details: [] }, 404)
  }) as unknown as typeof fetch
  return { calls, fetchFn }
}

let n = 0
function signIn(): { userId: string; token: string } {
  const userId = `user-${Date.now()}-${n++}`
  const token = `token-${userId}`
  session.saveSession({ token, expires_at: '', session_id: `sid-${userId}`, user: { id: userId, username: 'm', display_name: 'm', role: 'mediator', org_code: '340321108200', permissions: {} } })
  return { userId, token }
}

async function dbExists(userId: string): Promise<boolean> {
  const names = await (await import('dexie')).default.getDatabaseNames()
  return names.includes(dbm.dbNameFor(userId))
}

async function queueChange(userId: string) {
  const db = dbm.openUserDb(userId)
  await outbox.recordChange(db, {
    entity: 'mediation_case', recordId: crypto.randomUUID(),
    fields: { org_code: '340321108200', title: '排水纠纷', category: 'neighbor', source: 'party_request', received_on: '2026-11-20', parties: [{ name: '张三', role: 'applicant' }], risk_level: 'blue', status: 'registered' },
  })
  return db
}

describe('sign-out', () => {
  beforeEach(() => store.clear())

  it('counts waiting changes and photos for the warning', async () => {
    const { userId } = signIn()
    const db = await queueChange(userId)
    await db.attachments.add({ id: 'a1', entity: 'mediation_case', record_id: 'r', blob: new Blob(['x']), content_type: 'image/jpeg', size: 1, sha256: 'x', uploaded: 0, attempts: 0, next_try_at: 0, created_at: '' } as any)
    expect(await m.waitingChanges(db)).toBe(2)
  })

  it('online with nothing waiting: revokes the session on the server and wipes the local database', async () => {
    const { userId, token } = signIn()
    const db = dbm.openUserDb(userId)
    await db.meta.put({ key: 'me', value: { id: userId } } as any)
    const server = fakeServer()
    expect(await m.signOut({ fetchFn: server.fetchFn, online: () => true })).toBe('done')
    expect(server.calls).toContainEqual({ method: 'DELETE', url: `/api/v1/sessions/sid-${userId}`, auth: `Bearer ${token}` })
    expect(session.appState.session).toBeNull()
    expect(await dbExists(userId)).toBe(false)
    expect(m.pendingSignOuts()).toEqual([])
  })

  it('forgets the saved dashboard and grids at once, even offline (a shared phone or PC keeps no names)', async () => {
    const { userId } = signIn()
    await queueChange(userId)
    store.set('cunzhi.dashboard.m', JSON.stringify({ data: { lists: { overdue_cases: [{ parties: '袁永红、郭立新' }] } } }))
    store.set('cunzhi.grids', '[]')
    store.set('cunzhi.dashboard.other', '{}') // another person's, on the same PC: theirs to forget
    expect(await m.signOut({ fetchFn: fakeServer({ reachable: () => false }).fetchFn, online: () => false })).toBe('queued')
    expect(store.has('cunzhi.dashboard.m')).toBe(false)
    expect(store.has('cunzhi.grids')).toBe(false)
    expect(store.has('cunzhi.dashboard.other')).toBe(true)
  })

  it('offline: queued; when the network returns the outbox is sent first, then revoke, then wipe', async () => {
    const { userId, token } = signIn()
    await queueChange(userId)
    let up = false
    const server = fakeServer({ reachable: () => up })
    expect(await m.signOut({ fetchFn: server.fetchFn, online: () => up })).toBe('queued')
    expect(session.appState.session).toBeNull() // signed out on the phone at once
    expect(await dbExists(userId)).toBe(true) // the change is still waiting: nothing deleted
    expect(m.pendingSignOuts()).toHaveLength(1)
    up = true
    await m.processPendingSignOuts({ fetchFn: server.fetchFn, online: () => up })
    const order = server.calls.map((c) => `${c.method} ${c.url.split('?')[0]}`)
    expect(order.indexOf('POST /api/v1/sync/push')).toBeGreaterThanOrEqual(0)
    expect(order.indexOf('POST /api/v1/sync/push')).toBeLessThan(order.indexOf(`DELETE /api/v1/sessions/sid-${userId}`))
    expect(server.calls.every((c) => c.auth === `Bearer ${token}`)).toBe(true)
    expect(await dbExists(userId)).toBe(false)
    expect(m.pendingSignOuts()).toEqual([])
  })

  it('a session that expired meanwhile: the waiting changes stay for the next sign-in, nothing is revoked', async () => {
    const { userId } = signIn()
    await queueChange(userId)
    const server = fakeServer({ pushStatus: 401 })
    await m.signOut({ fetchFn: server.fetchFn, online: () => true })
    expect(await dbExists(userId)).toBe(true)
    expect(server.calls.some((c) => c.method === 'DELETE')).toBe(false)
    expect(m.pendingSignOuts()).toEqual([])
  })
})
