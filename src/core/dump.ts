// The `database show` parser (main/db.c prints each row with `%-50s: %-25s`, then
// `%d results found.`), and the same result built from AMI DBGetTree rows.
//
// Line rule: `/<family>/<key>[spaces]: <value>`. Values contain `: ` too, so the key's end
// is found from its shape, never from the first `: ` of the line: the first `;@` after the
// family prefix, 32 lowercase hex digits, optional padding spaces, then `: `.
// Everything after that `: ` is the value, byte for byte, except that db.c pads values
// shorter than 25 characters with spaces (`%-25s`): a value part of at most 25 characters
// loses its trailing spaces (Asterisk's compact JSON never ends in a space).
//
// What is counted for completeness (checkComplete / countCheck):
//   arrived = contacts + problems + otherRows
// where otherRows are lines of another family (`/<other>/...: ...`, as in a whole
// `database show` dump), which Asterisk also counts in `N results found.`.
// Not counted: blank lines, the `N results found.` line, `--END COMMAND--`.
// A contact row whose expiration_time is not a number is a contact AND a (kept) problem, counted once.
// Every other line is a ParseProblem and is counted: an unexplained line means the answer
// is damaged (e.g. two rows glued together), so the totals will not agree.

import { IncompleteAnswerError } from '../errors.js'
import {
  KEY_SEPARATOR,
  KEY_TAIL,
  NO_FIELDS,
  contactFromCheckedKey,
  findKeyEnd,
  ownCopy,
} from './contact.js'
import {
  CONTACT_FAMILY,
  type Contact,
  type ContactRow,
  type ParseProblem,
  type ParsedContacts,
} from './types.js'

/** ParsedContacts plus the rows of other families (see the counting rule above). */
export interface ParsedDump extends ParsedContacts {
  /** Lines of other astdb families: counted by `N results found.`, not contacts. */
  otherRows: number
}

const COUNT_LINE = /^(\d{1,15}) results found\.$/
const END_COMMAND = '--END COMMAND--'
/** db.c's `%-25s`: values shorter than this are space-padded. */
const VALUE_COLUMN = 25
/** ParseProblem.text is cut to this many UTF-16 units. */
const MAX_PROBLEM_TEXT = 160

const SPACE = 32
const COLON = 58
const SLASH = 47
const CR = 13

/** The offending text, cut to MAX_PROBLEM_TEXT (never inside a surrogate pair). */
function shortenProblemText(text: string): string {
  if (text.length <= MAX_PROBLEM_TEXT) return text
  let cut = MAX_PROBLEM_TEXT
  const c = text.charCodeAt(cut)
  if (c >= 0xdc00 && c <= 0xdfff) cut--
  return `${text.slice(0, cut)}…`
}

function problem(line: number, reason: string, text: string): ParseProblem {
  return { line, reason, text: shortenProblemText(text) }
}

/** A contact whose expiration_time is there but not a number is kept (never called expired or
 *  superseded) but is a problem: its expiry cannot be judged. */
function fieldProblem(contact: Contact, line: number, text: string): ParseProblem {
  const raw = contact.fields.expiration_time ?? ''
  return {
    ...problem(line, `expiration_time ${JSON.stringify(raw.slice(0, 40))} is not a number`, text),
    kept: true,
  }
}

function isBlank(line: string): boolean {
  if (line.length === 0) return true
  const c = line.charCodeAt(0)
  return (c === SPACE || c === 9) && line.trim() === ''
}

function trimPadding(value: string): string {
  let end = value.length
  while (end > 0 && value.charCodeAt(end - 1) === SPACE) end--
  return end === value.length ? value : value.slice(0, end)
}

/** What a streaming parser keeps of each contact it parsed (all of it unless told otherwise). */
export type KeepContact = (contact: Contact) => Contact

const KEEP_ALL: KeepContact = (contact) => contact

/**
 * What check, contacts and sources show of a contact without --raw: no stored value and no raw
 * fields, and a key of its own. The key and the value are cut from the answer's text as it arrived
 * (64 KB at a time): one kept slice keeps its whole piece alive, so at 100,000 contacts the read
 * would hold the whole answer, copied by every young-generation GC while it is still arriving.
 * The contact is cut down in place.
 */
export const KEEP_SHOWN: KeepContact = (contact) => {
  const key = ownCopy(contact.key)
  const aorLength = contact.aor.length
  contact.key = key
  // a contact shares what it has in common with the one before it (contacts arrive grouped by AOR):
  // at 100,000 contacts, the copies of the same AOR name, address, user agent and reg_server were 6 MB
  const aor = contact.aor === last.aor ? last.aor : (last.aor = key.slice(0, aorLength))
  contact.aor = aor
  contact.hash = key.slice(aorLength + KEY_SEPARATOR.length)
  if (contact.viaAddr === last.viaAddr) contact.viaAddr = last.viaAddr
  else last.viaAddr = contact.viaAddr
  if (contact.userAgent === last.userAgent) contact.userAgent = last.userAgent
  else last.userAgent = contact.userAgent
  if (contact.regServer === last.regServer) contact.regServer = last.regServer
  else last.regServer = contact.regServer
  // an endpoint is mostly named as its AOR
  if (contact.endpoint === aor) contact.endpoint = aor
  contact.fields = NO_FIELDS
  contact.value = ''
  return contact
}

