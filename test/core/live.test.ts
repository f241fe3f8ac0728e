// LiveServer: the exporter's picture of one server, judged as check judges, moved by events and the clock.
import { describe, expect, it } from 'vitest'
import { contactFromRow } from '../../src/core/contact.js'
import {
  LOAD_STEP,
  LiveServer,
  isProblem,
  serverStatus,
  type AorSummary,
  type Drift,
} from '../../src/core/live.js'
import type { AorConfig, Contact } from '../../src/core/types.js'
import { row } from '../helpers/prune.js'

const T = 1_800_000_000
const GS = 'Grandstream GXP2130 1.0.11.3'

/** A full read applied as the exporter's follower applies it (loading()), run without pauses. */
function load(live: LiveServer, ...args: Parameters<LiveServer['loading']>): Drift {
  const steps = live.loading(...args)
  for (;;) {
    const step = steps.next()
    if (step.done) return step.value
  }
}

function contact(aor: string, port: number, expires: number, ua = GS): Contact {
  const r = row(aor, '192.0.2.16', port, ua, expires)
  const c = contactFromRow(r.key, r.value)
  if (typeof c === 'string') throw new Error(c)
  return c
}

function config(aor: string, maxContacts: number): AorConfig {
  return {
    aor,
    maxContacts,
    removeExisting: false,
    removeUnavailable: null,
    qualifyFrequency: null,
    minimumExpiration: null,
    maximumExpiration: null,
    defaultExpiration: null,
    source: 'ami',
  }
}

