import { describe, it, expect } from 'vitest'
import { checkIdNumber, checkNotFuture, checkPhone, checkRequired, validIdNumber, validPhone } from './checks'

describe('checks that match the server', () => {
  it('GB 11643 check digit and date of birth', () => {
    expect(validIdNumber('11010519491231002X')).toBe(true)
    expect(validIdNumber('110105194912310021')).toBe(false) // wrong check digit
    expect(validIdNumber('11010519491331002X')).toBe(false) // month 13
    expect(validIdNumber('1101051949123100')).toBe(false)
    expect(checkIdNumber('340321********1234')).toBe('') // masked by the server
    expect(checkIdNumber('123')).toBe('checks.idNumber')
  })
  it('phones: mobile or landline', () => {
    expect(validPhone('13812345678')).toBe(true)
    expect(validPhone('0551-62345678')).toBe(true)
    expect(validPhone('12812345678')).toBe(false)
    expect(checkPhone('1381234')).toBe('checks.phone')
    expect(checkPhone('')).toBe('')
  })
  it('required and not in the future', () => {
    expect(checkRequired('  ')).toBe('checks.required')
    expect(checkRequired([])).toBe('checks.required')
    expect(checkRequired('x')).toBe('')
    expect(checkNotFuture('2026-12-01', '2026-11-30')).toBe('checks.future')
    expect(checkNotFuture('2026-11-30', '2026-11-30')).toBe('')
  })
})
