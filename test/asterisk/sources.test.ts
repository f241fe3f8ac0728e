// pjctl sources and pjctl doctor on a real Asterisk 22: the scenario of test/cli/sources.test.ts and
// doctor.test.ts (sourcesSeed), built for real. Ten AORs ext101…ext110 (max_contacts 6; ext110 with
// remove_unavailable=yes and no qualify) hold 30 contacts from one office NAT (DBPut: the lab's SIP
// side only speaks from 127.0.0.1); real REGISTERs (register.sh) give FAP003 a Grandstream that came
// back from a new port (its old contact superseded, a third port refused 403), phone1 a Grandstream
// Wave with a 60 s expiration re-registering from a new port, and alice (max_contacts=1) one Yealink;
// a DBPut contact under ext199, which is not configured, is the orphan. The lab's contacts and
// pjsip_perf.conf are put back afterwards.
import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { astdbContacts, cli, deleteKeys, labEtc, pjctl, putRows, register } from './lab.js'

const NAT = '203.0.113.50'
const UA = {
  yealink: 'Yealink SIP-T46S 66.86.0.15',
  zoiper: 'Zoiper rv2.10.20.4',
  linphone: 'Linphone/5.2.5 (belle-sip/5.2.0)',
  grandstream: 'Grandstream GXP2130 1.0.11.3',
  wave: 'Grandstream Wave 1.0.5.12',
  polycom: 'Polycom/6.4.3.5018',
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A contact as Asterisk 22 stores it (field order of the lab's captures). */
function contact(
  aor: string,
  viaAddr: string,
  viaPort: number,
  userAgent: string,
  expirationTime: number,
  uri = `sip:${aor}@${viaAddr}:${viaPort}`,
): [string, string] {
  const value = {
    via_addr: viaAddr,
    qualify_timeout: '3.000000',
    qualify_2xx_only: 'false',
    call_id: `${aor}-${viaPort}@${viaAddr}`,
    reg_server: '',
    prune_on_boot: 'no',
    path: '',
    endpoint: aor,
    via_port: String(viaPort),
    authenticate_qualify: 'no',
    uri,
    qualify_frequency: '0',
    user_agent: userAgent,
    expiration_time: String(expirationTime),
    outbound_proxy: '',
  }
  return [`${aor};@${createHash('md5').update(uri).digest('hex')}`, JSON.stringify(value)]
}

const PERF_CONF = labEtc('pjsip_perf.conf')
let savedContacts = new Map<string, string>()
let savedPerfConf = ''

async function reloadPjsip(): Promise<void> {
  await cli('module reload res_pjsip.so')
  await sleep(2000)
}

/** Where the examples of docs/commands/sources.md and doctor.md come from: set PJCTL_LAB_OUT=DIR to keep the outputs. */
function keep(name: string, text: string): void {
  if (process.env.PJCTL_LAB_OUT) writeFileSync(`${process.env.PJCTL_LAB_OUT}/${name}`, text)
}

describe('sources and doctor on real Asterisk', () => {
  beforeAll(async () => {
    savedContacts = await astdbContacts()
    try {
      savedPerfConf = readFileSync(PERF_CONF, 'utf8')
    } catch {
      savedPerfConf = ''
    }
    await deleteKeys(savedContacts.keys())
    const aors = Array.from(
      { length: 10 },
      (_, i) =>
        `[ext${101 + i}]\ntype=aor\nmax_contacts=6\nmaximum_expiration=3600\n${i === 9 ? 'remove_unavailable=yes\n' : ''}`,
    )
    writeFileSync(PERF_CONF, aors.join('\n'))
    await reloadPjsip()
    const now = Math.floor(Date.now() / 1000)
    const rows: [string, string][] = []
    for (let i = 1; i <= 10; i++) {
      const aor = `ext${100 + i}`
      rows.push(contact(aor, NAT, 5060 + i, UA.yealink, i === 5 ? now + 5000 : now + 600 + i * 60))
      rows.push(
        contact(
          aor,
          NAT,
          40000 + i * 10 + 1,
          UA.zoiper,
          now + 607 + i * 60,
          `sip:${aor}@${NAT}:${40000 + i * 10 + 1};transport=UDP;rinstance=${i}a1b2c3d4e5f6a7`,
        ),
      )
      rows.push(
        contact(
          aor,
          NAT,
          40000 + i * 10 + 2,
          UA.linphone,
          now + 614 + i * 60,
          `sip:${aor}@${NAT}:${40000 + i * 10 + 2};transport=UDP;rinstance=${i}f6e5d4c3b2a1f0`,
        ),
      )
    }
    rows.push(contact('ext199', '192.0.2.99', 5060, UA.polycom, now + 1800))
    expect(await putRows(rows)).toBe(31)
    // real REGISTERs from 127.0.0.1, a second apart so that the newer contact expires later
    expect((await register('FAP003', 'FAP003-pass', 5171, 3600)).code).toBe(0)
    await sleep(1100)
    expect((await register('FAP003', 'FAP003-pass', 5172, 3600)).code).toBe(0)
    expect((await register('FAP003', 'FAP003-pass', 5173, 3600)).code).toBe(3) // the lockout: 403
    expect((await register('phone1', 'phone1-pass', 5181, 60, { ua: UA.wave })).code).toBe(0)
    await sleep(3000)
    expect((await register('phone1', 'phone1-pass', 5182, 60, { ua: UA.wave })).code).toBe(0)
    expect((await register('alice', 'alice-pass', 5191, 3600, { ua: UA.yealink })).code).toBe(0)
  })

  afterAll(async () => {
    await deleteKeys((await astdbContacts()).keys())
    await putRows(savedContacts)
    writeFileSync(PERF_CONF, savedPerfConf)
    await reloadPjsip()
  })

  it('sources --json: exact rows per source address', async () => {
    const r = await pjctl(['sources', '--json'])
    expect([r.code, r.stderr]).toEqual([0, ''])
    const doc = JSON.parse(r.stdout)
    expect(doc.source).toBe('dbgettree')
    expect(doc.sources).toEqual([
      {
        address: NAT,
        contacts: 30,
        aors: 10,
        endpoints: 10,
        maxPerAor: 3,
        busiestAor: 'ext101',
        userAgents: [
          { userAgent: UA.linphone, contacts: 10 },
          { userAgent: UA.yealink, contacts: 10 },
          { userAgent: UA.zoiper, contacts: 10 },
        ],
        stale: 0,
        superseded: 0,
        expired: 0,
      },
      {
        address: '127.0.0.1',
        contacts: 5,
        aors: 3,
        endpoints: 3,
        maxPerAor: 2,
        busiestAor: 'FAP003',
        userAgents: [
          { userAgent: UA.grandstream, contacts: 2 },
          { userAgent: UA.wave, contacts: 2 },
          { userAgent: UA.yealink, contacts: 1 },
        ],
        stale: 2,
        superseded: 2,
        expired: 0,
      },
      {
        address: '192.0.2.99',
        contacts: 1,
        aors: 1,
        endpoints: 1,
        maxPerAor: 1,
        busiestAor: 'ext199',
        userAgents: [{ userAgent: UA.polycom, contacts: 1 }],
        stale: 0,
        superseded: 0,
        expired: 0,
      },
    ])
    const table = await pjctl(['sources', '--per-ip-limit', '10'])
    expect(table.code).toBe(0)
    expect(table.stdout).toContain(`  - ${NAT} (30 contacts over 10 AORs): above the limit (30/10)`)
    keep('sources.txt', table.stdout)
  })

  it('check --per-ip-limit: the NAT named in the status line; prometheus has pjctl_source_contacts', async () => {
    const names = Array.from({ length: 10 }, (_, i) => `ext${101 + i}`)
    const r = await pjctl(['check', ...names, '--per-ip-limit', '2', '--per', 'aor'])
    expect(r.code).toBe(2)
    expect(r.stdout.split('\n')[0]).toMatch(
      new RegExp(
        `^PJCTL CRITICAL - 1 address\\(es\\) above --per-ip-limit 2 per AOR: ${NAT.replace(/\./g, '\\.')} \\(3 on AOR ext101\\) \\|`,
      ),
    )
    const prom = await pjctl(['check', '--format', 'prometheus'])
    expect(prom.stdout).toContain(`address="${NAT}"} 30`)
    expect(prom.stdout).toContain('address="127.0.0.1"} 5')
  })

  it('doctor --json: the findings with their kinds, subjects and fixes (exit 2)', async () => {
    const r = await pjctl(['doctor', '--json', '--per-ip-limit', '10'])
    expect([r.code, r.stderr]).toEqual([2, ''])
    const findings = JSON.parse(r.stdout).findings as {
      severity: string
      kind: string
      subject: string
      evidence: string
      fix: string
      subjects?: string[]
    }[]
    expect(findings.map((f) => [f.severity, f.kind, f.subject])).toEqual([
      ['critical', 'aor-at-limit', 'FAP003'],
      ['critical', 'source-at-limit', NAT],
      ['warning', 'stale-device', `${UA.grandstream} at 127.0.0.1`],
      ['warning', 'stale-device', `${UA.wave} at 127.0.0.1`],
      ['warning', 'orphaned-contacts', 'ext199'],
      ['warning', 'max-contacts-1-without-remove-existing', '2 AOR(s) with max_contacts=1'],
      ['warning', 'registration-churn', 'phone1'],
      ['warning', 'remove-unavailable-without-qualify', 'ext110'],
      ['warning', 'ami-privileges', 'AMI user pjctl'],
      ['info', 'lifetime-beyond-maximum-expiration', 'ext105'],
      ['info', 'full-unqualified', 'FAP003'],
      ['info', 'full-unqualified', 'alice'],
    ])
    const by = (kind: string, subject?: string) =>
      findings.find((f) => f.kind === kind && (subject === undefined || f.subject === subject))!
    expect(by('aor-at-limit').fix).toBe(
      'pjctl gen pjsip FAP003 --append --max-contacts 2 >> /etc/asterisk/pjsip.conf (or any file loaded after the AOR), then: module reload res_pjsip.so; now: pjctl prune FAP003',
    )
    expect(by('stale-device', `${UA.grandstream} at 127.0.0.1`).fix).toBe(
      "on the phone set Unregister On Reboot: All (in the account's SIP settings); then pjctl prune FAP003 --superseded",
    )
    expect(by('stale-device', `${UA.wave} at 127.0.0.1`).fix).toMatch(
      /^in Grandstream Wave set Unregister Before New Registration: All, and a Register Expiration within the server's window .*; then pjctl prune phone1 --superseded$/,
    )
    expect(by('max-contacts-1-without-remove-existing').subjects).toEqual(['alice', 'dave'])
    // measured on the real registrar: two Wave contacts granted 60 s, REGISTERed ~3 s apart
    expect(by('registration-churn').evidence).toMatch(
      /^Grandstream Wave 1\.0\.5\.12 at 127\.0\.0\.1 re-registered every ~\d+ s \(2 contacts, expiration_time gaps\), each living at most [1-6]\d s \(the AOR allows minimum_expiration=60, maximum_expiration=3600\)/,
    )
    expect(by('orphaned-contacts').fix).toBe('pjctl prune ext199 --orphaned')
    expect(by('ami-privileges').fix).toBe(
      'in manager.conf, [pjctl]: write = system,reporting,user (drop command), then: manager reload',
    )
    const table = await pjctl(['doctor', '--per-ip-limit', '10'])
    expect(table.code).toBe(2)
    keep('doctor.txt', table.stdout)
  })

  it('doctor as user pjro (reporting only): no limits over AMI, but still the devices; no privilege finding', async () => {
    const r = await pjctl(['doctor', '--json'], { PJCTL_USER: 'pjro', PJCTL_SECRET: 'pjro-secret' })
    expect(r.code).toBe(1)
    const kinds = (JSON.parse(r.stdout).findings as { kind: string }[]).map((f) => f.kind)
    expect(kinds).toContain('stale-device')
    expect(kinds).not.toContain('ami-privileges')
    expect(kinds).not.toContain('aor-at-limit')
  })
})
