// Choosing AORs by name, and refusing names that can never be an AOR or endpoint.

import { UsageError } from '../errors.js'
import { escapeControl, isControl, printable } from '../text.js'
import type { AorReport } from './types.js'

/** Longest accepted AOR/endpoint name, in characters (code points). */
const MAX_NAME_LENGTH = 255
/** How much of a refused name a message shows. */
const MAX_SHOWN = 80

function firstControl(text: string): number {
  for (let i = 0; i < text.length; i++) {
    if (isControl(text.charCodeAt(i))) return i
  }
  return -1
}

function codePointLength(text: string): number {
  let n = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0xdc00 || c > 0xdfff) n++
  }
  return n
}

/** Throws UsageError for a name that can never be an AOR or endpoint: empty, control characters, too long. */
export function validateName(name: string, what: string): void {
  if (name === '') throw new UsageError(`${what} must not be empty`)
  const at = firstControl(name)
  if (at >= 0) {
    const char = escapeControl(name.charCodeAt(at))
    throw new UsageError(
      `${what} "${printable(name, MAX_SHOWN)}" contains a control character (${char}) at position ${at + 1}: no AOR or endpoint name can hold one`,
    )
  }
  const length = codePointLength(name)
  if (length > MAX_NAME_LENGTH) {
    throw new UsageError(
      `${what} "${printable(name, MAX_SHOWN)}" is ${length} characters long: an AOR or endpoint name has at most ${MAX_NAME_LENGTH}`,
    )
  }
}

export interface Selection {
  reports: AorReport[]
  /** Names that matched no AOR and no endpoint, in the order given (each once). */
  unknown: string[]
}

/**
 * Each name matches an AOR name exactly, or an endpoint (the contacts' `endpoint` field,
 * i.e. `report.endpoints`). No names selects every AOR. Order of `reports` is kept.
 */
export function selectAors(reports: readonly AorReport[], names: readonly string[]): Selection {
  if (names.length === 0) return { reports: [...reports], unknown: [] }
  const wanted = new Set(names)
  const matched = new Set<string>()
  const selected = reports.filter((report) => {
    let hit = false
    for (const name of [report.aor, ...report.endpoints]) {
      if (wanted.has(name)) {
        matched.add(name)
        hit = true
      }
    }
    return hit
  })
  return { reports: selected, unknown: [...wanted].filter((name) => !matched.has(name)) }
}

/** `--problems`: an AOR that check would not call OK (or cannot judge), or that holds a stale contact. */
export { isProblem } from './status.js'

/** --node: each AOR keeps only the contacts registered through one of `nodes` (`reg_server`; '-' stands for
 *  none); AORs left with none are dropped. Count, state and severity stay those of the whole AOR: it is
 *  judged once, on every node's contacts. */
export function selectNodes<A extends { contacts: readonly { regServer: string }[] }>(
  aors: readonly A[],
  nodes: readonly string[],
): A[] {
  const wanted = new Set(nodes.map((n) => (n === '-' ? '' : n)))
  const kept: A[] = []
  for (const aor of aors) {
    const contacts = aor.contacts.filter((c) => wanted.has(c.regServer))
    if (contacts.length) kept.push({ ...aor, contacts })
  }
  return kept
}
