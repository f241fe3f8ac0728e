import { describe, expect, it } from 'vitest'
import { UsageError } from '../../src/errors.js'
import { selectAors, validateName } from '../../src/core/select.js'
import { printable } from '../../src/text.js'
import { capturedReports } from '../helpers/captures.js'

describe('selectAors', () => {
  const reports = capturedReports()

  it('no names: all AORs', () => {
    expect(selectAors(reports, [])).toEqual({ reports, unknown: [] })
  })

  it('matches AOR names exactly and endpoints, keeps order, reports unknown names once', () => {
    const withEndpoint = reports.map((r) =>
      r.aor === 'phone1' ? { ...r, endpoints: ['softphones'] } : r,
    )
    const { reports: chosen, unknown } = selectAors(withEndpoint, [
      'erin',
      'softphones',
      'FAP',
      'fap003',
      'FAP003',
      'nobody',
      'nobody',
    ])
    expect(chosen.map((r) => r.aor)).toEqual(['FAP003', 'erin', 'phone1'])
    expect(unknown).toEqual(['FAP', 'fap003', 'nobody'])
  })

  it('an AOR without contacts is selectable by name', () => {
    expect(selectAors(reports, ['phone2']).reports.map((r) => r.aor)).toEqual(['phone2'])
  })
})

describe('validateName', () => {
  it.each([
    'FAP003',
    'FAP-003',
    'a.b',
    '+4930123',
    'x_y',
    'alice@example.com',
    'Müller',
    '東京',
    'a😀',
    'x'.repeat(255),
    '😀'.repeat(255),
  ])('accepts %j', (name) => expect(() => validateName(name, 'AOR')).not.toThrow())

  it.each([
    ['', /AOR must not be empty/],
    ['FAP003\r', /control character \(\\r\) at position 7/],
    ['FAP\n003', /\(\\n\)/],
    ['a\u0000b', /\(\\0\)/],
    ['a\u001b[2J', /\(\\u001b\)/],
    ['a\u007f', /\(\\u007f\)/],
    ['a\u009b', /\(\\u009b\)/],
    ['a\tb', /\(\\t\)/],
    ['x'.repeat(256), /256 characters long: an AOR or endpoint name has at most 255/],
  ])('refuses %j', (name, message) => {
    try {
      validateName(name, 'AOR')
      expect.unreachable()
    } catch (e) {
      expect(e).toBeInstanceOf(UsageError)
      expect((e as Error).message).toMatch(message)
      expect((e as Error).message).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/)
      expect((e as Error).message.length).toBeLessThan(200)
    }
  })

  it('printable is idempotent: a message quoting a printable value can be made printable again', () => {
    const once = printable('a\\r\r\u001b[2J\u009b')
    expect(once).toBe('a\\r\\r\\u001b[2J\\u009b')
    expect(printable(once)).toBe(once)
  })
})
