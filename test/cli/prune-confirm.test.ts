// prune on a terminal, in-process with a prompt double: every server is planned first,
// one combined preview is shown, one question is asked, and only then is anything deleted.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openSession } from '../../src/ami/session.js'
import type { AmiTarget } from '../../src/ami/types.js'
import { prune } from '../../src/commands/prune.js'
import type { Deps, Settings } from '../../src/commands/types.js'
import type { ViewResult } from '../../src/commands/views.js'
import { withDefaults } from '../../src/options.js'
import { renderText } from '../../src/output/index.js'
import { contactKey } from '../../src/sim/registrar.js'
import { lockoutSeed } from '../../src/sim/seed.js'
import type { SimAsterisk } from '../../src/sim/server.js'
import { keysOf } from '../helpers/prune.js'
import { runIn } from '../helpers/cli.js'
import { sim } from '../helpers/sim.js'

const FAP_OLD = contactKey('FAP003', 'sip:FAP003@192.0.2.16:5060')

function target(name: string, server: SimAsterisk): AmiTarget {
  return {
    name,
    host: '127.0.0.1',
    port: server.port,
    user: 'pjctl',
    secret: 'pjctl-secret',
    timeout: 5,
    maxOutput: 1 << 26,
  }
}

interface Asked {
  question: string
  preview?: ViewResult | undefined
  /** DBDel/DBPut actions the servers had received when the question was asked. */
  writesBefore: number
}

/** Deps of a terminal session whose user answers `answers` in turn (then "no"). */
function terminal(
  targets: AmiTarget[],
  servers: SimAsterisk[],
  answers: boolean[],
): { deps: Deps; asked: Asked[]; warned: string[] } {
  const asked: Asked[] = []
  const warned: string[] = []
  const state = mkdtempSync(join(tmpdir(), 'pjctl-confirm-'))
  const writes = (): number =>
    servers.reduce(
      (n, s) => n + s.received.filter((r) => /^db(del|put)$/i.test(r.action)).length,
      0,
    )
  const deps: Deps = {
    targets: async () => targets,
    connect: (t) => openSession(t),
    now: () => Math.floor(Date.now() / 1000),
    log: { warn: (m) => void warned.push(m), info: () => {}, debug: () => {} },
    readFile: async () => {
      throw new Error('no files in this test')
    },
    readStdin: async () => '',
    confirm: async (question, preview) => {
      asked.push({ question, preview, writesBefore: writes() })
      // a real prompt takes a moment: the other server's worker would ask meanwhile
      await new Promise((r) => setTimeout(r, 50))
      return answers.shift() ?? false
    },
    interactive: true,
    progress: () => ({ update: () => {}, done: () => {} }),
    signal: new AbortController().signal,
    env: { HOME: state, XDG_STATE_HOME: join(state, 'state') },
  }
  return { deps, asked, warned }
}

async function fleet(answers: boolean[], extra: Partial<Settings> = {}) {
  const a = await sim({ seed: lockoutSeed({ now: Math.floor(Date.now() / 1000) }) })
  const b = await sim({ seed: lockoutSeed({ now: Math.floor(Date.now() / 1000) }) })
  const { deps, asked, warned } = terminal(
    [target('pbx-a', a), target('pbx-b', b)],
    [a, b],
    answers,
  )
  const settings: Settings = withDefaults({
    server: ['pbx-a', 'pbx-b'],
    expired: true,
    superseded: true,
    parallel: 4,
    via: 'delete',
    ...extra,
  })
  const result = await prune.run({ args: [], settings, format: 'table', deps })
  return { a, b, asked, warned, result }
}

