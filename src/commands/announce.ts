// prune and restore change astdb behind Asterisk's back: no ContactStatus event tells a running
// `pjctl exporter`. So they announce each change with an AMI UserEvent (needs write=user), which every
// session with read=user receives at once. The announcement is a courtesy: failing to send it never
// fails the command (a warning, once per run; the exporter's resync catches up).

import type { AmiSession } from '../ami/types.js'
import { CONTACT_FAMILY } from '../core/types.js'
import {
  ANNOUNCE_EVENT,
  ANNOUNCE_BATCH,
  announceHeaders,
  type AnnouncedChange,
} from '../core/announce.js'
import { PermissionError } from '../errors.js'
import type { Deps } from './types.js'

export type { AnnouncedChange } from '../core/announce.js'

/** Runs already warned (one warning per run, however many servers or batches). */
const warned = new WeakSet<Deps>()

/** Announcements sent at once: one round trip for 1,600 keys instead of one per 100 keys (at 10,000 deleted, 100 round trips in a row). */
const ANNOUNCE_IN_FLIGHT = 16

/** Sends `UserEvent: pjctl` for the changed keys, in batches (Asterisk reads at most 128 headers per action), pipelined. */
export async function announceChange(
  session: AmiSession,
  change: AnnouncedChange,
  keys: readonly string[],
  deps: Deps,
  family: string = CONTACT_FAMILY,
): Promise<void> {
  const batches: string[][] = []
  for (let start = 0; start < keys.length; start += ANNOUNCE_BATCH)
    batches.push(keys.slice(start, start + ANNOUNCE_BATCH))
  // the first alone: a user without write=user is refused once, not once per batch
  for (let start = 0; start < batches.length; start += start ? ANNOUNCE_IN_FLIGHT : 1) {
    const sent = await Promise.allSettled(
      batches
        .slice(start, start + (start ? ANNOUNCE_IN_FLIGHT : 1))
        .map((batch) => session.userEvent(ANNOUNCE_EVENT, announceHeaders(change, family, batch))),
    )
    const failed = sent.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed) {
      if (!warned.has(deps)) {
        warned.add(deps)
        const error: unknown = failed.reason
        const why =
          error instanceof PermissionError
            ? `the AMI user ${session.target.user} lacks write=user`
            : (error as Error).message
        deps.log.warn(
          `could not announce the ${change} contact(s) to running pjctl exporters (${why}); they see the change at their next resync`,
        )
      }
      return
    }
  }
}
