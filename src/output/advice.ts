// The lasting fix under an AOR that fills up: AOR side and phone side.

import type { Advice } from '../core/advice.js'
import { paint, type Style } from './style.js'
import { printable } from '../text.js'

export function adviceLines(advice: Advice, server: string | null, style: Style): string[] {
  const c = paint(style)
  const where = server ? ` on ${server}` : ''
  const lines = [c.bold(`Lasting fix for ${printable(advice.aor)}${where}:`)]
  if (advice.maxContacts) lines.push(`  - ${advice.maxContacts}`)
  if (advice.removeExisting) lines.push(`  - ${advice.removeExisting}`)
  lines.push(`  - ${advice.userAgent ? `${printable(advice.userAgent)}: ` : ''}${advice.phone}`)
  return lines
}

/** Many AORs: one block, the phone-side settings counted by kind. */
export function adviceSummary(advice: Advice[], style: Style): string[] {
  const c = paint(style)
  const phones = new Map<string, number>()
  for (const a of advice) phones.set(a.phone, (phones.get(a.phone) ?? 0) + 1)
  const needRemoveExisting = advice.filter((a) => a.removeExisting).length
  const lines = [c.bold(`Lasting fix for ${advice.length} AORs with stale or crowded contacts:`)]
  if (needRemoveExisting)
    lines.push(
      `  - set remove_existing=yes on ${needRemoveExisting} of them ('pjctl gen pjsip --from-server' proposes the lines)`,
    )
  for (const [phone, count] of [...phones].sort((a, b) => b[1] - a[1]))
    lines.push(`  - ${count} AOR(s): ${phone}`)
  return lines
}
