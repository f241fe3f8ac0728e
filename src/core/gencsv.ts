// pjctl gen --from-csv: names (and per-name overrides) from a CSV file, each row
// checked as genconf checks a NAME, errors naming the row's line. csv-parse reads
// the RFC 4180 syntax; this module maps columns to GenEntry fields.

import { parse as parseCsv } from 'csv-parse/sync'
import { InputError } from '../errors.js'
import { printable } from '../text.js'
import { checkName, checkValue, type GenEntry } from './genconf.js'
import { astTrue } from './pjsipconf.js'

/** Columns, in the order used when the file has no header row. */
const CSV_COLUMNS = [
  'name',
  'password',
  'max_contacts',
  'context',
  'transport',
  'allow',
  'remove_existing',
  'remove_unavailable',
  'qualify_frequency',
  'minimum_expiration',
  'maximum_expiration',
  'default_expiration',
] as const
type CsvColumn = (typeof CSV_COLUMNS)[number]

interface CsvRecord {
  line: number
  cells: string[]
}

/** What csv-parse does for us: RFC 4180 quoting, a BOM, blank lines and '#' comment lines skipped, cells trimmed. */
const CSV_OPTIONS = {
  bom: true,
  comment: '#',
  comment_no_infix: true,
  skip_empty_lines: true,
  trim: true,
  relax_column_count: true,
  info: true,
} as const

interface CsvRow {
  record: string[]
  info: { lines: number }
}

/** The records of a CSV file, each with the line it starts on; a syntax error is an InputError naming that line. */
function csvRecords(text: string): CsvRecord[] {
  // One line ending throughout: csv-parse counts a CR after a quoted field as a line of its own.
  const normalised = text.replace(/\r\n/g, '\n')
  let lastLine = 0
  try {
    // with info: true each row comes as { record, info } (csv-parse's typings do not say so)
    const rows = parseCsv(normalised, {
      ...CSV_OPTIONS,
      on_record: (record: string[], context: { lines: number }) => (
        (lastLine = context.lines),
        record
      ),
    }) as unknown as CsvRow[]
    return rows.map(({ record, info }) => ({
      // info.lines is where the record ends; a quoted cell may span lines
      line: info.lines - record.reduce((n, cell) => n + (cell.match(/\n/g)?.length ?? 0), 0),
      cells: record,
    }))
  } catch (error) {
    const e = error as Error & { code?: string; lines?: number }
    if (e.code === 'CSV_QUOTE_NOT_CLOSED')
      throw new InputError(
        `CSV line ${firstRecordLine(normalised, lastLine + 1)}: a quoted field is never closed`,
      )
    if (e.code === 'CSV_INVALID_CLOSING_QUOTE') {
      const got = /got "(.*?)" at line/.exec(e.message)?.[1] ?? '?'
      throw new InputError(
        `CSV line ${e.lines}: unexpected '${printable(got, 80)}' after a closing quote`,
      )
    }
    if (e.code === 'INVALID_OPENING_QUOTE')
      throw new InputError(
        `CSV line ${e.lines}: a '"' inside an unquoted field (quote the whole field and double the quote)`,
      )
    throw new InputError(`CSV line ${e.lines ?? '?'}: ${printable(e.message, 200)}`)
  }
}

/** The first line from `from` on that holds a record (not blank, not a '#' comment). */
function firstRecordLine(text: string, from: number): number {
  const lines = text.split('\n')
  for (const [i, line] of lines.entries()) {
    const t = line.trim()
    if (i >= from - 1 && t !== '' && !t.startsWith('#')) return i + 1
  }
  return from
}

type IntKey =
  | 'maxContacts'
  | 'qualifyFrequency'
  | 'minimumExpiration'
  | 'maximumExpiration'
  | 'defaultExpiration'
