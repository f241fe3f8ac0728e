// prune's question on a real pseudo-terminal (not a prompt double): readline in raw mode, the
// keys an admin types. y deletes, n and end of input decline, Ctrl-C is exit 130; nothing is
// deleted unless the answer was yes, and a fleet gets one question.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { contactKey } from '../../src/sim/registrar.js'
import { lockoutSeed } from '../../src/sim/seed.js'
import { keysOf } from '../helpers/prune.js'
import { hasScript, onTerminal } from '../helpers/pty.js'
import { envFor, sim } from '../helpers/sim.js'

const FAP_OLD = contactKey('FAP003', 'sip:FAP003@192.0.2.16:5060')
const now = (): number => Math.floor(Date.now() / 1000)

async function answer(keys: string) {
  const server = await sim({ seed: lockoutSeed({ now: now() }) })
  const run = onTerminal(['prune', '--via', 'delete', 'FAP003'], envFor(server))
  await run.waitFor('? [y/N] ')
  run.type(keys)
  const { code, screen } = await run.done
  return { code, screen, deleted: keysOf(server, 'DBDel'), server }
}

describe.skipIf(!hasScript)('prune at the prompt, on a real terminal', () => {
  it.concurrent('y deletes the planned contact and exits 0', async () => {
    const r = await answer('y\r')
    expect(r.screen).toContain(`Delete 1 contact(s) on 127.0.0.1:${r.server.port}? [y/N] y`)
    expect(r.deleted).toEqual([FAP_OLD])
    expect(r.code).toBe(0)
  })

  it.concurrent('yes (any case) is yes too', async () => {
    const r = await answer('YES\r')
    expect(r.deleted).toEqual([FAP_OLD])
    expect(r.code).toBe(0)
  })

  it.concurrent('n declines: nothing deleted, exit 1', async () => {
    const r = await answer('n\r')
    expect(r.screen).toContain('declined at the prompt: nothing deleted')
    expect(r.deleted).toEqual([])
    expect(r.code).toBe(1)
  })

  it.concurrent('Enter alone takes the default, no', async () => {
    const r = await answer('\r')
    expect(r.deleted).toEqual([])
    expect(r.code).toBe(1)
  })

  it.concurrent('Ctrl-C exits 130 on a new line, nothing deleted', async () => {
    const r = await answer('\x03')
    expect(r.deleted).toEqual([])
    expect(keysOf(r.server, 'DBPut')).toEqual([])
    expect(r.code).toBe(130)
    // the message starts a line of its own, not after the question
    expect(r.screen).toMatch(
      /\[y\/N\] (\^C)?\r?\npjctl: interrupted at the prompt: nothing deleted/,
    )
  })

  it.concurrent('end of input (Ctrl-D) declines: nothing deleted, exit 1', async () => {
    const r = await answer('\x04')
    expect(r.deleted).toEqual([])
    expect(r.code).toBe(1)
    expect(r.screen).toMatch(/\[y\/N\] \r?\n/)
  })

  it.concurrent('--all: one question for the fleet, then each server is pruned', async () => {
    const a = await sim({ seed: lockoutSeed({ now: now() }) })
    const b = await sim({ seed: lockoutSeed({ now: now() }) })
    const config = mkdtempSync(join(tmpdir(), 'pjctl-tty-cfg-'))
    mkdirSync(join(config, 'pjctl'))
    const servers = {
      'pbx-a': { port: a.port, user: 'pjctl', secret: 'pjctl-secret' },
      'pbx-b': { port: b.port, user: 'pjctl', secret: 'pjctl-secret' },
    }
    writeFileSync(join(config, 'pjctl', 'config.json'), JSON.stringify({ servers }), {
      mode: 0o600,
    })
    const run = onTerminal(['prune', '--via', 'delete', '--all'], { XDG_CONFIG_HOME: config })
    await run.waitFor('? [y/N] ')
    run.type('y\r')
    const { code, screen } = await run.done
    expect(screen.split('[y/N]')).toHaveLength(2)
    expect(screen).toContain('Delete 2 contact(s) on 2 servers (pbx-a, pbx-b)? [y/N] y')
    expect(keysOf(a, 'DBDel')).toEqual([FAP_OLD])
    expect(keysOf(b, 'DBDel')).toEqual([FAP_OLD])
    expect(code).toBe(0)
  })
})
