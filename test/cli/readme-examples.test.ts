// The example output in the README and docs/ is what pjctl prints: the contacts table at 80 columns,
// the piped rows, check's Nagios lines.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { lockoutSeed } from '../../src/sim/seed.js'
import { runIn as run } from '../helpers/cli.js'
import { envFor, sim } from '../helpers/sim.js'
import { nowSeconds } from '../helpers/rows.js'

const ROOT = join(__dirname, '..', '..')
const README = readFileSync(join(ROOT, 'README.md'), 'utf8')
const CHECK_PAGE = readFileSync(join(ROOT, 'docs', 'commands', 'check.md'), 'utf8')
/** Expiry times move with the clock: compare them as a shape. */
const times = (text: string): string => text.replace(/\d+m \d\ds/g, '<t>')

/** The indented block that follows `marker` in a page (the README unless given), without its indent. */
function blockAfter(marker: string, page = README, indent = 4): string[] {
  const at = page.indexOf(marker)
  expect(at, marker).toBeGreaterThanOrEqual(0)
  const lines = page.slice(at + marker.length).split('\n')
  const pad = ' '.repeat(indent)
  const start = lines.findIndex((l) => l.startsWith(pad))
  const block: string[] = []
  for (const line of lines.slice(start)) {
    if (!line.startsWith(pad) && line !== '') break
    block.push(line.slice(indent))
  }
  while (block[block.length - 1] === '') block.pop()
  return block
}

describe('README contacts examples', () => {
  it('the 80-column table is what `pjctl demo` shows at COLUMNS=80', async () => {
    const r = await run(['demo'], { env: { COLUMNS: '80' } })
    expect(r.code).toBe(0)
    const shown = blockAfter('What `pjctl contacts FAP003` shows on an 80-column terminal')
    expect(shown).toHaveLength(11)
    const demo = r.stdout.split('\n')
    const at = demo.indexOf('$ pjctl contacts FAP003')
    expect(times(demo.slice(at + 1, at + 1 + shown.length).join('\n'))).toBe(
      times(shown.join('\n')),
    )
    // every line fits, the fix and the advice wrapped
    for (const line of shown) expect(line.length).toBeLessThanOrEqual(80)
  }, 30_000)

  it('the piped rows are what `pjctl contacts FAP003 | cat` prints', async () => {
    const server = await sim({ seed: lockoutSeed({ now: nowSeconds() }) })
    const r = await run(['contacts', 'FAP003'], { env: envFor(server) })
    expect(r.code).toBe(0)
    expect(blockAfter('with no boxes, colour or advice:')).toHaveLength(2)
    expect(times(r.stdout.trimEnd())).toBe(
      times(blockAfter('with no boxes, colour or advice:').join('\n')),
    )
  })
})

describe('docs/commands/check.md examples', () => {
  it('the Nagios lines are what `pjctl check` prints for the lockout', async () => {
    const server = await sim({ seed: lockoutSeed({ now: nowSeconds() }) })
    const r = await run(['check'], { env: envFor(server) })
    expect(r.code).toBe(2)
    const shown = blockAfter(
      'one line\n  per AOR that is not OK, with what frees it:',
      CHECK_PAGE,
      6,
    )
    expect(shown).toHaveLength(2)
    expect(r.stdout.trimEnd()).toBe(shown.join('\n'))
  })
})
