import { describe, expect, it } from 'vitest'
import { IncompleteAnswerError } from '../../src/errors.js'
import {
  DatabaseShowParser,
  DbTreeParser,
  KEEP_PLANNED,
  KEEP_PREVIEWED,
  KEEP_SHOWN,
  checkComplete,
  contactsFromDbTree,
  countCheck,
  parseDatabaseShow,
} from '../../src/core/dump.js'
import type { Contact, ParsedContacts } from '../../src/core/types.js'
import { dbTreeRows, outputLines, readCapture } from '../helpers/captures.js'

function fromLines(lines: string[]) {
  const parser = new DatabaseShowParser()
  for (const line of lines) parser.push(line)
  return parser.finish()
}

const HASH = 'd5408853c3814cad6c134f9836efc3ff'

function aliceLine(): string {
  return readCapture('cli_database_show_registrar_single').split('\n')[0]!
}

describe('the 13-contact capture', () => {
  const cli = parseDatabaseShow(readCapture('cli_database_show_registrar_contact'))
  const command = fromLines(outputLines(readCapture('cmd_database_show_registrar_contact')))
  const tree = dbTreeRows(readCapture('dbgettree_registrar_contact'))
  const dbTree = contactsFromDbTree(tree.rows, tree.listItems)

  it('parses the CLI dump completely', () => {
    expect(cli.contacts).toHaveLength(13)
    expect(cli.problems).toEqual([])
    expect(cli.declaredCount).toBe(13)
    expect(cli.otherRows).toBe(0)
    expect(() => checkComplete(cli, 'test')).not.toThrow()
  })

  it('keep: each contact is cut down as it is parsed; problems and counts are judged on the whole row', () => {
    const keep = (c: Contact): Contact => ({ ...c, value: '', fields: {} })
    const viaCommand = new DatabaseShowParser(undefined, keep)
    for (const line of outputLines(readCapture('cmd_database_show_registrar_contact')))
      viaCommand.push(line)
    const viaTree = new DbTreeParser(keep)
    for (const row of tree.rows) viaTree.push(row)
    for (const parsed of [viaCommand.finish(), viaTree.finish(tree.listItems)]) {
      expect(parsed.contacts).toEqual(cli.contacts.map(keep))
      expect(countCheck(parsed)).toEqual(countCheck(cli))
    }
    const broken = new DbTreeParser(keep)
    broken.push({ key: `alice;@${HASH}`, value: '{"expiration_time":"soon"}' })
    expect(broken.finish(1).problems).toMatchObject([
      { kept: true, reason: 'expiration_time "soon" is not a number' },
    ])
  })

  it('KEEP_SHOWN (check, contacts and sources without --raw): no stored value or raw fields, the rest as parsed', () => {
    const shown = new DbTreeParser(KEEP_SHOWN)
    for (const row of tree.rows) shown.push(row)
    const parsed = shown.finish(tree.listItems)
    expect(parsed.contacts).toEqual(cli.contacts.map((c) => ({ ...c, value: '', fields: {} })))
    expect(countCheck(parsed)).toEqual(countCheck(cli))
    for (const contact of parsed.contacts) {
      expect(contact.key).toBe(`${contact.aor};@${contact.hash}`)
      expect(contact.hash).toMatch(/^[0-9a-f]{32}$/)
    }
  })

  it('KEEP_SHOWN: sharing what a contact has in common with the one before it changes no value', () => {
    const row = (hash: string, endpoint: string): [string, string] => [
      `alice;@${hash}`,
      JSON.stringify({
        via_addr: '192.0.2.7',
        user_agent: 'Grandstream GXP2130 1.0.11.3',
        reg_server: 'pbx01',
        endpoint,
        expiration_time: '1800000000',
      }),
    ]
    const shown = new DbTreeParser(KEEP_SHOWN)
    shown.add(...row(HASH, 'alice'))
    shown.add(...row(HASH.replace(/^./, 'f'), 'alice'))
    shown.add(...row(HASH.replace(/^./, 'e'), 'bob'))
    const [a, b, c] = shown.finish(3).contacts
    expect([a?.aor, b?.aor, c?.aor]).toEqual(['alice', 'alice', 'alice'])
    expect([c?.endpoint, c?.viaAddr, c?.userAgent, c?.regServer]).toEqual([
      'bob',
      '192.0.2.7',
      'Grandstream GXP2130 1.0.11.3',
      'pbx01',
    ])
    for (const name of ['aor', 'viaAddr', 'userAgent', 'regServer', 'endpoint'] as const)
      expect(b?.[name]).toBe(a?.[name])
    expect(a?.endpoint).toBe('alice')
    // a contact that differs keeps its own value
    const other = new DbTreeParser(KEEP_SHOWN)
    other.add(...row(HASH, 'alice'))
    other.add(
      `bob;@${HASH}`,
      '{"via_addr":"192.0.2.8","user_agent":"Yealink","reg_server":"pbx02"}',
    )
    expect(other.finish(2).contacts[1]).toMatchObject({
      aor: 'bob',
      viaAddr: '192.0.2.8',
      userAgent: 'Yealink',
      regServer: 'pbx02',
      endpoint: '',
    })
  })

  it('KEEP_PLANNED (prune): the stored value byte for byte and qualify_frequency, no other raw field', () => {
    const planned = new DbTreeParser(KEEP_PLANNED)
    for (const row of tree.rows) planned.push(row)
    const parsed = planned.finish(tree.listItems)
    expect(parsed.contacts).toEqual(
      cli.contacts.map((c) => ({
        ...c,
        fields: { qualify_frequency: c.fields.qualify_frequency },
      })),
    )
    const rows = new Map(tree.rows.map((r) => [r.key, r.value]))
    for (const c of parsed.contacts) expect(c.value).toBe(rows.get(c.key))
  })

  it('KEEP_PREVIEWED (prune --dry-run): what KEEP_SHOWN keeps, and qualify_frequency', () => {
    const previewed = new DbTreeParser(KEEP_PREVIEWED)
    for (const row of tree.rows) previewed.push(row)
    const parsed = previewed.finish(tree.listItems)
    expect(parsed.contacts).toEqual(
      cli.contacts.map((c) => ({
        ...c,
        value: '',
        fields: { qualify_frequency: c.fields.qualify_frequency },
      })),
    )
    expect(parsed.contacts.some((c) => c.fields.qualify_frequency !== undefined)).toBe(true)
  })

  it('gives identical contacts from the CLI dump, Command Output lines and DBGetTree rows', () => {
    expect(command.contacts).toEqual(cli.contacts)
    expect(dbTree.contacts).toEqual(cli.contacts)
    expect(command.declaredCount).toBe(13)
    expect(dbTree.declaredCount).toBe(13)
    expect(() => checkComplete(command, 'test')).not.toThrow()
    expect(() => checkComplete(dbTree, 'test')).not.toThrow()
  })

  it('keeps values byte for byte', () => {
    const rows = new Map(tree.rows.map((r) => [r.key, r.value]))
    for (const c of cli.contacts) expect(c.value).toBe(rows.get(c.key))
  })

  it('reads dave’s odd URI and four-hop Path exactly', () => {
    const dave = cli.contacts.find((c) => c.aor === 'dave')!
    expect(dave.uri).toBe(
      'sip:dave@127.0.0.1:5099;user=phone;transport=udp;ob;line=k7f3a9c;x-esc=a%3bb%40c%20d;gr=urn:uuid:0f3c5a2e',
    )
    expect(dave.fields.path!.split(',')).toHaveLength(4)
    expect(dave.fields.path).toContain('received=sip:127.0.0.1:61234')
    expect(dave.userAgent).toBe('OBIHAI/OBi202-3.2.2.5921EX')
  })

  it('lists the AORs of the capture', () => {
    expect([...new Set(cli.contacts.map((c) => c.aor))]).toEqual([
      'FAP003',
      'alice',
      'bob',
      'carol',
      'dave',
      'erin',
      'phone1',
      'wizphone',
    ])
  })
})

