import { describe, expect, it } from 'vitest'
import { UsageError } from '../../src/errors.js'
import {
  DEFAULT_THRESHOLDS,
  buildReports,
  classifyContacts,
  compareCodepoints,
  judgeAor,
  severityOf,
  parseThreshold,
} from '../../src/core/classify.js'
import type { AorConfig } from '../../src/core/types.js'
import {
  CAPTURE_NOW as NOW,
  capturedConfigs,
  capturedContacts,
  capturedQualify,
  capturedReports,
  makeContact,
  reportOf,
} from '../helpers/captures.js'

function config(
  aor: string,
  maxContacts: number | null,
  removeExisting: boolean | null = false,
): AorConfig {
  return {
    aor,
    maxContacts,
    removeExisting,
    removeUnavailable: false,
    qualifyFrequency: 0,
    minimumExpiration: 60,
    maximumExpiration: 3600,
    defaultExpiration: 3600,
    source: 'ami',
  }
}

describe('buildReports on the captures at capture time', () => {
  const reports = capturedReports()

  it('lists every configured AOR, sorted, phone2 with count 0', () => {
    expect(reports.map((r) => r.aor)).toEqual([
      'FAP003',
      'alice',
      'bob',
      'carol',
      'dave',
      'erin',
      'phone1',
      'phone2',
      'wizphone',
    ])
    expect(reportOf(reports, 'phone2')).toMatchObject({
      count: 0,
      expired: 0,
      state: 'ok',
      severity: 0,
      endpoints: [],
      contacts: [],
    })
  })

  it('states and severities', () => {
    const summary = Object.fromEntries(
      reports.map((r) => [r.aor, [r.count, r.maxContacts, r.state, r.severity]]),
    )
    expect(summary).toEqual({
      // the captured lockout: two contacts of one Grandstream (a same-second twin is stale)
      FAP003: [2, 2, 'full', 2],
      // max_contacts=1 holding its one phone: a doctor finding, not a page
      alice: [1, 1, 'full', 0],
      // full with two devices and nothing stale: one re-registration away from a lockout
      bob: [2, 2, 'full', 1],
      carol: [1, 3, 'ok', 0],
      dave: [1, 1, 'full', 0],
      erin: [2, 2, 'full', 0],
      // near alone is not a page
      phone1: [3, 4, 'near', 0],
      phone2: [0, 1, 'ok', 0],
      wizphone: [1, 2, 'near', 0],
    })
  })

  it("erin's older GXP1628 contact on 5096 is superseded by the one on 5097", () => {
    const erin = reportOf(reports, 'erin')
    expect(erin.superseded).toBe(1)
    expect(erin.removeExisting).toBe(true)
    const old = erin.contacts.find((c) => c.viaPort === 5096)!
    const fresh = erin.contacts.find((c) => c.viaPort === 5097)!
    expect(old.status).toBe('superseded')
    expect(old.supersededBy).toBe(fresh.key)
    expect(fresh.status).toBe('active')
    expect(fresh.supersededBy).toBeNull()
  })

  it("FAP003's two contacts tie on expiration: both active (prune never guesses), yet one is stale, so the full AOR is CRITICAL", () => {
    const fap = reportOf(reports, 'FAP003')
    expect(fap.contacts.map((c) => c.status)).toEqual(['active', 'active'])
    expect(fap.superseded).toBe(0)
    expect(fap.stale).toBe(1)
    expect(fap.severity).toBe(2)
    expect(reportOf(reports, 'bob').stale).toBe(0)
    expect(reportOf(reports, 'erin').stale).toBe(1)
    expect(fap.endpoints).toEqual(['FAP003'])
  })

  it('different user agents from one address are different devices (bob, phone1)', () => {
    expect(reportOf(reports, 'bob').superseded).toBe(0)
    expect(reportOf(reports, 'phone1').superseded).toBe(0)
  })

  it('fills expiresIn, qualify and limit source', () => {
    const carol = reportOf(reports, 'carol')
    expect(carol.contacts[0]).toMatchObject({ expiresIn: 1795462227 - NOW, qualify: 'Unreachable' })
    expect(carol.maxContactsSource).toBe('ami')
  })

  it('contacts within a report are sorted by key', () => {
    const keys = reportOf(reports, 'phone1').contacts.map((c) => c.key)
    expect(keys).toEqual([...keys].sort())
  })

  it('an expired contact is not counted toward the limit (bob later)', () => {
    const later = capturedReports(1795460426)
    const bob = reportOf(later, 'bob')
    expect(bob).toMatchObject({ count: 1, expired: 1, stale: 1, state: 'near', severity: 0 })
    expect(bob.contacts.find((c) => c.status === 'expired')?.expiresIn).toBe(0)
  })

  it('without configs: unknown, or the --max-contacts flag', () => {
    const contacts = capturedContacts()
    const unknown = buildReports({
      contacts,
      configs: [],
      qualify: new Map(),
      now: NOW,
      thresholds: DEFAULT_THRESHOLDS,
    })
    expect(
      unknown.every(
        (r) => r.state === 'unknown' && r.severity === 0 && r.maxContactsSource === 'none',
      ),
    ).toBe(true)
    expect(unknown).toHaveLength(8)
    const flagged = buildReports({
      contacts,
      configs: [config('bob', 5)],
      now: NOW,
      defaultMaxContacts: 2,
    })
    expect(reportOf(flagged, 'FAP003')).toMatchObject({
      maxContacts: 2,
      maxContactsSource: 'flag',
      state: 'full',
      stale: 1,
      severity: 2,
    })
    expect(reportOf(flagged, 'bob')).toMatchObject({
      maxContacts: 5,
      maxContactsSource: 'ami',
      state: 'ok',
    })
  })

  it('the first config of an AOR wins', () => {
    const reports2 = buildReports({
      contacts: [],
      configs: [config('x', 3), { ...config('x', 9), source: 'pjsip-conf' }],
      now: NOW,
    })
    expect(reports2).toMatchObject([{ aor: 'x', maxContacts: 3, maxContactsSource: 'ami' }])
  })

  it('empty PBX: still lists its AORs', () => {
    const reports2 = buildReports({
      contacts: [],
      configs: [config('b', 1), config('a', 2)],
      now: NOW,
    })
    expect(reports2.map((r) => [r.aor, r.count, r.state])).toEqual([
      ['a', 0, 'ok'],
      ['b', 0, 'ok'],
    ])
  })
})

