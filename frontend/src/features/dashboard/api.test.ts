import { describe, it, expect, vi } from 'vitest'

vi.mock('../../app/session', () => ({ appState: { session: null } }))
vi.mock('../../i18n', () => ({ currentLang: () => 'zh-CN' }))
import { dispositionName } from './api'

describe('dashboard export file names', () => {
  it("saves the export under the server's name in the user's language", () => {
    expect(dispositionName(`attachment; filename="dashboard-340321108-2026-01-01-2026-12-01.xlsx"; filename*=UTF-8''${encodeURIComponent('万福镇看板-2026-01-01-2026-12-01.xlsx')}`))
      .toBe('万福镇看板-2026-01-01-2026-12-01.xlsx')
    expect(dispositionName('attachment; filename="dashboard-340321108-2026-01-01-2026-12-01.csv"')).toBe('dashboard-340321108-2026-01-01-2026-12-01.csv')
    expect(dispositionName(null)).toBeNull()
  })
})