describe('small captures', () => {
  it('single contact, CLI and Command alike', () => {
    const cli = parseDatabaseShow(readCapture('cli_database_show_registrar_single'))
    const cmd = fromLines(outputLines(readCapture('cmd_database_show_registrar_single')))
    expect(cli.contacts).toHaveLength(1)
    expect(cli.contacts[0]!.key).toBe(`alice;@${HASH}`)
    expect(cmd).toEqual(cli)
    checkComplete(cli, 'test')
  })

  it.each([
    'cli_database_show_registrar_contact_empty',
    'cli_database_show_registrar_contact_FAP003',
  ])('%s: 0 results', (name) => {
    const parsed = parseDatabaseShow(readCapture(name))
    expect(parsed).toEqual({ contacts: [], problems: [], declaredCount: 0, otherRows: 0 })
    checkComplete(parsed, 'test')
  })

  it.each([
    'cmd_database_show_registrar_contact_empty',
    'cmd_database_show_registrar_contact_FAP003',
  ])('%s over AMI: 0 results', (name) => {
    const parsed = fromLines(outputLines(readCapture(name)))
    expect(parsed.declaredCount).toBe(0)
    expect(parsed.contacts).toEqual([])
    checkComplete(parsed, 'test')
  })

  it('DBGetTree of a missing family: ListItems 0', () => {
    const tree = dbTreeRows(readCapture('dbgettree_missing'))
    const parsed = contactsFromDbTree(tree.rows, tree.listItems)
    expect(parsed.declaredCount).toBe(0)
    checkComplete(parsed, 'test')
  })
})