describe('classifyContacts', () => {
  const device = { via_addr: '192.0.2.16', user_agent: 'Grandstream GXP2130 1.0.11.3' }

  it('supersededBy is the latest-expiring contact of the device; ties at the top supersede nobody', () => {
    const a = makeContact('x', 1, { ...device, expiration_time: String(NOW + 10) })
    const b = makeContact('x', 3, { ...device, expiration_time: String(NOW + 20) })
    const c = makeContact('x', 2, { ...device, expiration_time: String(NOW + 20) })
    const [ca, cb, cc] = classifyContacts([a, b, c], NOW)
    expect(ca).toMatchObject({ status: 'superseded', supersededBy: c.key })
    expect(cb!.status).toBe('active')
    expect(cc!.status).toBe('active')
  })

  it('expired contacts neither supersede nor are superseded', () => {
    const old = makeContact('x', 1, { ...device, expiration_time: String(NOW - 5) })
    const live = makeContact('x', 2, { ...device, expiration_time: String(NOW + 5) })
    const exact = makeContact('x', 3, { ...device, expiration_time: String(NOW) })
    expect(classifyContacts([old, live, exact], NOW).map((c) => c.status)).toEqual([
      'expired',
      'active',
      'expired',
    ])
  })

  it('no judgement without a user agent, a via address or an expiration time', () => {
    const cases = [{ user_agent: '' }, { via_addr: '' }, { expiration_time: '' }]
    for (const missing of cases) {
      const a = makeContact('x', 1, { ...device, expiration_time: String(NOW + 10), ...missing })
      const b = makeContact('x', 2, { ...device, expiration_time: String(NOW + 20), ...missing })
      expect(classifyContacts([a, b], NOW).map((c) => c.status)).toEqual(['active', 'active'])
    }
    const noExpiry = classifyContacts([makeContact('x', 1, { expiration_time: 'soon' })], NOW)[0]
    expect(noExpiry).toMatchObject({ status: 'active', expiresIn: null })
  })
})