const CSV_INT: Partial<Record<CsvColumn, { key: IntKey; min: number; max?: number }>> = {
  max_contacts: { key: 'maxContacts', min: 0 },
  qualify_frequency: { key: 'qualifyFrequency', min: 0, max: 86400 },
  minimum_expiration: { key: 'minimumExpiration', min: 1 },
  maximum_expiration: { key: 'maximumExpiration', min: 1 },
  default_expiration: { key: 'defaultExpiration', min: 1 },
}
const CSV_BOOL: Partial<Record<CsvColumn, 'removeExisting' | 'removeUnavailable'>> = {
  remove_existing: 'removeExisting',
  remove_unavailable: 'removeUnavailable',
}
const CSV_TEXT: Partial<Record<CsvColumn, 'context' | 'transport' | 'allow'>> = {
  context: 'context',
  transport: 'transport',
  allow: 'allow',
}
const FALSE = ['no', 'false', 'n', 'f', '0', 'off']

/**
 * Parses `name,password[,max_contacts,context,transport,allow,remove_existing,
 * remove_unavailable,qualify_frequency,minimum_expiration,maximum_expiration,
 * default_expiration]`. A first row with a `name` cell (first, or among only
 * known column names) is a header naming the columns in any order. Empty cells take the command's options.
 * Throws InputError naming the line of a bad row.
 */
export function parseGenCsv(text: string): GenEntry[] {
  const records = csvRecords(text)
  let columns: readonly CsvColumn[] = CSV_COLUMNS
  let first = 0
  const headerLine = records[0]?.line
  const header = records[0]?.cells.map((c) => c.trim().toLowerCase().replace(/-/g, '_')) ?? []
  // A header row names the name column; every other cell must then be a known column.
  if (
    header.includes('name') &&
    (header[0] === 'name' || header.every((h) => (CSV_COLUMNS as readonly string[]).includes(h)))
  ) {
    const used = new Set<string>()
    for (const h of header) {
      if (!(CSV_COLUMNS as readonly string[]).includes(h)) {
        throw new InputError(
          `CSV line ${headerLine}: unknown column '${printable(h, 80)}'`,
          `known columns: ${CSV_COLUMNS.join(', ')}`,
        )
      }
      if (used.has(h)) throw new InputError(`CSV line ${headerLine}: column '${h}' appears twice`)
      used.add(h)
    }
    columns = header as CsvColumn[]
    first = 1
  }
  const entries: GenEntry[] = []
  for (const r of records.slice(first)) {
    const at = `CSV line ${r.line}`
    let cells = r.cells
    while (cells.length > columns.length && cells[cells.length - 1] === '')
      cells = cells.slice(0, -1)
    if (cells.length > columns.length) {
      throw new InputError(
        `${at}: ${cells.length} fields, but there are only ${columns.length} columns (${columns.join(',')})`,
      )
    }
    const e: GenEntry = { name: '', origin: at }
    cells.forEach((raw, idx) => {
      const col = columns[idx]
      if (raw === '' || col === undefined) return
      const int = CSV_INT[col]
      const bool = CSV_BOOL[col]
      const text = CSV_TEXT[col]
      if (col === 'name') {
        e.name = raw
      } else if (col === 'password') {
        checkValue(`${at}: password`, raw, true)
        e.password = raw
      } else if (int) {
        const spec = int
        const max = spec.max ?? 0xffffffff
        if (!/^\d+$/.test(raw.trim()) || Number(raw) < spec.min || Number(raw) > max) {
          throw new InputError(
            `${at}: ${col} '${printable(raw, 80)}' is not a whole number from ${spec.min} to ${max}`,
          )
        }
        e[spec.key] = Number(raw)
      } else if (bool) {
        const v = raw.trim().toLowerCase()
        if (astTrue(v)) e[bool] = true
        else if (FALSE.includes(v)) e[bool] = false
        else throw new InputError(`${at}: ${col} '${printable(raw, 80)}' is not yes or no`)
      } else if (text) {
        checkValue(`${at}: ${col}`, raw)
        e[text] = raw
      }
    })
    if (e.name === '') throw new InputError(`${at}: no name`)
    checkName(`${at}: name`, e.name)
    entries.push(e)
  }
  return entries
}
