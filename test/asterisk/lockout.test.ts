// The FAP003 lockout on a real Asterisk 22: a third device gets 403 (max_contacts=2), pjctl sees
// it, prunes the superseded contact, and the refused REGISTER then gets 200.
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cli, contactsOf, deleteKeys, pjctl, putRows, register } from './lab.js'

const AOR = 'FAP003'
const PASS = 'FAP003-pass'
// ports of our own (the lab's mix uses 5071-5099)
const OLD = 5171
const NEW = 5172
const THIRD = 5173

describe('FAP003 lockout on real Asterisk', () => {
  let saved = new Map<string, string>()

  beforeAll(async () => {
    saved = await contactsOf(AOR)
    await deleteKeys(saved.keys())
  })

  afterAll(async () => {
    // unREGISTER ours (clears Asterisk's memory of them too), then put back what was there
    for (const port of [OLD, NEW, THIRD]) await register(AOR, PASS, port, 0)
    await deleteKeys((await contactsOf(AOR)).keys())
    await putRows(saved)
    expect(await contactsOf(AOR)).toEqual(saved)
  })

  it('a phone that re-registered from a new port without unregistering locks out the next one: 403', async () => {
    // the same phone twice (same address and user agent): the older registration expires first
    expect((await register(AOR, PASS, OLD, 1800)).code).toBe(0)
    expect((await register(AOR, PASS, NEW, 3600)).code).toBe(0)
    const third = await register(AOR, PASS, THIRD, 3600)
    expect(third.stdout).toContain('403')
    expect(third.code).toBe(3)
  })

  it('check: CRITICAL (exit 2), names FAP003 full and the prune that frees it', async () => {
    const r = await pjctl(['check', AOR])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(2)
    expect(r.stdout).toMatch(/^PJCTL CRITICAL\b/)
    expect(r.stdout).toContain('FAP003 (2/2 full, 1 superseded)')
    expect(r.stdout).toMatch(/1 superseded.*pjctl prune FAP003/)
  })

  it("contacts --json: both contacts with the lab REGISTERs' user agent, the older one superseded", async () => {
    const r = await pjctl(['contacts', '--json', AOR])
    expect(r.code).toBe(0)
    const doc = JSON.parse(r.stdout) as {
      aors: {
        aor: string
        state: string
        maxContacts: number
        contacts: { viaPort: number; status: string; userAgent: string }[]
      }[]
    }
    const fap = doc.aors.find((a) => a.aor === AOR)!
    expect(fap).toMatchObject({ state: 'full', maxContacts: 2 })
    const byPort = Object.fromEntries(fap.contacts.map((c) => [c.viaPort, c.status]))
    expect(byPort).toEqual({ [OLD]: 'superseded', [NEW]: 'active' })
    expect(fap.contacts.every((c) => c.userAgent.startsWith('Grandstream'))).toBe(true)
  })

  it('prune --dry-run plans the superseded contact and changes nothing', async () => {
    const before = await contactsOf(AOR)
    const r = await pjctl(['prune', '--dry-run', '--json', AOR])
    expect(r.code).toBe(0)
    const plan = (
      JSON.parse(r.stdout) as { servers: { plan: { action: string; viaPort: number }[] }[] }
    ).servers[0]!.plan
    expect(plan.filter((p) => p.action === 'delete').map((p) => p.viaPort)).toEqual([OLD])
    expect(await contactsOf(AOR)).toEqual(before)
  })

  it('prune --yes deletes it (backed up), and the refused phone then registers: 200', async () => {
    const backup = join(mkdtempSync(join(tmpdir(), 'pjctl-lab-')), 'backup.jsonl')
    const before = await contactsOf(AOR)
    const r = await pjctl(['prune', '--yes', '--backup', backup, AOR])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/deleted=1\b/)
    const after = await contactsOf(AOR)
    expect(after.size).toBe(1)
    const [gone] = [...before.keys()].filter((k) => !after.has(k))
    const saved = readFileSync(backup, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { key: string; value: string })
    expect(saved.map((s) => [s.key, s.value])).toEqual([[gone, before.get(gone!)]])
    // Asterisk frees the slot at once: no reload, no restart
    expect(await cli(`pjsip show aor ${AOR}`)).not.toContain(`:${OLD}`)
    const retry = await register(AOR, PASS, THIRD, 3600)
    expect(retry.stdout).toContain('200')
    expect(retry.code).toBe(0)
  })

  it('afterwards the re-registered phone is active, the contact it replaced is now the superseded one', async () => {
    const r = await pjctl(['contacts', '--json', AOR])
    const fap = (
      JSON.parse(r.stdout) as {
        aors: { aor: string; contacts: { viaPort: number; status: string }[] }[]
      }
    ).aors.find((a) => a.aor === AOR)!
    expect(Object.fromEntries(fap.contacts.map((c) => [c.viaPort, c.status]))).toEqual({
      [NEW]: 'superseded',
      [THIRD]: 'active',
    })
  })
})
