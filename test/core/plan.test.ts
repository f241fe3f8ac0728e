import { describe, expect, it } from 'vitest'
import { UsageError } from '../../src/errors.js'
import { buildReports } from '../../src/core/classify.js'
import { planPrune, type PruneCriteria } from '../../src/core/plan.js'
import {
  CAPTURE_NOW as NOW,
  capturedConfigs,
  capturedContacts,
  capturedQualify,
  capturedReports,
} from '../helpers/captures.js'

const NONE: PruneCriteria = {
  expired: false,
  superseded: false,
  keep: null,
  keys: [],
  unreachable: false,
}
const ERIN_OLD = 'erin;@093effadcd9ec4151bf1187aeabac8eb'
const ERIN_NEW = 'erin;@cc218f06efabb6b333b349fd048980c1'
const BOB_CISCO = 'bob;@6eb848a7f68f517e9b726b1c8fe974c0'
const CAROL = 'carol;@36747b0de85e6b0d01ec6720ca8c2a07'
/** The captured FAP003 lockout: two contacts of one phone expiring in the same second, not qualified. */
const FAP_UNDECIDED = {
  kind: 'duplicates-undecided',
  aor: 'FAP003',
  keys: ['e6b0e56f68ce8a45f643c8c7fd05c854'],
}

function reportsWithQualify(statuses: Record<string, string>, now = NOW) {
  const qualify = new Map([...capturedQualify(), ...Object.entries(statuses)])
  return buildReports({ contacts: capturedContacts(), configs: capturedConfigs(), qualify, now })
}

