// pjctl watch against the simulator: one record per refused registration, the AOR's contacts and the
// prune command that frees the slot, --heal through prune (backup, compare-before-delete), the
// Filter it sends, the warning without read=security, a clean stop on SIGTERM.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { runIn, startIn, type StartedIn } from '../helpers/cli.js'
import { envFor } from '../helpers/sim.js'
import { fap003, phone } from '../helpers/refusals.js'

async function waitFor(
  run: StartedIn,
  text: string,
  where: 'stdout' | 'stderr' = 'stdout',
): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const out = run[where]()
    if (out.includes(text)) return out
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error(`timed out waiting for ${text}; stdout: ${run.stdout()} stderr: ${run.stderr()}`)
}

describe('pjctl watch', () => {
  it('--json: one line per refusal naming the AOR, the refused address, the stale contact and the prune that frees the slot', async () => {
    const server = await fap003()
    const run = startIn(['watch', '--json'], { env: envFor(server) })
    await waitFor(run, 'connected', 'stderr')
    expect(server.register(phone(5073, { callId: 'gs-call@127.0.0.1' })).code).toBe(403)
    server.register(phone(5074), 'wrong-password')
    const out = await waitFor(run, '"reason":"auth"')
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(lines).toHaveLength(2)
    const [refused, auth] = lines
    expect(refused).toMatchObject({
      reason: 'max_contacts',
      endpoint: 'FAP003',
      aor: 'FAP003',
      address: '127.0.0.1:5073',
      callId: 'gs-call@127.0.0.1',
    })
    expect(refused.refused.count).toBe(2)
    expect(refused.refused.maxContacts).toBe(2)
    const stale = refused.refused.contacts.filter((c: { stale?: string }) => c.stale)
    expect(stale.map((c: { source: string }) => c.source)).toEqual(['127.0.0.1:5071'])
    const hash = stale[0].key.split(';@')[1]
    expect(refused.refused.pruneCommand).toBe(
      `pjctl prune FAP003 --key ${hash} -H 127.0.0.1 -p ${server.port} --yes`,
    )
    expect(auth).toMatchObject({
      reason: 'auth',
      event: 'ChallengeResponseFailed',
      endpoint: 'FAP003',
    })
    // it asked for the refusal events only, and read the AOR with one PJSIPShowEndpoint
    const actions = server.received.map((r) => r.action)
    expect(actions).toContain('Filter')
    expect(actions.filter((a) => a === 'PJSIPShowEndpoint')).toHaveLength(1)
    expect(actions).not.toContain('DBGetTree')
    run.signals.emit('SIGTERM')
    const done = await run.done
    expect(done.code).toBe(0)

    // the printed command frees the slot: the refused phone then registers
    const args = refused.refused.pruneCommand.split(' ').slice(1)
    const pruned = await runIn(args, { env: { PJCTL_USER: 'pjctl', PJCTL_SECRET: 'pjctl-secret' } })
    expect(pruned.code).toBe(0)
    expect(server.register(phone(5073, { callId: 'gs-call@127.0.0.1' })).code).toBe(200)
  })

  it('--heal: the stale contact is pruned (backed up), the other device kept, the retry gets 200; a second refusal within a minute is rate-limited', async () => {
    const server = await fap003()
    const run = startIn(['watch', '--heal', '--json'], { env: envFor(server) })
    await waitFor(run, 'connected', 'stderr')
    expect(server.register(phone(5073, { callId: 'gs-call@127.0.0.1' })).code).toBe(403)
    const out = await waitFor(run, '"heal"')
    const record = JSON.parse(out.trim().split('\n')[0]!)
    expect(record.heal.result).toBe('healed')
    expect(record.heal.removed).toHaveLength(1)
    const backup = readFileSync(record.heal.backupFile, 'utf8')
    expect(backup).toContain('sip:FAP003@127.0.0.1:5071')
    expect(backup).not.toContain('baresip')
    expect(server.register(phone(5073, { callId: 'gs-call@127.0.0.1' })).code).toBe(200)
    expect(run.stderr()).toMatch(
      /pjctl heal: 127\.0\.0\.1:\d+: FAP003: removed FAP003;@[0-9a-f]{32} \(the refused REGISTER's own Call-ID: [^)]*\); backup \//,
    )
    // the same phone moves again (5077, same Call-ID): within the minute it is not healed again
    expect(server.register(phone(5077, { callId: 'gs-call@127.0.0.1' })).code).toBe(403)
    await waitFor(run, 'rate_limited')
    run.signals.emit('SIGINT')
    expect((await run.done).code).toBe(0)
  })

  it('a flood of refusals: one record each, in order, the endpoint read once for those within a second', async () => {
    const server = await fap003()
    const run = startIn(['watch', '--json'], { env: envFor(server) })
    await waitFor(run, 'connected', 'stderr')
    for (let port = 6000; port < 6050; port++) expect(server.register(phone(port)).code).toBe(403)
    await waitFor(run, '"address":"127.0.0.1:6049"')
    const lines = run
      .stdout()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(lines.map((l) => l.address)).toEqual(
      Array.from({ length: 50 }, (_, i) => `127.0.0.1:${6000 + i}`),
    )
    expect(lines.every((l) => l.refused.count === 2)).toBe(true)
    const reads = server.received.filter((r) => r.action === 'PJSIPShowEndpoint').length
    expect(reads).toBeGreaterThanOrEqual(1)
    expect(reads).toBeLessThan(5)
    run.signals.emit('SIGTERM')
    expect((await run.done).code).toBe(0)
  })

  it('without read=security: says so once, naming the manager.conf line, and keeps watching', async () => {
    const server = await fap003([
      { username: 'pjctl', secret: 'pjctl-secret', write: ['system', 'command', 'reporting'] },
    ])
    const run = startIn(['watch'], { env: envFor(server) })
    const err = await waitFor(run, 'connected', 'stderr')
    expect(err).toContain(
      "AMI user pjctl does not get security events (read = system,command,reporting), so Asterisk's refusals cannot be seen: read = system,command,reporting,security   (in [pjctl] of manager.conf, then: manager reload)",
    )
    run.signals.emit('SIGTERM')
    expect((await run.done).code).toBe(0)
  })

  it('reconnects when Asterisk restarts and goes on watching', async () => {
    const server = await fap003()
    const run = startIn(['watch'], { env: envFor(server) })
    await waitFor(run, 'connected', 'stderr')
    server.restart()
    await waitFor(run, 'reconnecting in', 'stderr')
    for (let i = 0; i < 200 && run.stderr().split('connected').length < 4; i++)
      await new Promise((resolve) => setTimeout(resolve, 25))
    expect(server.register(phone(5073)).code).toBe(403)
    const out = await waitFor(run, 'max_contacts')
    expect(out).toMatch(/FAP003 refused 127\.0\.0\.1:5073: max_contacts \(2\/2\)/)
    // no contact is stale (another Call-ID, no newer registration of the device): the soonest to expire is offered
    expect(out).toContain(
      'no contact is stale; to free the slot anyway (the soonest to expire): pjctl prune FAP003 --key e6b0e56f',
    )
    run.signals.emit('SIGTERM')
    expect((await run.done).code).toBe(0)
  })
})
