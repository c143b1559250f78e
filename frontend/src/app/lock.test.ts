import { describe, it, expect } from 'vitest'
import { checkPin, initLock, lockState, removePin, setPin, validPin } from './lock'

class MemStorage {
  m = new Map<string, string>()
  getItem(k: string) { return this.m.get(k) ?? null }
  setItem(k: string, v: string) { this.m.set(k, v) }
  removeItem(k: string) { this.m.delete(k) }
}

describe('app lock', () => {
  it('keeps only a salted hash, locks at start, opens with the right PIN only', async () => {
    const s = new MemStorage() as unknown as Storage
    expect(validPin('12a4')).toBe(false)
    await setPin('u1', '2468', s)
    expect([...(s as any).m.values()][0]).not.toContain('2468')
    initLock('u1', s)
    expect(lockState.locked).toBe(true)
    expect(await checkPin('u1', '1111', s)).toBe(false)
    expect(lockState.locked).toBe(true)
    expect(await checkPin('u1', '2468', s)).toBe(true)
    expect(lockState.locked).toBe(false)
    initLock('u2', s) // another user on the same phone has no PIN
    expect(lockState.locked).toBe(false)
    removePin('u1', s)
    initLock('u1', s)
    expect(lockState.locked).toBe(false)
  })
})
