import { describe, expect, it } from 'vitest'
import { formatCell, formatTime, groupDigits, kindOfType } from './format'

describe('format', () => {
  it('groups digits without losing precision', () => {
    expect(groupDigits('12345678901234567890123')).toBe('12,345,678,901,234,567,890,123')
    expect(groupDigits('-1234.500')).toBe('-1,234.500')
    expect(formatCell('99999999999999999999.123456789', 'DECIMAL(38,9)').text).toBe('99,999,999,999,999,999,999.123456789')
    expect(formatCell(1234567.25, 'DOUBLE')).toEqual({ text: '1,234,567.25', isNull: false, align: 'right' })
  })
  it('formats null, nested and time values', () => {
    expect(formatCell(null, 'VARCHAR').isNull).toBe(true)
    expect(formatCell([1, 2], 'INTEGER[]').text).toBe('[1,2]')
    expect(formatCell({ a: 1 }, 'STRUCT(a INTEGER)').text).toBe('{"a":1}')
    expect(formatTime('2024-01-02T03:04:05.000Z', 'TIMESTAMP')).toBe('2024-01-02 03:04:05')
    expect(formatTime('2024-01-02T03:04:05.120Z', 'TIMESTAMP WITH TIME ZONE')).toBe('2024-01-02 03:04:05.12 UTC')
  })
  it('classifies types', () => {
    expect(kindOfType('BIGINT')).toBe('number')
    expect(kindOfType('DECIMAL(18,3)')).toBe('number')
    expect(kindOfType('VARCHAR[]')).toBe('nested')
    expect(kindOfType('TIMESTAMP')).toBe('time')
    expect(kindOfType('VARCHAR')).toBe('text')
  })
})
