// prune: the plan (what, why), what happened, the lasting fix, and one summary line
// (key=value, suited to syslog; alone with --quiet).

import type { PlanItem } from '../core/plan.js'
import type { PruneData, PruneServerResult, RestoreData } from '../commands/views.js'
import { adviceBlocks } from './advice.js'
import { fittedTable, type FittedRow } from './fitted.js'
import { failureJson } from './failure.js'
import { pruneNoteText, pruneReasonText } from '../reasons.js'
import { duration, isoTime, paint, wrap, type Style } from './style.js'
import { printable } from '../text.js'

export function pruneTable(data: PruneData, style: Style): string {
  if (data.quiet) return summaryLine(data) + '\n'
  const c = paint(style)
  const out: string[] = []
  for (const server of data.servers) {
    if (server.failure) {
      out.push(
        c.red(`${printable(server.server)}: could not prune: ${printable(server.failure.message)}`),
        '',
      )
      continue
    }
    out.push(...planLines(server, style))
  }
  // the lasting fix: a block per AOR, or one summary for many (as contacts and check show it)
  out.push(
    ...adviceBlocks(
      data.servers.flatMap((s) => s.advice.map((advice) => ({ server: s.server, advice }))),
      data.fleet,
      style,
    ),
  )
  // one line for syslog and cron (piped); on a terminal it wraps like the rest
  out.push(...wrap(summaryLine(data), style.plain ? undefined : style.width, '  '))
  return out.join('\n') + '\n'
}

/** cli-table3 is quadratic in rows (a plan of thousands of rows takes seconds to draw): a long plan shows this many. */
const MAX_PLAN_ROWS = 200

/** Up to MAX_PLAN_ROWS rows, in plan order: kept, skipped and failed contacts first, then deletions. */
function rowsToShow(items: PlanItem[], outcome: Map<string, { outcome: string }>): PlanItem[] {
  if (items.length <= MAX_PLAN_ROWS) return items
  const routine = (item: PlanItem): boolean => {
    const done = outcome.get(item.key)?.outcome
    return done === undefined ? item.action === 'delete' : done === 'deleted' || done === 'expired'
  }
  const picked = new Set(items.filter((item) => !routine(item)).slice(0, MAX_PLAN_ROWS))
  for (const item of items) {
    if (picked.size >= MAX_PLAN_ROWS) break
    picked.add(item)
  }
  return items.filter((item) => picked.has(item))
}

/** Every server's plan, shown once before the one confirmation prompt. */
export function prunePlanPreview(data: { servers: PruneServerResult[] }, style: Style): string {
  const lines = data.servers.flatMap((server) => planLines(server, style, 'nothing changed yet'))
  if (data.servers.length > 1) {
    const total = data.servers.reduce((n, s) => n + (s.plan?.toDelete ?? 0), 0)
    lines.push(`In all: ${total} contact(s) on ${data.servers.length} servers.`, '')
  }
  return lines.join('\n') + '\n'
}

function planLines(server: PruneServerResult, style: Style, heading?: string): string[] {
  const c = paint(style)
  const plan = server.plan
  if (!plan) return []
  const width = style.plain ? undefined : style.width
  const title =
    heading ??
    {
      'dry-run': 'dry run, nothing changed',
      refused: 'nothing changed',
      declined: 'nothing changed',
      executed: 'executed',
      interrupted: 'interrupted',
    }[server.mode]
  const out = [
    c.bold(
      `Prune plan for ${server.server} (${title}): ${plan.toDelete} to ${server.via === 'expire' ? 'expire' : 'delete'}, ${plan.kept} kept`,
    ),
  ]
  if (plan.items.length) {
    const outcome = new Map(server.outcomes.map((o) => [o.key, o]))
    const shown = rowsToShow(plan.items, outcome)
    const rows: FittedRow[] = shown.map((item) => {
      const done = outcome.get(item.key)
      const action = done ? done.outcome : item.action
      const raw = [
        action,
        printable(item.aor),
        // off a terminal the whole hash, as contacts prints it
        style.plain ? item.contact.hash : item.contact.hash.slice(0, 8),
        printable(`${item.contact.viaAddr}:${item.contact.viaPort ?? '?'}`),
        printable(item.contact.userAgent),
        duration(item.contact.expiresIn),
      ]
      const paintAction =
        action === 'keep'
          ? c.green
          : action === 'deleted' || action === 'expired' || action === 'delete'
            ? c.red
            : c.yellow
      return {
        raw,
        cells: [paintAction(action), ...raw.slice(1)],
        note: printable(
          [...item.reasons.map(pruneReasonText), ...(done?.detail ? [done.detail] : [])].join('; '),
        ),
      }
    })
    // the reasons go under each row (wrapped) on a terminal, last on the row off one
    out.push(
      fittedTable(
        ['ACTION', 'AOR', 'KEY', 'SOURCE', 'USER AGENT', 'EXPIRES IN'],
        rows,
        style,
        [4, 1],
      ),
    )
    if (shown.length < plan.items.length) {
      out.push(
        `${plan.items.length - shown.length} more rows not shown (the table shows at most ${MAX_PLAN_ROWS}, anything not deleted first); --json lists every contact.`,
      )
    }
  } else {
    out.push('Nothing to prune.')
  }
  for (const note of plan.notes) out.push(...wrap(`note: ${pruneNoteText(note)}`, width, '  '))
  if (server.reason) out.push(c.yellow(server.reason))
  if (server.backupFile)
    out.push(`backup: ${server.backupFile} (pjctl restore ${server.backupFile})`)
  out.push('')
  return out
}

