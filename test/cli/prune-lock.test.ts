// One prune per server, whatever races: many takers at once against a stale lock (a file
// naming a process that is gone) must give exactly one holder at any moment.
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { build } from 'esbuild'
import { join, resolve } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { acquireLock, stateDir } from '../../src/commands/backup.js'
import type { Deps } from '../../src/commands/types.js'
import { isolatedHome } from '../helpers/run.js'

const ROUNDS = 16
const TAKERS = 6
/** Spawned rounds in npm test (each starts 6 node processes); npm run test:asterisk runs 16 rounds of 6 real prunes. */
const PROCESS_ROUNDS = 2
/** src/commands/backup.ts bundled for the child processes (dist/ has one bundle, not this module alone). */
let BACKUP = ''
beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pjctl-lock-'))
  BACKUP = join(dir, 'backup.mjs')
  await build({
    entryPoints: [resolve(__dirname, '../../src/commands/backup.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: BACKUP,
    logLevel: 'warning',
  })
})

/** A pid that ran and has ended. */
async function deadPid(): Promise<number> {
  const dead = spawn(process.execPath, ['-e', ''])
  await new Promise((done) => dead.on('exit', done))
  return dead.pid!
}

function staleLock(env: Record<string, string>, server: string, pid: number): string {
  const dir = stateDir(env)
  mkdirSync(dir, { recursive: true })
  const path = join(dir, `${server}.lock`)
  writeFileSync(
    path,
    JSON.stringify({ pid, host: hostname(), startedAt: '2026-01-02T03:04:05.000Z' }) + '\n',
  )
  return path
}

function depsFor(env: Record<string, string>, warnings: string[] = []): Deps {
  return {
    env,
    now: () => Math.floor(Date.now() / 1000),
    log: { warn: (m: string) => warnings.push(m), info: () => {}, debug: () => {} },
  } as unknown as Deps
}

/** Whether the `enter`/`leave` lines of the holders ever overlap (two holders at once). */
function overlaps(log: string[]): boolean {
  let inside = 0
  for (const line of log) {
    inside += line.startsWith('enter') ? 1 : -1
    if (inside > 1) return true
  }
  return false
}

describe('the per-server prune lock', () => {
  it(`${ROUNDS} rounds of ${TAKERS} takers at once in one process, against a stale lock: one holder each round`, async () => {
    const pid = await deadPid()
    for (let round = 0; round < ROUNDS; round++) {
      const env = isolatedHome()
      staleLock(env, 'pbx', pid)
      const log: string[] = []
      const results = await Promise.all(
        Array.from({ length: TAKERS }, async (_, i) => {
          try {
            const lock = await acquireLock('pbx', depsFor(env))
            log.push(`enter ${i}`)
            await new Promise((r) => setTimeout(r, 20))
            log.push(`leave ${i}`)
            await lock.release()
            return true
          } catch (error) {
            expect((error as Error).message).toMatch(/^another pjctl prune is running against pbx /)
            return false
          }
        }),
      )
      expect(overlaps(log), log.join(', ')).toBe(false)
      expect(results.filter(Boolean).length).toBeGreaterThanOrEqual(1)
    }
  })

  it(`${PROCESS_ROUNDS} rounds of ${TAKERS} processes at once against a stale lock: never two holders`, async () => {
    // each child takes the lock, writes enter/leave around a short hold into a shared log (O_APPEND), releases
    const child = `
      import { acquireLock } from ${JSON.stringify(BACKUP)}
      import { appendFileSync } from 'node:fs'
      const env = JSON.parse(process.env.LOCK_ENV)
      const deps = { env, now: () => Math.floor(Date.now() / 1000), log: { warn() {}, info() {}, debug() {} } }
      try {
        const lock = await acquireLock('pbx', deps)
        appendFileSync(process.env.LOCK_LOG, 'enter ' + process.pid + '\\n')
        await new Promise((r) => setTimeout(r, 150))
        appendFileSync(process.env.LOCK_LOG, 'leave ' + process.pid + '\\n')
        await lock.release()
        process.exit(0)
      } catch (error) {
        process.exit(/^another pjctl prune/.test(error.message) ? 3 : 1)
      }
    `
    const pid = await deadPid()
    for (let round = 0; round < PROCESS_ROUNDS; round++) {
      const env = isolatedHome()
      staleLock(env, 'pbx', pid)
      const logFile = join(env.HOME!, 'holders.log')
      writeFileSync(logFile, '')
      const codes = await Promise.all(
        Array.from(
          { length: TAKERS },
          () =>
            new Promise<number | null>((done) => {
              const p = spawn(process.execPath, ['--input-type=module', '-e', child], {
                env: { ...process.env, LOCK_ENV: JSON.stringify(env), LOCK_LOG: logFile },
                stdio: 'ignore',
              })
              p.on('exit', (code) => done(code))
            }),
        ),
      )
      const log = readFileSync(logFile, 'utf8').trim().split('\n').filter(Boolean)
      expect(overlaps(log), `round ${round}: ${log.join(', ')}`).toBe(false)
      // every taker either held it (0) or was told another prune runs (3)
      expect(
        codes.every((c) => c === 0 || c === 3),
        codes.join(','),
      ).toBe(true)
      expect(codes.filter((c) => c === 0).length).toBe(log.length / 2)
      expect(log.length).toBeGreaterThanOrEqual(2)
    }
  }, 120_000)

  it('a process killed while holding the lock leaves it to the next taker, with a warning naming it', async () => {
    const env = isolatedHome()
    const holder = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { acquireLock } from ${JSON.stringify(BACKUP)}
         await acquireLock('pbx', { env: JSON.parse(process.env.LOCK_ENV), now: () => 0, log: { warn() {} } })
         process.stdout.write('held\\n')
         setTimeout(() => {}, 60000)`,
      ],
      {
        env: { ...process.env, LOCK_ENV: JSON.stringify(env) },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    )
    await new Promise((done) => holder.stdout.once('data', done))
    await expect(acquireLock('pbx', depsFor(env))).rejects.toThrow(
      new RegExp(`another pjctl prune is running against pbx \\(pid ${holder.pid} on `),
    )
    holder.kill('SIGKILL')
    await new Promise((done) => holder.on('exit', done))
    const warnings: string[] = []
    const lock = await acquireLock('pbx', depsFor(env, warnings))
    expect(warnings).toEqual([
      `taking over a stale prune lock of pid ${holder.pid} (no longer running): ${join(stateDir(env), 'pbx.lock')}`,
    ])
    await lock.release()
  })
})