describe('line framing', () => {
  it('finds the key end by shape although values contain `: `', () => {
    const line = aliceLine().replace('"Yealink SIP-T46S 66.86.0.15"', '"Weird: UA: with colons"')
    const parsed = fromLines([line, '1 results found.'])
    expect(parsed.problems).toEqual([])
    expect(parsed.contacts[0]!.userAgent).toBe('Weird: UA: with colons')
    expect(parsed.contacts[0]!.key).toBe(`alice;@${HASH}`)
  })

  it('accepts AOR names that contain `: ` themselves', () => {
    const line = aliceLine().replace('/alice;@', '/odd: name;@')
    const parsed = fromLines([line, '1 results found.'])
    expect(parsed.contacts[0]!.aor).toBe('odd: name')
  })

  it('tolerates padding before `: ` and value padding of %-25s', () => {
    const padded =
      `/registrar/contact/a;@${HASH}`.padEnd(60) + ': ' + '{"uri":"sip:a@h"}'.padEnd(25)
    const parsed = fromLines([padded, '1 results found.'])
    expect(parsed.problems).toEqual([])
    expect(parsed.contacts[0]!.value).toBe('{"uri":"sip:a@h"}')
  })

  it('keeps trailing spaces of a value longer than the 25-column pad', () => {
    const value = '{"uri":"sip:a@somewhere.example"}  '
    const parsed = fromLines([`/registrar/contact/a;@${HASH}: ${value}`, '1 results found.'])
    expect(parsed.contacts[0]!.value).toBe(value)
  })

  it('reports a malformed JSON line with its line number, not as a contact', () => {
    const good = aliceLine()
    const bad = good.slice(0, -20)
    const parsed = fromLines([good, bad, '2 results found.'])
    expect(parsed.contacts).toHaveLength(1)
    expect(parsed.problems).toEqual([
      { line: 2, reason: 'value is not valid JSON', text: expect.any(String) },
    ])
    expect(parsed.problems[0]!.text.length).toBeLessThanOrEqual(161)
    checkComplete(parsed, 'test')
  })

  it('reports a line of garbage and counts it', () => {
    const parsed = fromLines([aliceLine(), 'garbage here', '1 results found.'])
    expect(parsed.problems).toMatchObject([{ line: 2, text: 'garbage here' }])
    expect(() => checkComplete(parsed, 'test')).toThrow(IncompleteAnswerError)
  })

  it('reports keys that are not <aor>;@<32 hex>', () => {
    const parsed = fromLines([
      '/registrar/contact/FAP003: {}',
      `/registrar/contact/FAP003;@${HASH.toUpperCase()}: {}`,
      `/registrar/contact/FAP003;@${HASH}x: {}`,
      `/registrar/contact/;@${HASH}: {}`,
      '2 results found.',
    ])
    expect(parsed.contacts).toEqual([])
    expect(parsed.problems.map((p) => p.line)).toEqual([1, 2, 3, 4])
  })

  it('ignores blank lines, CRs and a trailing --END COMMAND--', () => {
    const parsed = parseDatabaseShow(
      `\r\n${aliceLine()}\r\n\r\n1 results found.\r\n--END COMMAND--\r\n`,
    )
    expect(parsed.problems).toEqual([])
    expect(parsed.contacts).toHaveLength(1)
    expect(parsed.contacts[0]!.value.endsWith('}')).toBe(true)
    checkComplete(parsed, 'test')
  })

  it('counts other families of a whole `database show` toward N, as entries', () => {
    const text = [
      '/SIP/Registry/foo                                 : bar                      ',
      '/dundi/cache/hint/e164/x                          : 123',
      aliceLine(),
      '3 results found.',
    ].join('\n')
    const parsed = parseDatabaseShow(text)
    expect(parsed.otherRows).toBe(2)
    expect(parsed.contacts).toHaveLength(1)
    checkComplete(parsed, 'test')
    expect(() => checkComplete({ ...parsed, declaredCount: 4 }, 'test')).toThrow(
      /announced 4 entries, 3 arrived/,
    )
  })

  it('reports a second count line', () => {
    const parsed = fromLines(['0 results found.', '0 results found.'])
    expect(parsed.problems).toMatchObject([{ line: 2, reason: 'a second `N results found.` line' }])
  })

  it('numbers problems of DBGetTree rows by item', () => {
    const parsed = contactsFromDbTree(
      [
        { key: `a;@${HASH}`, value: '{}' },
        { key: 'nope', value: '{}' },
      ],
      2,
    )
    expect(parsed.problems).toMatchObject([{ line: 2 }])
  })
})

