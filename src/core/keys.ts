// Contact keys as an admin types them: the full astdb key `<aor>;@<hash>`, or a prefix of
// the hash (at least MIN_KEY_PREFIX hex digits; the KEY column shows 8), alone or after
// `<aor>;@`. A prefix must pick exactly one contact: an ambiguous one lists the candidates.

import { UsageError } from '../errors.js'
import { HASH_LENGTH, KEY_SEPARATOR } from './contact.js'
import { printable } from '../text.js'
import { validateName } from './select.js'

const MIN_KEY_PREFIX = 6
/** Candidates an ambiguity error lists before "and N more". */
const MAX_CANDIDATES = 10

export interface KeyPattern {
  /** As typed. */
  raw: string
  /** The AOR before `;@`, or null for a bare hash prefix. */
  aor: string | null
  /** The hash (prefix), lowercase; null when only an exact match can do (not hex). */
  hash: string | null
}

const HEX = /^[0-9a-f]+$/i

/** Checks one key pattern before anything connects; throws UsageError for what can never match. `option`: what the command line calls it (for the message). */
export function parseKeyPattern(raw: string, option: string): KeyPattern {
  validateName(raw, 'contact key')
  const shown = printable(raw, 80)
  const sep = raw.indexOf(KEY_SEPARATOR)
  const hash = sep < 0 ? raw : raw.slice(sep + KEY_SEPARATOR.length)
  const aor = sep < 0 ? null : raw.slice(0, sep)
  if (aor === '') throw new UsageError(`${option} '${shown}': no AOR name before ';@'`)
  if (HEX.test(hash) && hash.length <= HASH_LENGTH) {
    if (hash.length < MIN_KEY_PREFIX) {
      throw new UsageError(
        `${option} '${shown}': give at least ${MIN_KEY_PREFIX} hex digits of the hash (the KEY column shows 8)`,
      )
    }
    return { raw, aor, hash: hash.toLowerCase() }
  }
  if (aor === null) {
    throw new UsageError(
      `${option} '${shown}' is not a contact key (expected <aor>;@<hash>, or at least ${MIN_KEY_PREFIX} hex digits of the hash as the KEY column shows)`,
    )
  }
  return { raw, aor, hash: null }
}

export interface KeyResolution {
  /** The full key each matched pattern stands for, in pattern order, without repeats. */
  keys: string[]
  /** Patterns that matched no key. */
  unmatched: KeyPattern[]
}

/** The keys `patterns` pick among `candidates`; an exact key always wins; an ambiguous prefix throws UsageError. */
export function resolveKeys(
  patterns: readonly KeyPattern[],
  candidates: Iterable<string>,
  option: string,
): KeyResolution {
  // no pattern: the candidates (every contact of a read) are not even listed
  if (patterns.length === 0) return { keys: [], unmatched: [] }
  const all = [...candidates]
  const exact = new Set(all)
  const keys: string[] = []
  const unmatched: KeyPattern[] = []
  for (const pattern of patterns) {
    const matches = exact.has(pattern.raw)
      ? [pattern.raw]
      : pattern.hash === null
        ? []
        : all.filter((key) => matchesPrefix(key, pattern))
    if (matches.length === 0) unmatched.push(pattern)
    else if (matches.length === 1 && matches[0] !== undefined) {
      if (!keys.includes(matches[0])) keys.push(matches[0])
    } else {
      const sorted = [...matches].sort()
      const listed = sorted
        .slice(0, MAX_CANDIDATES)
        .map((k) => printable(k, 80))
        .join(', ')
      const more =
        sorted.length > MAX_CANDIDATES ? ` and ${sorted.length - MAX_CANDIDATES} more` : ''
      throw new UsageError(
        `${option} '${printable(pattern.raw, 80)}' is ambiguous: it matches ${matches.length} contacts: ${listed}${more}`,
        'give more hex digits of the hash (or the whole key)',
      )
    }
  }
  return { keys, unmatched }
}

function matchesPrefix(key: string, pattern: KeyPattern): boolean {
  const sep = key.indexOf(KEY_SEPARATOR)
  if (sep < 0) return false
  if (pattern.aor !== null && key.slice(0, sep) !== pattern.aor) return false
  return key
    .slice(sep + KEY_SEPARATOR.length)
    .toLowerCase()
    .startsWith(pattern.hash ?? '')
}
