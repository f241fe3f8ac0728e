// pjctl demo: the lockout and its fix, end to end over real AMI/TCP against the
// simulated Asterisk that the tests use (src/sim), on a free loopback port.

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AmiTarget } from '../ami/types.js'
import { check } from './check.js'
import { contacts } from './contacts.js'
import { gen } from './gen.js'
import { prune } from './prune.js'
import { withDefaults } from '../options.js'
import type { AnyCommand, CommandResult, CommandSpec, Deps, Format, Settings } from './types.js'
import type { DemoStep } from './views.js'

const PHONE = {
  aor: 'FAP003',
  uri: 'sip:FAP003@192.0.2.16:5064',
  viaAddr: '192.0.2.16',
  viaPort: 5064,
  userAgent: 'Grandstream GXP2130 1.0.11.3',
  expires: 3600,
}

export const demo: CommandSpec<'demo'> = {
  name: 'demo',
  summary:
    'Show the lockout and its fix against a built-in simulated Asterisk (real AMI over TCP on 127.0.0.1); needs no setup.',
  examples: ['npx pjctl demo', 'pjctl demo --no-color | less -R'],
  options: [],
  formats: ['text'],
  async run({ deps }) {
    // loaded here, not at start-up: `pjctl --help` should not pay for the simulated Asterisk
    const [{ startSim }, { lockoutSeed }] = await Promise.all([
      import('../sim/server.js'),
      import('../sim/seed.js'),
    ])
    const sim = await startSim({ seed: lockoutSeed({ now: deps.now() }) })
    const port = sim.port
    const state = await mkdtemp(join(tmpdir(), 'pjctl-demo-'))
    const target: AmiTarget = {
      name: `simulated-asterisk:${port}`,
      host: '127.0.0.1',
      port,
      user: 'pjctl',
      secret: 'pjctl-secret',
      timeout: 10,
      maxOutput: 256 * 1024 ** 2,
    }
    const demoDeps: Deps = {
      ...deps,
      targets: () => Promise.resolve([target]),
      env: { ...deps.env, XDG_STATE_HOME: state },
      interactive: false,
      log: { ...deps.log, info: () => {} },
    }
    const steps: DemoStep[] = []
    const runStep = async (
      title: string,
      command: string,
      spec: AnyCommand,
      args: string[],
      settings: Partial<Settings>,
      format: Format,
    ): Promise<CommandResult> => {
      const result = await spec.run({
        args,
        settings: withDefaults(settings),
        format,
        deps: demoDeps,
      })
      steps.push({ title, command, result: { ...result, format } })
      return result
    }
    const register = (title: string): void => {
      const answer = sim.registrar.register(PHONE)
      const lines = [
        `REGISTER ${PHONE.uri} (${PHONE.userAgent}, from ${PHONE.viaAddr}:${PHONE.viaPort}) -> ${answer.code === 200 ? '200 OK' : '403 Forbidden'}`,
      ]
      if (answer.reason)
        lines.push(`Asterisk logs: WARNING res_pjsip_registrar.c: ${answer.reason}`)
      steps.push({ title, command: null, lines })
    }
    try {
      register(
        'The Grandstream on FAP003 reboots and registers from a new port without unregistering first:',
      )
      await runStep(
        "Who holds FAP003's two slots?",
        'pjctl contacts FAP003',
        contacts,
        ['FAP003'],
        {},
        'table',
      )
      await runStep('What a monitoring system sees:', 'pjctl check', check, [], {}, 'nagios')
      await runStep(
        'Delete the stale contact (compare-before-delete, backed up first):',
        'pjctl prune FAP003 --yes',
        prune,
        ['FAP003'],
        { yes: true },
        'table',
      )
      forgetBackup(steps[steps.length - 1])
      register('The phone tries again:')
      await runStep(
        'The lasting fix, ready to paste after the existing FAP003 AOR:',
        'pjctl gen pjsip FAP003 --append --max-contacts 2',
        gen,
        ['pjsip', 'FAP003'],
        { append: true, genMaxContacts: 2 },
        'text',
      )
    } finally {
      await sim.stop()
      await rm(state, { recursive: true, force: true })
    }
    return {
      view: 'demo',
      data: {
        server: `a simulated Asterisk 22 on 127.0.0.1:${port} (real AMI over TCP)`,
        steps,
        fix: [
          'FAP003 was locked out because its AOR allows 2 contacts and both were held by the same phone, one of them a stale registration from a port it no longer uses; pjctl prune deleted that one and the phone got in at once.',
          'To stop it happening again, set remove_existing=yes on the AOR (Asterisk then replaces the oldest contact instead of refusing the phone) and make the phone unregister on reboot.',
        ],
      },
      exitCode: 0,
    }
  },
}

/**
 * The demo's backup lives in a temporary folder removed when the demo ends, for a simulated
 * Asterisk that is gone by then: its path is no file to restore from, so the step says where a
 * real prune keeps its backup instead of printing that path.
 */
function forgetBackup(step: DemoStep | undefined): void {
  if (step?.result?.view !== 'prune') return
  for (const server of step.result.data.servers) server.backupFile = null
  step.lines = [
    'A real prune appends each deleted value to a backup before it deletes, under',
    '$XDG_STATE_HOME/pjctl/backups/ (~/.local/state/pjctl/backups/), and',
    '`pjctl restore FILE` puts them back. This demo kept its backup in a temporary',
    'folder, removed when the demo ends.',
  ]
}
