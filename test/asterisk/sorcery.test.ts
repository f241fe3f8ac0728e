// sorcery.conf's contact mapping on a real Asterisk: this file starts its own Asterisk (the lab's binary,
// AST_PREFIX, under LAB_PREFIX ~/.pjctl-lab-sorcery, SIP 5760, AMI 5738 (LAB_SORCERY_SIP_PORT, LAB_SORCERY_AMI_PORT)) with a sorcery.conf of its
// own, checks pjctl against it, and stops it.
// - contact=astdb,registrar2: check exits 2 naming FAP003, contacts FAP003 shows 2, prune lets the
//   third REGISTER through.
// - contact=memory, and a memory_cache with full_backend_cache: the right answer through AMI PJSIPShowContacts;
//   prune refuses (exit 3 naming sorcery.conf).
// - a memory_cache (not full) in front of astdb and an AOR no endpoint names: prune expires its contacts and
//   has Asterisk retrieve them with `pjsip show aor`, so they go through sorcery and the cache drops its copies.
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { astdbContacts, LAB, labEtc, pjctl, register, spawnText } from './lab.js'
import { takeLock } from './setup.js'

const OWN = {
  prefix: process.env.LAB_SORCERY_PREFIX ?? join(homedir(), '.pjctl-lab-sorcery'),
  sipPort: Number(process.env.LAB_SORCERY_SIP_PORT ?? 5760),
  port: Number(process.env.LAB_SORCERY_AMI_PORT ?? 5738),
}
/** This file's own lab has its own lock (flock). */
const OWN_LOCK = process.env.LAB_SORCERY_LOCK ?? '/tmp/pjctl-lab-sorcery.lock'
const AST_PREFIX = process.env.AST_PREFIX ?? join(LAB.prefix, 'asterisk')
const saved = { prefix: LAB.prefix, sipPort: LAB.sipPort, port: LAB.port }

async function startWith(sorcery: string): Promise<void> {
  const extra = mkdtempSync(join(tmpdir(), 'pjctl-sorcery-etc-'))
  writeFileSync(join(extra, 'sorcery.conf'), `[res_pjsip]\n${sorcery}\n`)
  const r = await spawnText(
    'bash',
    [join(LAB.dir, 'start.sh')],
    {
      AST_PREFIX,
      LAB_PREFIX: OWN.prefix,
      LAB_SIP_PORT: String(OWN.sipPort),
      LAB_AMI_PORT: String(OWN.port),
      LAB_EXTRA_ETC: extra,
      LAB_CLEAN_DB: '1',
    },
    120_000,
  )
  if (r.code !== 0) throw new Error(`start.sh: exit ${r.code}: ${r.stderr}`)
}

async function stop(): Promise<void> {
  await spawnText(
    'bash',
    [join(LAB.dir, 'stop.sh')],
    { AST_PREFIX, LAB_PREFIX: OWN.prefix },
    60_000,
  )
}

/** `asterisk -rx` against this file's own Asterisk (cli.sh needs its AST_PREFIX). */
async function cli(command: string): Promise<string> {
  const r = await spawnText(
    'bash',
    [join(LAB.dir, 'cli.sh'), ...command.split(' ')],
    { AST_PREFIX, LAB_PREFIX: OWN.prefix },
    60_000,
  )
  if (r.code !== 0) throw new Error(`cli.sh ${command}: exit ${r.code}: ${r.stderr}`)
  return r.stdout
}