describe('LiveServer', () => {
  it('judges each AOR as check does, and reports only what changed', () => {
    const live = new LiveServer()
    const old = contact('FAP003', 5060, T + 600)
    const fresh = contact('FAP003', 5062, T + 3000)
    load(live, [old, fresh], [config('FAP003', 2), config('alice', 1)], T)
    const first = live.judge(T)
    expect(first.get('FAP003')).toEqual({
      aor: 'FAP003',
      count: 2,
      maxContacts: 2,
      superseded: 1,
      expired: 0,
      stale: 1,
      state: 'full',
      severity: 2,
      removeExisting: false,
    })
    expect(first.get('alice')).toMatchObject({ count: 0, state: 'ok' })
    expect(live.judge(T).size).toBe(0)
    expect(live.remove(old.key)).toBe(true)
    expect([...live.judge(T)]).toEqual([
      [
        'FAP003',
        {
          aor: 'FAP003',
          count: 1,
          maxContacts: 2,
          superseded: 0,
          removeExisting: false,
          expired: 0,
          stale: 0,
          state: 'near',
          severity: 0,
        },
      ],
    ])
  })

  it('judge(now, limit) judges at most `limit` dirty AORs; the rest stay dirty for the next slice', () => {
    const live = new LiveServer()
    load(live, [], [config('a', 1), config('b', 1), config('c', 1)], T)
    const first = live.judge(T, 2)
    expect([...first.keys()]).toEqual(['a', 'b'])
    expect(live.hasDirty).toBe(true)
    expect([...live.judge(T, 2).keys()]).toEqual(['c'])
    expect(live.hasDirty).toBe(false)
  })

  it('a contact reaching expiration_time is expired (not active) from that second; keys are due for a re-read 2 s before and 40 s after', () => {
    const live = new LiveServer()
    const c = contact('alice', 5060, T + 100)
    load(live, [c], [config('alice', 1)], T)
    live.judge(T)
    expect(live.tick(T + 97)).toEqual([])
    expect(live.tick(T + 98)).toEqual([c.key])
    expect(live.judge(T + 98).size).toBe(0)
    live.tick(T + 100)
    expect(live.judge(T + 100).get('alice')).toMatchObject({ count: 0, expired: 1, state: 'ok' })
    expect(live.tick(T + 139)).toEqual([])
    expect(live.tick(T + 140)).toEqual([c.key])
  })

  it('a refresh read back (new expiration_time) moves its re-reads; the old ones are dropped', () => {
    const live = new LiveServer()
    const c = contact('alice', 5060, T + 100)
    load(live, [c], [config('alice', 1)], T)
    const refreshed = contact('alice', 5060, T + 3700)
    expect(live.put(refreshed, T + 98)).toBe('changed')
    expect(live.tick(T + 200)).toEqual([])
    live.judge(T + 200)
    expect(live.tick(T + 3698)).toEqual([refreshed.key])
    expect(live.put(refreshed, T + 3698)).toBe('same')
  })

  it('a full read counts drift: added and removed, not keys events touched meanwhile, not refreshes', () => {
    const live = new LiveServer()
    const a = contact('a', 5060, T + 900)
    const b = contact('b', 5060, T + 900)
    const c = contact('c', 5060, T + 900)
    load(live, [a, b], [], T)
    const d = contact('d', 5060, T + 900)
    const drift = load(live, [contact('a', 5060, T + 1800), c, d], null, T, new Set([d.key]))
    expect(drift).toEqual({ added: 1, removed: 1, refreshed: 1 })
    expect([...live.keys()].sort()).toEqual([a.key, c.key, d.key].sort())
  })

  it('loading() applies a full read in steps (a pause every LOAD_STEP contacts, keys or AORs) and ends where an uninterrupted run ends', () => {
    const first = Array.from({ length: 3000 }, (_, i) => contact(`a${i}`, 5060, T + 900))
    // the next read: 500 gone, 400 new, 100 refreshed, the rest the same; limits for 2000 AORs
    const next = [
      ...first.slice(500, 2900),
      ...first.slice(2900).map((c) => contact(c.aor, 5060, T + 1800)),
      ...Array.from({ length: 400 }, (_, i) => contact(`n${i}`, 5060, T + 900)),
    ]
    const configs = Array.from({ length: 2000 }, (_, i) => config(`a${i}`, 2))
    const whole = new LiveServer()
    load(whole, first, [], T)
    const stepped = new LiveServer()
    load(stepped, first, [], T)
    const wholeDrift = load(whole, next, configs, T)
    const steps = stepped.loading(next, configs, T)
    let pauses = 0
    let result = steps.next()
    for (; !result.done; result = steps.next()) {
      pauses++
      // paused half way: nothing judged yet, and not every new key is in yet
      if (pauses === 1) expect(stepped.size).toBe(first.length)
    }
    expect(result.value).toEqual({ added: 400, removed: 500, refreshed: 100 })
    expect(wholeDrift).toEqual(result.value)
    // every contact of the read (twice: the set of fresh keys, then the puts), every old key, every limit and AOR
    expect(pauses).toBeGreaterThanOrEqual(
      Math.floor((next.length * 2 + first.length + configs.length) / LOAD_STEP),
    )
    whole.judge(T)
    stepped.judge(T)
    const byAor = (live: LiveServer) =>
      [...live.allSummaries()].sort((a, b) => a.aor.localeCompare(b.aor))
    expect(byAor(stepped)).toEqual(byAor(whole))
    expect([...stepped.keys()].sort()).toEqual([...whole.keys()].sort())
  })

  it('qualify counts: NonQualified for qualify_frequency 0 until an event says otherwise; forgotten with the contact', () => {
    const live = new LiveServer()
    const a = contact('a', 5060, T + 900)
    load(live, [a, contact('b', 5060, T + 900)], [], T)
    live.setQualify(a.key, 'Reachable')
    live.setQualify('nope;@00000000000000000000000000000000', 'Reachable')
    expect(Object.fromEntries(live.qualifyCounts())).toEqual({ Reachable: 1, NonQualified: 1 })
    live.remove(a.key)
    expect(Object.fromEntries(live.qualifyCounts())).toEqual({ NonQualified: 1 })
  })

  it('slim keeps what judging needs (no stored value, no fields but qualify on/off), and judges as the whole contact does', () => {
    const whole = [contact('FAP003', 5060, T + 600), contact('FAP003', 5062, T + 3000)]
    const slim = whole.map((c) => LiveServer.slim(c))
    expect(slim[0]).toMatchObject({
      key: whole[0]!.key,
      aor: 'FAP003',
      viaAddr: '192.0.2.16',
      userAgent: GS,
      expirationTime: T + 600,
      value: '',
      uri: '',
    })
    expect(Object.keys(slim[0]!.fields)).toEqual(['qualify_frequency'])
    const a = new LiveServer()
    const b = new LiveServer()
    load(a, whole, [config('FAP003', 2)], T)
    load(b, slim, [config('FAP003', 2)], T)
    expect(b.judge(T)).toEqual(a.judge(T))
    expect(b.qualifyCounts()).toEqual(a.qualifyCounts())
  })

  it("sources(limit): the busiest addresses in check's order (contacts, then stale, then address), kept current as AORs change", () => {
    const live = new LiveServer()
    const at = (aor: string, ip: string, port: number, expires: number): Contact => {
      const r = row(aor, ip, port, GS, expires)
      return contactFromRow(r.key, r.value) as Contact
    }
    load(
      live,
      [
        at('a', '10.0.0.2', 1, T + 900),
        at('b', '10.0.0.2', 1, T + 900),
        at('c', '10.0.0.1', 1, T + 900),
        at('d', '10.0.0.3', 1, T + 900),
        at('d', '10.0.0.3', 2, T + 800),
        at('e', '10.0.0.9', 1, T - 1),
      ],
      [],
      T,
    )
    live.judge(T)
    expect(live.sources()).toEqual([
      { address: '10.0.0.3', contacts: 2, stale: 1 },
      { address: '10.0.0.2', contacts: 2, stale: 0 },
      { address: '10.0.0.1', contacts: 1, stale: 0 },
      { address: '10.0.0.9', contacts: 0, stale: 1 },
    ])
    expect(live.sources(2).map((s) => s.address)).toEqual(['10.0.0.3', '10.0.0.2'])
    live.remove(at('a', '10.0.0.2', 1, T + 900).key)
    live.remove(at('e', '10.0.0.9', 1, T - 1).key)
    live.judge(T)
    expect(live.sources()).toEqual([
      { address: '10.0.0.3', contacts: 2, stale: 1 },
      { address: '10.0.0.1', contacts: 1, stale: 0 },
      { address: '10.0.0.2', contacts: 1, stale: 0 },
    ])
  })

  it('an AOR without contacts or configuration is forgotten once judged; one with a configuration stays, at 0', () => {
    const live = new LiveServer()
    const a = contact('a', 5060, T + 900)
    const b = contact('b', 5060, T + 900)
    load(live, [a, b], [config('b', 1)], T)
    live.judge(T)
    live.remove(a.key)
    live.remove(b.key)
    expect(live.judge(T)).toEqual(
      new Map([
        ['a', null],
        [
          'b',
          {
            aor: 'b',
            count: 0,
            maxContacts: 1,
            superseded: 0,
            expired: 0,
            stale: 0,
            state: 'ok',
            severity: 0,
            removeExisting: false,
          },
        ],
      ]),
    )
    expect([...live.allSummaries()].map((s) => s.aor)).toEqual(['b'])
  })

  it('isProblem and serverStatus', () => {
    const s = (
      state: AorSummary['state'],
      count: number,
      extra: Partial<AorSummary> = {},
    ): AorSummary => ({
      aor: 'x',
      count,
      maxContacts: 2,
      superseded: 0,
      expired: 0,
      stale: 0,
      state,
      severity: 0,
      removeExisting: null,
      ...extra,
    })
    expect(isProblem(s('ok', 1))).toBe(false)
    expect(isProblem(s('ok', 1, { expired: 1, stale: 1 }))).toBe(true)
    expect(isProblem(s('unknown', 0))).toBe(false)
    expect(isProblem(s('unknown', 1))).toBe(true)
    // near where check calls it OK is no problem (one meaning with check and contacts --problems)
    expect(isProblem(s('near', 1))).toBe(false)
    expect(isProblem(s('full', 2, { stale: 1, severity: 2 }))).toBe(true)
    expect(isProblem(s('orphaned', 1, { severity: 1 }))).toBe(true)
    expect(serverStatus([s('ok', 1), s('near', 1, { severity: 1 })])).toBe(1)
    expect(serverStatus([s('unknown', 1), s('near', 1, { severity: 1 })])).toBe(3)
    expect(serverStatus([s('unknown', 1), s('full', 2, { severity: 2 })])).toBe(2)
  })
})
