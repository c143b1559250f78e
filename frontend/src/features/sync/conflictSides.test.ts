import { describe, it, expect } from 'vitest'
import { cannotBeFixed, conflictsToSettle, forbiddenStatus, proposer, userNames } from './conflictSides'

const users = [
  { id: 'u-med', display_name: '王秀英', role: 'mediator', org_code: '340321108200' },
  { id: 'u-adm', display_name: '张德明', role: 'village_admin', org_code: '340321108200' },
]

describe('conflict screen', () => {
  it("labels the kept value by who made it: mine only when this user pushed it (the row's mine flag or created_by)", () => {
    expect(proposer({ mine: 1, created_by: 'u-med' }, 'u-med', users)).toEqual({ mine: true })
    expect(proposer({ mine: 0, created_by: 'u-med' }, 'u-med', users)).toEqual({ mine: true })
    expect(proposer({ mine: 0, created_by: 'u-adm' }, 'u-med', users)).toEqual({ mine: false, name: '张德明' })
    expect(proposer({ mine: 0, created_by: 'gone' }, 'u-med', users)).toEqual({ mine: false, name: null })
    expect(proposer({ mine: 0 }, 'u-med', users)).toEqual({ mine: false, name: null })
  })

  it('shows mediators by name, never as raw ids', () => {
    expect(userNames(['u-adm', 'u-med'], users, '?')).toBe('张德明、王秀英')
    expect(userNames(['d3e411d7-5c61-5d6e-bbe9-c3ff8ba2f98a'], users, '（名单外用户）')).toBe('（名单外用户）')
  })

  it('a status the rules never allow from the current one is not a choice; keeping the current one is', () => {
    const map = { agreed: ['fulfilling', 'fulfilled'], mediating: ['agreed', 'declined', 'terminated', 'referred'] }
    expect(forbiddenStatus('status', 'declined', 'agreed', map)).toBe(true)
    expect(forbiddenStatus('status', 'declined', 'mediating', map)).toBe(false)
    expect(forbiddenStatus('status', 'agreed', 'agreed', map)).toBe(false)
    expect(forbiddenStatus('outcome_note', 'x', 'agreed', map)).toBe(false)
  })

  it('the sync bar and the sync page count the same conflicts: mine, and others\' on records I may change', () => {
    const rows = [
      { id: 'a', entity: 'mediation_case', status: 'open', mine: 0 as const },
      { id: 'b', entity: 'mediation_case', status: 'open', mine: 1 as const },
      { id: 'c', entity: 'household', status: 'open', mine: 0 as const },
      { id: 'd', entity: 'mediation_case', status: 'resolved', mine: 0 as const },
    ]
    const mediator = conflictsToSettle(rows, (e) => e === 'mediation_case')
    expect(mediator.map((c) => c.id)).toEqual(['b', 'a'])
    expect(conflictsToSettle(rows, () => false).map((c) => c.id)).toEqual(['b'])
  })

  it('a refusal no edit can cure (a forbidden status change) offers no "fix and resend"', () => {
    expect(cannotBeFixed({ code: 'validation_error', details: [{ code: 'invalid_transition' }] })).toBe(true)
    expect(cannotBeFixed({ code: 'validation_error', details: [{ code: 'invalid_phone' }] })).toBe(false)
    expect(cannotBeFixed(null)).toBe(false)
  })
})
