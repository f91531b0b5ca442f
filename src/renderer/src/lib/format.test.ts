import { describe, expect, it } from 'vitest'
import { formatCell, formatStat, formatTime, groupDigits, kindOfType, plural } from './format'

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
  it('formats profile statistics to the column precision', () => {
    expect(formatStat('96196.01250391424', 'DOUBLE')).toBe('96,196')
    expect(formatStat(96196.01250391424, 'DOUBLE', 'mean')).toBe('96,196')
    expect(formatStat(76485.889288, 'DOUBLE')).toBe('76,485.9')
    expect(formatStat(0.123456789, 'DOUBLE')).toBe('0.123457')
    expect(formatStat(650.5288345, 'DOUBLE', 'mean')).toBe('650.529')
    expect(formatStat('5001', 'BIGINT')).toBe('5,001')
    expect(formatStat('12345678901234567', 'BIGINT')).toBe('12,345,678,901,234,567')
    expect(formatStat('2500.75', 'INTEGER')).toBe('2,501')
    expect(formatStat(5000.5, 'INTEGER', 'mean')).toBe('5,000.5')
    expect(formatStat(2886.8956799071675, 'BIGINT', 'mean')).toBe('2,886.9')
    expect(formatStat('1234.50', 'DECIMAL(10,2)')).toBe('1,234.50')
    expect(formatStat(1234.5678912, 'DECIMAL(10,2)', 'mean')).toBe('1,234.57')
    expect(formatStat('15600000.25', 'DECIMAL(10,2)')).toBe('15,600,000.25')
    expect(formatStat('96177.39379875', 'DECIMAL(28,8)')).toBe('96,177.39')
    expect(formatStat(27768.1870849401, 'DECIMAL(28,8)', 'mean')).toBe('27,768.19')
    expect(formatStat('0.00000000', 'DECIMAL(28,8)')).toBe('0')
    expect(formatStat('0.12345678', 'DECIMAL(28,8)')).toBe('0.123457')
    expect(formatStat(1.5e-7, 'DOUBLE')).toBe('1.5e-7')
    expect(formatStat('2001-01-01 00:01:00', 'TIMESTAMP')).toBe('2001-01-01 00:01:00')
    expect(formatStat('Male', 'VARCHAR')).toBe('Male')
    expect(formatStat(null, 'DOUBLE')).toBe('—')
  })
})

describe('plural', () => {
  it('uses the singular for exactly one, and groups digits', () => {
    expect(plural(1, 'run')).toBe('1 run')
    expect(plural(2, 'run')).toBe('2 runs')
    expect(plural(0, 'line')).toBe('0 lines')
    expect(plural(1234, 'row')).toBe('1,234 rows')
    expect(plural(1, 'match', 'matches')).toBe('1 match')
    expect(plural(3, 'match', 'matches')).toBe('3 matches')
  })
})
