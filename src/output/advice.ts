// The lasting fix under an AOR that fills up: AOR side and phone side.

import type { Advice } from '../core/advice.js'
import { paint, wrap, type Style } from './style.js'
import { printable } from '../text.js'

function adviceLines(advice: Advice, server: string | null, style: Style): string[] {
  const c = paint(style)
  const where = server ? ` on ${server}` : ''
  const lines = [c.bold(`Lasting fix for ${printable(advice.aor)}${where}:`)]
  // each item wrapped to the terminal, its continuation under its text
  const item = (text: string): void => void lines.push(...wrap(`  - ${text}`, style.width, '    '))
  if (advice.maxContacts) item(advice.maxContacts)
  if (advice.removeExisting) item(advice.removeExisting)
  item(`${advice.userAgent ? `${printable(advice.userAgent)}: ` : ''}${advice.phone}`)
  return lines
}

/** More AORs needing advice than this, and the advice is summarised. */
const MAX_ADVICE = 20

/** The advice of a run: a block per AOR (naming its server in a fleet), or one summary when there are
 *  more than MAX_ADVICE; each block followed by a blank line. */
export function adviceBlocks(
  advice: readonly { server: string; advice: Advice }[],
  fleet: boolean,
  style: Style,
): string[] {
  if (advice.length > MAX_ADVICE)
    return [
      ...adviceSummary(
        advice.map((a) => a.advice),
        style,
      ),
      '',
    ]
  return advice.flatMap((a) => [...adviceLines(a.advice, fleet ? a.server : null, style), ''])
}

/** Many AORs: one block, the phone-side settings counted by kind. */
function adviceSummary(advice: Advice[], style: Style): string[] {
  const c = paint(style)
  const phones = new Map<string, number>()
  for (const a of advice) phones.set(a.phone, (phones.get(a.phone) ?? 0) + 1)
  const needRemoveExisting = advice.filter((a) => a.removeExisting).length
  const lines = [c.bold(`Lasting fix for ${advice.length} AORs with stale or crowded contacts:`)]
  if (needRemoveExisting)
    lines.push(
      ...wrap(
        `  - set remove_existing=yes on ${needRemoveExisting} of them ('pjctl gen pjsip --from-server' proposes the lines)`,
        style.width,
        '    ',
      ),
    )
  for (const [phone, count] of [...phones].sort((a, b) => b[1] - a[1]))
    lines.push(...wrap(`  - ${count} AOR(s): ${phone}`, style.width, '    '))
  return lines
}
