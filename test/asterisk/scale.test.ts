// The 5,000-AOR / 15,000-contact read on a real Asterisk 22 (bulk_aors.sh + seed_contacts.py): every
// contact and every limit read, nothing partial, Asterisk idle again once pjctl exits. Cleaned up after.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  asteriskPid,
  astdbContacts,
  cli,
  deleteKeys,
  LAB,
  labScript,
  pjctl,
  waitIdle,
} from './lab.js'

const AORS = 5_000
const CONTACTS = 15_000
const bulk = (aor: string) => /^\d+$/.test(aor) && Number(aor) >= 2000 && Number(aor) < 2000 + AORS

interface Doc {
  source: string
  problems: unknown[]
  aors: {
    aor: string
    state: string
    maxContacts: number | null
    removeExisting: boolean | null
    count: number
    contacts: unknown[]
  }[]
}

describe(`${AORS} AORs / ${CONTACTS} contacts on real Asterisk`, () => {
  let before = new Set<string>()

  beforeAll(async () => {
    before = new Set((await astdbContacts()).keys())
    expect([...before].filter((k) => bulk(k.split(';@')[0]!))).toEqual([])
    await labScript('bulk_aors.sh', [String(AORS)])
    const seeded = await labScript('seed_contacts.py', [
      `${LAB.host}:${LAB.port}`,
      LAB.user,
      LAB.secret,
      String(CONTACTS),
      String(AORS),
    ])
    expect(Number(seeded.trim())).toBe(CONTACTS)
    expect(await waitIdle(60_000)).toBe(true)
  })

  afterAll(async () => {
    // our own DBGetTree read can lose rows to writetimeout too: delete until a read finds none left
    for (let pass = 0; pass < 5; pass++) {
      const added = [...(await astdbContacts()).keys()].filter((k) => !before.has(k))
      if (!added.length) break
      await deleteKeys(added)
    }
    await labScript('bulk_aors.sh', ['0'])
    expect(new Set((await astdbContacts()).keys())).toEqual(before)
  })

  it('contacts --json reads every contact and every limit, as many as `database show` counts', async () => {
    const r = await pjctl(['contacts', '--json'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const doc = JSON.parse(r.stdout) as Doc
    expect(doc.problems).toEqual([])
    const mine = doc.aors.filter((a) => bulk(a.aor))
    expect(mine).toHaveLength(AORS)
    expect(mine.reduce((n, a) => n + a.contacts.length, 0)).toBe(CONTACTS)
    // bulk_aors.sh: max_contacts 3 (every 10th 2), every 3rd remove_existing=yes
    for (const a of mine) {
      const i = Number(a.aor) - 2000
      expect([a.aor, a.maxContacts, a.removeExisting]).toEqual([a.aor, i % 10 ? 3 : 2, i % 3 === 0])
    }
    const all = doc.aors.reduce((n, a) => n + a.contacts.length, 0)
    const shown = /(\d+) results found\./.exec(await cli('database show registrar/contact'))
    expect(all).toBe(Number(shown?.[1]))
  })

  it('check answers within the default --timeout (exit 0-2, never UNKNOWN) and leaves Asterisk idle', async () => {
    expect(asteriskPid()).not.toBeNull()
    const r = await pjctl(['check'])
    expect(r.stdout).not.toMatch(/^PJCTL UNKNOWN/)
    expect([0, 1, 2]).toContain(r.code)
    // Nagios perfdata: every contact of the registrar counted ('label'=value;warn;crit;min;max)
    const counted = /'contacts'=(\d+)/.exec(r.stdout)
    expect(Number(counted?.[1])).toBe((await astdbContacts()).size)
    expect(await waitIdle(5_000)).toBe(true)
  })

  it('prune --dry-run plans over all of it (exit 0), changes nothing, leaves Asterisk idle', async () => {
    const keys = (await astdbContacts()).size
    // --force: the plan deletes more than --max-delete (the guard would exit 2 after planning); a dry run changes nothing anyway
    const r = await pjctl(['prune', '--dry-run', '--force', '--quiet'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/mode=dry-run/)
    expect((await astdbContacts()).size).toBe(keys)
    expect(await waitIdle(5_000)).toBe(true)
  })
})