/** The strings of the last contact KEEP_SHOWN kept, for the next to share (equal strings, one copy). */
const last = { aor: '', viaAddr: '', userAgent: '', regServer: '' }

/** Where the parsers put what they parsed. */
interface Parsed {
  readonly contacts: Contact[]
  readonly problems: ParseProblem[]
}

/** The fields prune keeps, one shared object per qualify_frequency value (there are a handful). */
const PLANNED_FIELDS = new Map<string, Record<string, string>>()

/**
 * What prune keeps of a contact: the stored value byte for byte (compare-before-delete, the backup)
 * and, of its fields, qualify_frequency alone (whether its qualify state is worth reading); the rest
 * of the JSON stays in `value`. The object JSON.parse made of each value is dropped at once instead
 * of living through the whole run: at 15,000 contacts those objects were most of what the garbage
 * collector copied.
 */
export const KEEP_PLANNED: KeepContact = (contact) => {
  const frequency = contact.fields.qualify_frequency
  if (frequency === undefined) contact.fields = NO_FIELDS
  else {
    let fields = PLANNED_FIELDS.get(frequency)
    if (fields === undefined) {
      fields = Object.freeze({ qualify_frequency: frequency })
      if (PLANNED_FIELDS.size < 64) PLANNED_FIELDS.set(frequency, fields)
    }
    contact.fields = fields
  }
  return contact
}

/**
 * What a prune that only shows its plan (--dry-run) keeps: what check shows (KEEP_SHOWN), and of the
 * fields qualify_frequency, as KEEP_PLANNED. It compares nothing and backs nothing up, so it keeps no
 * stored value: at 15,000 contacts those values held every 64 KB piece of the answer they were cut
 * from, copied by every young-generation GC of the run.
 */
export const KEEP_PREVIEWED: KeepContact = (contact) => {
  const fields = KEEP_PLANNED(contact).fields
  KEEP_SHOWN(contact).fields = fields
  return contact
}

/** One row whose key was checked (its `;@` at `aorLength`): its contact, cut down by `keep`, and
 *  its field problem, or why it is no contact; `shown` is the row as a problem shows it (null: `key: value`). */
function parseRow(
  into: Parsed,
  keep: KeepContact,
  key: string,
  aorLength: number,
  value: string,
  line: number,
  shown: string | null,
): void {
  const contact = contactFromCheckedKey(key, aorLength, value)
  if (typeof contact === 'string') {
    into.problems.push(problem(line, contact, shown ?? `${key}: ${value}`))
    return
  }
  if (contact.expirationTime === null && contact.fields.expiration_time !== undefined)
    into.problems.push(fieldProblem(contact, line, shown ?? `${key}: ${value}`))
  into.contacts.push(keep(contact))
}

/**
 * Streaming, linear parser of `database show` output, fed one line at a time. `keep` cuts each
 * contact down as it is parsed (the exporter keeps no stored values: at 100,000 contacts those are
 * most of the memory).
 */
export class DatabaseShowParser {
  private readonly prefix: string
  readonly contacts: Contact[] = []
  readonly problems: ParseProblem[] = []
  private declaredCount: number | null = null
  private otherRows = 0
  private lineNo = 0

  constructor(
    family: string = CONTACT_FAMILY,
    private readonly keep: KeepContact = KEEP_ALL,
  ) {
    this.prefix = `/${family.replace(/^\/+|\/+$/g, '')}/`
  }

  /** One line, without its LF; a trailing CR is dropped. */
  push(line: string): void {
    this.lineNo++
    if (line.charCodeAt(line.length - 1) === CR) line = line.slice(0, -1)
    if (line.startsWith(this.prefix)) {
      this.rowLine(line)
    } else if (!isBlank(line) && line !== END_COMMAND) {
      this.otherLine(line)
    }
  }

  finish(): ParsedDump {
    return {
      contacts: this.contacts,
      problems: this.problems,
      declaredCount: this.declaredCount,
      otherRows: this.otherRows,
    }
  }

  private report(reason: string, line: string): void {
    this.problems.push(problem(this.lineNo, reason, line))
  }

