// Property-based tests of the `database show` parser. Prints nothing; counts its runs.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DatabaseShowParser, checkComplete, parseDatabaseShow } from '../../src/core/dump.js'
import { capturedFields } from '../helpers/captures.js'

const PREFIX = '/registrar/contact/'
const NUM_RUNS = 300

/** An independent statement of the line rule: the row a line holds, or null. */
function oracle(raw: string): { key: string; value: string } | null {
  const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw
  if (!line.startsWith(PREFIX)) return null
  const rest = line.slice(PREFIX.length)
  const sep = rest.indexOf(';@')
  if (sep <= 0 || !/^[0-9a-f]{32}$/.test(rest.slice(sep + 2, sep + 34))) return null
  const colon = /^ *: /.exec(rest.slice(sep + 34))
  if (colon === null) return null
  let value = rest.slice(sep + 34 + colon[0].length)
  if (value.length <= 25) value = value.replace(/ +$/, '')
  let parsed: unknown
  try {
    parsed = JSON.parse(value)
  } catch {
    return null
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return null
  if (Object.values(parsed).some((v) => typeof v !== 'string')) return null
  return { key: rest.slice(0, sep + 34), value }
}

const hex = fc.string({
  unit: fc.constantFrom(...Array.from('0123456789abcdef')),
  minLength: 32,
  maxLength: 32,
})
/** AOR names: anything but `;@`, CR, LF; biased towards the characters real names use. */
const aorName = fc
  .string({
    unit: fc.oneof(
      fc.constantFrom(...Array.from('-.+_@: ;éÑ東😀')),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    ),
    minLength: 1,
    maxLength: 40,
  })
  .filter((s) => !s.includes(';@') && !/[\r\n]/.test(s))
const fieldValue = fc.string({ unit: 'binary', maxLength: 60 })
/** A value in the captured shape, with arbitrary (JSON-escaped) field values and extra fields. */
const contactValue = fc
  .tuple(
    fc.dictionary(fc.constantFrom(...Object.keys(capturedFields())), fieldValue),
    fc.dictionary(fc.string({ maxLength: 10 }), fieldValue, { maxKeys: 3 }),
  )
  .map(([known, extra]) => JSON.stringify({ ...capturedFields(), ...known, ...extra }))
const shortValue = fc.constantFrom('{}', '{"a":"b"}', '{"uri":"sip:x@y"}')

/** A line as db.c prints it (`%-50s: %-25s`). */
const validRow = fc
  .record({ aor: aorName, hash: hex, value: fc.oneof(contactValue, shortValue) })
  .map(({ aor, hash, value }) => ({
    key: `${aor};@${hash}`,
    value,
    line: `${`${PREFIX}${aor};@${hash}`.padEnd(50)}: ${value.padEnd(25)}`,
  }))

/** Rows assembled from right and wrong parts: AOR (maybe empty or holding `;@`), hash, separator, value, padding. */
const roughRow = fc
  .record({
    aor: fc.oneof(aorName, fc.constantFrom('', ';@', 'a;@b', 'a;', '@')),
    hash: fc.oneof(
      hex,
      hex.map((h) => h.toUpperCase()),
      hex.map((h) => h.slice(1)),
      hex.map((h) => `${h}0`),
    ),
    separator: fc.constantFrom(': ', ':', ' : ', '   : ', ': : ', ';@: ', ''),
    value: fc.oneof(
      contactValue,
      shortValue,
      fc.string({ maxLength: 24 }).map((s) => JSON.stringify({ a: s })),
      fc.constantFrom(
        '',
        '[]',
        '"x"',
        'null',
        '{"a":1}',
        '{"a":null}',
        '{"a":{}}',
        '{',
        ' {}',
        '\r{}',
        '\t{"a":"b"}',
        '{} x',
      ),
    ),
    padding: fc.nat(30),
  })
  .map(
    ({ aor, hash, separator, value, padding }) =>
      `${PREFIX}${aor};@${hash}${separator}${value}${' '.repeat(padding)}`,
  )

const fragment = fc.constantFrom(
  PREFIX,
  ';@',
  '0123456789abcdef',
  'deadbeefdeadbeefdeadbeefdeadbeef',
  ': ',
  ' ',
  '{',
  '}',
  '"',
  '":"',
  ',',
  '\r',
  'results found.',
  '13 ',
  '/x/y',
  '\\',
  '\u0000',
  'é',
)
/** Near-valid garbage: fragments, mutations of valid rows, and arbitrary text. */
const anyLine = fc
  .oneof(
    fc.string({ unit: 'binary', maxLength: 600 }),
    fc.array(fragment, { maxLength: 40 }).map((parts) => parts.join('')),
    fc
      .tuple(validRow, fc.nat(), fc.string({ unit: 'binary', maxLength: 3 }))
      .map(([row, at, insert]) => {
        const i = at % (row.line.length + 1)
        return row.line.slice(0, i) + insert + row.line.slice(i + 1)
      }),
    validRow.map((row) => row.line),
    roughRow,
  )
  .filter((line) => !line.includes('\n'))

describe('DatabaseShowParser properties', () => {
  it('arbitrary lines never throw: each becomes a contact, a problem, a count, another row or nothing', () => {
    let runs = 0
    fc.assert(
      fc.property(fc.array(anyLine, { maxLength: 20 }), (lines) => {
        runs++
        const parser = new DatabaseShowParser()
        for (const line of lines) parser.push(line)
        const parsed = parser.finish()
        // a kept problem (non-numeric expiration_time) is a contact too: counted once
        const unparsed = parsed.problems.filter((p) => !p.kept).length
        expect(parsed.contacts.length + unparsed + parsed.otherRows).toBeLessThanOrEqual(
          lines.length,
        )
        expect(parsed.problems.filter((p) => p.kept).length).toBe(
          parsed.contacts.filter(
            (c) => c.expirationTime === null && c.fields.expiration_time !== undefined,
          ).length,
        )
        for (const p of parsed.problems) expect(p.line).toBeGreaterThanOrEqual(1)
        expect(() => checkComplete(parsed, 'x')).not.toThrow(TypeError)
      }),
      { numRuns: NUM_RUNS },
    )
    expect(runs).toBe(NUM_RUNS)
  })

  it('arbitrary text never throws parseDatabaseShow', () => {
    let runs = 0
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 2000 }), (text) => {
        runs++
        parseDatabaseShow(text)
      }),
      { numRuns: NUM_RUNS },
    )
    expect(runs).toBe(NUM_RUNS)
  })

  it('a line is a contact exactly when the line rule says so, with the same key and value', () => {
    let runs = 0
    fc.assert(
      fc.property(anyLine, (line) => {
        runs++
        const parser = new DatabaseShowParser()
        parser.push(line)
        const { contacts } = parser.finish()
        const expected = oracle(line)
        if (expected === null) {
          expect(contacts).toEqual([])
        } else {
          expect(contacts.map((c) => ({ key: c.key, value: c.value }))).toEqual([expected])
        }
      }),
      { numRuns: NUM_RUNS * 5 },
    )
    expect(runs).toBe(NUM_RUNS * 5)
  })

  it('every valid generated dump parses completely, row for row', () => {
    let runs = 0
    fc.assert(
      fc.property(fc.uniqueArray(validRow, { maxLength: 30, selector: (r) => r.key }), (rows) => {
        runs++
        const text = [...rows.map((r) => r.line), `${rows.length} results found.`, ''].join('\r\n')
        const parsed = parseDatabaseShow(text)
        // every row is a contact; the only problems are expiration_times that are not numbers
        expect(parsed.problems.filter((p) => !p.kept)).toEqual([])
        const badExpiry = parsed.contacts.filter(
          (c) =>
            c.fields.expiration_time !== undefined &&
            !/^-?\d{1,15}$/.test(c.fields.expiration_time),
        )
        expect(parsed.problems.map((p) => p.line)).toEqual(
          badExpiry.map((c) => rows.findIndex((r) => r.key === c.key) + 1),
        )
        expect(parsed.contacts.map((c) => [c.key, c.value])).toEqual(
          rows.map((r) => [r.key, r.value]),
        )
        checkComplete(parsed, 'generated')
      }),
      { numRuns: NUM_RUNS },
    )
    expect(runs).toBe(NUM_RUNS)
  })

  it('adversarial long lines stay linear', () => {
    const lines = [
      PREFIX + 'a;@'.repeat(70_000),
      PREFIX + 'x'.repeat(200_000),
      '9'.repeat(200_000),
      `${PREFIX}a;@${'0'.repeat(32)}${' '.repeat(200_000)}`,
      `${PREFIX}a;@${'0'.repeat(32)}: ${'{"a":"'.repeat(30_000)}`,
    ]
    const started = performance.now()
    const parser = new DatabaseShowParser()
    for (const line of lines) parser.push(line)
    expect(parser.finish().problems).toHaveLength(lines.length)
    expect(performance.now() - started).toBeLessThan(500)
  })
})