// The first of each pair of FAP003 registrations asks for a shorter expiry: two contacts of one device
// that expire in the same second cannot be told apart (prune then plans nothing), and two REGISTERs
// sent back to back usually land in the same second.
describe('sorcery.conf contact mapping on a real Asterisk', () => {
  // this Asterisk is the file's own, whichever lab's run started it: two runs (on two labs) must not share it
  let lock: ChildProcess | null = null
  beforeAll(async () => {
    lock = await takeLock(OWN_LOCK, Number(process.env.LAB_LOCK_WAIT ?? 900))
    Object.assign(LAB, OWN)
  })
  afterAll(async () => {
    try {
      await stop()
    } finally {
      Object.assign(LAB, saved)
      lock?.stdin?.end()
    }
  })

  it('contact=astdb,registrar2: check exits 2 naming FAP003, contacts FAP003 shows 2, prune FAP003 --yes lets the third REGISTER through', async () => {
    await startWith('contact=astdb,registrar2')
    expect((await register('FAP003', 'FAP003-pass', 25201, 1800)).code).toBe(0)
    expect((await register('FAP003', 'FAP003-pass', 25202)).code).toBe(0)
    expect((await register('FAP003', 'FAP003-pass', 25203)).code).toBe(3)

    const check = await pjctl(['check', 'FAP003'])
    expect(check.code).toBe(2)
    expect(check.stdout).toMatch(/^PJCTL CRITICAL - .*FAP003 \(2\/2/)
    const contacts = await pjctl(['contacts', 'FAP003', '--json'])
    expect(contacts.code).toBe(0)
    expect(JSON.parse(contacts.stdout).aors[0].contacts).toHaveLength(2)

    const env = { XDG_STATE_HOME: mkdtempSync(join(tmpdir(), 'pjctl-sorcery-')) }
    const prune = await pjctl(['prune', 'FAP003', '--yes'], env)
    expect(prune.code).toBe(0)
    expect((await register('FAP003', 'FAP003-pass', 25203)).code).toBe(0)
  })

  it('a memory_cache with full_backend_cache in front of astdb: read through AMI; prune refuses (a write to astdb would not reach the cache the registrar counts from)', async () => {
    await startWith(
      'contact/cache=memory_cache,name=contacts,full_backend_cache=yes\ncontact=astdb,registrar',
    )
    expect((await register('FAP003', 'FAP003-pass', 25221, 1800)).code).toBe(0)
    expect((await register('FAP003', 'FAP003-pass', 25222)).code).toBe(0)
    expect((await register('FAP003', 'FAP003-pass', 25223)).code).toBe(3)

    const check = await pjctl(['check', 'FAP003'])
    expect(check.code).toBe(2)
    expect(check.stdout).toMatch(/^PJCTL CRITICAL - .*FAP003 \(2\/2/)
    const env = { XDG_STATE_HOME: mkdtempSync(join(tmpdir(), 'pjctl-sorcery-')) }
    const prune = await pjctl(['prune', 'FAP003', '--yes'], env)
    expect(prune.code).toBe(3)
    expect(prune.stderr).toMatch(
      /^pjctl: sorcery\.conf \[res_pjsip\] contact\/cache=memory_cache,.*pjctl prune cannot change them \(nothing changed\)$/m,
    )
    expect((await register('FAP003', 'FAP003-pass', 25223)).code).toBe(3)
  })

  it('contact=memory: read through AMI PJSIPShowContacts (check exits 2 naming FAP003, contacts FAP003 shows 2); prune refuses with exit 3 naming sorcery.conf, nothing changed', async () => {
    await startWith('contact=memory')
    expect((await register('FAP003', 'FAP003-pass', 25211, 1800)).code).toBe(0)
    expect((await register('FAP003', 'FAP003-pass', 25212)).code).toBe(0)
    expect((await register('FAP003', 'FAP003-pass', 25213)).code).toBe(3)

    const check = await pjctl(['check', 'FAP003'])
    expect(check.code).toBe(2)
    expect(check.stdout).toMatch(/^PJCTL CRITICAL - .*FAP003 \(2\/2/)
    expect(check.stderr).toMatch(
      /^pjctl: warning: .*: contacts are in Asterisk's memory: read with one AMI PJSIPShowContacts/,
    )
    const contacts = await pjctl(['contacts', 'FAP003', '--json'])
    expect(contacts.code).toBe(0)
    const shown = JSON.parse(contacts.stdout).aors[0].contacts as { uri: string }[]
    expect(shown.map((c) => c.uri).sort()).toEqual([
      expect.stringMatching(/^sip:FAP003@127\.0\.0\.1:25211\b/),
      expect.stringMatching(/^sip:FAP003@127\.0\.0\.1:25212\b/),
    ])

    const env = { XDG_STATE_HOME: mkdtempSync(join(tmpdir(), 'pjctl-sorcery-')) }
    const prune = await pjctl(['prune', 'FAP003', '--yes'], env)
    expect(prune.code).toBe(3)
    expect(prune.stderr).toMatch(
      /^pjctl: sorcery\.conf \[res_pjsip\] contact=memory: contacts in Asterisk's memory \(read through AMI PJSIPShowContacts\) can be removed or added only by Asterisk, which has no AMI or CLI action for one contact; pjctl prune cannot change them \(nothing changed\)$/m,
    )
    expect(prune.stdout).not.toMatch(/OK/)
    // nothing changed: the phone is still locked out
    expect((await register('FAP003', 'FAP003-pass', 25213)).code).toBe(3)
  })

  it('a memory_cache (not full) in front of astdb, an AOR no endpoint names: prune expires and has Asterisk retrieve its contacts (pjsip show aor), and the cache drops its copies', async () => {
    await startWith('contact/cache=memory_cache,name=contacts\ncontact=astdb,registrar')
    const file = labEtc('pjsip_pjctl.conf')
    const aor = '[pfc]\ntype = aor\nmax_contacts = 3\n'
    try {
      writeFileSync(
        file,
        `[pfc]\ntype = endpoint\ncontext = from-lab\nauth = pfc\naors = pfc\n\n[pfc]\ntype = auth\nauth_type = userpass\nusername = pfc\npassword = pfc-pass\n\n${aor}`,
      )
      await cli('module reload res_pjsip.so')
      const ports = [25231, 25232, 25233] // below the ephemeral range (32768-60999)
      for (const [i, port] of ports.entries())
        expect((await register('pfc', 'pfc-pass', port, 600 + 600 * i)).code).toBe(0)
      const keys = ports.map(
        (port) => `pfc;@${createHash('md5').update(`sip:pfc@127.0.0.1:${port}`).digest('hex')}`,
      )
      // the registrar created them through sorcery: the cache holds each
      const before = await cli('sorcery memory cache dump contacts')
      // (the dump cuts each name at 25 characters)
      for (const key of keys) expect(before).toContain(key.slice(0, 25))
      // the endpoint goes, the AOR stays
      writeFileSync(file, aor)
      await cli('module reload res_pjsip.so')

      const env = { XDG_STATE_HOME: mkdtempSync(join(tmpdir(), 'pjctl-sorcery-')) }
      const prune = await pjctl(
        ['prune', 'pfc', '--keep', '1', '--yes', '--json', '--force', '--in-flight', '1'],
        env,
      )
      expect([prune.code, prune.stderr]).toEqual([0, ''])
      const outcomes = (
        JSON.parse(prune.stdout) as { servers: { outcomes: { key: string; detail: string }[] }[] }
      ).servers[0]!.outcomes
      expect(outcomes.map((o) => [o.key, o.detail]).sort()).toEqual(
        [keys[0]!, keys[1]!]
          .map((k) => [k, 'removed by Asterisk (expired, then retrieved)'])
          .sort(),
      )
      expect([...(await astdbContacts()).keys()].filter((k) => k.startsWith('pfc;@'))).toEqual([
        keys[2],
      ])
      const after = await cli('sorcery memory cache dump contacts')
      expect(after).toContain(keys[2]!.slice(0, 25))
      expect(after).not.toContain(keys[0]!.slice(0, 25))
      expect(after).not.toContain(keys[1]!.slice(0, 25))
    } finally {
      rmSync(file, { force: true })
    }
  })
})
