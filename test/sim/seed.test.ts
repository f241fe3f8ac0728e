// The seeds: the captured lab exactly, the demo's lockout, and the benchmark's generator; and the
// CLI printing them as `asterisk -rx` does (the cli_*.txt captures).

import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { runCli } from '../../src/sim/cli.js'
import { CONTACT_FIELDS, contactKey } from '../../src/sim/registrar.js'
import { CAPTURED_AT, captureSeed, generateRows, lockoutSeed } from '../../src/sim/seed.js'
import { SimAsterisk, type SimOptions } from '../../src/sim/server.js'
import { transcript } from './helpers.js'

const md5 = (text: string) => createHash('md5').update(text).digest('hex')
const parse = (value: string) => JSON.parse(value) as Record<string, string>

/**
 * What `asterisk -rx LINE` prints on the sim (not started: nothing listens). The shell dumps were
 * taken before carol's first qualify timed out: every contact still NonQualified.
 */
function cliText(line: string, options: SimOptions = {}): string {
  const seed = { ...captureSeed({ now: CAPTURED_AT }), qualify: {} }
  const sim = new SimAsterisk({ seed, now: () => CAPTURED_AT, ...options })
  const output = runCli(line, sim)
  return [...output.head, ...output.items, ...output.tail].map((text) => `${text}\n`).join('')
}

describe('captureSeed', () => {
  it('holds the 13 captured rows byte for byte, keyed <aor>;@md5(uri)', () => {
    const { rows } = captureSeed({ now: CAPTURED_AT })
    const dump = transcript('cli_database_show_registrar_contact.txt')
    expect(
      rows.map((row) => `/registrar/contact/${row.key}: ${row.value}\n`).join('') +
        '13 results found.\n',
    ).toBe(dump)
    for (const row of rows)
      expect(row.key).toBe(`${row.key.split(';@')[0]};@${md5(parse(row.value).uri!)}`)
  })

  it('moves every expiration_time by now - CAPTURED_AT', () => {
    const at = (now: number) =>
      captureSeed({ now }).rows.map((row) => Number(parse(row.value).expiration_time))
    expect(at(CAPTURED_AT + 1000)).toEqual(at(CAPTURED_AT).map((time) => time + 1000))
  })

  it("has the lab's nine AORs and carol Unreachable", () => {
    const seed = captureSeed({ now: CAPTURED_AT })
    expect(seed.aors.map((aor) => [aor.name, aor.maxContacts, aor.removeExisting])).toEqual([
      ['FAP003', 2, false],
      ['alice', 1, false],
      ['bob', 2, false],
      ['carol', 3, false],
      ['dave', 1, false],
      ['erin', 2, true],
      ['phone1', 4, false],
      ['phone2', 1, true],
      ['wizphone', 2, false],
    ])
    expect(Object.values(seed.qualify ?? {})).toEqual(['Unreachable'])
    expect(Object.keys(seed.qualify ?? {})[0]).toMatch(/^carol;@/)
  })
})

describe('the CLI prints the lab as `asterisk -rx` did', () => {
  it.each([
    ['database show registrar/contact', 'cli_database_show_registrar_contact.txt'],
    ['database show registrar/contact/FAP003', 'cli_database_show_registrar_contact_FAP003.txt'],
    ['pjsip show aors', 'cli_pjsip_show_aors.txt'],
    ['pjsip show contacts', 'cli_pjsip_show_contacts.txt'],
    ['core show version', 'cli_core_show_version.txt'],
  ])('%s', (line, capture) => {
    expect(cliText(line)).toBe(transcript(capture))
  })

  it('database show registrar/contact, empty', () => {
    const aors = captureSeed({ now: CAPTURED_AT }).aors
    expect(cliText('database show registrar/contact', { seed: { rows: [], aors } })).toBe(
      transcript('cli_database_show_registrar_contact_empty.txt'),
    )
  })
})