describe('judgeAor: the default policy pages only for real trouble', () => {
  const t = DEFAULT_THRESHOLDS
  it.each([
    // count, stale, max, remove_existing → state, severity
    [0, 0, 2, false, 'ok', 0],
    [1, 0, 4, false, 'ok', 0],
    [3, 0, 4, false, 'near', 0], // near is shown, not paged
    [4, 0, 5, false, 'near', 0], // 80 % used
    [1, 0, 2, false, 'near', 0], // wizphone 1/2
    [4, 1, 4, false, 'full', 2], // lockout in progress: full and holding a stale contact
    [2, 1, 2, null, 'full', 2], // remove_existing unknown is not yes
    [4, 0, 4, false, 'full', 1], // full, nothing stale: one re-registration away
    [5, 0, 4, false, 'over', 1],
    [5, 2, 4, false, 'over', 2],
    [5, 2, 4, true, 'over', 0], // remove_existing=yes is never a lockout
    [4, 1, 4, true, 'full', 0],
    [1, 0, 1, false, 'full', 0], // max_contacts=1 holding its one phone: doctor, not a page
    [1, 1, 1, false, 'full', 2], // ... holding an expired leftover too
    [0, 0, 1, false, 'ok', 0],
    [0, 0, 0, false, 'full', 0], // max_contacts=0 (a static-contact AOR): doctor, not a page
    [3, 0, null, false, 'unknown', 0],
  ] as const)(
    'count %i, stale %i, max %s (remove_existing %s) → %s, severity %i',
    (count, stale, max, re, state, severity) => {
      expect(judgeAor({ count, stale }, max, re, t)).toEqual({ state, severity })
    },
  )

  it('--warn makes near a WARNING again; --crit pages at its threshold (0: every full AOR)', () => {
    const warn = { warn: parseThreshold('1,80%'), crit: null }
    expect(judgeAor({ count: 3, stale: 0 }, 4, false, warn)).toEqual({ state: 'near', severity: 1 })
    expect(judgeAor({ count: 1, stale: 0 }, 4, false, warn)).toEqual({ state: 'ok', severity: 0 })
    const strict = { warn: null, crit: parseThreshold('0') }
    expect(judgeAor({ count: 1, stale: 0 }, 1, false, strict)).toEqual({
      state: 'full',
      severity: 2,
    })
    expect(judgeAor({ count: 1, stale: 0 }, 1, true, strict)).toEqual({
      state: 'full',
      severity: 0,
    })
    const thresholds = { warn: parseThreshold('50%'), crit: parseThreshold('1') }
    expect(judgeAor({ count: 2, stale: 0 }, 4, false, thresholds)).toEqual({
      state: 'near',
      severity: 1,
    })
    expect(judgeAor({ count: 3, stale: 0 }, 4, false, thresholds)).toEqual({
      state: 'near',
      severity: 2,
    })
    expect(judgeAor({ count: 1, stale: 0 }, 4, false, thresholds)).toEqual({
      state: 'ok',
      severity: 0,
    })
  })

  it('orphaned contacts (AOR not configured) are a WARNING', () => {
    expect(severityOf('orphaned', { count: 1, stale: 0 }, null, DEFAULT_THRESHOLDS)).toBe(1)
  })
})