describe('prune --server a,b on a terminal', () => {
  it('plans both servers, shows one combined preview, asks once, then deletes on both', async () => {
    const { a, b, asked, result } = await fleet([true])
    expect(asked).toHaveLength(1)
    expect(asked[0]!.writesBefore).toBe(0)
    expect(asked[0]!.question).toBe('Delete 2 contact(s) on 2 servers (pbx-a, pbx-b)? [y/N] ')
    const preview = renderText(asked[0]!.preview!.view, 'table', asked[0]!.preview!.data, {
      color: false,
    })
    expect(preview).toContain('Prune plan for pbx-a (nothing changed yet): 1 to delete')
    expect(preview).toContain('Prune plan for pbx-b (nothing changed yet): 1 to delete')
    expect(preview).toContain('In all: 2 contact(s) on 2 servers.')
    expect(result.exitCode).toBe(0)
    expect(result.data.servers.map((s) => [s.server, s.mode])).toEqual([
      ['pbx-a', 'executed'],
      ['pbx-b', 'executed'],
    ])
    expect(keysOf(a, 'DBDel')).toContain(FAP_OLD)
    expect(keysOf(b, 'DBDel')).toContain(FAP_OLD)
    expect(result.data.summary).toMatchObject({ planned: 2, deleted: 2, failed: 0 })
  })

  it('one "no" declines both servers: nothing is deleted anywhere', async () => {
    const { a, b, asked, result } = await fleet([false, true])
    expect(asked).toHaveLength(1)
    expect(keysOf(a, 'DBDel')).toEqual([])
    expect(keysOf(b, 'DBDel')).toEqual([])
    expect(result.data.servers.map((s) => s.mode)).toEqual(['declined', 'declined'])
    expect(result.exitCode).toBe(1)
  })

  it('--key in a fleet: a key found on no server is exit 2 (each server notes it), nothing deleted', async () => {
    const { a, b, asked, warned, result } = await fleet([true], {
      expired: false,
      superseded: false,
      key: ['deadbeef'],
      yes: true,
    })
    expect(asked).toHaveLength(0)
    expect(keysOf(a, 'DBDel')).toEqual([])
    expect(keysOf(b, 'DBDel')).toEqual([])
    expect(warned).toContain("--key 'deadbeef': no such contact on any server")
    const unmatched = { kind: 'key-unmatched', key: 'deadbeef' }
    expect(result.data.servers.map((s) => s.plan?.notes)).toEqual([[unmatched], [unmatched]])
    expect(result.exitCode).toBe(2)
  })

  it('through the CLI on a (fake) terminal: both plans on stderr, then the one question', async () => {
    const a = await sim({ seed: lockoutSeed({ now: Math.floor(Date.now() / 1000) }) })
    const b = await sim({ seed: lockoutSeed({ now: Math.floor(Date.now() / 1000) }) })
    const config = mkdtempSync(join(tmpdir(), 'pjctl-confirm-cfg-'))
    mkdirSync(join(config, 'pjctl'))
    const servers = {
      'pbx-a': { port: a.port, user: 'pjctl', secret: 'pjctl-secret' },
      'pbx-b': { port: b.port, user: 'pjctl', secret: 'pjctl-secret' },
    }
    writeFileSync(join(config, 'pjctl', 'config.json'), JSON.stringify({ servers }), {
      mode: 0o600,
    })
    const r = await runIn(['prune', '--via', 'delete', '--all'], {
      env: { XDG_CONFIG_HOME: config },
      tty: true,
      confirm: true,
    })
    expect(r.asked).toEqual(['Delete 2 contact(s) on 2 servers (pbx-a, pbx-b)? [y/N] '])
    const question = r.stderr.indexOf('Delete 2 contact(s)')
    expect(r.stderr.indexOf('Prune plan for pbx-a (nothing changed yet)')).toBeGreaterThanOrEqual(0)
    expect(r.stderr.indexOf('Prune plan for pbx-a (nothing changed yet)')).toBeLessThan(question)
    expect(r.stderr.indexOf('Prune plan for pbx-b (nothing changed yet)')).toBeLessThan(question)
    expect(r.stderr.split('[y/N]')).toHaveLength(2)
    expect(r.code).toBe(0)
    expect(keysOf(a, 'DBDel')).toEqual([FAP_OLD])
    expect(keysOf(b, 'DBDel')).toEqual([FAP_OLD])
  })
})
