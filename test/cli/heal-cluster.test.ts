// watch --heal and exporter --heal on a cluster: the heal runs pjctl prune, which routes each contact to
// the node named in its reg_server; a contact of a node no configured, reachable server is stays, and the
// heal's outcome (its log line, watch's JSON event) names that node. Plain data: the sim holds no shared table.
import { describe, expect, it } from 'vitest'
import { healOutcomeOf } from '../../src/commands/refusal.js'
import type { PruneServerResult } from '../../src/commands/views.js'

const kept: PruneServerResult = {
  server: 'pbxA',
  plan: {
    items: [],
    toDelete: 0,
    notes: [{ kind: 'unknown-node', node: 'pbxC', count: 1 }],
  } as unknown as PruneServerResult['plan'],
  mode: 'executed',
  outcomes: [],
  backupFile: null,
  advice: [],
  via: 'asterisk',
}

describe('a heal on a cluster', () => {
  it('a contact of a node no configured server is: nothing removed, the node named', () => {
    const outcome = healOutcomeOf(kept)
    expect(outcome.result).toBe('nothing')
    expect(outcome.removed).toEqual([])
    expect(outcome.detail).toMatch(
      /^1 contact\(s\) of cluster node pbxC left alone: no configured server is pbxC \(or it did not answer\)/,
    )
  })

  it('removed through its node, another node left alone: both said', () => {
    const outcome = healOutcomeOf({
      ...kept,
      outcomes: [
        {
          key: 'FAP003;@aa',
          aor: 'FAP003',
          outcome: 'deleted',
          detail:
            'removed by Asterisk on pbxB, the node that registered it (expired, then retrieved)',
        },
      ],
      backupFile: '/b.jsonl',
    })
    expect([outcome.result, outcome.removed, outcome.backupFile]).toEqual([
      'healed',
      ['FAP003;@aa'],
      '/b.jsonl',
    ])
    expect(outcome.detail).toMatch(/cluster node pbxC left alone/)
  })

  it('its node did not answer when the prune ran: failed, left alone', () => {
    const outcome = healOutcomeOf({
      ...kept,
      plan: { ...kept.plan!, notes: [] },
      outcomes: [
        {
          key: 'FAP003;@aa',
          aor: 'FAP003',
          outcome: 'not-sent',
          detail: 'its node pbxB (pbxB) did not answer: ECONNREFUSED; left alone',
        },
      ],
    })
    expect(outcome.result).toBe('failed')
    expect(outcome.detail).toMatch(/FAP003;@aa not-sent \(its node pbxB .*left alone\)/)
  })
})
