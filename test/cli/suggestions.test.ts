// Every `pjctl prune …` that check, contacts, doctor and prune print as a fix must fix: for a set of
// server states (a superseded contact, same-second duplicates with and without qualify, orphaned
// contacts), collect each suggested command, run it with --yes against a fresh simulator in that
// state (and what it prints in turn, when it says it cannot choose), and check that the AOR then
// takes the phone it refused: a REGISTER from the same device on a new port gets 200.
import { describe, expect, it } from 'vitest'
import type { SimSeed } from '../../src/sim/seed.js'
import { captureSeed, lockoutSeed, sourcesSeed } from '../../src/sim/seed.js'
import { runIn } from '../helpers/cli.js'
import { aor, row, seedOf } from '../helpers/rows.js'
import { envFor, sim } from '../helpers/sim.js'

const now = (): number => Math.floor(Date.now() / 1000)

/** FAP003 full with two contacts of one phone registered in the same second; qualified when `qualify` says how. */
function twinsSeed(qualify?: [string, string]): SimSeed {
  const t = now() + 3000
  const rows = [5071, 5072].map((viaPort) => {
    const r = row({ aor: 'FAP003', viaAddr: '127.0.0.1', viaPort, expirationTime: t })
    return qualify
      ? { ...r, value: r.value.replace('"qualify_frequency":"0"', '"qualify_frequency":"60"') }
      : r
  })
  const seed = seedOf(rows, [aor('FAP003', 2, qualify ? { qualifyFrequency: 60 } : {})])
  if (qualify) seed.qualify = { [rows[0]!.key]: qualify[0], [rows[1]!.key]: qualify[1] }
  return seed
}

const STATES: Record<string, () => SimSeed> = {
  'a superseded contact (the demo lockout)': () => lockoutSeed({ now: now() }),
  'same-second duplicates, not qualified (the captured lab)': () => captureSeed({ now: now() }),
  'same-second duplicates, one reachable': () => twinsSeed(['Unreachable', 'Reachable']),
  'same-second duplicates, both reachable': () => twinsSeed(['Reachable', 'Reachable']),
  'orphaned contacts, stale devices (the sources scenario)': () => sourcesSeed({ now: now() }),
}

/** The `pjctl prune …` commands in a text: the words after `pjctl prune` that are options, their values, or AOR names. */
function pruneCommands(text: string, aors: ReadonlySet<string>): string[][] {
  const commands: string[][] = []
  for (const m of text.matchAll(/pjctl prune((?: [^\s]+)*)/g)) {
    const words = m[1]!.trim().split(' ').filter(Boolean)
    const args: string[] = []
    for (let i = 0; i < words.length; i++) {
      const word = words[i]!.replace(/[;,)]+$/, '')
      if (/^--(key|server|keep)$/.test(word)) {
        args.push(word, words[++i]!.replace(/[;)]+$/, '').replace(/,$/, ''))
      } else if (/^--[a-z-]+$/.test(word) && !/^--(dry-run|yes)$/.test(word)) args.push(word)
      else if (aors.has(word)) args.push(word)
      else break
    }
    // `pjctl prune: mode=…` (the summary) and prose (`pjctl prune removes them`) name no AOR or option
    if (args.length) commands.push(args)
  }
  return commands
}

/** What pjctl prints for the state: check, contacts (a terminal's table), doctor, prune --dry-run. */
async function suggestionsFor(seed: () => SimSeed): Promise<string[][]> {
  const server = await sim({ seed: seed() })
  const env = envFor(server)
  const aors = new Set(server.registrar.aors.keys())
  for (const r of seed().rows) aors.add(r.key.split(';@')[0]!)
  const outputs = await Promise.all([
    runIn(['check', '-v'], { env }),
    runIn(['contacts'], { env, tty: { stdout: true, columns: 200 } }),
    runIn(['doctor'], { env }),
    runIn(['prune', '--dry-run'], { env }),
  ])
  const seen = new Map<string, string[]>()
  for (const r of outputs)
    for (const args of pruneCommands(r.stdout + r.stderr, aors)) seen.set(args.join(' '), args)
  return [...seen.values()]
}

