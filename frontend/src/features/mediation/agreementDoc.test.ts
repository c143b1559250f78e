import { describe, it, expect } from 'vitest'
import { agreementModel, committeeName, chineseDate } from './agreementDoc'

describe('人民调解协议书 filled from the case', () => {
  it('names the committee, parties, terms and date in the standard wording', () => {
    const c = {
      case_number: '340321108200-2026-0007', title: '宅基地边界纠纷', description: '两家因院墙位置发生争执',
      parties: [{ name: '张三', role: 'applicant', gender: 'male', phone: '13812345678' }, { name: '李四', role: 'respondent' }],
      agreement: { form: 'written', terms: '院墙后移 0.5 米', amount: '1200.00', performance: '十日内完成', signed_on: '2026-11-28', court_confirmation: 'requested' },
      mediator_ids: ['u1'],
    }
    const m = agreementModel(c, '万福村村民委员会', new Map([['u1', '王秀英']]))
    expect(m.committee).toBe('万福村人民调解委员会')
    expect(m.parties[0]).toMatchObject({ role: '申请人', name: '张三' })
    expect(m.parties[0].details).toContain('联系方式：13812345678')
    expect(m.terms).toBe('院墙后移 0.5 米')
    expect(m.amount).toContain('1200.00')
    expect(m.signedOn).toBe('2026年11月28日')
    expect(m.copies).toBe('三')
    expect(m.mediators).toEqual(['王秀英'])
    expect(m.court).toContain('司法确认')
  })
  it('prints the 履行期限 that was entered (perform_by), with or without the way it is carried out', () => {
    const base = { parties: [{ name: '张三', role: 'applicant' }], mediator_ids: [] }
    const only = agreementModel({ ...base, agreement: { form: 'written', terms: '赔偿', perform_by: '2026-12-20' } }, '万福村村民委员会', new Map())
    expect(only.performance).toBe('于2026年12月20日前履行完毕。')
    const both = agreementModel({ ...base, agreement: { form: 'written', terms: '赔偿', performance: '现金一次性支付。', perform_by: '2026-12-20' } }, '', new Map())
    expect(both.performance).toBe('现金一次性支付，于2026年12月20日前履行完毕。')
    expect(agreementModel({ ...base, agreement: { form: 'oral', performance: '当场履行' } }, '', new Map()).performance).toBe('当场履行')
  })
  it('fills 性别 from the party', () => {
    const m = agreementModel({ parties: [{ name: '王芳', role: 'respondent', gender: 'female' }, { name: '赵六', role: 'other', gender: 'unknown' }] }, '', new Map())
    expect(m.parties[0].details).toContain('性别：女')
    expect(m.parties[1].details).not.toContain('性别')
  })
  it('handles names and blanks', () => {
    expect(committeeName('万福镇')).toBe('万福镇人民调解委员会')
    expect(chineseDate(null)).toContain('年')
  })
})