describe('planPrune', () => {
  it('--superseded: erin’s older registration, with the device and the newer key', () => {
    const plan = planPrune(capturedReports(), { ...NONE, superseded: true }, true)
    expect(plan.items.map((i) => [i.key, i.action])).toEqual([[ERIN_OLD, 'delete']])
    expect(plan.items[0]!.reasons).toEqual([
      {
        kind: 'superseded',
        viaAddr: '127.0.0.1',
        userAgent: 'Grandstream GXP1628 1.0.7.13',
        by: ERIN_NEW,
      },
    ])
    expect(plan.items[0]!.aor).toBe('erin')
    expect(plan.items[0]!.contact.viaPort).toBe(5096)
    expect(plan).toMatchObject({ toDelete: 1, kept: 0, notes: [FAP_UNDECIDED] })
  })

  it('--superseded without qualify: a note says it is a judgement', () => {
    const plan = planPrune(capturedReports(), { ...NONE, superseded: true }, false)
    expect(plan.notes).toEqual([{ kind: 'superseded-unverified' }, FAP_UNDECIDED])
  })

  it('--expired: how long ago', () => {
    const plan = planPrune(capturedReports(1795460426 + 185), { ...NONE, expired: true }, true)
    expect(plan.items).toMatchObject([
      { key: BOB_CISCO, action: 'delete', reasons: [{ kind: 'expired', agoSeconds: 185 }] },
    ])
    expect(planPrune(capturedReports(), { ...NONE, expired: true }, true).items).toEqual([])
  })

  it('--keep 1: keeps the latest-expiring per AOR; a tie is kept, not guessed', () => {
    const plan = planPrune(capturedReports(), { ...NONE, keep: 1 }, true)
    const summary = plan.items.map((i) => [i.key.split(';@')[0], i.contact.viaPort, i.action])
    expect(summary).toEqual([
      ['FAP003', 5071, 'keep'],
      ['bob', 5093, 'delete'],
      ['erin', 5096, 'delete'],
      ['phone1', 5082, 'delete'],
      ['phone1', 5081, 'delete'],
    ])
    expect(plan.items[1]!.reasons).toEqual([{ kind: 'beyond-keep', keep: 1 }])
    expect(plan.items[0]!.reasons).toEqual([{ kind: 'keep-tie', keep: 1 }])
    expect(plan.notes).toEqual([
      { kind: 'keep-tie', aor: 'FAP003', tied: 1, keep: 1 },
      FAP_UNDECIDED,
    ])
    expect(plan).toMatchObject({ toDelete: 4, kept: 1 })
  })

  it('--keep 2 deletes nothing: phone1’s third contact ties with its second', () => {
    const plan = planPrune(capturedReports(), { ...NONE, keep: 2 }, true)
    expect(plan.items.map((i) => [i.aor, i.contact.viaPort, i.action])).toEqual([
      ['phone1', 5081, 'keep'],
    ])
    expect(plan.toDelete).toBe(0)
  })

  it('--key: exactly that contact; unknown keys get a note', () => {
    const plan = planPrune(
      capturedReports(),
      { ...NONE, keys: [BOB_CISCO, 'bob;@' + '0'.repeat(32)] },
      true,
    )
    expect(plan.items).toMatchObject([
      { key: BOB_CISCO, action: 'delete', reasons: [{ kind: 'key' }] },
    ])
    expect(plan.notes).toEqual([
      { kind: 'key-unmatched', key: `bob;@${'0'.repeat(32)}` },
      FAP_UNDECIDED,
    ])
  })

  it('--unreachable: carol, whose qualify says Unreachable', () => {
    const plan = planPrune(capturedReports(), { ...NONE, unreachable: true }, true)
    expect(plan.items).toMatchObject([
      { key: CAROL, action: 'delete', reasons: [{ kind: 'unreachable', qualify: 'Unreachable' }] },
    ])
    const blind = planPrune(capturedReports(), { ...NONE, unreachable: true }, false)
    expect(blind.notes).toEqual([{ kind: 'unreachable-unknown' }, FAP_UNDECIDED])
  })

  it('reasons accumulate', () => {
    const plan = planPrune(
      capturedReports(),
      { ...NONE, superseded: true, keep: 1, keys: [ERIN_OLD] },
      true,
    )
    expect(plan.items.find((i) => i.key === ERIN_OLD)?.reasons.map((r) => r.kind)).toEqual([
      'superseded',
      'beyond-keep',
      'key',
    ])
  })

  it.each(['Reachable', 'reachable', 'Avail', 'AVAIL'])(
    'never deletes a contact qualify reports %s, whatever the criteria',
    (status) => {
      const reports = reportsWithQualify({ [ERIN_OLD]: status, [BOB_CISCO]: status })
      const plan = planPrune(
        reports,
        {
          expired: true,
          superseded: true,
          keep: 1,
          keys: [ERIN_OLD, BOB_CISCO],
          unreachable: true,
        },
        true,
      )
      const erin = plan.items.find((i) => i.key === ERIN_OLD)!
      const bob = plan.items.find((i) => i.key === BOB_CISCO)!
      for (const item of [erin, bob]) {
        expect(item.action).toBe('keep')
        expect(item.reasons[0]).toEqual({ kind: 'reachable' })
      }
      expect(
        plan.items
          .filter((i) => i.action === 'delete')
          .every((i) => !/^(reachable|avail)$/i.test(i.contact.qualify ?? '')),
      ).toBe(true)
    },
  )

  it('orders by AOR then key, deterministically', () => {
    const plan = planPrune(capturedReports().reverse(), { ...NONE, keep: 1 }, true)
    const order = plan.items.map((i) => [i.aor, i.key])
    expect(order).toEqual(
      [...order].sort((a, b) =>
        a[0] === b[0] ? (a[1]! < b[1]! ? -1 : 1) : a[0]! < b[0]! ? -1 : 1,
      ),
    )
  })

  it('refuses an empty plan request and a bad --keep', () => {
    expect(() => planPrune(capturedReports(), NONE, true)).toThrow(UsageError)
    expect(() => planPrune(capturedReports(), { ...NONE, keep: 0 }, true)).toThrow(UsageError)
    expect(() => planPrune(capturedReports(), { ...NONE, keep: 1.5 }, true)).toThrow(UsageError)
  })
})

describe('planPrune order', () => {
  it('plans by AOR then key whatever order the reports and contacts come in, and leaves them as given', () => {
    const sorted = planPrune(capturedReports(), { ...NONE, keep: 1 }, true)
    const shuffled = capturedReports()
      .reverse()
      .map((r) => ({ ...r, contacts: [...r.contacts].reverse() }))
    const given = shuffled.map((r) => [r.aor, r.contacts.map((c) => c.key)])
    const plan = planPrune(shuffled, { ...NONE, keep: 1 }, true)
    expect(plan.items.map((i) => i.key)).toEqual(sorted.items.map((i) => i.key))
    expect(plan.items.length).toBeGreaterThan(3)
    expect(shuffled.map((r) => [r.aor, r.contacts.map((c) => c.key)])).toEqual(given)
  })
})
