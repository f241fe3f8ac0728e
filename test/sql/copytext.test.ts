// The COPY … TO STDOUT text format as pjctl reads a realtime contacts table: rows split into columns,
// NULL and backslash escapes decoded, and rows (even UTF-8 characters) cut anywhere between chunks.
import { describe, expect, it } from 'vitest'
import { CopyTextRows, copyTextLine, type CopyRow } from '../../src/sql/copytext.js'

function rowsOf(chunks: Buffer[]): CopyRow[] {
  const rows: CopyRow[] = []
  const parser = new CopyTextRows((row) => rows.push(row))
  for (const chunk of chunks) parser.push(chunk)
  parser.finish()
  return rows
}

describe('COPY text rows', () => {
  it('splits columns at tabs, \\N is NULL, an empty column is the empty string', () => {
    expect(copyTextLine('FAP003^3B@abc\tsip:a@b\t\\N\t')).toEqual([
      'FAP003^3B@abc',
      'sip:a@b',
      null,
      '',
    ])
  })

  it('decodes the escapes PostgreSQL writes: \\\\, \\t, \\n, \\r and the octal and hex forms', () => {
    expect(copyTextLine('a\\tb\tc\\nd\\re\tback\\\\slash\t\\101\\x42')).toEqual([
      'a\tb',
      'c\nd\re',
      'back\\slash',
      'AB',
    ])
    // a literal "\N" inside a value is escaped, so only a whole \N column is NULL
    expect(copyTextLine('\\\\N\t\\N')).toEqual(['\\N', null])
  })

  it('gives the same rows however the bytes are cut into chunks, inside a UTF-8 character too', () => {
    const text = 'FAP003^3B@a\tYealink ünïcødé 电话\n2001^3B@b\t\\N\nlast\tπ\n'
    const whole = Buffer.from(text)
    const expected = rowsOf([whole])
    expect(expected).toEqual([
      ['FAP003^3B@a', 'Yealink ünïcødé 电话'],
      ['2001^3B@b', null],
      ['last', 'π'],
    ])
    for (let size = 1; size <= whole.length; size++) {
      const chunks: Buffer[] = []
      for (let at = 0; at < whole.length; at += size) chunks.push(whole.subarray(at, at + size))
      expect(rowsOf(chunks)).toEqual(expected)
    }
  })

  it('data that ends inside a row is an error, not a short row taken as whole', () => {
    const parser = new CopyTextRows(() => undefined)
    parser.push(Buffer.from('a\tb\nc\t'))
    expect(() => parser.finish()).toThrow(/ended inside a row/)
  })
})
