// A cluster's pure parts: servers grouped by the contact store they share (read once, through the first),
// and the planned deletions of a node no configured server is, kept.
import { describe, expect, it } from 'vitest'
import { storeGroups } from '../../src/core/cluster.js'
import { keepContactsOfNodes, planPrune, type PruneCriteria } from '../../src/core/plan.js'
import { capturedReports } from '../helpers/captures.js'

describe('storeGroups', () => {
  it('servers on one store are one group, in the order given; astdb (null) servers are alone', () => {
    const nodes = [
      { name: 'a', store: 'pgsql:db/ps_contacts' },
      { name: 'solo', store: null },
      { name: 'b', store: 'pgsql:db/ps_contacts' },
      { name: 'other', store: 'pgsql:db2/ps_contacts' },
      { name: 'solo2', store: null },
    ]
    expect(storeGroups(nodes).map((g) => g.map((n) => n.name))).toEqual([
      ['a', 'b'],
      ['solo'],
      ['other'],
      ['solo2'],
    ])
  })
})

describe('keepContactsOfNodes', () => {
  const NONE: PruneCriteria = {
    expired: false,
    superseded: false,
    keep: null,
    keys: [],
    unreachable: false,
  }
  // every captured contact registered through a node: FAP003's through pbxC, the others through pbxA
  const reports = capturedReports().map((aor) => ({
    ...aor,
    contacts: aor.contacts.map((c) => ({
      ...c,
      regServer: aor.aor === 'FAP003' ? 'pbxC' : 'pbxA',
    })),
  }))
  const keys = reports.flatMap((aor) => aor.contacts.map((c) => c.key))
  const plan = planPrune(reports, { ...NONE, keys }, false)

  it('keeps the planned deletions of the named nodes, first reason unknown-node, and says so per node', () => {
    const kept = keepContactsOfNodes(plan, new Set(['pbxC']))
    const fap = kept.items.filter((i) => i.aor === 'FAP003')
    expect(fap.length).toBeGreaterThan(0)
    for (const item of fap) {
      expect(item.action).toBe('keep')
      expect(item.reasons[0]).toEqual({ kind: 'unknown-node', node: 'pbxC' })
    }
    expect(kept.items.filter((i) => i.aor !== 'FAP003').every((i) => i.action === 'delete')).toBe(
      true,
    )
    expect([kept.toDelete, kept.kept]).toEqual([plan.toDelete - fap.length, plan.kept + fap.length])
    expect(kept.notes).toContainEqual({ kind: 'unknown-node', node: 'pbxC', count: fap.length })
  })

  it('changes nothing when no planned contact is of those nodes', () => {
    expect(keepContactsOfNodes(plan, new Set(['pbxZ']))).toBe(plan)
  })
})
