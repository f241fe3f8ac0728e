// The follower on contacts in a realtime table (sorcery.conf contact=realtime,ps_contacts): a contact an
// event names and the exporter does not know is read from its own row, not by reading the whole table
// again (on a 30,000-AOR table every REGISTER would be a full read, each logged as drift). A contact that
// appears without any event is still drift, found by the next resync. The follower is driven directly:
// the simulator keeps no SQL table, so the table here is a map behind the follower's ports, and every
// read the follower asked of it is counted.
import { describe, expect, it } from 'vitest'
import type { AmiMessage, AmiSession } from '../../src/ami/types.js'
import { isProblem } from '../../src/core/live.js'
import { contactFromRealtimeRow, escapeRealtimeId } from '../../src/core/sorcery.js'
import type { AorConfig, Contact } from '../../src/core/types.js'
import { ServerFollower, type FollowerPorts } from '../../src/exporter/follower.js'
import { ExporterMetrics } from '../../src/exporter/metrics.js'
import { contactKey } from '../../src/sim/registrar.js'

const NOW = 1_800_000_000

function message(headers: Record<string, string>): AmiMessage {
  const names = Object.keys(headers)
  return {
    names,
    values: Object.values(headers),
    get: (name) => {
      const found = names.find((n) => n.toLowerCase() === name.toLowerCase())
      return found === undefined ? undefined : headers[found]
    },
    toRecord: () => ({ ...headers }),
  }
}

/** A ps_contacts row, as the table read gives it. */
function row(aor: string, uri: string): Contact {
  const contact = contactFromRealtimeRow(
    ['id', 'uri', 'expiration_time', 'endpoint', 'via_addr', 'via_port', 'user_agent'],
    [
      escapeRealtimeId(contactKey(aor, uri)),
      uri,
      String(NOW + 3600),
      aor,
      '127.0.0.1',
      '5070',
      'ua',
    ],
  )
  if (typeof contact === 'string') throw new Error(contact)
  return contact
}

const FAP003: AorConfig = {
  aor: 'FAP003',
  maxContacts: 3,
  removeExisting: null,
  removeUnavailable: null,
  qualifyFrequency: null,
  minimumExpiration: null,
  maximumExpiration: null,
  defaultExpiration: null,
  source: 'pjsip.conf' as AorConfig['source'],
}

interface Rig {
  follower: ServerFollower
  table: Map<string, Contact>
  /** What the follower read: `all` and `contacts` are whole-table reads, `one <key>` a single row. */
  reads: string[]
  warnings: string[]
  emit(headers: Record<string, string>): void
}

async function startRig(resyncMs: number): Promise<Rig> {
  const table = new Map<string, Contact>()
  const first = row('FAP003', 'sip:FAP003@127.0.0.1:5070')
  table.set(first.key, first)
  const reads: string[] = []
  const warnings: string[] = []
  const listeners: ((event: AmiMessage) => void)[] = []
  const session = {
    target: { name: 'rt', host: '127.0.0.1', port: 5338, user: 'pjctl' },
    onEvent: (listener: (event: AmiMessage) => void) => {
      listeners.push(listener)
      return () => undefined
    },
    onClose: () => () => undefined,
    action: () => Promise.resolve(message({ Response: 'Success' })),
    ping: () => Promise.resolve(),
    close: () => Promise.resolve(),
    dbGet: (_family: string, key: string) => {
      reads.push(`DBGet ${key}`)
      return Promise.resolve(null)
    },
  } as unknown as AmiSession
  const ports: FollowerPorts = {
    connect: () => Promise.resolve(session),
    now: () => NOW,
    log: { info: () => undefined, warn: (m) => warnings.push(m), debug: () => undefined },
    readAll: () => {
      reads.push('all')
      return Promise.resolve({
        contacts: [...table.values()],
        configs: [FAP003],
        authoritative: true,
        place: { family: 'ps_contacts', realtime: true, oneRow: true },
      })
    },
    readContacts: () => {
      reads.push('contacts')
      return Promise.resolve([...table.values()])
    },
    readOne: (_session, key) => {
      reads.push(`one ${key}`)
      return Promise.resolve(table.get(key) ?? null)
    },
    securityProblem: () => Promise.resolve(null),
  }
  const metrics = new ExporterMetrics('all', isProblem)
  const follower = new ServerFollower(
    { name: 'rt', host: '127.0.0.1', port: 5338, user: 'pjctl' } as ServerFollower['target'],
    { thresholds: { warn: null, crit: null }, defaultMaxContacts: null },
    ports,
    metrics,
    { changed: () => undefined },
    resyncMs,
  )
  follower.start()
  await until(() => follower.state === 'up')
  return {
    follower,
    table,
    reads,
    warnings,
    emit: (headers) => {
      for (const listener of listeners) listener(message(headers))
    },
  }
}

async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !done(); i++) await new Promise((r) => setTimeout(r, 5))
  if (!done()) throw new Error('the follower did not get there')
}

const created = (aor: string, uri: string, status = 'Created'): Record<string, string> => ({
  Event: 'ContactStatus',
  Privilege: 'system,all',
  URI: uri,
  ContactStatus: status,
  AOR: aor,
  EndpointName: aor,
  RoundtripUsec: '0',
})

describe('the follower on a realtime contact table', () => {
  it('an event for a new contact reads its one row: no full read, no drift', async () => {
    const rig = await startRig(3_600_000)
    try {
      expect(rig.reads).toEqual(['all'])
      expect(rig.follower.contacts).toBe(1)
      const uri = 'sip:FAP003@127.0.0.1:5072'
      const added = row('FAP003', uri)
      rig.table.set(added.key, added)
      rig.emit(created('FAP003', uri))
      await until(() => rig.follower.contacts === 2)
      // a qualify result for a contact it knows reads nothing
      rig.emit(created('FAP003', uri, 'Reachable'))
      // give a wrongly asked resync the time to start and finish
      await new Promise((r) => setTimeout(r, 100))
      expect(rig.reads).toEqual(['all', `one ${added.key}`])
      expect(rig.warnings.filter((w) => w.includes('drift'))).toEqual([])
      expect(rig.follower.contacts).toBe(2)

      // Removed: forgotten, nothing read
      rig.table.delete(added.key)
      rig.emit(created('FAP003', uri, 'Removed'))
      await until(() => rig.follower.contacts === 1)
      expect(rig.reads).toEqual(['all', `one ${added.key}`])
    } finally {
      await rig.follower.stop()
    }
  })

  it('a row that appears without any event is still drift: the next resync finds it', async () => {
    const rig = await startRig(150)
    try {
      const silent = row('FAP003', 'sip:FAP003@127.0.0.1:5099')
      rig.table.set(silent.key, silent)
      await until(() => rig.warnings.some((w) => w.includes('drift: 1 contact(s) unknown')))
      expect(rig.follower.contacts).toBe(2)
      expect(rig.reads).toContain('contacts')
    } finally {
      await rig.follower.stop()
    }
  })
})
