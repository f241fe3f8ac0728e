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

/** Sends `UserEvent: pjctl` for the changed keys, in batches (Asterisk reads at most 128 headers per action). */
export async function announceChange(
  session: AmiSession,
  change: AnnouncedChange,
  keys: readonly string[],
  deps: Deps,
  family: string = CONTACT_FAMILY,
): Promise<void> {
  for (let start = 0; start < keys.length; start += ANNOUNCE_BATCH) {
    try {
      await session.userEvent(
        ANNOUNCE_EVENT,
        announceHeaders(change, family, keys.slice(start, start + ANNOUNCE_BATCH)),
      )
    } catch (error) {
      if (!warned.has(deps)) {
        warned.add(deps)
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