function summaryLine(data: PruneData): string {
  const { deleted, expired, skipped, failed, planned } = data.summary
  const single = data.servers.length === 1 ? data.servers[0] : null
  const modes = new Set(data.servers.map((s) => s.mode))
  const mode = modes.size === 1 ? [...modes][0] : 'mixed'
  const parts = [`pjctl prune: mode=${mode}`]
  if (single) parts.push(`server=${single.server}`)
  else parts.push(`servers=${data.servers.length}`)
  parts.push(`planned=${planned}`, `deleted=${deleted}`)
  // --via expire: what is left for Asterisk's sweep is not deleted yet, and the line says so
  if (expired) parts.push(`expired=${expired}`)
  parts.push(`skipped=${skipped}`, `failed=${failed}`)
  if (single?.backupFile) parts.push(`backup=${single.backupFile}`)
  if (single?.reason) parts.push(`reason="${single.reason.replace(/"/g, "'")}"`)
  return parts.join(' ')
}

export function pruneJson(data: PruneData, style: Style): string {
  return (
    JSON.stringify(
      {
        generatedAt: isoTime(data.generatedAt),
        summary: data.summary,
        servers: data.servers.map((s) =>
          s.failure
            ? failureJson(s.failure)
            : {
                server: s.server,
                mode: s.mode,
                via: s.via,
                reason: s.reason ?? null,
                backupFile: s.backupFile,
                notes: (s.plan?.notes ?? []).map(pruneNoteText),
                plan: (s.plan?.items ?? []).map((item) => ({
                  key: item.key,
                  aor: item.aor,
                  action: item.action,
                  reasons: item.reasons.map(pruneReasonText),
                  uri: item.contact.uri,
                  viaAddr: item.contact.viaAddr,
                  viaPort: item.contact.viaPort,
                  userAgent: item.contact.userAgent,
                  expirationTime: item.contact.expirationTime,
                  status: item.contact.status,
                  qualify: item.contact.qualify,
                })),
                outcomes: s.outcomes,
                advice: s.advice,
              },
        ),
      },
      null,
      style.indent ? 2 : undefined,
    ) + '\n'
  )
}

export function restoreTable(data: RestoreData): string {
  const lines = [
    ...data.restored.map((r) => `restored ${r.key}`),
    ...data.wouldRestore.map((r) => `would restore ${r.key}`),
    ...data.skipped.map((s) => `skipped  ${s.key}: ${s.reason}`),
    ...data.failed.map((f) => `FAILED   ${f.key}: ${f.reason}`),
    `pjctl restore: ${data.dryRun ? 'mode=dry-run ' : ''}server=${data.server} restored=${data.restored.length}${data.dryRun ? ` would-restore=${data.wouldRestore.length}` : ''} skipped=${data.skipped.length} failed=${data.failed.length} file=${data.file}`,
  ]
  return lines.join('\n') + '\n'
}

export function restoreJson(data: RestoreData, style: Style): string {
  return JSON.stringify(data, null, style.indent ? 2 : undefined) + '\n'
}
