// Hand-built registrar/contact rows, saved dumps and small assertions for the CLI read-side tests.
// Rows are written here, not by the sim's own builders, so a test checks pjctl against an
// independent statement of the format: key `<aor>;@<md5 of uri>`, value the compact JSON
// Asterisk 22 stores (every value a string, fields in Asterisk's order).
import { createHash } from 'node:crypto'
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'vitest'
import type { ContactRow } from '../../src/core/types.js'
import { defineAor, type SimAor } from '../../src/sim/registrar.js'
import type { SimSeed } from '../../src/sim/seed.js'
import type { RunResult } from './run.js'

export const nowSeconds = (): number => Math.floor(Date.now() / 1000)

export function md5(text: string): string {
  return createHash('md5').update(text).digest('hex')
}

export interface RowSpec {
  aor: string
  viaAddr?: string
  viaPort?: number
  userAgent?: string
  /** Absolute Unix seconds. */
  expirationTime: number
  uri?: string
  endpoint?: string
  path?: string
  callId?: string
}

/** The value fields of one contact, in the order Asterisk 22 writes them. */
export function fieldsOf(spec: RowSpec): Record<string, string> {
  const viaAddr = spec.viaAddr ?? '192.0.2.10'
  const viaPort = spec.viaPort ?? 5060
  return {
    via_addr: viaAddr,
    qualify_timeout: '3.000000',
    qualify_2xx_only: 'false',
    call_id: spec.callId ?? `${md5(`${spec.aor}|${viaAddr}|${viaPort}`).slice(0, 24)}@${viaAddr}`,
    reg_server: '',
    prune_on_boot: 'no',
    path: spec.path ?? '',
    endpoint: spec.endpoint ?? spec.aor,
    via_port: String(viaPort),
    authenticate_qualify: 'no',
    uri: spec.uri ?? `sip:${spec.aor}@${viaAddr}:${viaPort}`,
    qualify_frequency: '0',
    user_agent: spec.userAgent ?? 'Grandstream GXP2130 1.0.11.3',
    expiration_time: String(spec.expirationTime),
    outbound_proxy: '',
  }
}

export function row(spec: RowSpec): ContactRow {
  const fields = fieldsOf(spec)
  return { key: `${spec.aor};@${md5(fields.uri!)}`, value: JSON.stringify(fields) }
}

export function aor(
  name: string,
  maxContacts: number,
  settings: Partial<Omit<SimAor, 'name'>> = {},
): SimAor {
  return defineAor(name, { maxContacts, ...settings })
}

export function seedOf(rows: ContactRow[], aors: SimAor[]): SimSeed {
  return { rows, aors }
}

/** What `asterisk -rx "database show registrar/contact"` prints for these rows (main/db.c: `%-50s: %-25s`). */
export function dumpOf(rows: readonly ContactRow[]): string {
  const sorted = [...rows].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  const lines = sorted.map(
    (r) => `${`/registrar/contact/${r.key}`.padEnd(50)}: ${r.value.padEnd(25)}`,
  )
  return `${lines.join('\n')}${lines.length ? '\n' : ''}${rows.length} results found.\n`
}

/** A fresh directory for files a test writes. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'pjctl-test-'))
}

export function writeFile(dir: string, name: string, text: string, mode = 0o600): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  chmodSync(path, mode)
  return path
}

interface JsonContact {
  key: string
  expiresIn: number | null
  [field: string]: unknown
}
interface JsonAor {
  aor: string
  contacts: JsonContact[]
  [field: string]: unknown
}

/** The `aors` of a contacts --json document without `expiresIn` (runs a second apart differ only there). */
export function stableAors(aors: JsonAor[]): unknown[] {
  return aors.map((a) => ({
    ...a,
    contacts: a.contacts.map(({ expiresIn: _expiresIn, ...rest }) => rest),
  }))
}

/** [aor, count, maxContacts, state, severity] per AOR: the gist of a report in one comparable value. */
export function summary(
  aors: {
    aor: string
    count: number
    maxContacts: number | null
    state: string
    severity: number
  }[],
): unknown[] {
  return aors.map((a) => [a.aor, a.count, a.maxContacts, a.state, a.severity])
}

/** The secret appears nowhere in what the run printed. */
export function expectNoSecret(r: RunResult, secret: string): void {
  expect(r.stdout).not.toContain(secret)
  expect(r.stderr).not.toContain(secret)
}

/** A TCP port on 127.0.0.1 that nothing listens on (bound, then released). */
export function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      server.close(() => resolve(port))
    })
  })
}

/** Everything the sim received, as [action, headers without ActionID] per message. */
export function actionsWithHeaders(
  received: { action: string; headers: [string, string][] }[],
): [string, Record<string, string>][] {
  return received.map((r) => [
    r.action,
    Object.fromEntries(r.headers.filter(([name]) => !/^(actionid|action)$/i.test(name))),
  ])
}

/** The GetConfig actions that read the AOR limits from the config files (`--limits auto|config`), in the order sent. */
export const LIMITS_FROM_CONFIG: [string, Record<string, string>][] = [
  ['GetConfig', { Filename: 'sorcery.conf' }],
  ['GetConfig', { Filename: 'pjsip.conf', Filter: 'type=aor' }],
  ['GetConfig', { Filename: 'pjsip_wizard.conf', Filter: 'type=^wizard$' }],
]

interface Received {
  connection: number
  action: string
  headers: [string, string][]
}

/** What the sim received without Challenge, Login and Logoff, one list per connection in the order they were opened,
 *  as [action, headers without ActionID]: pjctl reads contacts and limits on two sessions at once. */
export function sessionsOf(received: Received[]): [string, Record<string, string>][][] {
  const byConnection = new Map<number, Received[]>()
  for (const r of received)
    byConnection.set(r.connection, [...(byConnection.get(r.connection) ?? []), r])
  return [...byConnection.keys()]
    .sort((a, b) => a - b)
    .map((c) =>
      actionsWithHeaders(byConnection.get(c)!).filter(
        ([action]) => !/^(login|logoff|challenge)$/i.test(action),
      ),
    )
}

/** What every read asks first, pipelined with the contacts: where sorcery.conf puts them. */
export const SORCERY: [string, Record<string, string>] = ['GetConfig', { Filename: 'sorcery.conf' }]
