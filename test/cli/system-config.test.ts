// /etc/pjctl/config.json (moved by PJCTL_SYSTEM_CONFIG here) is read when the user has no
// $XDG_CONFIG_HOME/pjctl/config.json: the nagios or cron user's config. The user's file wins,
// the two are not merged, and the system file gets the same mode warning.
import { mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { SimAsterisk } from '../../src/sim/server.js'
import { runIn } from '../helpers/cli.js'
import { isolatedHome } from '../helpers/run.js'
import { sim } from '../helpers/sim.js'
import { writeFile } from '../helpers/rows.js'

const profile = (server: SimAsterisk) => ({
  host: '127.0.0.1',
  port: server.port,
  user: 'pjctl',
  secret: 'pjctl-secret',
})

function place(path: string, config: unknown, mode: number): string {
  mkdirSync(dirname(path), { recursive: true })
  return writeFile(dirname(path), 'config.json', JSON.stringify(config), mode)
}

describe('system-wide config file', () => {
  it('is read when the user has no config file: --server and default work from it', async () => {
    const server = await sim()
    const env = isolatedHome()
    place(env.PJCTL_SYSTEM_CONFIG!, { default: 'pbx', servers: { pbx: profile(server) } }, 0o600)
    const named = await runIn(['contacts', '--server', 'pbx', '--json'], { env })
    expect([named.code, named.stderr]).toEqual([0, ''])
    expect(JSON.parse(named.stdout).server).toBe('pbx')
    const byDefault = await runIn(['contacts', '--json'], { env })
    expect([byDefault.code, byDefault.stderr]).toEqual([0, ''])
    expect(JSON.parse(byDefault.stdout).server).toBe('pbx')
  })

  it("the user's $XDG_CONFIG_HOME/pjctl/config.json comes first, and the files are not merged", async () => {
    const server = await sim()
    const env = isolatedHome()
    place(env.PJCTL_SYSTEM_CONFIG!, { servers: { system: profile(server) } }, 0o600)
    place(
      join(env.XDG_CONFIG_HOME!, 'pjctl', 'config.json'),
      { servers: { mine: profile(server) } },
      0o600,
    )
    const mine = await runIn(['contacts', '--server', 'mine', '--json'], { env })
    expect([mine.code, mine.stderr]).toEqual([0, ''])
    const system = await runIn(['contacts', '--server', 'system'], { env })
    expect(system.code).toBe(2)
    expect(system.stderr).toBe(
      `pjctl: no server named 'system' in ${join(env.XDG_CONFIG_HOME!, 'pjctl', 'config.json')}\nhint: known servers: mine\n`,
    )
  })

  it('warns when the system file is readable by group or others, as for the user file', async () => {
    const server = await sim()
    const env = isolatedHome()
    const path = place(env.PJCTL_SYSTEM_CONFIG!, { servers: { pbx: profile(server) } }, 0o640)
    const r = await runIn(['contacts', '--server', 'pbx', '--json'], { env })
    expect(r.code).toBe(0)
    expect(r.stderr).toBe(
      `pjctl: warning: config file ${path} is readable by group (mode 640); it holds AMI secrets: chmod 600 ${path}\n`,
    )
  })

  it('--config names the one file read: the system file is not a fallback for it', async () => {
    const server = await sim()
    const env = isolatedHome()
    place(env.PJCTL_SYSTEM_CONFIG!, { servers: { pbx: profile(server) } }, 0o600)
    const r = await runIn(
      ['contacts', '--server', 'pbx', '--config', join(env.HOME!, 'none.json')],
      { env },
    )
    expect([r.code, r.stderr]).toEqual([
      2,
      `pjctl: cannot read ${join(env.HOME!, 'none.json')}: no such file\n`,
    ])
  })
})