describe('parseThreshold', () => {
  it.each([
    ['1', { free: 1, percent: null }],
    ['0', { free: 0, percent: null }],
    ['80%', { free: null, percent: 80 }],
    ['1,80%', { free: 1, percent: 80 }],
    ['80%, 2', { free: 2, percent: 80 }],
    ['100%', { free: null, percent: 100 }],
    ['87.5%', { free: null, percent: 87.5 }],
  ])('%j', (text, expected) => expect(parseThreshold(text)).toEqual(expected))

  it.each([
    '',
    ' ',
    'abc',
    '-1',
    '1.5',
    '101%',
    '80%%',
    '1,2',
    '80%,90%',
    '1,80%,2',
    '%',
    '1 80%',
    '0x10',
    '1e3',
    ',',
  ])('refuses %j', (text) => expect(() => parseThreshold(text)).toThrow(UsageError))

  it('never echoes control characters', () => {
    try {
      parseThreshold('1\r\n\u001b[31m')
      expect.unreachable()
    } catch (e) {
      expect((e as Error).message).toContain('1\\r\\n\\u001b[31m')
      expect((e as Error).message).not.toMatch(/[\r\n\u001b]/)
    }
  })
})

describe('compareCodepoints', () => {
  it('orders by code point, not UTF-16 unit', () => {
    expect(['a😀', 'a\uFFFD', 'a', 'B', 'a\u00e9'].sort(compareCodepoints)).toEqual([
      'B',
      'a',
      'a\u00e9',
      'a\uFFFD',
      'a😀',
    ])
  })
})

describe('buildReports on a big AOR and on names beyond the BMP', () => {
  it('an AOR of more than 16 contacts is judged as a small one: per device, superseded, twins and stale', () => {
    // 6 devices of 3 contacts each; device 5's newest two expire in the same second
    const contacts = Array.from({ length: 18 }, (_, i) => {
      const d = Math.floor(i / 3)
      const expiry = d === 5 && i % 3 === 1 ? 30 : 10 * ((i % 3) + 1)
      return makeContact('big', i + 1, {
        via_addr: `192.0.2.${d + 1}`,
        user_agent: `Phone ${d}`,
        expiration_time: String(NOW + expiry),
      })
    })
    const expired = makeContact('big', 40, {
      via_addr: '192.0.2.1',
      user_agent: 'Phone 0',
      expiration_time: String(NOW - 1),
    })
    const anonymous = makeContact('big', 41, { user_agent: '', expiration_time: String(NOW + 5) })
    const [report] = buildReports({
      contacts: [...contacts, expired, anonymous],
      configs: [config('big', 30)],
      now: NOW,
    })
    expect(report).toMatchObject({ count: 19, expired: 1, superseded: 11, stale: 13 })
    const status = new Map(report!.contacts.map((c) => [c.key, c]))
    // device 0: the two older contacts superseded by the newest
    expect(status.get(contacts[0]!.key)).toMatchObject({
      status: 'superseded',
      supersededBy: contacts[2]!.key,
    })
    expect(status.get(contacts[1]!.key)!.supersededBy).toBe(contacts[2]!.key)
    expect(status.get(contacts[2]!.key)!.status).toBe('active')
    // device 5: its oldest superseded by the tied newest with the smaller key; the tied two are active
    const tied = [contacts[16]!, contacts[17]!].sort((a, b) => compareCodepoints(a.key, b.key))
    expect(status.get(contacts[15]!.key)!.supersededBy).toBe(tied[0]!.key)
    expect(status.get(contacts[16]!.key)!.status).toBe('active')
    expect(status.get(contacts[17]!.key)!.status).toBe('active')
    expect(status.get(expired.key)!.status).toBe('expired')
    expect(status.get(anonymous.key)!.status).toBe('active')
    // the same contacts split into AORs of 3 are judged the same, contact by contact
    const small = buildReports({
      contacts: [...contacts, expired, anonymous].map((c) => ({
        ...c,
        aor: `${c.aor}-${c.viaAddr}`,
      })),
      configs: [],
      now: NOW,
    }).flatMap((r) => r.contacts)
    for (const c of small) {
      const big = status.get(c.key)!
      expect([c.key, c.status]).toEqual([big.key, big.status])
      expect(c.supersededBy).toBe(big.supersededBy)
    }
  })

  it('counts the devices of an AOR of many: each twin left behind is stale, owned or not', () => {
    // 40 devices of 2 contacts expiring in the same second: the twins (prune never guesses) are active,
    // one per device is stale; devices are numbered by the index of their first contact, up to 78
    const contacts = (): ReturnType<typeof makeContact>[] =>
      Array.from({ length: 80 }, (_, i) =>
        makeContact('many', i + 1, {
          via_addr: `192.0.2.${Math.floor(i / 2) + 1}`,
          user_agent: 'Twin',
          expiration_time: String(NOW + 60),
        }),
      )
    for (const owned of [false, true]) {
      const [report] = buildReports({
        contacts: contacts(),
        configs: [config('many', 80)],
        now: NOW,
        owned,
      })
      expect(report).toMatchObject({ count: 80, expired: 0, superseded: 0, stale: 40 })
      expect(report!.contacts.every((c) => c.status === 'active')).toBe(true)
    }
  })

  it('orders AORs and endpoints by code point, also when a name is beyond the BMP', () => {
    const names = ['a😀', 'a\uFFFD', 'a', 'B', 'a\u00e9']
    const reports = buildReports({
      contacts: [],
      configs: names.map((n) => config(n, 2)),
      now: NOW,
    })
    expect(reports.map((r) => r.aor)).toEqual(['B', 'a', 'a\u00e9', 'a\uFFFD', 'a😀'])
    const onePerEndpoint = ['e😀', 'e\uFFFD', 'e', 'e'].map((endpoint, i) =>
      makeContact('x', i + 1, { endpoint }),
    )
    const [x] = buildReports({ contacts: onePerEndpoint, configs: [], now: NOW })
    expect(x!.endpoints).toEqual(['e', 'e\uFFFD', 'e😀'])
  })
})

