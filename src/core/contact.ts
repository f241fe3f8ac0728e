// One astdb row of registrar/contact → Contact, or the reason it is not one.
//
// Key rule (the same as Asterisk's contact_alloc() in res/res_pjsip/location.c, which
// splits a sorcery id on the FIRST `;@`): the AOR is everything before the first `;@`,
// the hash is everything after it and must be exactly 32 lowercase hex digits (Asterisk
// writes the MD5 of the URI with `%02x`). AOR names may contain `-`, `.`, `+`, `_`, `@`
// and any non-ASCII letter; an AOR name that itself contains `;@` cannot be told apart
// by Asterisk either, so such a key is reported, never guessed at.

import type { Contact } from './types.js'

export const KEY_SEPARATOR = ';@'
export const HASH_LENGTH = 32
/** Length of `;@` + hash: what follows the AOR name in a key. */
export const KEY_TAIL = KEY_SEPARATOR.length + HASH_LENGTH

/** 32 lowercase hex digits where it is tried (sticky): a native scan, where a loop would run cold
 *  (interpreted) once per contact of a read. */
const HASH_AT = /[0-9a-f]{32}/y

/** True when text[from, from+32) is 32 lowercase hex digits. */
function isHashAt(text: string, from: number): boolean {
  HASH_AT.lastIndex = from
  return HASH_AT.test(text)
}

/**
 * Finds a contact key `<aor>;@<32 hex>` starting at `from` in `text`.
 * Returns the index just past the hash, or the reason there is no valid key there.
 * Only the first `;@` is considered (Asterisk's own rule).
 */
export function findKeyEnd(text: string, from = 0): number | string {
  const sep = text.indexOf(KEY_SEPARATOR, from)
  if (sep < 0) return 'key has no `;@` (not a dynamic contact key <aor>;@<hash>)'
  if (sep === from) return 'key has an empty AOR name before `;@`'
  if (!isHashAt(text, sep + KEY_SEPARATOR.length)) {
    return 'key does not continue with 32 lowercase hex digits after its first `;@`'
  }
  return sep + KEY_TAIL
}

/** `%ld` style: optional minus, 1 to 15 digits. */
const INTEGER = /^-?\d{1,15}$/

/** Integer from an astdb string field (`%ld` style: optional minus, 1 to 15 digits); null otherwise. */
export function intField(value: string | undefined): number | null {
  return value !== undefined && INTEGER.test(value) ? Number(value) : null
}

/** The parsed JSON value as a string-only record, or the reason it is not one. */
function fieldsFromValue(value: string): Record<string, string> | string {
  // Compact JSON from Asterisk starts with `{`; a cheap check keeps garbage out of JSON.parse
  // (JSON whitespace may precede it: space, tab, LF, CR).
  const first = value.charCodeAt(0)
  if (first !== 123 /* { */ && first !== 32 && first !== 9 && first !== 10 && first !== 13) {
    return 'value is not a JSON object'
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(value)
  } catch {
    return 'value is not valid JSON'
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return 'value is JSON but not an object'
  }
  const fields = parsed as Record<string, unknown>
  for (const name in fields) {
    if (typeof fields[name] !== 'string') return `field "${name.slice(0, 40)}" is not a string`
  }
  return fields as Record<string, string>
}

/** A field or ''. Every own field was checked to be a string, and Object.prototype has none of these names. */
function text(fields: Record<string, string>, name: string): string {
  return fields[name] ?? ''
}

/**
 * One astdb row (key within registrar/contact, exact stored value) → Contact,
 * or a string saying why it is not a contact. Every JSON field is kept in `fields`.
 * A field that is absent reads as '' (older/newer Asterisk versions lack or add fields).
 */
export function contactFromRow(key: string, value: string): Contact | string {
  const end = findKeyEnd(key)
  if (typeof end === 'string') return end
  if (end !== key.length) return 'key has text after the 32-digit hash'
  return contactFromCheckedKey(key, end - KEY_TAIL, value)
}

/**
 * contactFromRow for a key already checked with findKeyEnd (the dump parser has found it
 * by its shape): `aorLength` is where its `;@` starts. Only the value is checked here.
 */
export function contactFromCheckedKey(
  key: string,
  aorLength: number,
  value: string,
): Contact | string {
  const fields = fieldsFromValue(value)
  if (typeof fields === 'string') return fields
  const contact: Contact & Unjudged = {
    key,
    aor: key.slice(0, aorLength),
    hash: key.slice(aorLength + KEY_SEPARATOR.length),
    uri: text(fields, 'uri'),
    viaAddr: text(fields, 'via_addr'),
    viaPort: intField(text(fields, 'via_port')),
    userAgent: text(fields, 'user_agent'),
    endpoint: text(fields, 'endpoint'),
    regServer: text(fields, 'reg_server'),
    expirationTime: intField(text(fields, 'expiration_time')),
    fields,
    value,
    status: undefined,
    expiresIn: undefined,
    supersededBy: undefined,
    qualify: undefined,
  }
  return contact
}

/**
 * The verdict's fields of a contact not judged yet. Declared with the others they are kept in the
 * object itself; added when a read's contacts are judged in place (core/classify.ts), each contact
 * got an out-of-object property array instead (6.4 MB at 100,000 contacts) and two more shapes.
 */
interface Unjudged {
  status: undefined
  expiresIn: undefined
  supersededBy: undefined
  qualify: undefined
}

/** The `fields` of a contact that keeps none (KEEP_SHOWN, the exporter's contacts). */
export const NO_FIELDS: Record<string, string> = Object.freeze({})

/** A copy of `text` that shares no memory with the string it was cut from (a slice of a 64 KB
 *  network chunk keeps the whole chunk alive): V8 flattens the concatenation into a new string. */
export function ownCopy(text: string): string {
  return text.length < 13 ? text : (' ' + text).slice(1)
}