  private rowLine(line: string): void {
    const start = this.prefix.length
    const keyEnd = findKeyEnd(line, start)
    if (typeof keyEnd === 'string') {
      this.report(keyEnd, line)
      return
    }
    let colon = keyEnd
    while (line.charCodeAt(colon) === SPACE) colon++
    if (line.charCodeAt(colon) !== COLON || line.charCodeAt(colon + 1) !== SPACE) {
      this.report('key is not followed by `: ` after its 32-digit hash', line)
      return
    }
    let value = line.slice(colon + 2)
    if (value.length <= VALUE_COLUMN) value = trimPadding(value)
    parseRow(
      this,
      this.keep,
      line.slice(start, keyEnd),
      keyEnd - start - KEY_TAIL,
      value,
      this.lineNo,
      line,
    )
  }

  private otherLine(line: string): void {
    const count = COUNT_LINE.exec(line)
    if (count !== null) {
      if (this.declaredCount === null) {
        this.declaredCount = Number(count[1])
      } else {
        this.report('a second `N results found.` line', line)
      }
    } else if (line.charCodeAt(0) === SLASH && line.includes(': ')) {
      this.otherRows++
    } else {
      this.report(
        `not a \`${this.prefix}<key>: <value>\` line nor the \`N results found.\` line`,
        line,
      )
    }
  }
}

/** A whole saved dump (file or stdin): splits on LF, tolerates CRLF. */
export function parseDatabaseShow(text: string, family: string = CONTACT_FAMILY): ParsedDump {
  const parser = new DatabaseShowParser(family)
  let from = 0
  while (from < text.length) {
    let to = text.indexOf('\n', from)
    if (to < 0) to = text.length
    parser.push(text.slice(from, to))
    from = to + 1
  }
  return parser.finish()
}

/** Streaming parser of AMI DBGetTree rows (keys already without `/registrar/contact/`), fed one row at a time; problems are numbered by item (1-based). `keep` as for DatabaseShowParser. */
export class DbTreeParser {
  readonly contacts: Contact[] = []
  readonly problems: ParseProblem[] = []
  private item = 0

  constructor(private readonly keep: KeepContact = KEEP_ALL) {}

  push(row: ContactRow): void {
    this.add(row.key, row.value)
  }

  /** One row: its key within the family, its value. */
  add(key: string, value: string): void {
    this.item++
    const end = findKeyEnd(key)
    if (typeof end === 'string' || end !== key.length) {
      const reason = typeof end === 'string' ? end : 'key has text after the 32-digit hash'
      this.problems.push(problem(this.item, reason, `${key}: ${value}`))
      return
    }
    parseRow(this, this.keep, key, end - KEY_TAIL, value, this.item, null)
  }

  finish(listItems: number | null): ParsedDump {
    return {
      contacts: this.contacts,
      problems: this.problems,
      declaredCount: listItems,
      otherRows: 0,
    }
  }
}

/** AMI DBGetTree rows, all at once. */
export function contactsFromDbTree(
  rows: readonly ContactRow[],
  listItems: number | null,
): ParsedDump {
  const parser = new DbTreeParser()
  for (const row of rows) parser.push(row)
  return parser.finish(listItems)
}

/** What arrived (contacts + problems + other-family rows) against what the answer announced. */
export interface CountCheck {
  declared: number | null
  arrived: number
  complete: boolean
}

export function countCheck(parsed: ParsedContacts & { otherRows?: number }): CountCheck {
  let unparsed = 0
  for (const p of parsed.problems) if (!p.kept) unparsed++
  const arrived = parsed.contacts.length + unparsed + (parsed.otherRows ?? 0)
  const declared = parsed.declaredCount
  return { declared, arrived, complete: declared === arrived }
}

/** The one hint for an answer that lost lines: Asterisk's manager user writetimeout (`user`: the manager.conf section, when known). */
export function writetimeoutHint(user?: string): string {
  return (
    "Asterisk drops AMI output that is not read within the manager user's writetimeout; " +
    `raise writetimeout= for ${user ? `[${user}]` : 'this user'} in manager.conf (e.g. writetimeout = 5000) and try again`
  )
}

/**
 * Throws IncompleteAnswerError unless the answer announced how many rows it holds and
 * exactly that many arrived. `what` names the source, e.g. `DBGetTree from pbx1`; it ends the message.
 * (For a source where the writetimeout hint does not fit, use countCheck and throw your own.)
 */
export function checkComplete(
  parsed: ParsedContacts & { otherRows?: number },
  what: string,
  user?: string,
): void {
  const { declared, arrived, complete } = countCheck(parsed)
  if (complete) return
  const noun = parsed.otherRows ? 'entries' : 'contacts'
  const said =
    declared === null
      ? `it never said how many ${noun} it holds, ${arrived} arrived`
      : `it announced ${declared} ${noun}, ${arrived} arrived`
  throw new IncompleteAnswerError(
    `incomplete answer from the server: ${said} (${what})`,
    writetimeoutHint(user),
  )
}
