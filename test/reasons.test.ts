// The words for the core's structured prune reasons and notes: the text the plan table, the JSON
// and the backup file show, with the flag names the core does not know.
import { describe, expect, it } from 'vitest'
import { formatAgo, pruneNoteText, pruneReasonText, pruneReasonsText } from '../src/reasons.js'

const ERIN_NEW = 'erin;@cc218f06efabb6b333b349fd048980c1'

describe('pruneReasonText', () => {
  it.each([
    [{ kind: 'orphaned', aor: 'ext199' }, 'orphaned: AOR ext199 is not configured'],
    [{ kind: 'expired', agoSeconds: 185 }, 'expired 3m ago'],
    [
      {
        kind: 'superseded',
        viaAddr: '127.0.0.1',
        userAgent: 'Grandstream GXP1628 1.0.7.13',
        by: ERIN_NEW,
      },
      `superseded by a newer registration from the same device (127.0.0.1, Grandstream GXP1628 1.0.7.13), key ${ERIN_NEW}`,
    ],
    [{ kind: 'beyond-keep', keep: 1 }, 'beyond --keep 1 (keeps the latest-expiring)'],
    [{ kind: 'key' }, '--key'],
    [{ kind: 'unreachable', qualify: 'Unreachable' }, 'qualify: Unreachable'],
    [{ kind: 'reachable' }, 'qualify reports it reachable'],
    [
      { kind: 'qualify-unread' },
      'its qualify state could not be read (PJSIPShowEndpoint): kept rather than deleted on a guess',
    ],
    [{ kind: 'keep-tie', keep: 2 }, 'expires with the last contact --keep 2 keeps'],
  ] as const)('%j', (reason, text) => expect(pruneReasonText(reason)).toBe(text))

  it('joins an item’s reasons with "; "', () => {
    expect(pruneReasonsText([{ kind: 'beyond-keep', keep: 1 }, { kind: 'key' }])).toBe(
      'beyond --keep 1 (keeps the latest-expiring); --key',
    )
  })
})

describe('pruneNoteText', () => {
  it.each([
    [
      { kind: 'superseded-unverified' },
      'superseded is a judgement from via address and user agent (qualify is off or unreadable): a contact that still answers cannot be told apart, so no contact is protected as reachable',
    ],
    [
      { kind: 'unreachable-unknown' },
      '--unreachable matched nothing: qualify status is unknown (qualify is off or unreadable)',
    ],
    [
      { kind: 'key-unmatched', key: 'bob;@0000' },
      '--key bob;@0000: no such contact in the selected AORs',
    ],
    [
      { kind: 'keep-tie', aor: 'FAP003', tied: 1, keep: 1 },
      'FAP003: 1 more contact(s) expire in the same second as the last one --keep 1 keeps; kept them too rather than guess which is stale',
    ],
  ] as const)('%j', (note, text) => expect(pruneNoteText(note)).toBe(text))
})

describe('formatAgo', () => {
  it.each([
    [0, '0s'],
    [45, '45s'],
    [60, '1m'],
    [185, '3m'],
    [3600, '1h'],
    [3900, '1h 5m'],
    [86400, '1d'],
    [97200, '1d 3h'],
    [-5, '0s'],
  ])('%i s → %s', (seconds, text) => expect(formatAgo(seconds)).toBe(text))
})