describe('checkComplete', () => {
  const base: ParsedContacts = { contacts: [], problems: [], declaredCount: 0 }

  it('throws on a count mismatch, with the writetimeout hint', () => {
    const lines = outputLines(readCapture('cmd_database_show_registrar_contact'))
    const truncated = fromLines([...lines.slice(0, 5), lines[lines.length - 1]!])
    try {
      checkComplete(truncated, "Command 'database show registrar/contact' from pbx1", 'pjctl')
      expect.unreachable()
    } catch (e) {
      expect(e).toBeInstanceOf(IncompleteAnswerError)
      const err = e as IncompleteAnswerError
      expect(err.message).toBe(
        "incomplete answer from the server: it announced 13 contacts, 5 arrived (Command 'database show registrar/contact' from pbx1)",
      )
      expect(err.hint).toBe(
        "Asterisk drops AMI output that is not read within the manager user's writetimeout; raise writetimeout= for [pjctl] in manager.conf (e.g. writetimeout = 5000) and try again",
      )
    }
  })

  it('throws when the count line is missing (truncated)', () => {
    const lines = outputLines(readCapture('cmd_database_show_registrar_contact'))
    const parsed = fromLines(lines.slice(0, -1))
    expect(parsed.declaredCount).toBeNull()
    expect(() => checkComplete(parsed, 'x')).toThrow(
      /never said how many contacts it holds, 13 arrived/,
    )
    expect(() => checkComplete(parseDatabaseShow(''), 'x')).toThrow(IncompleteAnswerError)
  })

  it('counts contacts + problems (+ other rows)', () => {
    expect(
      countCheck({
        ...base,
        declaredCount: 2,
        problems: [{ line: 1, reason: 'r', text: 't' }],
        otherRows: 1,
      }),
    ).toEqual({
      declared: 2,
      arrived: 2,
      complete: true,
    })
    expect(() => checkComplete({ ...base, declaredCount: 1 }, 'x')).toThrow(IncompleteAnswerError)
  })
})
