import { describe, it, expect, vi } from 'vitest'
import { saveDeviceSession, loadDeviceSession } from '../../app/device'
import { runBackgroundSync } from '../../pwa/backgroundSync'
import { CunzhiDB, dbNameFor } from '../../db'
import { recordChange } from '../../sync/outbox'

describe('a background sync that meets 401', () => {
  it('stops: the service worker forgets the session, so later sync events send nothing', async () => {
    const userId = `u-${Date.now()}`
    const db = new CunzhiDB(dbNameFor(userId))
    await recordChange(db, {
      entity: 'mediation_case', recordId: crypto.randomUUID(),
      fields: { org_code: '340321108200', title: '排水纠纷', category: 'neighbor', source: 'party_request', received_on: '2026-11-20', parties: [{ name: '张三', role: 'applicant' }], risk_level: 'blue', status: 'registered' },
    })
    db.close()
    await saveDeviceSession({ userId, token: 'old-token', clientId: 'c1', lang: 'zh-CN' })
    const calls: string[] = []
    vi.stubGlobal('fetch', async (url: string) => {
      calls.push(url)
      return new Response(JSON.stringify({ code: 'session_expired', message: '', details: [] }), { status: 401 })
    })
    await runBackgroundSync() // does not throw: the browser must not retry it
    expect(calls).toHaveLength(1)
    expect(await loadDeviceSession()).toBeUndefined()
    await runBackgroundSync()
    expect(calls).toHaveLength(1) // nothing more is sent with the dead session
    const again = new CunzhiDB(dbNameFor(userId))
    expect(await again.outbox.count()).toBe(1) // the outbox is kept for the next sign-in
    again.close()
    vi.unstubAllGlobals()
  })
})