describe('lockoutSeed', () => {
  const now = 1_800_000_000
  const seed = lockoutSeed({ now })
  const contactsOf = (aor: string) =>
    seed.rows.filter((row) => row.key.startsWith(`${aor};@`)).map((row) => parse(row.value))

  it('fills FAP003 (max_contacts 2, remove_existing no) with one Grandstream seen from two ports, the older expiring sooner', () => {
    const fap003 = seed.aors.find((aor) => aor.name === 'FAP003')
    expect(fap003).toMatchObject({ maxContacts: 2, removeExisting: false })
    const [first, second] = contactsOf('FAP003').sort(
      (a, b) => Number(a.expiration_time) - Number(b.expiration_time),
    )
    expect(first!.user_agent).toBe('Grandstream GXP2130 1.0.11.3')
    expect(second!.user_agent).toBe(first!.user_agent)
    expect(second!.via_addr).toBe(first!.via_addr)
    expect(second!.via_port).not.toBe(first!.via_port)
    expect(Number(first!.expiration_time)).toBeLessThan(Number(second!.expiration_time))
    expect(Number(first!.expiration_time)).toBeGreaterThan(now)
  })

  it('keeps every other AOR healthy: below its limit, or remove_existing', () => {
    for (const aor of seed.aors.filter((candidate) => candidate.name !== 'FAP003')) {
      expect(contactsOf(aor.name).length < aor.maxContacts || aor.removeExisting).toBe(true)
    }
  })

  it("keys every row <aor>;@md5(uri), values in Asterisk's field order", () => {
    for (const row of seed.rows) {
      const value = parse(row.value)
      expect(row.key).toBe(contactKey(row.key.split(';@')[0]!, value.uri!))
      expect(Object.keys(value)).toEqual([...CONTACT_FIELDS])
    }
  })
})

describe('generateRows', () => {
  const now = 1_800_000_000
  const lab = generateRows({ count: 10000, now })

  it('is deterministic for a given count', () => {
    expect(generateRows({ count: 10000, now })).toEqual(lab)
  })

  it("makes count rows with unique keys <aor>;@md5(uri) over AORs ext1000…, in Asterisk's field order", () => {
    expect(lab.rows).toHaveLength(10000)
    expect(new Set(lab.rows.map((row) => row.key)).size).toBe(10000)
    expect(lab.aors[0]!.name).toBe('ext1000')
    for (const row of lab.rows.slice(0, 200)) {
      const value = parse(row.value)
      expect(Object.keys(value)).toEqual([...CONTACT_FIELDS])
      expect(row.key).toBe(`${value.endpoint};@${md5(value.uri!)}`)
      expect(value.user_agent!.length).toBeGreaterThan(60)
    }
  })

  it('makes fullAors AORs full with a superseded pair (same phone and address, the older expiring sooner), and some contacts expired', () => {
    const small = generateRows({ count: 1000, now, aors: 400, fullAors: 25 })
    const byAor = new Map<string, Record<string, string>[]>()
    for (const row of small.rows) {
      const value = parse(row.value)
      byAor.set(value.endpoint!, [...(byAor.get(value.endpoint!) ?? []), value])
    }
    const full = small.aors.filter(
      (aor) => !aor.removeExisting && byAor.get(aor.name)?.length === aor.maxContacts,
    )
    expect(full).toHaveLength(25)
    for (const aor of full) {
      const [newer, older] = byAor.get(aor.name) ?? []
      expect(older!.via_addr).toBe(newer!.via_addr)
      expect(older!.user_agent).toBe(newer!.user_agent)
      expect(Number(older!.expiration_time)).toBeLessThan(Number(newer!.expiration_time))
      expect(Number(older!.expiration_time)).toBeGreaterThan(now)
    }
    expect(lab.rows.some((row) => Number(parse(row.value).expiration_time) <= now)).toBe(true)
  })
})
