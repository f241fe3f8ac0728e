import type { BackupEntry } from '../../src/commands/backup.js'
// Helpers for the prune/restore CLI tests: a child we hold the pid of, the family as a
// snapshot, the backup file's entries, contacts built the way Asterisk stores them.
import { spawn, type ChildProcess } from 'node:child_process'
import { expect } from 'vitest'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { CONTACT_FAMILY, type ContactRow } from '../../src/core/types.js'
import { contactKey, contactValue, defineAor, type SimAor } from '../../src/sim/registrar.js'
import type { SimAsterisk } from '../../src/sim/server.js'
import type { Header } from '../../src/sim/ami.js'
import { BIN, isolatedHome, type RunResult } from './run.js'

export { CONTACT_FAMILY }

/** A HOME/XDG tree kept across several runs of one test (backups and the lock live under it). */
export function home(): Record<string, string> {
  return isolatedHome()
}

/** The server name pjctl gives a --host/--port target, and its file-safe form. */
export function serverName(server: SimAsterisk): string {
  return `127.0.0.1:${server.port}`
}

export function backupDir(env: Record<string, string>): string {
  return join(env.XDG_STATE_HOME!, 'pjctl', 'backups')
}

/** The default backup file of a prune run today (UTC date, as pjctl names it). */
export function defaultBackup(env: Record<string, string>, server: SimAsterisk): string {
  return join(
    backupDir(env),
    `127.0.0.1_${server.port}-${new Date().toISOString().slice(0, 10)}.jsonl`,
  )
}

export function lockPath(env: Record<string, string>, server: SimAsterisk): string {
  return join(backupDir(env), `127.0.0.1_${server.port}.lock`)
}

/** registrar/contact as `key -> value`, in key order. */
export function snapshot(server: SimAsterisk): Record<string, string> {
  const prefix = `/${CONTACT_FAMILY}/`
  return Object.fromEntries(
    server.astdb.tree(CONTACT_FAMILY).map((e) => [e.key.slice(prefix.length), e.value]),
  )
}

/** One line of a prune backup file, as pjctl writes it. */
export type BackupLine = BackupEntry

/** Every line of a backup file, each parsed (a line that is not JSON fails the test). */
export function backupLines(path: string): BackupLine[] {
  if (!existsSync(path)) return []
  const text = readFileSync(path, 'utf8')
  expect(text === '' || text.endsWith('\n')).toBe(true)
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as BackupLine)
}

/** A header's value (case-insensitive name), '' when absent. */
export function header(headers: Header[], name: string): string {
  return headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1] ?? ''
}

/** The actions after Login on the connection that read the contacts (and then qualify state, compare and delete), as `Action key`
 *  ('Action' alone when it has no Key header). The AOR limits are read on a second connection at the same time. */
export function actionLines(server: SimAsterisk): string[] {
  // the session that read the contacts (another test client may have connected first)
  const first = (
    server.received.find((r) => /^(dbgettree|command)$/i.test(r.action)) ?? server.received[0]
  )?.connection
  return server.received
    .filter((r) => r.connection === first && !/^(login|challenge)$/i.test(r.action))
    .map((r) => (header(r.headers, 'Key') ? `${r.action} ${header(r.headers, 'Key')}` : r.action))
}

export function keysOf(server: SimAsterisk, action: string): string[] {
  return server.received
    .filter((r) => r.action.toLowerCase() === action.toLowerCase())
    .map((r) => header(r.headers, 'Key'))
}

/** A contact row as Asterisk stores it for a phone at `viaAddr:viaPort`. */
export function row(
  aor: string,
  viaAddr: string,
  viaPort: number,
  userAgent: string,
  expirationTime: number,
): ContactRow {
  const uri = `sip:${aor}@${viaAddr}:${viaPort}`
  return {
    key: contactKey(aor, uri),
    value: contactValue({
      via_addr: viaAddr,
      qualify_timeout: '3.000000',
      qualify_2xx_only: 'false',
      call_id: `${aor}-${viaPort}-${expirationTime}@${viaAddr}`,
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
    }),
  }
}

/**
 * `aors` AORs (ext1000…), each with one current contact and `stale` older contacts of the same
 * phone from other ports (superseded): aors * stale stale contacts, aors * (stale + 1) in all.
 */
export function staleSeed(
  now: number,
  aors: number,
  stale = 2,
): { rows: ContactRow[]; aors: SimAor[]; staleKeys: string[] } {
  const rows: ContactRow[] = []
  const staleKeys: string[] = []
  const configs: SimAor[] = []
  for (let i = 0; i < aors; i++) {
    const aor = `ext${1000 + i}`
    const addr = `10.1.${i >> 8}.${i & 255}`
    const ua = 'Grandstream GXP2170 1.0.11.3'
    configs.push(defineAor(aor, { maxContacts: stale + 1, maximumExpiration: 3600 }))
    rows.push(row(aor, addr, 5060, ua, now + 3000))
    for (let j = 1; j <= stale; j++) {
      const r = row(aor, addr, 5060 + 2 * j, ua, now + 2900 - 100 * j)
      rows.push(r)
      staleKeys.push(r.key)
    }
  }
  return { rows, aors: configs, staleKeys }
}

export interface Spawned {
  child: ChildProcess
  /** What the child has written to stderr so far. */
  stderr(): string
  done: Promise<RunResult>
}

/** Runs the built CLI like test/helpers/run.ts, but hands back the child (for signals). */
export function spawnCli(
  args: string[],
  env: Record<string, string>,
  killAfterMs = 20_000,
): Spawned {
  const full: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('PJCTL_') && k !== 'FORCE_COLOR') full[k] = v
  }
  Object.assign(full, { NO_COLOR: '1' }, env)
  const child = spawn(process.execPath, [BIN, ...args], {
    env: full,
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  child.stdin.end('')
  const done = new Promise<RunResult>((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })
  return { child, stderr: () => stderr, done }
}

/** Resolves when `test()` holds (checked every few ms), or rejects after `ms`. */
export async function until(test: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (!test()) {
    if (Date.now() > deadline) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 2))
  }
}

/** The summary line (the last line of stdout). */
export function summaryOf(stdout: string): string {
  const lines = stdout.trimEnd().split('\n')
  return lines[lines.length - 1]!
}

/** `key=value` fields of the summary line (numbers as numbers). */
export function summaryFields(line: string): Record<string, string | number> {
  const fields: Record<string, string | number> = {}
  for (const m of line.matchAll(/(\w[\w-]*)=("[^"]*"|\S+)/g))
    fields[m[1]!] = /^\d+$/.test(m[2]!) ? Number(m[2]) : m[2]!
  return fields
}
