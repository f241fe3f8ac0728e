// The exporter counts Asterisk's refusals (security events): per endpoint and AOR for max_contacts and
// invalid_contact, per server and reason for the rest; asks (Filter) for only the events it uses; --heal
// prunes a refused AOR's stale contact through pjctl prune.
import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import type { SimAsterisk } from '../../src/sim/server.js'
import { startExporter, type RunningExporter } from '../helpers/exporter.js'
import { envFor } from '../helpers/sim.js'
import { fap003, phone } from '../helpers/refusals.js'

const running: RunningExporter[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((e) => e.stop()))
})

async function exporter(server: SimAsterisk, ...args: string[]): Promise<RunningExporter> {
  const e = await startExporter(args, envFor(server))
  running.push(e)
  await e.waitFor(`pjctl_server_up{server="127.0.0.1:${server.port}"}`, 1)
  return e
}

describe('exporter: refused registrations', () => {
  it('counts max_contacts per endpoint and AOR, auth per server; the last refusal time per AOR', async () => {
    const server = await fap003()
    const e = await exporter(server)
    const s = `server="127.0.0.1:${server.port}"`
    expect(
      await e.value(`pjctl_registrations_rejected_total{${s},endpoint="",aor="",reason="auth"}`),
    ).toBe(0)
    expect(server.register(phone(5073)).code).toBe(403)
    await e.waitFor(
      `pjctl_registrations_rejected_total{${s},endpoint="FAP003",aor="FAP003",reason="max_contacts"}`,
      1,
    )
    server.register(phone(5074), 'wrong-password')
    server.register({ ...phone(5074), aor: 'nosuch', endpoint: 'nosuch' })
    await e.waitFor(`pjctl_registrations_rejected_total{${s},endpoint="",aor="",reason="auth"}`, 1)
    await e.waitFor(
      `pjctl_registrations_rejected_total{${s},endpoint="",aor="",reason="no_aor"}`,
      1,
    )
    const body = await e.scrape()
    expect(body).toMatch(
      new RegExp(
        `pjctl_last_rejection_timestamp_seconds\\{${s.replace(/[.]/g, '\\.')},aor="FAP003"\\} \\d{10}`,
      ),
    )
    expect(body).not.toContain('endpoint="nosuch"')
  })

  it('asks for only the events it uses: SuccessfulAuth and ChallengeSent never reach it', async () => {
    const server = await fap003()
    const e = await exporter(server)
    const before = server.eventsSent
    for (let port = 6000; port < 6010; port++) server.register(phone(port))
    const s = `server="127.0.0.1:${server.port}"`
    await e.waitFor(
      `pjctl_registrations_rejected_total{${s},endpoint="FAP003",aor="FAP003",reason="max_contacts"}`,
      10,
    )
    // 10 REGISTERs: 10 ChallengeSent + 10 SuccessfulAuth + 10 FailedACL sent without a filter; 10 with it
    expect(server.eventsSent - before).toBe(10)
    expect(server.received.some((r) => r.action === 'Filter')).toBe(true)
    expect(await e.value(`pjctl_events_received_total{${s},event="other"}`)).toBe(10)
  })

  it("--heal: the refused phone's old contact is pruned and backed up, counted as healed", async () => {
    const server = await fap003()
    const e = await exporter(server, '--heal')
    const s = `server="127.0.0.1:${server.port}"`
    expect(server.register(phone(5073, { callId: 'gs-call@127.0.0.1' })).code).toBe(403)
    await e.waitFor(`pjctl_heal_actions_total{${s},aor="FAP003",result="healed"}`, 1)
    expect(server.register(phone(5073, { callId: 'gs-call@127.0.0.1' })).code).toBe(200)
    const backup = /backup (\S+\.jsonl)/.exec(e.stderr())![1]!
    expect(readFileSync(backup, 'utf8')).toContain('sip:FAP003@127.0.0.1:5071')
  })

  it('without read=security: says so once, naming the manager.conf line', async () => {
    const server = await fap003([
      {
        username: 'pjctl',
        secret: 'pjctl-secret',
        write: ['system', 'command', 'reporting', 'user'],
      },
    ])
    const e = await exporter(server)
    expect(e.stderr()).toContain(
      "does not get security events (read = system,command,user,reporting), so Asterisk's refusals cannot be seen: read = system,command,user,reporting,security",
    )
  })
})
