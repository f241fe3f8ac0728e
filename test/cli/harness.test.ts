// The in-process harness (test/helpers/cli.ts): main() through its Io seam gives what the
// spawned CLI gives, and each double (env, stdin, terminal, prompt, clock, signals) is the
// only thing the run sees.
import { EventEmitter } from 'node:events'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { lockoutSeed } from '../../src/sim/seed.js'
import { runIn } from '../helpers/cli.js'
import { home, snapshot } from '../helpers/prune.js'
import { run } from '../helpers/run.js'
import { envFor, sim } from '../helpers/sim.js'
import { dumpOf, nowSeconds } from '../helpers/rows.js'

describe('runIn: pjctl in-process', () => {
  it('prints and exits exactly as the spawned CLI does', async () => {
    const server = await sim({ seed: lockoutSeed({ now: nowSeconds() }) })
    const clock = () => 1_700_000_000_000
    const spawned = await run(['contacts', 'FAP003'], { env: envFor(server) })
    const inProcess = await runIn(['contacts', 'FAP003'], { env: envFor(server) })
    expect(inProcess.code).toBe(spawned.code)
    expect(inProcess.stderr).toBe(spawned.stderr)
    const untimed = (text: string) => text.replace(/\d+[dhm] \d+[hms]/g, 'T')
    expect(untimed(inProcess.stdout)).toBe(untimed(spawned.stdout))
    expect(inProcess.stdout).toContain('superseded by cdcea047')
    const doc = JSON.parse(
      (await runIn(['contacts', '--json'], { env: envFor(server), clock })).stdout,
    )
    expect(doc.generatedAt).toBe('2023-11-14T22:13:20.000Z')
  })

  it('reads PJCTL_* from its own env only, not from the test process', async () => {
    const server = await sim()
    process.env.PJCTL_PORT = '1'
    try {
      const r = await runIn(['contacts', '--json'], { env: envFor(server) })
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
    } finally {
      delete process.env.PJCTL_PORT
    }
    const bad = await runIn(['contacts'], { env: { ...envFor(server), PJCTL_PORT: 'x' } })
    expect(bad.stderr).toBe("pjctl: option '--port <port>': expected a whole number, got 'x'\n")
    expect(bad.code).toBe(2)
    const flagWins = await runIn(['contacts', '--json', '--port', String(server.port)], {
      env: { ...envFor(server), PJCTL_PORT: '1' },
    })
    expect(flagWins.code).toBe(0)
  })

  it('help and usage errors go to its own stdout and stderr', async () => {
    const help = await runIn(['contacts', '--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('Usage: pjctl contacts [options] [names...]')
    expect(help.stdout).toContain('(default: "127.0.0.1", env: PJCTL_HOST)')
    const usage = await runIn(['contacts', '--bogus'])
    expect(usage.code).toBe(2)
    expect(usage.stderr).toContain("pjctl: unknown option '--bogus'")
    expect(usage.stdout).toBe('')
  })

  it('--input - reads the stdin it is given', async () => {
    const r = await runIn(['contacts', '--input', '-', '--json'], { stdin: dumpOf([]) })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout).aors).toEqual([])
  })

  it('on a terminal, prune shows the plan and asks; the answer decides', async () => {
    const server = await sim({ seed: lockoutSeed({ now: nowSeconds() }) })
    const env = { ...envFor(server), ...home() }
    const before = snapshot(server)
    const no = await runIn(['prune', 'FAP003'], { env, tty: true, confirm: false })
    expect(no.asked).toEqual([`Delete 1 contact(s) on 127.0.0.1:${server.port}? [y/N] `])
    expect(no.stderr).toContain(
      `Prune plan for 127.0.0.1:${server.port} (nothing changed yet): 1 to delete, 0 kept`,
    )
    expect(snapshot(server)).toEqual(before)
    const yes = await runIn(['prune', 'FAP003'], {
      env,
      tty: true,
      confirm: (q) => q.startsWith('Delete 1 '),
    })
    expect(yes.code).toBe(0)
    expect(Object.keys(snapshot(server))).toHaveLength(Object.keys(before).length - 1)
    const piped = await runIn(['prune', 'FAP003'], { env })
    expect(piped.asked).toEqual([])
  })

  it('a signal on its emitter interrupts a command that does not finish its own work', async () => {
    const server = await sim({ seed: lockoutSeed({ now: nowSeconds() }) })
    const signals = new EventEmitter()
    server.setFaults({ beforeAction: () => void signals.emit('SIGINT', 'SIGINT') })
    const r = await runIn(['contacts'], { env: envFor(server), signals })
    expect(r.code).toBe(130)
    expect(r.stderr).toContain('pjctl: interrupted (SIGINT)')
  })
})

describe('report(): error messages on stderr', () => {
  it('a message quoting a file name or a server never carries its control characters to the terminal', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pjctl-report-'))
    const path = join(dir, '\u001b[31mred\r.json')
    writeFileSync(path, '{', { mode: 0o600 })
    const r = await runIn(['contacts', '--config', path])
    expect(r.code).toBe(2)
    expect(r.stderr).toBe(
      `pjctl: config file ${dir}/\\u001b[31mred\\r.json is not valid JSON: Expected property name or '}' at line 1, column 2\n`,
    )
  })
})