describe('buildReports keeps each AOR in key order', () => {
  it('whatever order its contacts were read in, few or many', () => {
    for (const n of [2, 3, 5, 16, 17, 30]) {
      const contacts = Array.from({ length: n }, (_, i) => makeContact('k', i + 1))
      const sorted = contacts.map((c) => c.key).sort(compareCodepoints)
      // reversed, rotated, and interleaved with another AOR's contacts
      const orders = [
        [...contacts].reverse(),
        [...contacts.slice(n >> 1), ...contacts.slice(0, n >> 1)],
        contacts.flatMap((c, i) => [c, makeContact('other', i + 1)]),
      ]
      for (const order of orders) {
        const [report] = buildReports({ contacts: order, configs: [], now: NOW })
        expect(report!.contacts.map((c) => c.key)).toEqual(sorted)
      }
    }
  })
})

describe('buildReports with owned contacts (a read that parsed them for this judgement)', () => {
  it('judges them as it judges copies, and makes the reports of the contacts themselves', () => {
    const input = {
      configs: capturedConfigs(),
      qualify: capturedQualify(),
      now: NOW,
    }
    const copied = buildReports({ ...input, contacts: capturedContacts() })
    const contacts = capturedContacts()
    const owned = buildReports({ ...input, contacts, owned: true })
    expect(owned).toEqual(copied)
    const inReports = owned.flatMap((r) => r.contacts)
    expect(inReports).toHaveLength(contacts.length)
    // each contact is in its report itself, with its verdict
    for (const contact of contacts) expect(inReports).toContain(contact)
    expect(contacts.some((c) => (c as { status?: string }).status === 'superseded')).toBe(true)
    // without `owned`, the contacts given are left as they were
    const untouched = capturedContacts()
    buildReports({ ...input, contacts: untouched })
    expect(untouched.every((c) => (c as { status?: string }).status === undefined)).toBe(true)
  })
})