/** A REGISTER of the AOR's refused phone: its device (via address and user agent) on a port it never used. */
function registerRefusedPhone(server: Awaited<ReturnType<typeof sim>>, name: string): number {
  const contacts = server.astdb
    .tree('registrar/contact')
    .filter(({ key }) => key.startsWith(`/registrar/contact/${name};@`))
    .map(({ value }) => JSON.parse(value) as Record<string, string>)
  const device = contacts[0] ?? {
    via_addr: '192.0.2.99',
    user_agent: 'Grandstream GXP2130 1.0.11.3',
  }
  return server.registrar.register({
    aor: name,
    uri: `sip:${name}@${device.via_addr}:40999`,
    viaAddr: device.via_addr!,
    viaPort: 40999,
    userAgent: device.user_agent!,
  }).code
}

describe('every prune command pjctl suggests fixes', { timeout: 60_000 }, () => {
  for (const [state, seed] of Object.entries(STATES))
    it(state, async () => {
      const commands = await suggestionsFor(seed)
      expect(commands.length).toBeGreaterThan(0)
      if (process.env.SHOW_SUGGESTIONS) console.log(state, commands)
      for (const args of commands) {
        const server = await sim({ seed: seed() })
        const env = envFor(server)
        const name = args.find(
          (a, i) => !a.startsWith('--') && !/^--(key|server|keep)$/.test(args[i - 1] ?? ''),
        )
        const before = name ? registerRefusedPhone(await sim({ seed: seed() }), name) : null
        let r = await runIn(['prune', ...args, '--yes'], { env })
        const shown = `pjctl prune ${args.join(' ')} →\n${r.stdout}${r.stderr}`
        // where prune cannot choose it exits 1 and names the keys: that command must fix
        if (r.code === 1) {
          const next = pruneCommands(r.stdout, new Set(name ? [name] : []))
          // duplicates that all answer qualify are live devices: nothing to prune, more room is the fix
          if (!next.length) {
            expect(r.stdout, shown).toMatch(/all answer qualify.*--max-contacts 3/)
            continue
          }
          expect(next, shown).toHaveLength(1)
          expect(next[0]!.join(' '), shown).toMatch(/--key /)
          r = await runIn(['prune', ...next[0]!, '--yes'], { env })
        }
        expect(r.code, shown).toBe(0)
        if (!name || before !== 403) continue
        // an orphaned AOR takes no phone (404); every other refused phone now gets in
        expect(registerRefusedPhone(server, name), shown).toBe(200)
      }
    })
})

describe('same-second duplicates that pjctl cannot order', () => {
  it('prune --keep 1 --yes (cron) keeps both, says which keys would free the AOR, and exits 1', async () => {
    const server = await sim({ seed: twinsSeed() })
    const r = await runIn(['prune', 'FAP003', '--keep', '1', '--yes'], { env: envFor(server) })
    expect(r.stdout).toContain(
      'FAP003 is still full: 1 more contact(s) of one device expire in the same second and nothing tells which is stale',
    )
    expect(r.stdout).toMatch(/pjctl prune FAP003 --key [0-9a-f]{32}\n/)
    expect(server.received.filter((a) => /^dbdel$/i.test(a.action))).toEqual([])
    expect(r.code).toBe(1)
  })

  it('the dry run says the same, and contacts marks the duplicate', async () => {
    const server = await sim({ seed: twinsSeed() })
    const env = envFor(server)
    const dry = await runIn(['prune', 'FAP003', '--dry-run'], { env })
    expect(dry.stdout).toContain('Nothing to prune.')
    expect(dry.stdout).toMatch(/FAP003 is still full: .* pjctl prune FAP003 --key [0-9a-f]{32}/)
    expect(dry.code).toBe(0)
    const contacts = await runIn(['contacts', 'FAP003'], { env })
    expect(contacts.stdout.split('\n').map((l) => l.split('\t')[4])).toEqual([
      'active',
      'duplicate',
      undefined,
    ])
  })
})
