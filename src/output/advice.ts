// The lasting fix under an AOR that fills up: AOR side and phone side.

import type { Advice } from '../core/advice.js'
import { clean, paint, type Style } from './style.js'

export function adviceLines(advice: Advice, server: string | null, style: Style): string[] {
  const c = paint(style)
  const where = server ? ` on ${server}` : ''
  const lines = [c.bold(`Lasting fix for ${clean(advice.aor)}${where}:`)]
  if (advice.maxContacts) lines.push(`  - ${advice.maxContacts}`)
  if (advice.removeExisting) lines.push(`  - ${advice.removeExisting}`)
  lines.push(`  - ${advice.userAgent ? `${clean(advice.userAgent)}: ` : ''}${advice.phone}`)
  return lines
}
