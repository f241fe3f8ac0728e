// pjctl contacts against a simulated Asterisk: both AMI sources and both Command formats,
// odd AOR names and values, parse problems, names on the command line, saved dumps, the table.
import { spawn, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { captureSeed, generateRows } from '../../src/sim/seed.js'
import { runIn, runIn as run } from '../helpers/cli.js'
import { BIN, isolatedHome, type RunResult } from '../helpers/run.js'
import { envFor, sim } from '../helpers/sim.js'
import {
  actionsWithHeaders,
  aor,
  LIMITS_FROM_CONFIG,
  sessionsOf,
  dumpOf,
  expectNoSecret,
  fieldsOf,
  md5,
  nowSeconds,
  row,
  seedOf,
  stableAors,
  summary,
  tempDir,
  writeFile,
  SORCERY,
} from '../helpers/rows.js'

const FIXTURE = resolve(
  __dirname,
  '../fixtures/ami-transcripts/cli_database_show_registrar_contact.txt',
)

/** The captured lab (src/sim/seed.ts captureSeed), judged with the default thresholds. */
const LAB = [
  ['FAP003', 2, 2, 'full', 2],
  ['alice', 1, 1, 'full', 0],
  ['bob', 2, 2, 'full', 1],
  ['carol', 1, 3, 'ok', 0],
  ['dave', 1, 1, 'full', 0],
  ['erin', 2, 2, 'full', 0],
  ['phone1', 3, 4, 'near', 0],
  ['phone2', 0, 1, 'ok', 0],
  ['wizphone', 1, 2, 'near', 0],
]

const json = (r: RunResult) => JSON.parse(r.stdout)

describe('pjctl contacts: sources', () => {
  it('reads Asterisk 13 (no DBGetTree): auto falls back to Command and parses the `Response: Follows` body', async () => {
    const server = await sim({ version: '13' })
    const r = await run(['contacts', '--json'], { env: envFor(server) })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const doc = json(r)
    expect(doc.source).toBe('command')
    expect(summary(doc.aors)).toEqual(LAB)
    expect(doc.aors.flatMap((a: { contacts: unknown[] }) => a.contacts)).toHaveLength(13)
    expect(doc.problems).toEqual([])
    // the secret never crosses the network: Key = md5(challenge + secret), as main/manager.c checks it
    const first = server.received.filter((a) => a.connection === server.received[0]!.connection)
    const challenge = first[1]!.challenge!
    expect(challenge).toMatch(/^\d{1,9}$/)
    expect(actionsWithHeaders(first).slice(0, 2)).toEqual([
      ['Challenge', { Authtype: 'MD5' }],
      [
        'login',
        { Authtype: 'MD5', Event: 'off', Key: md5(challenge + 'pjctl-secret'), Username: 'pjctl' },
      ],
    ])
    // contacts on the first session; limits from the config files on a second one, at the same time
    expect(sessionsOf(server.received)).toEqual([
      [
        SORCERY,
        ['DBGetTree', { Family: 'registrar/contact' }],
        ['Command', { Command: 'database show registrar/contact' }],
      ],
      LIMITS_FROM_CONFIG,
    ])
  })

  it('--source command on Asterisk 22 reads the `Output:` lines and never asks DBGetTree', async () => {
    const server = await sim()
    const r = await run(['contacts', '--json', '--source', 'command'], { env: envFor(server) })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(json(r).source).toBe('command')
    expect(summary(json(r).aors)).toEqual(LAB)
    expect(sessionsOf(server.received)).toEqual([
      [SORCERY, ['Command', { Command: 'database show registrar/contact' }]],
      LIMITS_FROM_CONFIG,
    ])
  })

  it('--source dbgettree, --source command and auto give identical aors for the same store (22 and 13)', async () => {
    const now = nowSeconds()
    const server = await sim({ seed: captureSeed({ now }) })
    const docs: Record<string, { source: string; aors: never[] }> = {}
    for (const source of ['dbgettree', 'command', 'auto']) {
      const r = await run(['contacts', '--json', '--source', source], { env: envFor(server) })
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
      docs[source] = json(r)
    }
    const old = await sim({ version: '13', seed: captureSeed({ now }) })
    const r13 = await run(['contacts', '--json'], { env: envFor(old) })
    expect(r13.code).toBe(0)
    expect([
      docs.dbgettree!.source,
      docs.command!.source,
      docs.auto!.source,
      json(r13).source,
    ]).toEqual(['dbgettree', 'command', 'dbgettree', 'command'])
    expect(summary(docs.dbgettree!.aors)).toEqual(LAB)
    const reference = stableAors(docs.dbgettree!.aors)
    expect(stableAors(docs.command!.aors)).toEqual(reference)
    expect(stableAors(docs.auto!.aors)).toEqual(reference)
    expect(stableAors(json(r13).aors)).toEqual(reference)
  })

  it('auto uses Command for a user that may not use DBGetTree, and warns that max_contacts is unknown', async () => {
    const server = await sim({
      users: [{ username: 'cli', secret: 'cli-pw-1', write: ['command'] }],
    })
    const r = await run(['contacts', '--json'], { env: envFor(server, 'cli', 'cli-pw-1') })
    expect(r.code).toBe(0)
    expect(r.stderr).toBe(
      "pjctl: warning: cannot read sorcery.conf to learn where contacts live (AMI action GetConfig was refused: permission denied (needs write=system or config)); read astdb registrar/contact (res_pjsip's default), which holds contacts\n" +
        `pjctl: warning: 127.0.0.1:${server.port}: cannot read max_contacts over AMI (AMI actions GetConfig and PJSIPShowAors were refused: permission denied (needs write=config or system)); ` +
        "give [cli] write=config (GetConfig) or write=system in manager.conf, then 'manager reload'\n",
    )
    const doc = json(r)
    expect(doc.source).toBe('command')
    expect(summary(doc.aors)).toEqual(
      LAB.filter(([name]) => name !== 'phone2').map(([name, count]) => [
        name,
        count,
        null,
        'unknown',
        0,
      ]),
    )
    expect(sessionsOf(server.received).map((session) => session.map(([action]) => action))).toEqual(
      [
        ['GetConfig', 'DBGetTree', 'Command'],
        ['GetConfig', 'GetConfig', 'GetConfig', 'PJSIPShowAors'],
      ],
    )
  })

  it('lists many AORs (2,000 contacts over 1,000 AORs) identically over DBGetTree and Command', async () => {
    const now = nowSeconds()
    const big = generateRows({ count: 2000, now })
    // two sims with the same store (a PJSIPShowAors would make the sim, like Asterisk, sweep the ~1 % expired contacts)
    const server = await sim({ seed: big })
    const twin = await sim({ seed: generateRows({ count: 2000, now }) })
    const tree = await run(['contacts', '--json'], { env: envFor(server) })
    const command = await run(['contacts', '--json', '--source', 'command'], { env: envFor(twin) })
    expect([tree.code, command.code, tree.stderr, command.stderr]).toEqual([0, 0, '', ''])
    const doc = json(tree)
    expect(doc.aors).toHaveLength(1000)
    expect(
      doc.aors.reduce((n: number, a: { contacts: unknown[] }) => n + a.contacts.length, 0),
    ).toBe(2000)
    const keys = doc.aors
      .flatMap((a: { contacts: { key: string }[] }) => a.contacts.map((c) => c.key))
      .sort()
    expect(keys).toEqual(big.rows.map((r) => r.key).sort())
    const limits = Object.fromEntries(big.aors.map((a) => [a.name, a.maxContacts]))
    for (const a of doc.aors)
      expect([a.aor, a.maxContacts, a.maxContactsSource]).toEqual([
        a.aor,
        limits[a.aor],
        'getconfig',
      ])
    expect(
      doc.aors.flatMap((a: { contacts: { status: string }[] }) =>
        a.contacts.filter((c) => c.status === 'expired'),
      ).length,
    ).toBeGreaterThan(0)
    expect(stableAors(json(command).aors)).toEqual(stableAors(doc.aors))
  })
})

describe('pjctl contacts: what the store holds', () => {
  it('a single contact', async () => {
    const now = nowSeconds()
    const only = row({
      aor: 'FAP003',
      viaAddr: '192.0.2.16',
      viaPort: 5062,
      expirationTime: now + 1800,
    })
    const server = await sim({ seed: seedOf([only], [aor('FAP003', 2)]) })
    for (const source of ['dbgettree', 'command']) {
      const r = await run(['contacts', '--json', '--raw', '--source', source], {
        env: envFor(server),
      })
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
      const doc = json(r)
      expect(summary(doc.aors)).toEqual([['FAP003', 1, 2, 'near', 0]])
      expect(doc.aors[0].contacts).toHaveLength(1)
      expect(doc.aors[0].contacts[0]).toMatchObject({
        key: `FAP003;@${md5('sip:FAP003@192.0.2.16:5062')}`,
        hash: md5('sip:FAP003@192.0.2.16:5062'),
        uri: 'sip:FAP003@192.0.2.16:5062',
        viaAddr: '192.0.2.16',
        viaPort: 5062,
        userAgent: 'Grandstream GXP2130 1.0.11.3',
        endpoint: 'FAP003',
        expirationTime: now + 1800,
        status: 'active',
        supersededBy: null,
        fields: JSON.parse(only.value),
      })
    }
  })

  it('an empty registrar: no AORs, exit 0, over both sources and in the table', async () => {
    const server = await sim({ seed: seedOf([], []) })
    for (const source of ['dbgettree', 'command']) {
      const r = await run(['contacts', '--json', '--source', source], { env: envFor(server) })
      expect([r.code, r.stderr]).toEqual([0, ''])
      expect(json(r)).toMatchObject({ source, aors: [], problems: [] })
    }
    const table = await run(['contacts'], { env: envFor(server) })
    // piped: one row per contact, so none
    expect([table.code, table.stderr, table.stdout]).toEqual([0, '', ''])
  })

  it('AOR names with - . + _ @ and non-ASCII letters, over every source', async () => {
    const now = nowSeconds()
    const names = [
      'sales-1',
      'front.desk',
      '+4930123',
      'x_y',
      'alice@example.com',
      'a.b-c+d_e@f',
      'Jürgen',
      'Ωμέγα',
      '電話',
    ]
    const rows = names.map((name, i) =>
      row({ aor: name, viaPort: 5070 + i, expirationTime: now + 900 + i }),
    )
    const server = await sim({
      seed: seedOf(
        rows,
        names.map((name) => aor(name, 3)),
      ),
    })
    const sorted = [...names].sort()
    for (const source of ['dbgettree', 'command']) {
      const r = await run(['contacts', '--json', '--source', source], { env: envFor(server) })
      expect([r.code, r.stderr]).toEqual([0, ''])
      const doc = json(r)
      expect(doc.aors.map((a: { aor: string }) => a.aor)).toEqual(sorted)
      for (const a of doc.aors) {
        const i = names.indexOf(a.aor)
        expect([a.count, a.maxContacts, a.endpoints, a.contacts[0].key, a.contacts[0].uri]).toEqual(
          [
            1,
            3,
            [a.aor],
            `${a.aor};@${md5(`sip:${a.aor}@192.0.2.10:${5070 + i}`)}`,
            `sip:${a.aor}@192.0.2.10:${5070 + i}`,
          ],
        )
      }
    }
    const dir = tempDir()
    const dump = await run([
      'contacts',
      '--json',
      '--input',
      writeFile(dir, 'dump.txt', dumpOf(rows)),
    ])
    expect(dump.code).toBe(0)
    expect(json(dump).aors.map((a: { aor: string }) => a.aor)).toEqual(sorted)
    for (const name of ['alice@example.com', 'Jürgen', '+4930123']) {
      const one = await run(['contacts', name, '--json'], { env: envFor(server) })
      expect([one.code, one.stderr]).toEqual([0, ''])
      expect(json(one).aors.map((a: { aor: string }) => a.aor)).toEqual([name])
    }
    const endpointAsked = server.received
      .filter((a) => a.action === 'PJSIPShowEndpoint')
      .map((a) => a.headers.find(([n]) => n === 'Endpoint')?.[1])
    expect(endpointAsked).toEqual(['alice@example.com', 'Jürgen', '+4930123'])
  })

  it('answers cut into 3-byte TCP chunks (splitting UTF-8 characters) read the same as whole ones', async () => {
    const now = nowSeconds()
    const names = ['Jürgen', 'Ωμέγα', '電話', 'zoë.desk']
    const rows = names.map((name, i) =>
      row({
        aor: name,
        viaPort: 5080 + i,
        userAgent: `Téléphone ${name} 1.0`,
        expirationTime: now + 900,
      }),
    )
    const seed = () =>
      seedOf(
        rows,
        names.map((name) => aor(name, 2)),
      )
    const whole = await sim({ seed: seed() })
    const reference = await run(['contacts', '--json'], { env: envFor(whole) })
    expect([reference.code, reference.stderr]).toEqual([0, ''])
    expect(json(reference).aors.map((a: { aor: string }) => a.aor)).toEqual([...names].sort())
    for (const [version, source] of [
      ['22', 'dbgettree'],
      ['22', 'command'],
      ['13', 'auto'],
    ] as const) {
      const chunked = await sim({ version, chunkSize: 3, seed: seed() })
      const r = await run(['contacts', '--json', '--source', source], { env: envFor(chunked) })
      expect([r.code, r.stderr]).toEqual([0, ''])
      expect(stableAors(json(r).aors)).toEqual(stableAors(json(reference).aors))
    }
  })

  it('a value containing `: ` is kept byte for byte (Command, DBGetTree and a dump)', async () => {
    const now = nowSeconds()
    const spec = {
      aor: 'desk',
      userAgent: 'Acme: SoftPhone: 2.0 (build: 7)',
      path: '<sip:edge.example: 5060;lr>',
      uri: 'sip:desk@192.0.2.44:5060;x-note=a: b',
      expirationTime: now + 1200,
    }
    const r0 = row(spec)
    const server = await sim({ seed: seedOf([r0], [aor('desk', 2)]) })
    const dir = tempDir()
    const runs = [
      await run(['contacts', '--json', '--raw', '--source', 'command'], { env: envFor(server) }),
      await run(['contacts', '--json', '--raw', '--source', 'dbgettree'], { env: envFor(server) }),
      await run([
        'contacts',
        '--json',
        '--raw',
        '--input',
        writeFile(dir, 'dump.txt', dumpOf([r0])),
      ]),
    ]
    for (const r of runs) {
      expect([r.code, r.stderr]).toEqual([0, ''])
      const contact = json(r).aors[0].contacts[0]
      expect(contact.key).toBe(`desk;@${md5(spec.uri)}`)
      expect(contact.fields).toEqual(fieldsOf(spec))
      expect([contact.userAgent, contact.uri]).toEqual([spec.userAgent, spec.uri])
    }
  })

  it('a malformed JSON line: a warning naming the line, the other contacts listed, exit 0; --strict exits 2', async () => {
    const now = nowSeconds()
    const rows = ['aa', 'bb', 'cc'].map((name, i) =>
      row({ aor: name, viaPort: 5060 + i, expirationTime: now + 600 }),
    )
    const broken = '{"via_addr":"192.0.2.10","uri":"sip:bb@192.0.2.10:5061","expiration_time":'
    rows[1] = { key: rows[1]!.key, value: broken }
    const server = await sim({
      seed: seedOf(
        rows,
        ['aa', 'bb', 'cc'].map((name) => aor(name, 2)),
      ),
    })

    const command = await run(['contacts', '--json', '--source', 'command'], {
      env: envFor(server),
    })
    expect(command.code).toBe(0)
    expect(command.stderr).toBe(
      `pjctl: warning: line 2 did not parse (value is not valid JSON): /registrar/contact/${rows[1].key}: ${broken}\n`,
    )
    const doc = json(command)
    expect(doc.aors.map((a: { aor: string; count: number }) => [a.aor, a.count])).toEqual([
      ['aa', 1],
      ['bb', 0],
      ['cc', 1],
    ])
    expect(doc.problems).toEqual([
      {
        line: 2,
        reason: 'value is not valid JSON',
        text: `/registrar/contact/${rows[1].key}: ${broken}`,
      },
    ])

    const tree = await run(['contacts', '--json', '--source', 'dbgettree'], { env: envFor(server) })
    expect(tree.code).toBe(0)
    expect(tree.stderr).toBe(
      `pjctl: warning: line 2 did not parse (value is not valid JSON): ${rows[1].key}: ${broken}\n`,
    )
    expect(json(tree).aors.map((a: { aor: string; count: number }) => [a.aor, a.count])).toEqual([
      ['aa', 1],
      ['bb', 0],
      ['cc', 1],
    ])

    const quiet = await run(['contacts', '--json', '--quiet'], { env: envFor(server) })
    expect([quiet.code, quiet.stderr]).toEqual([0, ''])

    for (const source of ['command', 'dbgettree']) {
      const strict = await run(['contacts', '--json', '--strict', '--source', source], {
        env: envFor(server),
      })
      expect(strict.code).toBe(2)
      expect(strict.stdout).toBe('')
      expect(strict.stderr).toBe(
        'pjctl: 1 line(s) did not parse; first at line 2: value is not valid JSON\nhint: without --strict these are warnings and the rest is still reported\n',
      )
      expectNoSecret(strict, 'pjctl-secret')
    }
  })
})

describe('pjctl contacts NAME', () => {
  it('selects by AOR name and by endpoint name, asking PJSIPShowEndpoint first', async () => {
    const now = nowSeconds()
    const rows = [
      row({ aor: 'FAP003', endpoint: 'desk-7', viaPort: 5060, expirationTime: now + 600 }),
      row({ aor: 'FAP003', endpoint: 'desk-7', viaPort: 5062, expirationTime: now + 900 }),
      row({ aor: 'alice', viaPort: 5070, expirationTime: now + 600 }),
    ]
    const server = await sim({ seed: seedOf(rows, [aor('FAP003', 2), aor('alice', 1)]) })
    const byAor = await run(['contacts', 'FAP003', '--json'], { env: envFor(server) })
    expect([byAor.code, byAor.stderr]).toEqual([0, ''])
    expect(summary(json(byAor).aors)).toEqual([['FAP003', 2, 2, 'full', 2]])
    expect(sessionsOf(server.received)).toEqual([
      [SORCERY, ['DBGetTree', { Family: 'registrar/contact' }]],
      [['PJSIPShowEndpoint', { Endpoint: 'FAP003' }]],
    ])

    server.received.length = 0
    const byEndpoint = await run(['contacts', 'desk-7', '--json'], { env: envFor(server) })
    expect([byEndpoint.code, byEndpoint.stderr]).toEqual([0, ''])
    const doc = json(byEndpoint)
    expect(summary(doc.aors)).toEqual([['FAP003', 2, 2, 'full', 2]])
    expect(doc.aors[0].endpoints).toEqual(['desk-7'])
    // the sim has no endpoint desk-7 ("Unable to retrieve endpoint"), so every AOR's limit is read, from the config files
    expect(sessionsOf(server.received)).toEqual([
      [SORCERY, ['DBGetTree', { Family: 'registrar/contact' }]],
      [['PJSIPShowEndpoint', { Endpoint: 'desk-7' }], ...LIMITS_FROM_CONFIG],
    ])
  })

  it('an unknown name exits 2; a known and an unknown name warn and list the known one', async () => {
    const server = await sim()
    const unknown = await run(['contacts', 'nosuch'], { env: envFor(server) })
    expect(unknown.code).toBe(2)
    expect(unknown.stdout).toBe('')
    expect(unknown.stderr).toBe(
      `pjctl: no AOR or endpoint named 'nosuch' on 127.0.0.1:${server.port}\n`,
    )
    expectNoSecret(unknown, 'pjctl-secret')

    const mixed = await run(['contacts', 'alice', 'nosuch', '--json'], { env: envFor(server) })
    expect(mixed.code).toBe(0)
    expect(mixed.stderr).toBe(
      `pjctl: warning: no AOR or endpoint named 'nosuch' on 127.0.0.1:${server.port}\n`,
    )
    expect(summary(json(mixed).aors)).toEqual([['alice', 1, 1, 'full', 0]])
  })
})

describe('pjctl contacts --input (a saved dump, no server)', () => {
  const fixtureText = readFileSync(FIXTURE, 'utf8')
  const fixtureKeys = [
    ...fixtureText.matchAll(/^\/registrar\/contact\/(\S+);@([0-9a-f]{32}): /gm),
  ].map((m) => `${m[1]};@${m[2]}`)

  function expectFixtureParsed(doc: {
    source: string
    generatedAt: string
    aors: {
      aor: string
      count: number
      maxContacts: number | null
      maxContactsSource: string
      contacts: { key: string; status: string; expirationTime: number }[]
    }[]
    problems: unknown[]
  }): void {
    expect(doc.source).toBe('dump')
    expect(doc.problems).toEqual([])
    expect(doc.aors.map((a) => a.aor)).toEqual([
      'FAP003',
      'alice',
      'bob',
      'carol',
      'dave',
      'erin',
      'phone1',
      'wizphone',
    ])
    expect(doc.aors.flatMap((a) => a.contacts.map((c) => c.key))).toEqual(fixtureKeys)
    const now = Date.parse(doc.generatedAt) / 1000
    for (const a of doc.aors) {
      expect([a.maxContacts, a.maxContactsSource]).toEqual([null, 'none'])
      expect(a.count).toBe(a.contacts.filter((c) => c.expirationTime > now).length)
      for (const c of a.contacts) if (c.expirationTime <= now) expect(c.status).toBe('expired')
    }
  }

  it('--input FILE parses the captured `database show` and connects to nothing', async () => {
    const server = await sim()
    expect(fixtureKeys).toHaveLength(13)
    const r = await run(['contacts', '--json', '--input', FIXTURE], { env: envFor(server) })
    expect([r.code, r.stderr]).toEqual([0, ''])
    const doc = json(r)
    expect(doc.server).toBe(FIXTURE)
    expectFixtureParsed(doc)
    expect(doc.aors.find((a: { aor: string }) => a.aor === 'dave').contacts[0].uri).toBe(
      'sip:dave@127.0.0.1:5099;user=phone;transport=udp;ob;line=k7f3a9c;x-esc=a%3bb%40c%20d;gr=urn:uuid:0f3c5a2e',
    )
    expect(server.received).toEqual([])
  })

  it('--input - reads the same dump from standard input', async () => {
    const server = await sim()
    const r = await run(['contacts', '--json', '--input', '-'], {
      env: envFor(server),
      stdin: fixtureText,
    })
    expect([r.code, r.stderr]).toEqual([0, ''])
    expect(json(r).server).toBe('stdin')
    expectFixtureParsed(json(r))
    expect(server.received).toEqual([])
  })

  it('--pjsip-conf supplies max_contacts (source pjsip-conf); --max-contacts covers the rest (source flag)', async () => {
    const now = nowSeconds()
    const rows = [
      row({ aor: 'FAP003', viaPort: 5060, expirationTime: now + 600 }),
      row({ aor: 'FAP003', viaPort: 5062, expirationTime: now + 900 }),
      row({ aor: 'alice', viaPort: 5070, expirationTime: now + 600 }),
      row({ aor: 'bob', viaPort: 5080, expirationTime: now + 600 }),
    ]
    const dir = tempDir()
    const dump = writeFile(dir, 'contacts.txt', dumpOf(rows))
    writeFile(
      dir,
      'pjsip.aor.conf',
      '[FAP003]\ntype=aor\nmax_contacts=2\n\n[alice]\ntype=aor\nmax_contacts=4\nremove_existing=yes\n',
    )
    const conf = writeFile(dir, 'pjsip.conf', '[global]\ntype=global\n\n#include pjsip.aor.conf\n')

    const fromConf = await run(['contacts', '--json', '--input', dump, '--pjsip-conf', conf])
    expect([fromConf.code, fromConf.stderr]).toEqual([0, ''])
    expect(
      json(fromConf).aors.map(
        (a: {
          aor: string
          count: number
          maxContacts: number | null
          maxContactsSource: string
          removeExisting: boolean | null
          state: string
        }) => [a.aor, a.count, a.maxContacts, a.maxContactsSource, a.removeExisting, a.state],
      ),
    ).toEqual([
      ['FAP003', 2, 2, 'pjsip-conf', false, 'full'],
      ['alice', 1, 4, 'pjsip-conf', true, 'ok'],
      ['bob', 1, null, 'none', null, 'unknown'],
    ])

    const withFlag = await run([
      'contacts',
      '--json',
      '--input',
      dump,
      '--pjsip-conf',
      conf,
      '--max-contacts',
      '1',
    ])
    expect(withFlag.code).toBe(0)
    expect(
      json(withFlag).aors.map(
        (a: { aor: string; maxContacts: number; maxContactsSource: string; state: string }) => [
          a.aor,
          a.maxContacts,
          a.maxContactsSource,
          a.state,
        ],
      ),
    ).toEqual([
      ['FAP003', 2, 'pjsip-conf', 'full'],
      ['alice', 4, 'pjsip-conf', 'ok'],
      ['bob', 1, 'flag', 'full'],
    ])

    const flagOnly = await run([
      'contacts',
      'FAP003',
      '--json',
      '--input',
      dump,
      '--max-contacts',
      '3',
    ])
    expect(flagOnly.code).toBe(0)
    expect(summary(json(flagOnly).aors)).toEqual([['FAP003', 2, 3, 'near', 0]])
    expect(json(flagOnly).aors[0].maxContactsSource).toBe('flag')
  })

  it('a dump that is cut short or missing is an input error (exit 2), not an unreadable server', async () => {
    const dir = tempDir()
    const cut = fixtureText.split('\n').slice(0, 3).join('\n') + '\n'
    const r = await run(['contacts', '--input', writeFile(dir, 'cut.txt', cut)])
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe(
      `pjctl: ${join(dir, 'cut.txt')} is not a complete 'database show' dump: it has no \`N results found.\` line, 3 entries read\nhint: save the whole output of asterisk -rx "database show registrar/contact", including its last line\n`,
    )
    const lying = await run(['contacts', '--input', '-'], {
      stdin: fixtureText.replace('13 results found.', '14 results found.'),
    })
    expect(lying.code).toBe(2)
    expect(lying.stderr.split('\n')[0]).toBe(
      "pjctl: standard input is not a complete 'database show' dump: it says 14 results found, 13 entries read",
    )
    const missing = await run(['contacts', '--input', join(dir, 'nope.txt')])
    expect([missing.code, missing.stdout, missing.stderr]).toEqual([
      2,
      '',
      `pjctl: cannot read ${join(dir, 'nope.txt')}: no such file\n`,
    ])
  })
})

describe('pjctl contacts: the table', () => {
  async function lockout() {
    const now = nowSeconds()
    const ua = 'Grandstream GXP2130 1.0.11.3'
    const newer = row({
      aor: 'FAP003',
      viaAddr: '192.0.2.16',
      viaPort: 5062,
      userAgent: ua,
      expirationTime: now + 3555,
    })
    const older = row({
      aor: 'FAP003',
      viaAddr: '192.0.2.16',
      viaPort: 5060,
      userAgent: ua,
      expirationTime: now + 1265,
    })
    const server = await sim({ seed: seedOf([newer, older], [aor('FAP003', 2)]) })
    return { server, newer: newer.key.split(';@')[1], older: older.key.split(';@')[1] }
  }

  it('piped: one plain tab-separated row per contact, every row carrying its AOR, no box drawing, no advice', async () => {
    const { server, newer, older } = await lockout()
    const r = await runIn(['contacts', 'FAP003'], { env: envFor(server) })
    expect([r.code, r.stderr]).toEqual([0, ''])
    const rows = r.stdout
      .trimEnd()
      .split('\n')
      .map((line) => line.split('\t'))
    expect(rows).toHaveLength(2)
    const byHash = Object.fromEntries(rows.map((c) => [c[3], c]))
    expect(byHash[newer!].slice(0, 5)).toEqual(['FAP003', '2/2', 'full', newer, 'active'])
    expect(byHash[newer!][5]).toMatch(/^59m 1[345]s$/)
    expect(byHash[newer!].slice(6)).toEqual([
      '192.0.2.16:5062',
      'Grandstream GXP2130 1.0.11.3',
      'sip:FAP003@192.0.2.16:5062',
    ])
    expect(byHash[older!].slice(0, 5)).toEqual([
      'FAP003',
      '2/2',
      'full',
      older,
      `superseded by ${newer!.slice(0, 8)}`,
    ])
    expect(byHash[older!][5]).toMatch(/^21m 0[345]s$/)
    expect(r.stdout).not.toMatch(/[│┌└├─]/)
    expect(r.stdout).not.toContain('Lasting fix')
    // `| grep superseded` keeps the AOR
    expect(r.stdout.split('\n').filter((line) => line.includes('superseded'))).toEqual([
      expect.stringMatching(/^FAP003\t2\/2\tfull\t/),
    ])
  })

  it('--problems: only AORs not OK or holding stale contacts, in every format', async () => {
    const server = await sim()
    const r = await runIn(['contacts', '--problems'], { env: envFor(server) })
    expect(r.code).toBe(0)
    // FAP003 (lockout: twins), bob (full, two devices), erin (remove_existing=yes but a superseded contact)
    expect([
      ...new Set(
        r.stdout
          .trimEnd()
          .split('\n')
          .map((line) => line.split('\t')[0]),
      ),
    ]).toEqual(['FAP003', 'bob', 'erin'])
    const doc = json(await runIn(['contacts', '--problems', '--json'], { env: envFor(server) }))
    expect(doc.aors.map((a: { aor: string }) => a.aor)).toEqual(['FAP003', 'bob', 'erin'])
    const all = await runIn(['contacts'], { env: envFor(server) })
    expect(all.stdout.trimEnd().split('\n')).toHaveLength(13)
  })

  it('no ANSI escapes when stdout is not a terminal, even with FORCE_COLOR=1 and no NO_COLOR', async () => {
    const { server } = await lockout()
    const r = await run(['contacts', 'FAP003'], {
      env: { ...envFor(server), NO_COLOR: undefined, FORCE_COLOR: '1' },
    })
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('FAP003\t2/2\tfull\t')
    expect(r.stdout).not.toContain('\u001b')
    expect(r.stderr).not.toContain('\u001b')
  })

  const hasScript = spawnSync('script', ['--version']).status === 0

  /** Runs the CLI with stdout on a pseudo-terminal (util-linux `script`). */
  function runOnTty(
    args: string[],
    env: Record<string, string | undefined>,
  ): Promise<{ code: number | null; out: string }> {
    const quoted = [process.execPath, BIN, ...args]
      .map((a) => `'${a.replace(/'/g, `'\\''`)}'`)
      .join(' ')
    const full: Record<string, string> = {}
    for (const [k, v] of Object.entries({
      PATH: process.env.PATH,
      TERM: 'xterm',
      ...isolatedHome(),
      ...env,
    }))
      if (v !== undefined) full[k] = v
    return new Promise((done, reject) => {
      const child = spawn('script', ['-qec', quoted, '/dev/null'], {
        env: full,
        stdio: ['pipe', 'pipe', 'pipe'],
      })
      let out = ''
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
      child.on('error', reject)
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
      child.on('close', (code) => {
        clearTimeout(timer)
        done({ code, out })
      })
      child.stdin.end()
    })
  }

  it.skipIf(!hasScript)(
    'colours on a terminal; NO_COLOR=1 and --no-color turn it off',
    async () => {
      const { server } = await lockout()
      const env = { ...envFor(server) }
      // three terminals side by side: each is a `script` child process
      const [coloured, noColor, flag] = await Promise.all([
        runOnTty(['contacts', 'FAP003'], env),
        runOnTty(['contacts', 'FAP003'], { ...env, NO_COLOR: '1' }),
        runOnTty(['contacts', 'FAP003', '--no-color'], env),
      ])
      expect(coloured.code).toBe(0)
      expect(coloured.out).toContain('\u001b[1mAOR FAP003\u001b[22m')
      expect(coloured.out).toMatch(/\u001b\[31m\u001b\[1mFULL/)
      expect(noColor.out).toContain('AOR FAP003  2/2  FULL')
      expect(noColor.out).not.toContain('\u001b')
      expect(flag.out).toContain('AOR FAP003  2/2  FULL')
      expect(flag.out).not.toContain('\u001b')
    },
  )

  it.skipIf(!hasScript)(
    'on a terminal the table fits COLUMNS=80 (no pty size): URI and user agent shortened with …, no row wrapped, no boxes',
    async () => {
      const now = nowSeconds()
      const ua =
        'Yealink SIP-T54W 96.86.0.100 (Linux 4.9.11; hw 96.0.0.128.0.0.0; locale en_US; xml-browser 3.2)'
      const rows = [
        row({
          aor: '1001',
          viaAddr: '203.0.113.200',
          viaPort: 52044,
          userAgent: ua,
          uri: 'sip:1001@203.0.113.200:52044;transport=UDP;rinstance=9c1e5f0a7b3d2e41',
          expirationTime: now + 3300,
        }),
        row({
          aor: '1001',
          viaAddr: '203.0.113.200',
          viaPort: 52046,
          userAgent: ua,
          uri: 'sip:1001@203.0.113.200:52046;transport=UDP;rinstance=0a7b3d2e419c1e5f',
          expirationTime: now + 600,
        }),
      ]
      const server = await sim({ seed: seedOf(rows, [aor('1001', 2)]) })
      const widths = ['80', '120']
      const runs = await Promise.all(
        widths.map((columns) =>
          runOnTty(['contacts', '1001', '--no-color'], { ...envFor(server), COLUMNS: columns }),
        ),
      )
      for (const [i, columns] of widths.entries()) {
        const r = runs[i]
        expect(r!.code).toBe(0)
        const lines = r!.out.replace(/\r/g, '').split('\n\n')[0]!.split('\n')
        expect(lines[0]).toMatch(/^AOR 1001 {2}2\/2 {2}FULL {2}\(/)
        expect(lines[1]).toMatch(/^ {2}KEY {7}URI +SOURCE +USER AGENT +EXPIRES +STATUS$/)
        expect(lines).toHaveLength(5)
        // the fix check prints, whole: a command is never cut
        expect(lines[4]).toBe('  Free it now: pjctl prune 1001')
        for (const line of lines) expect(line.length).toBeLessThanOrEqual(Number(columns))
        expect(lines[2]).toContain('…')
        expect(r!.out).not.toMatch(/[│┌└├─]/)
      }
    },
  )
})
