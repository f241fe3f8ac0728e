// Reading the real Asterisk 22 captures in test/fixtures/ami-transcripts/, and test data built from them.
import { readFileSync } from 'node:fs'
import { aorConfigsFromAorList } from '../../src/core/aors.js'
import { buildReports } from '../../src/core/classify.js'
import { contactFromRow } from '../../src/core/contact.js'
import { parseDatabaseShow } from '../../src/core/dump.js'
import type { AorConfig, AorReport, Contact, QualifyStatus } from '../../src/core/types.js'

const DIR = new URL('../fixtures/ami-transcripts/', import.meta.url)

/** A capture's exact text; `name` with or without `.txt`. */
export function readCapture(name: string): string {
  return readFileSync(new URL(name.endsWith('.txt') ? name : `${name}.txt`, DIR), 'utf8')
}

/** Lines of a capture, CRLF or bare LF. */
function lines(capture: string): string[] {
  return capture.split(/\r?\n/)
}

/** `Name: value` → [name, value]; null for a line without a header (the banner). */
function headerOf(line: string): [string, string] | null {
  const colon = line.indexOf(':')
  if (colon <= 0) return null
  const value = line.slice(colon + 1)
  return [line.slice(0, colon), value.startsWith(' ') ? value.slice(1) : value]
}

/** The values of every `Output:` header, in order (the lines of a Command answer). */
export function outputLines(capture: string): string[] {
  return lines(capture)
    .map(headerOf)
    .filter((h): h is [string, string] => h !== null && h[0] === 'Output')
    .map(([, value]) => value)
}

/** Every AMI message (split on blank lines) as header name → first value. */
function messages(capture: string): Record<string, string>[] {
  const out: Record<string, string>[] = []
  let current: Record<string, string> = {}
  for (const line of lines(capture)) {
    if (line === '') {
      if (Object.keys(current).length > 0) out.push(current)
      current = {}
      continue
    }
    const header = headerOf(line)
    if (header !== null && !(header[0] in current)) current[header[0]] = header[1]
  }
  if (Object.keys(current).length > 0) out.push(current)
  return out
}

/** The messages whose `Event` is `eventName`. */
export function listEvents(capture: string, eventName: string): Record<string, string>[] {
  return messages(capture).filter((m) => m.Event === eventName)
}

/** DBGetTree rows of registrar/contact (keys without `/registrar/contact/`) and the list's ListItems. */
export function dbTreeRows(capture: string): {
  rows: { key: string; value: string }[]
  listItems: number | null
} {
  const prefix = '/registrar/contact/'
  const rows = listEvents(capture, 'DBGetTreeResponse').map((e) => ({
    key: e.Key!.startsWith(prefix) ? e.Key!.slice(prefix.length) : e.Key!,
    value: e.Val!,
  }))
  const complete = listEvents(capture, 'DBGetTreeComplete')[0]
  return { rows, listItems: complete?.ListItems === undefined ? null : Number(complete.ListItems) }
}

// ---- Shared test data built from the captures -------------------------------------------

/** The capture time (2026-11-23T18:31:17Z). */
export const CAPTURE_NOW = 1795458677

/** The 13 contacts of cli_database_show_registrar_contact. */
export function capturedContacts(): Contact[] {
  return parseDatabaseShow(readCapture('cli_database_show_registrar_contact')).contacts
}

/** The 9 AOR configurations of pjsipshowaors. */
export function capturedConfigs(): AorConfig[] {
  return aorConfigsFromAorList(listEvents(readCapture('pjsipshowaors'), 'AorList'))
}

/** Qualify status of pjsipshowcontacts, astdb key (ObjectName) → Status (carol Unreachable, the rest NonQualified). */
export function capturedQualify(): Map<string, QualifyStatus> {
  return new Map(
    listEvents(readCapture('pjsipshowcontacts'), 'ContactList').map((e) => [
      e.ObjectName!,
      e.Status!,
    ]),
  )
}

export function capturedReports(now = CAPTURE_NOW): AorReport[] {
  return buildReports({
    contacts: capturedContacts(),
    configs: capturedConfigs(),
    qualify: capturedQualify(),
    now,
  })
}

export function reportOf(reports: readonly AorReport[], aor: string): AorReport {
  const report = reports.find((r) => r.aor === aor)
  if (report === undefined) throw new Error(`no report for ${aor}`)
  return report
}

/** The captured alice value's fields, the template for generated contacts. */
export function capturedFields(): Record<string, string> {
  return { ...capturedContacts().find((c) => c.aor === 'alice')!.fields }
}

/** A key `<aor>;@<32 hex>` from a number. */
function keyOf(aor: string, seed: number): string {
  return `${aor};@${seed.toString(16).padStart(32, '0')}`
}

/** A contact in the captured shape (same field order), parsed by the real contactFromRow. */
export function makeContact(
  aor: string,
  seed: number,
  fields: Record<string, string> = {},
): Contact {
  const value = JSON.stringify({ ...capturedFields(), endpoint: aor, ...fields })
  const contact = contactFromRow(keyOf(aor, seed), value)
  if (typeof contact === 'string') throw new Error(contact)
  return contact
}
