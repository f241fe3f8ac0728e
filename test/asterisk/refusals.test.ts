// Refused registrations on a real Asterisk 22 (read=security): FAP003 full (the phone's old NAT
// binding and a live softphone), the phone comes back from a new port with its Call-ID and gets 403.
// The exporter counts it within 2 s; pjctl watch --json names FAP003, the refused address and a prune
// that frees the slot; with --heal the phone's retry gets 200 within 5 s, the removed contact is in the
// backup and the softphone's contact is untouched; a wrong password is reason="auth".
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startExporter, type RunningExporter } from '../helpers/exporter.js'
import { LAB, contactsOf, deleteKeys, pjctl, putRows, register, spawnText } from './lab.js'

const AOR = 'FAP003'
const PASS = 'FAP003-pass'
// ports of our own (the lab's mix uses 5071-5099, lockout.test.ts 5171-5173)
const OLD = 5271
const MOVED = 5273
const WRONG = 5274
const SOFTPHONE = 5275
const CALL_ID = 'refusals-test-gs@127.0.0.1'
const server = `${LAB.host}:${LAB.port}`
const MAX = `pjctl_registrations_rejected_total{server="${server}",endpoint="FAP003",aor="FAP003",reason="max_contacts"}`
const AUTH = `pjctl_registrations_rejected_total{server="${server}",endpoint="",aor="",reason="auth"}`

/** pjctl watch as a child process: its stdout lines as they come. */
function startWatch(args: string[]): { child: ChildProcess; out: () => string; err: () => string } {
  const child = spawn(process.execPath, [join(process.cwd(), 'bin/pjctl.js'), 'watch', ...args], {
    env: { ...process.env, ...LAB.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d))
  return { child, out: () => out, err: () => err }
}

async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  ms = 10_000,
): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const got = await probe()
    if (got !== undefined) return got
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

const stop = (child: ChildProcess): Promise<number | null> =>
  new Promise((resolve) => {
    child.once('close', (code) => resolve(code))
    child.kill('SIGTERM')
  })

