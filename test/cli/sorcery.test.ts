// sorcery.conf's contact mapping against the sim: contacts are read (and pruned, restored) where
// Asterisk keeps them, and pjctl exits 3 naming sorcery.conf where it cannot read them; never an
// answer of 0 contacts from the wrong place.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { lockoutSeed } from '../../src/sim/seed.js'
import type { SimConfigFiles } from '../../src/sim/config.js'
import type { FaultySim } from '../../src/sim/faults.js'
import { runIn as run } from '../helpers/cli.js'
import { envFor, sim } from '../helpers/sim.js'
import { home } from '../helpers/prune.js'
import { nowSeconds } from '../helpers/rows.js'

const sorcery = (...lines: [string, string][]): SimConfigFiles => ({
  'sorcery.conf': [{ name: 'res_pjsip', lines }],
})

function thirdRegister(server: FaultySim) {
  return server.registrar.register({
    aor: 'FAP003',
    uri: 'sip:FAP003@192.0.2.16:5064',
    viaAddr: '192.0.2.16',
    viaPort: 5064,
    userAgent: 'Grandstream GXP2130 1.0.11.3',
  })
}

describe('contact=astdb,registrar2 (another family)', () => {
  it('check is CRITICAL naming FAP003, contacts shows its 2, prune lets the third REGISTER through', async () => {
    const server = await sim({
      seed: lockoutSeed({ now: nowSeconds() }),
      configFiles: sorcery(['contact', 'astdb,registrar2']),
    })
    // the contacts are where Asterisk put them, none in the default family
    expect(server.astdb.tree('registrar/contact')).toEqual([])
    expect(server.astdb.tree('registrar2/contact').length).toBeGreaterThan(0)
    expect(thirdRegister(server).code).toBe(403)

    const check = await run(['check'], { env: envFor(server) })
    expect(check.code).toBe(2)
    expect(check.stdout).toMatch(/^PJCTL CRITICAL - .*FAP003 \(2\/2/)

    const contacts = await run(['contacts', 'FAP003', '--json'], { env: envFor(server) })
    expect([contacts.code, contacts.stderr]).toEqual([0, ''])
    expect(JSON.parse(contacts.stdout).aors[0].contacts).toHaveLength(2)

    const env = { ...envFor(server), ...home() }
    const prune = await run(['prune', 'FAP003', '--yes', '--json'], { env })
    expect(prune.code).toBe(0)
    // compared, backed up, expired and checked gone in registrar2/contact (the default family is only read, pipelined with sorcery.conf)
    expect(
      server.received
        .filter((a) => /^(DBGet|DBDel|DBPut)$/.test(a.action))
        .map((a) => [a.action, a.headers.find(([n]) => n === 'Family')?.[1]]),
    ).toEqual([
      ['DBGet', 'registrar2/contact'],
      ['DBPut', 'registrar2/contact'],
    ])
    expect(thirdRegister(server).code).toBe(200)
  })
})

const COST_LINE =
  /^pjctl: warning: 127\.0\.0\.1:\d+: contacts are in Asterisk's (memory|realtime odbc,asterisk|memory_cache \(full_backend_cache\) in front of its store): read with one AMI PJSIPShowContacts, whose cost to Asterisk grows with the square of the contacts \(Asterisk 22\.10\.1, contact=memory: .*\)$/

describe('stores pjctl has no client for (memory, odbc): read through AMI PJSIPShowContacts, changed only by Asterisk', () => {
  it.each([
    ['memory', sorcery(['contact', 'memory'])],
    [
      'a memory_cache with full_backend_cache in front of astdb',
      sorcery(
        ['contact/cache', 'memory_cache,name=contacts,full_backend_cache=yes'],
        ['contact', 'astdb,registrar2'],
      ),
    ],
    [
      'a memory_cache in front of memory',
      sorcery(['contact/cache', 'memory_cache'], ['contact', 'memory']),
    ],
    [
      'realtime on odbc',
      // TypeScript 7 (tsc) needs the assertion for the tuple lines; 6 (the linter's) does not
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
      {
        ...sorcery(['contact', 'realtime,ps_contacts']),
        'extconfig.conf': [{ name: 'settings', lines: [['ps_contacts', 'odbc,asterisk']] }],
      } as SimConfigFiles,
    ],
  ])(
    '%s: check is CRITICAL naming FAP003, contacts shows its 2, the cost said once; prune and restore refuse, nothing written',
    async (_, configFiles) => {
      const server = await sim({ seed: lockoutSeed({ now: nowSeconds() }), configFiles })
      // the contacts are where AMI's DB actions cannot see them
      expect(server.astdb.tree('registrar/contact')).toEqual([])
      expect(thirdRegister(server).code).toBe(403)

      const check = await run(['check'], { env: envFor(server) })
      expect(check.code).toBe(2)
      expect(check.stdout).toMatch(/^PJCTL CRITICAL - .*FAP003 \(2\/2/)
      const said = check.stderr.split('\n').filter(Boolean)
      expect(said).toHaveLength(1)
      expect(said[0]).toMatch(COST_LINE)
      expect(server.received.filter((a) => a.action === 'PJSIPShowContacts')).toHaveLength(1)

      const contacts = await run(['contacts', 'FAP003', '--json'], { env: envFor(server) })
      expect(contacts.code).toBe(0)
      const aor = JSON.parse(contacts.stdout).aors[0]
      expect(aor.contacts).toHaveLength(2)
      expect(aor.contacts.map((c: { userAgent: string }) => c.userAgent)).toEqual([
        'Grandstream GXP2130 1.0.11.3',
        'Grandstream GXP2130 1.0.11.3',
      ])

      const dry = await run(['prune', 'FAP003', '--dry-run'], { env: envFor(server) })
      expect(dry.code).toBe(0)
      expect(dry.stdout).toMatch(/FAP003/)

      const env = { ...envFor(server), ...home() }
      for (const via of ['asterisk', 'delete', 'expire']) {
        const prune = await run(['prune', 'FAP003', '--yes', '--via', via], { env })
        expect(prune.code).toBe(3)
        expect(prune.stderr).toMatch(
          /^pjctl: sorcery\.conf \[res_pjsip\] contact.*: contacts in Asterisk's .* can be removed or added only by Asterisk, which has no AMI or CLI action for one contact; pjctl prune cannot change them \(nothing changed\)$/m,
        )
      }
      // an AOR with nothing to prune is refused the same way, not answered with a --key hint
      const idle = await run(['prune', 'alice', '--yes'], { env })
      expect(idle.code).toBe(3)
      expect(idle.stderr).toMatch(/pjctl prune cannot change them \(nothing changed\)$/m)
      expect(idle.stdout).not.toMatch(/Nothing to prune|--key/)
      // restore: a backup of a contact of another AOR, refused before anything is written
      const backup = join(mkdtempSync(join(tmpdir(), 'pjctl-sorcery-')), 'backup.jsonl')
      const value = JSON.stringify({
        uri: 'sip:alice@192.0.2.9:5060',
        expiration_time: String(nowSeconds() + 600),
        endpoint: 'alice',
      })
      const entry = {
        server: `127.0.0.1:${server.port}`,
        family: 'registrar/contact',
        key: 'alice;@0123456789abcdef0123456789abcdef',
        value,
        deletedAt: new Date().toISOString(),
        reason: 'test',
      }
      writeFileSync(backup, `${JSON.stringify(entry)}\n`)
      const restore = await run(['restore', backup, '--force'], { env })
      expect(restore.code).toBe(3)
      expect(restore.stderr).toMatch(/pjctl restore cannot change them \(nothing changed\)$/m)
      expect(server.received.filter((a) => /^(DBDel|DBPut)$/.test(a.action))).toEqual([])
      expect(thirdRegister(server).code).toBe(403)
    },
  )

  it('an answer that lost ContactList events is never reported as whole: exit 3', async () => {
    const server = await sim({
      seed: lockoutSeed({ now: nowSeconds() }),
      configFiles: sorcery(['contact', 'memory']),
      faults: { dropOutputLines: { action: 'PJSIPShowContacts', count: 1 } },
    })
    const r = await run(['check'], { env: envFor(server) })
    expect(r.code).toBe(3)
    expect(r.stdout).toMatch(/^PJCTL UNKNOWN/)
    expect(r.stderr).toMatch(
      /incomplete answer to PJSIPShowContacts from 127\.0\.0\.1:\d+: it announced \d+ items, \d+ arrived/,
    )
  })

  it('no contact at all (Asterisk answers "No Contacts found"): OK with 0 contacts', async () => {
    const seed = lockoutSeed({ now: nowSeconds() })
    const server = await sim({
      seed: { ...seed, rows: [] },
      configFiles: sorcery(['contact', 'memory']),
    })
    const r = await run(['contacts', '--json'], { env: envFor(server) })
    expect([r.code, r.stderr.split('\n')[0]]).toEqual([0, expect.stringMatching(COST_LINE)])
    expect(JSON.parse(r.stdout).aors.flatMap((a: { contacts: unknown[] }) => a.contacts)).toEqual(
      [],
    )
    expect(server.received.filter((a) => a.action === 'PJSIPShowContacts')).toHaveLength(1)
  })
})

describe('where pjctl cannot read the contacts: exit 3 naming sorcery.conf, never OK', () => {
  it.each([
    [
      'realtime without an extconfig.conf line',
      sorcery(['contact', 'realtime,ps_contacts']),
      "pjctl: sorcery.conf [res_pjsip] contact=realtime,ps_contacts: extconfig.conf maps no 'ps_contacts' (Asterisk cannot store contacts there either); pjctl cannot read these contacts",
    ],
    [
      'only a cache, no store',
      sorcery(['contact/cache', 'memory_cache']),
      'pjctl: sorcery.conf [res_pjsip] contact/cache=memory_cache: every contact line is a cache; no store behind it; pjctl cannot read these contacts',
    ],
  ])('%s', async (_, configFiles, line) => {
    const server = await sim({ seed: lockoutSeed({ now: nowSeconds() }), configFiles })
    for (const args of [['check'], ['contacts'], ['sources'], ['doctor']]) {
      const r = await run(args, { env: envFor(server) })
      expect(r.code).toBe(3)
      expect(r.stderr.split('\n')[0]!.startsWith(line)).toBe(true)
      expect(r.stdout).not.toMatch(/OK/)
    }
    const env = { ...envFor(server), ...home() }
    const prune = await run(['prune', '--yes'], { env })
    expect(prune.code).toBe(3)
    expect(server.received.filter((a) => /^(DBDel|DBPut)$/.test(a.action))).toEqual([])
  })

  it('sorcery.conf unreadable (GetConfig refused) and the default family empty: exit 3, not 0 contacts', async () => {
    const server = await sim({
      seed: lockoutSeed({ now: nowSeconds() }),
      configFiles: sorcery(['contact', 'memory']),
      users: [{ username: 'ro', secret: 'ro-pw-1', write: ['reporting'] }],
    })
    const r = await run(['check'], { env: envFor(server, 'ro', 'ro-pw-1') })
    expect(r.code).toBe(3)
    expect(r.stderr.split('\n')[0]).toBe(
      "pjctl: cannot read sorcery.conf to learn where contacts live (AMI action GetConfig was refused: permission denied (needs write=system or config)), and astdb registrar/contact (res_pjsip's default) holds no contact: they may live elsewhere",
    )
  })
})
