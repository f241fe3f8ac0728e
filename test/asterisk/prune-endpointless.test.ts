// prune of contacts no endpoint can collect, on a real Asterisk: pfq registered three contacts through its
// endpoint (its AOR has qualify_frequency 10), then the endpoint was removed and the AOR kept (an extension
// half deleted). res/res_pjsip/pjsip_options.c goes on scheduling the AOR's qualify but sends OPTIONS only
// through an endpoint (the contact's endpoint_name, or one that names the AOR): with none, it sends nothing.
// So the contacts have no qualify state to read and no endpoint to retrieve them: prune --keep 1 compares,
// backs up and deletes them directly (no DBPut, no PJSIPShowEndpoint), and says so.
import { createSocket, type Socket as UdpSocket } from 'node:dgram'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  ami,
  CONTACT_FAMILY,
  cli,
  contactsOf,
  deleteKeys,
  LAB,
  labEtc,
  pjctl,
  register,
} from './lab.js'

const FILE = labEtc('pjsip_pjctl.conf')
const AOR = `[pfq]
type = aor
max_contacts = 3
qualify_frequency = 10
`
const ENDPOINT = `[pfq]
type = endpoint
context = from-lab
auth = pfq
aors = pfq

[pfq]
type = auth
auth_type = userpass
username = pfq
password = pfq-pass

${AOR}`
const PORTS = [5391, 5392, 5393]

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Phones that never answer: the OPTIONS transactions Asterisk starts to each port, by Via branch, with their times. */
async function deadPhones(
  ports: number[],
): Promise<{ started: Map<string, number>; close(): void }> {
  const started = new Map<string, number>()
  const sockets: UdpSocket[] = []
  for (const port of ports) {
    const socket = createSocket('udp4')
    socket.on('message', (msg, from) => {
      if (from.port !== LAB.sipPort) return
      const text = msg.toString('utf8')
      const branch = /^Via:.*;branch=([^;\s]+)/im.exec(text)?.[1]
      if (text.startsWith('OPTIONS ') && branch && !started.has(branch))
        started.set(branch, Date.now())
    })
    await new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', resolve))
    sockets.push(socket)
  }
  return { started, close: () => sockets.forEach((s) => s.close()) }
}

describe('prune of an AOR no endpoint names (its endpoint removed) on real Asterisk', () => {
  const env = { XDG_STATE_HOME: mkdtempSync(join(tmpdir(), 'pjctl-endpointless-')) }

  afterAll(async () => {
    await deleteKeys((await contactsOf('pfq')).keys())
    rmSync(FILE, { force: true })
    await cli('module reload res_pjsip.so')
  })

  it('no OPTIONS once the endpoint is gone; prune --keep 1 deletes the other two directly, and Asterisk lists only the one kept', async () => {
    writeFileSync(FILE, ENDPOINT)
    await cli('module reload res_pjsip.so')
    for (const [i, port] of PORTS.entries())
      expect((await register('pfq', 'pfq-pass', port, 600 + 600 * i)).code).toBe(0)
    const keys = PORTS.map(
      (port) => `pfq;@${createHash('md5').update(`sip:pfq@127.0.0.1:${port}`).digest('hex')}`,
    )
    expect([...(await contactsOf('pfq')).keys()].sort()).toEqual([...keys].sort())
    const phones = await deadPhones(PORTS)
    try {
      // qualified while the endpoint exists
      for (let waited = 0; !phones.started.size && waited < 15_000; waited += 250) await sleep(250)
      expect(phones.started.size).toBeGreaterThan(0)
      writeFileSync(FILE, AOR)
      await cli('module reload res_pjsip.so')
      // once Asterisk no longer has the endpoint (the reload finishes in the background), a qualify round
      // already under way may still start its transactions; after that, none for a whole qualify_frequency (10 s)
      for (let waited = 0; waited < 20_000; waited += 250) {
        if ((await cli('pjsip show endpoint pfq')).includes('Unable to find object pfq')) break
        await sleep(250)
      }
      const gone = Date.now()
      await sleep(2_000)
      await sleep(12_000)
      expect(
        [...phones.started.values()].filter((at) => at >= gone + 2_000).map((at) => at - gone),
      ).toEqual([])
      expect(await cli('pjsip show endpoint pfq')).toMatch(/Unable to find object pfq/)

      const backup = join(env.XDG_STATE_HOME, 'pfq.jsonl')
      const r = await pjctl(
        ['prune', 'pfq', '--keep', '1', '--yes', '--json', '--force', '--backup', backup],
        env,
      )
      expect([r.code, r.stderr]).toEqual([0, ''])
      const outcomes = (
        JSON.parse(r.stdout) as { servers: { outcomes: { key: string; detail: string }[] }[] }
      ).servers[0]!.outcomes
      // keys[2] expires last: kept
      expect(outcomes.map((o) => [o.key, o.detail]).sort()).toEqual(
        [keys[0]!, keys[1]!]
          .map((k) => [k, 'deleted directly: no endpoint collected it (orphaned)'])
          .sort(),
      )
      expect([...(await contactsOf('pfq')).keys()]).toEqual([keys[2]])
      for (const key of [keys[0]!, keys[1]!])
        expect((await ami('DBGet', { Family: CONTACT_FAMILY, Key: key })).Response).toBe('Error')
      // the backup holds both values as they were (not expired ones)
      const lines = readFileSync(backup, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { key: string; value: string })
      expect(lines.map((l) => l.key).sort()).toEqual([keys[0], keys[1]].sort())
      for (const line of lines) expect(JSON.parse(line.value).expiration_time).not.toBe('1')
      // Asterisk retrieves what is left: the one kept
      const shown = await cli('pjsip show aor pfq')
      expect(shown).toContain(`pfq/sip:pfq@127.0.0.1:${PORTS[2]}`)
      expect(shown).not.toContain(`127.0.0.1:${PORTS[0]}`)
      expect(shown).not.toContain(`127.0.0.1:${PORTS[1]}`)
    } finally {
      phones.close()
    }
  })
})