describe('refused registrations on real Asterisk', () => {
  let saved = new Map<string, string>()
  let softphone = 0
  let exporter: RunningExporter | undefined

  /** FAP003 full: the phone's old binding (OLD, CALL_ID, 1800 s) and a live softphone. */
  async function fill(): Promise<void> {
    expect((await register(AOR, PASS, OLD, 1800, { callId: CALL_ID })).code).toBe(0)
    if (!softphone) {
      const r = await spawnText(
        'bash',
        [join(LAB.dir, 'softphone.sh'), AOR, PASS, String(SOFTPHONE), '600'],
        {
          LAB_SIP_PORT: String(LAB.sipPort),
          LAB_PREFIX: LAB.prefix,
        },
      )
      expect(r.code, r.stderr).toBe(0)
      softphone = Number(r.stdout.trim())
    }
    expect((await contactsOf(AOR)).size).toBe(2)
  }

  beforeAll(async () => {
    saved = await contactsOf(AOR)
    await deleteKeys(saved.keys())
    exporter = await startExporter([], LAB.env)
    await exporter.waitFor(`pjctl_server_up{server="${server}"}`, 1)
  }, 60_000)

  afterAll(async () => {
    await exporter?.stop()
    if (softphone) {
      try {
        process.kill(softphone, 'SIGTERM')
      } catch {
        // gone already
      }
    }
    for (const port of [OLD, MOVED]) await register(AOR, PASS, port, 0, { callId: CALL_ID })
    await new Promise((r) => setTimeout(r, 500))
    await deleteKeys((await contactsOf(AOR)).keys())
    await putRows(saved)
    expect(await contactsOf(AOR)).toEqual(saved)
  }, 60_000)

  it('the 403: the exporter counts it within 2 s; watch --json names FAP003, the refused address and a prune that frees the slot', async () => {
    await fill()
    const watch = startWatch(['--json'])
    await until('watch connected', () => (watch.err().includes('connected') ? true : undefined))
    const before = (await exporter!.value(MAX)) ?? 0
    const third = await register(AOR, PASS, MOVED, 3600, { callId: CALL_ID })
    const refusedAt = Date.now()
    expect(third.stdout).toContain('403')
    await until('the exporter counted it', async () =>
      (await exporter!.value(MAX)) === before + 1 ? true : undefined,
    )
    const seenAfterMs = Date.now() - refusedAt
    console.log(`exporter: ${MAX} ${before + 1} seen ${seenAfterMs} ms after the 403`)
    expect(seenAfterMs).toBeLessThan(2000)
    const line = await until('watch printed the refusal', () =>
      watch
        .out()
        .split('\n')
        .find((l) => l.includes('"max_contacts"')),
    )
    console.log(`watch --json: ${line}`)
    const record = JSON.parse(line)
    expect(record).toMatchObject({
      aor: AOR,
      endpoint: AOR,
      address: `127.0.0.1:${MOVED}`,
      callId: CALL_ID,
    })
    expect(await stop(watch.child)).toBe(0)
    const command: string = record.refused.pruneCommand
    expect(command).toMatch(/^pjctl prune FAP003 --key [0-9a-f]{32} /)
    // run it as printed: the slot is free, the phone's REGISTER gets 200, the softphone's contact stays
    const pruned = await pjctl(command.split(' ').slice(1))
    expect(pruned.code, pruned.stderr).toBe(0)
    expect((await register(AOR, PASS, MOVED, 3600, { callId: CALL_ID })).code).toBe(0)
    const left = [...(await contactsOf(AOR)).values()]
    expect(left.some((v) => v.includes(`:${SOFTPHONE}`))).toBe(true)
    expect(left.some((v) => v.includes(`:${OLD}`))).toBe(false)
    await register(AOR, PASS, MOVED, 0, { callId: CALL_ID })
  }, 60_000)

  it("--heal: the refused phone's retry gets 200 within 5 s, the removed contact is in the backup, the softphone untouched", async () => {
    await fill()
    const watch = startWatch(['--heal', '--json'])
    await until('watch connected', () => (watch.err().includes('connected') ? true : undefined))
    const third = await register(AOR, PASS, MOVED, 3600, { callId: CALL_ID })
    const refusedAt = Date.now()
    expect(third.code).toBe(3)
    // the phone retries every second, as a phone does after a 403 (here at most 5 s)
    let code: number | null = 3
    while (code !== 0 && Date.now() - refusedAt < 5000) {
      await new Promise((r) => setTimeout(r, 1000))
      code = (await register(AOR, PASS, MOVED, 3600, { callId: CALL_ID })).code
    }
    const okAfterMs = Date.now() - refusedAt
    console.log(`--heal: the retry got ${code === 0 ? 200 : code} ${okAfterMs} ms after the 403`)
    expect(code).toBe(0)
    expect(okAfterMs).toBeLessThanOrEqual(5000 + 1000)
    const line = await until('the heal record', () =>
      watch
        .out()
        .split('\n')
        .find((l) => l.includes('"heal"')),
    )
    const record = JSON.parse(line)
    console.log(`watch --heal: ${JSON.stringify(record.heal)}`)
    expect(record.heal.result).toBe('healed')
    const backup = readFileSync(record.heal.backupFile, 'utf8')
    expect(backup).toContain(`sip:FAP003@127.0.0.1:${OLD}`)
    expect(backup).not.toContain(`:${SOFTPHONE}`)
    expect(watch.err()).toMatch(
      /pjctl heal: .*FAP003: removed FAP003;@[0-9a-f]{32} \(the refused REGISTER's own Call-ID/,
    )
    const left = [...(await contactsOf(AOR)).values()]
    expect(left.some((v) => v.includes(`:${SOFTPHONE}`))).toBe(true)
    expect(await stop(watch.child)).toBe(0)
  }, 60_000)

  it('a wrong password: reason="auth"', async () => {
    const before = (await exporter!.value(AUTH)) ?? 0
    const r = await register(AOR, 'wrong-pass', WRONG, 3600)
    expect(r.code).toBe(4)
    await exporter!.waitFor(AUTH, before + 1, 5000)
  }, 30_000)
})
