// Orphaned contacts on a real Asterisk 22: a contact left in astdb under an AOR that is no longer
// configured (an extension deleted). pjctl calls its AOR `orphaned` (the lab's AOR list is the
// config, authoritative), check WARNs and names pjctl prune, never UNKNOWN, and gives no
// remove_existing advice for an AOR that does not exist.
import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ami, CONTACT_FAMILY, contactsOf, deleteKeys, pjctl } from './lab.js'

const GHOST = 'ghost42'

function ghostContact(port: number): [string, string] {
  const uri = `sip:${GHOST}@192.0.2.42:${port}`
  const value = {
    via_addr: '192.0.2.42',
    qualify_timeout: '3.000000',
    qualify_2xx_only: 'false',
    call_id: `ghost-${port}@192.0.2.42`,
    reg_server: '',
    prune_on_boot: 'no',
    path: '',
    endpoint: GHOST,
    via_port: String(port),
    authenticate_qualify: 'no',
    uri,
    qualify_frequency: '0',
    user_agent: 'Yealink SIP-T46S 66.86.0.15',
    expiration_time: String(Math.floor(Date.now() / 1000) + 3000),
    outbound_proxy: '',
  }
  return [`${GHOST};@${createHash('md5').update(uri).digest('hex')}`, JSON.stringify(value)]
}

describe('orphaned contacts on real Asterisk', () => {
  const [key, value] = ghostContact(5060)

  beforeAll(async () => {
    expect((await ami('DBPut', { Family: CONTACT_FAMILY, Key: key, Val: value })).Response).toBe(
      'Success',
    )
  })

  afterAll(async () => {
    await deleteKeys((await contactsOf(GHOST)).keys())
  })

  it('contacts --json: the AOR is orphaned', async () => {
    const r = await pjctl(['contacts', '--json'])
    expect(r.code).toBe(0)
    const doc = JSON.parse(r.stdout) as {
      aors: { aor: string; state: string; contacts: { key: string }[] }[]
    }
    const ghost = doc.aors.find((a) => a.aor === GHOST)
    expect(ghost).toMatchObject({ state: 'orphaned' })
    expect(ghost!.contacts.map((c) => c.key)).toEqual([key])
  })

  it('check: a WARNING (exit 1 unless something else is worse) that names the orphan and pjctl prune; never UNKNOWN', async () => {
    const r = await pjctl(['check'])
    expect(r.code).not.toBe(3)
    expect(r.stdout).not.toMatch(/^PJCTL UNKNOWN/)
    expect(r.stdout).not.toContain('unknown max_contacts')
    expect(r.stdout).toContain(GHOST)
    expect(r.stdout).toContain('pjctl prune')
    const alone = await pjctl(['check', GHOST])
    expect(alone.code).toBe(1)
    expect(alone.stdout).toMatch(/^PJCTL WARNING/)
  })

  it('contacts NAME: no remove_existing advice for an AOR that does not exist', async () => {
    const r = await pjctl(['contacts', GHOST])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(GHOST)
    expect(r.stdout).not.toContain(`remove_existing=yes on AOR ${GHOST}`)
    expect(r.stdout.toLowerCase()).toContain('orphaned')
  })

  it('prune --orphaned --dry-run plans exactly that contact, deletes nothing', async () => {
    // --force: on a lab with few other contacts the ghost is more than half of the server (the guard)
    const r = await pjctl(['prune', '--orphaned', '--dry-run', '--force', '--json'])
    expect(r.code).toBe(0)
    const plan = (
      JSON.parse(r.stdout) as {
        servers: { plan: { key: string; action: string; reasons: string[] }[] }[]
      }
    ).servers[0]!.plan
    expect(plan.filter((p) => p.action === 'delete').map((p) => p.key)).toEqual([key])
    expect((await contactsOf(GHOST)).size).toBe(1)
  })
})
