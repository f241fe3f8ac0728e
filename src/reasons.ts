// The words for a prune plan's reasons and notes (src/core/plan.ts gives them as kinds and
// figures), naming the command-line flags the core does not know. Shared by the command, which
// writes them into each backup line's `reason`, and output, which shows them in the plan table and
// the JSON `reasons`/`notes`: so they sit below both (docs/architecture.md).

import { keysCommand, moreRoomCommand } from './core/doctor.js'
import type { PruneNote, PruneReason } from './core/plan.js'

/** 45s, 3m, 2h 5m, 3d 4h: how long ago, in the largest units that matter. */
export function formatAgo(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds))
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m`
  const [big, unit, small, smallUnit] = s < 86400 ? [3600, 'h', 60, 'm'] : [86400, 'd', 3600, 'h']
  const rest = Math.floor((s % big) / small)
  return rest === 0
    ? `${Math.floor(s / big)}${unit}`
    : `${Math.floor(s / big)}${unit} ${rest}${smallUnit}`
}

export function pruneReasonText(reason: PruneReason): string {
  switch (reason.kind) {
    case 'orphaned':
      return `orphaned: AOR ${reason.aor} is not configured`
    case 'expired':
      return `expired ${formatAgo(reason.agoSeconds)} ago`
    case 'superseded':
      return `superseded by a newer registration from the same device (${reason.viaAddr}, ${reason.userAgent})${reason.by === null ? '' : `, key ${reason.by}`}`
    case 'beyond-keep':
      return `beyond --keep ${reason.keep} (keeps the latest-expiring)`
    case 'key':
      return '--key'
    case 'unreachable':
      return `qualify: ${reason.qualify}`
    case 'reachable':
      return 'qualify reports it reachable'
    case 'qualify-unread':
      return 'its qualify state could not be read (PJSIPShowEndpoint): kept rather than deleted on a guess'
    case 'keep-tie':
      return `expires with the last contact --keep ${reason.keep} keeps`
    case 'unknown-node':
      return `registered through cluster node ${reason.node}, which no configured server is (or it did not answer): only that node stops qualifying it`
  }
}

/** An item's reasons as one line: `; ` between them. */
export function pruneReasonsText(reasons: readonly PruneReason[]): string {
  return reasons.map(pruneReasonText).join('; ')
}

export function pruneNoteText(note: PruneNote): string {
  switch (note.kind) {
    case 'superseded-unverified':
      return 'superseded is a judgement from via address and user agent (qualify is off or unreadable): a contact that still answers cannot be told apart, so no contact is protected as reachable'
    case 'unreachable-unknown':
      return '--unreachable matched nothing: qualify status is unknown (qualify is off or unreadable)'
    case 'key-unmatched':
      return `--key ${note.key}: no such contact in the selected AORs`
    case 'keep-tie':
      return `${note.aor}: ${note.tied} more contact(s) expire in the same second as the last one --keep ${note.keep} keeps; kept them too rather than guess which is stale`
    case 'duplicates-live':
      return `${note.aor} is still full: its contacts from one device all answer qualify, so none is stale and none was chosen; if more devices share it, give it room: ${moreRoomCommand(note.aor, note.maxContacts + 1)}`
    case 'unknown-node':
      return `${note.count} contact(s) registered through cluster node ${note.node} left alone: no configured server is ${note.node} (or it did not answer), and only that node stops qualifying them; configure it in pjctl's config file, or pass --unknown-node delete to prune them through this server (${note.node} then goes on qualifying them until it restarts)`
    case 'duplicates-undecided':
      return `${note.aor} is still full: ${note.keys.length} more contact(s) of one device expire in the same second and nothing tells which is stale (qualify off or alike), so none was chosen; any one frees a slot: ${keysCommand(note.aor, note.keys)}`
  }
}
