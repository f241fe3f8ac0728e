// gen --from-server (issue 11 item 4): never below the current max_contacts; (+type=aor) only for AORs
// of pjsip.conf, a wizard snippet for wizard-defined ones; names that cannot be proposed refused with why.
import { describe, expect, it } from 'vitest'
import { runIn } from '../helpers/cli.js'
import { envFor, sim } from '../helpers/sim.js'
import { aor, nowSeconds, row, seedOf, sessionsOf } from '../helpers/rows.js'
import { defineAor } from '../../src/sim/registrar.js'

const UA = 'Grandstream GXP2130 1.0.11.3'

/** carol (max 3, one phone now), FAP003 (max 2, one phone now), wizphone (a wizard, max 2), ghost (orphaned), rt (realtime). */
function pbx() {
  const now = nowSeconds()
  return seedOf(
    [
      row({
        aor: 'carol',
        viaAddr: '10.0.0.3',
        viaPort: 5060,
        userAgent: 'MicroSIP/3.21.3',
        expirationTime: now + 600,
      }),
      row({
        aor: 'FAP003',
        viaAddr: '10.0.0.4',
        viaPort: 5060,
        userAgent: UA,
        expirationTime: now + 600,
      }),
      row({
        aor: 'wizphone',
        viaAddr: '10.0.0.5',
        viaPort: 5060,
        userAgent: UA,
        expirationTime: now + 600,
      }),
      row({
        aor: 'ghost',
        viaAddr: '10.0.0.6',
        viaPort: 5060,
        userAgent: UA,
        expirationTime: now + 600,
      }),
      row({
        aor: 'rt',
        viaAddr: '10.0.0.7',
        viaPort: 5060,
        userAgent: UA,
        expirationTime: now + 600,
      }),
    ],
    [
      aor('carol', 3, { qualifyFrequency: 10 }),
      aor('FAP003', 2),
      defineAor('wizphone', { maxContacts: 2, definedIn: 'pjsip_wizard.conf' }),
      defineAor('rt', { maxContacts: 1, definedIn: 'realtime' }),
    ],
  )
}

describe('gen --from-server', () => {
  it('gen pjsip: (+type=aor) for the pjsip.conf AORs, never lowering max_contacts; the others left out with a warning', async () => {
    const server = await sim({ seed: pbx() })
    const r = await runIn(['gen', 'pjsip', '--from-server'], { env: envFor(server) })
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('[carol](+type=aor)\nmax_contacts=3\nremove_existing=yes\n')
    expect(r.stdout).toContain('[FAP003](+type=aor)\nmax_contacts=2\nremove_existing=yes\n')
    expect(r.stdout).toContain(
      '; carol: now max_contacts=3 (from getconfig), remove_existing=no; 1 contact (1 current) from 1 device; max_contacts stays 3: never lowered (a device offline now would lose its slot)',
    )
    expect(r.stdout).not.toMatch(/\[(wizphone|ghost|rt)\]/)
    expect(r.stderr).toMatch(
      /^pjctl: warning: left out 3 AOR\(s\) this pjsip\.conf snippet cannot add to \(ghost, rt, wizphone\): /,
    )
    // where each AOR is defined comes from the files: the whole-server GetConfig, never PJSIPShowAors
    expect(sessionsOf(server.received)[1]!.map(([action]) => action)).toEqual([
      'GetConfig',
      'GetConfig',
      'GetConfig',
    ])
  })

  it('gen wizard: a [NAME](+) wizard snippet with aor/ options, only for the wizards', async () => {
    const server = await sim({ seed: pbx() })
    const r = await runIn(['gen', 'wizard', '--from-server', 'wizphone'], { env: envFor(server) })
    expect([r.code, r.stderr]).toEqual([0, ''])
    expect(r.stdout).toContain('[wizphone](+)\naor/max_contacts=2\naor/remove_existing=yes\n')
    expect(r.stdout).not.toContain('type=aor')
    // one NAME still reads the whole server's files: where it is defined is what matters
    expect(sessionsOf(server.received)[1]!.map(([action]) => action)).toEqual([
      'GetConfig',
      'GetConfig',
      'GetConfig',
    ])
  })

  it.each([
    [
      ['pjsip', 'wizphone'],
      "gen pjsip --from-server: 'wizphone' is a wizard of pjsip_wizard.conf, not a pjsip.conf section (a [wizphone](+type=aor) would make Asterisk reject the whole file): use pjctl gen wizard --from-server wizphone",
    ],
    [
      ['wizard', 'carol'],
      "gen wizard --from-server: 'carol' is defined in pjsip.conf, not by a wizard: use pjctl gen pjsip --from-server carol",
    ],
    [
      ['pjsip', 'ghost'],
      "gen pjsip --from-server: 'ghost' is not configured anywhere (its contacts are orphaned): there is no AOR to add to; pjctl prune --orphaned removes its contacts",
    ],
    [['pjsip', 'nosuch'], "--from-server: no AOR or endpoint named 'nosuch' on 127.0.0.1:PORT"],
  ])('refuses %j: %s', async (args, message) => {
    const server = await sim({ seed: pbx() })
    const r = await runIn(['gen', ...args.slice(0, 1), '--from-server', ...args.slice(1)], {
      env: envFor(server),
    })
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr.split('\n')[0]).toBe(`pjctl: ${message.replace('PORT', String(server.port))}`)
  })

  it('a realtime AOR (sorcery.conf maps aor elsewhere) is refused with that reason', async () => {
    const server = await sim({
      seed: pbx(),
      configFiles: {
        'sorcery.conf': [
          {
            name: 'res_pjsip',
            lines: [
              ['aor', 'config,pjsip.conf,criteria=type=aor'],
              ['aor', 'realtime,ps_aors'],
            ],
          },
        ],
      },
    })
    const r = await runIn(['gen', 'pjsip', '--from-server', 'rt'], { env: envFor(server) })
    expect(r.code).toBe(2)
    expect(r.stderr.split('\n')[0]).toBe(
      "pjctl: gen pjsip --from-server: 'rt' is in neither pjsip.conf nor pjsip_wizard.conf (sorcery.conf maps res_pjsip aor to 'realtime,ps_aors': AORs may live outside the config files): change it where it is defined",
    )
  })
})
