// pjctl gen snippets loaded by a real Asterisk 22 with `module reload res_pjsip.so`, as docs/commands/gen.md
// tells admins to: the AORs get the limits pjctl wrote, and a phone registers with the generated
// credentials. The lab's pjsip.conf #tryincludes pjsip_pjctl.conf (after every lab AOR) and its
// pjsip_wizard.conf pjsip_wizard_pjctl.conf: the tests write there and restore them afterwards.
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cli, contactsOf, deleteKeys, labEtc, pjctl, register } from './lab.js'

const PJSIP = labEtc('pjsip_pjctl.conf')
const WIZARD = labEtc('pjsip_wizard_pjctl.conf')
const PASSWORD = 'Lab-gen-7f3a9c2e'

const saved = new Map<string, string | null>()

async function reload(): Promise<void> {
  await cli('module reload res_pjsip.so')
}

/** The `pjsip show aor NAME` fields of one AOR (max_contacts, remove_existing, …). */
async function aorSettings(name: string): Promise<Record<string, string>> {
  const text = await cli(`pjsip show aor ${name}`)
  const fields: Record<string, string> = {}
  for (const m of text.matchAll(/^[ \t]*([a-z_]+)[ \t]+:[ \t]*(.*?)[ \t]*$/gm))
    fields[m[1]!] ??= m[2]!
  return fields
}

async function gen(args: string[]): Promise<string> {
  const r = await pjctl(['gen', ...args], { LAB_GEN_PW: PASSWORD })
  // warnings (one password for several names) are fine here; errors are not
  expect(
    r.stderr.split('\n').filter((line) => line && !line.startsWith('pjctl: warning:')),
  ).toEqual([])
  expect(r.code).toBe(0)
  return r.stdout
}

describe('gen snippets on real Asterisk', () => {
  beforeAll(() => {
    for (const file of [PJSIP, WIZARD])
      saved.set(file, existsSync(file) ? readFileSync(file, 'utf8') : null)
  })

  afterAll(async () => {
    for (const [file, text] of saved) {
      if (text === null) rmSync(file, { force: true })
      else writeFileSync(file, text)
    }
    await reload()
    const fap = await aorSettings('FAP003')
    expect([fap.max_contacts, fap.remove_existing]).toEqual(['2', 'false'])
  })

  it('gen pjsip: endpoint, auth and AOR load; the AOR has max_contacts and remove_existing=yes; a phone registers', async () => {
    writeFileSync(
      PJSIP,
      await gen([
        'pjsip',
        'labgen1',
        'labgen2',
        '--max-contacts',
        '2',
        '--password-env',
        'LAB_GEN_PW',
      ]),
    )
    chmodSync(PJSIP, 0o600)
    await reload()
    for (const name of ['labgen1', 'labgen2']) {
      const aor = await aorSettings(name)
      expect([aor.max_contacts, aor.remove_existing]).toEqual(['2', 'true'])
    }
    expect(await cli('pjsip show endpoint labgen1')).toMatch(/Endpoint:\s+labgen1/)
    // the generated credentials work; a third device replaces the oldest instead of getting 403
    try {
      for (const port of [5181, 5182, 5183])
        expect((await register('labgen1', PASSWORD, port, 3600)).code).toBe(0)
      expect((await register('labgen1', 'wrong', 5184, 3600)).code).toBe(4)
      const contacts = await contactsOf('labgen1')
      expect(contacts.size).toBe(2)
      const r = await pjctl(['check', 'labgen1'])
      expect(r.code).toBe(0)
      expect(r.stdout).toMatch(/^PJCTL OK/)
    } finally {
      for (const port of [5181, 5182, 5183]) await register('labgen1', PASSWORD, port, 0)
      await deleteKeys((await contactsOf('labgen1')).keys())
    }
  })

  it('gen pjsip --template: templates and per-name sections load', async () => {
    writeFileSync(
      PJSIP,
      await gen([
        'pjsip',
        'labtpl1',
        'labtpl2',
        '--template',
        'labphone',
        '--max-contacts',
        '3',
        '--password-env',
        'LAB_GEN_PW',
      ]),
    )
    await reload()
    for (const name of ['labtpl1', 'labtpl2'])
      expect(await aorSettings(name)).toMatchObject({ max_contacts: '3', remove_existing: 'true' })
    expect((await register('labtpl2', PASSWORD, 5185, 3600)).code).toBe(0)
    await register('labtpl2', PASSWORD, 5185, 0)
  })

  it("gen pjsip --append on the lab's FAP003: (+type=aor) raises max_contacts and sets remove_existing", async () => {
    expect(await aorSettings('FAP003')).toMatchObject({
      max_contacts: '2',
      remove_existing: 'false',
    })
    writeFileSync(PJSIP, await gen(['pjsip', 'FAP003', '--append', '--max-contacts', '3']))
    await reload()
    expect(await aorSettings('FAP003')).toMatchObject({
      max_contacts: '3',
      remove_existing: 'true',
    })
    // the endpoint of the same name is untouched
    expect(await cli('pjsip show endpoint FAP003')).toMatch(/Endpoint:\s+FAP003/)
  })

  it('gen wizard: the wizard creates the AOR with aor/max_contacts and aor/remove_existing; a phone registers', async () => {
    writeFileSync(PJSIP, saved.get(PJSIP) ?? '')
    writeFileSync(
      WIZARD,
      await gen(['wizard', 'labwiz1', '--max-contacts', '3', '--password-env', 'LAB_GEN_PW']),
    )
    await reload()
    expect(await aorSettings('labwiz1')).toMatchObject({
      max_contacts: '3',
      remove_existing: 'true',
    })
    try {
      expect((await register('labwiz1', PASSWORD, 5186, 3600)).code).toBe(0)
    } finally {
      await register('labwiz1', PASSWORD, 5186, 0)
      await deleteKeys((await contactsOf('labwiz1')).keys())
    }
  })
})
