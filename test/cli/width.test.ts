// At 80 columns (COLUMNS=80 on a real pseudo-terminal with no size of its own), no line of contacts,
// prune --dry-run, sources or doctor is wider than the terminal: tables shorten their flexible
// columns with …, reasons, findings and advice wrap, and a command is never cut.
import { describe, expect, it } from 'vitest'
import { sourcesSeed } from '../../src/sim/seed.js'
import { hasScript, onTerminal } from '../helpers/pty.js'
import { envFor, sim } from '../helpers/sim.js'

const COMMANDS = [
  ['contacts'],
  ['prune', '--dry-run'],
  ['sources', '--per-ip-limit', '10'],
  ['doctor', '--per-ip-limit', '10'],
]

describe.skipIf(!hasScript)('every table fits an 80-column terminal', () => {
  for (const args of COMMANDS)
    it.concurrent(`pjctl ${args.join(' ')}`, async () => {
      const server = await sim({ seed: sourcesSeed({ now: Math.floor(Date.now() / 1000) }) })
      const { screen } = await onTerminal(args, { ...envFor(server), COLUMNS: '80' }).done
      const lines = screen.split(/\r?\n/)
      expect(lines.length).toBeGreaterThan(5)
      const wide = lines.filter((line) => Array.from(line).length > 80)
      expect(wide).toEqual([])
      // no boxes on a terminal either: the tables are two-space columns
      expect(screen).not.toMatch(/[│┌└├]/)
    })
})
