// pjctl exporter on the real Asterisk 22 lab: real REGISTERs show in /metrics within 3 s (from the
// ContactStatus events, not from a resync: --resync 1h), an unREGISTER too, and Asterisk stopped and
// started shows pjctl_server_up 0, then 1 with the right count within 30 s.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startExporter, type RunningExporter } from '../helpers/exporter.js'
import { home } from '../helpers/prune.js'
import { LAB, contactsOf, deleteKeys, labScript, putRows, register } from './lab.js'

const AOR = 'FAP003'
const PASS = 'FAP003-pass'
// URIs this Asterisk has not seen since boot (it announces a re-registered known URI with no event):
// a port of our own per run, outside the lab mix's 5071-5099 and the other suites' 51xx
const BASE = 5300 + 2 * (Math.floor(Date.now() / 1000) % 300)
const P1 = BASE
const P2 = BASE + 1

describe('pjctl exporter on real Asterisk', () => {
  let saved = new Map<string, string>()
  let e: RunningExporter
  const server = `${LAB.host}:${LAB.port}`
  const contacts = `pjctl_aor_contacts{server="${server}",aor="${AOR}"}`
  const up = `pjctl_server_up{server="${server}"}`

  beforeAll(async () => {
    saved = await contactsOf(AOR)
    await deleteKeys(saved.keys())
    e = await startExporter(['--resync', '1h'], { ...LAB.env, ...home() }, 600_000, 'spawned')
    await e.waitFor(up, 1, 30_000)
    await e.waitFor(contacts, 0, 5_000)
  }, 60_000)

  afterAll(async () => {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- beforeAll may have failed before it started
    const r = await e?.stop()
    for (const port of [P1, P2]) await register(AOR, PASS, port, 0)
    await deleteKeys((await contactsOf(AOR)).keys())
    await putRows(saved)
    expect(await contactsOf(AOR)).toEqual(saved)
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- as above
    expect(r?.code).toBe(0)
  }, 120_000)

  it('two real REGISTERs for FAP003: pjctl_aor_contacts 2 within 3 s', async () => {
    expect((await register(AOR, PASS, P1, 3600)).code).toBe(0)
    expect((await register(AOR, PASS, P2, 3600)).code).toBe(0)
    await e.waitFor(contacts, 2, 3_000)
    expect(await e.value(`pjctl_aor_state{server="${server}",aor="${AOR}",state="full"}`)).toBe(1)
    expect(await e.value(`pjctl_aor_max_contacts{server="${server}",aor="${AOR}"}`)).toBe(2)
  }, 30_000)

  it('an unREGISTER: 1 within 3 s (ContactStatus Removed)', async () => {
    expect((await register(AOR, PASS, P2, 0)).code).toBe(0)
    await e.waitFor(contacts, 1, 3_000)
  }, 30_000)

  it('Asterisk stopped: pjctl_server_up 0; started again: up 1 and the right count within 30 s', async () => {
    await labScript('stop.sh', [])
    await e.waitFor(up, 0, 10_000)
    expect(await e.value(contacts)).toBeUndefined()
    expect((await e.fetch('/healthz')).status).toBe(503)
    const started = Date.now()
    await labScript('start.sh', [])
    await e.waitFor(up, 1, 30_000 - (Date.now() - started))
    await e.waitFor(contacts, 1, Math.max(1_000, 30_000 - (Date.now() - started)))
    expect(e.stderr()).toMatch(/disconnected: /)
  }, 120_000)
})
