// Runs the built CLI (bin/pjctl.js) as a child process, the way a user or cron would.
import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

export const BIN = resolve(__dirname, '../../bin/pjctl.js')

export interface RunResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export interface RunOptions {
  env?: Record<string, string | undefined>
  stdin?: string
  /** Kill the child after this many ms (a hung CLI fails the test instead of hanging it). */
  killAfterMs?: number
  cwd?: string
  /** Another launcher than the checkout's bin/pjctl.js. */
  bin?: string
}

/** A fresh HOME/XDG tree so no developer config or state leaks in. */
export function isolatedHome(): Record<string, string> {
  const home = mkdtempSync(join(tmpdir(), 'pjctl-home-'))
  return {
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_STATE_HOME: join(home, '.local/state'),
    // never the machine's /etc/pjctl/config.json
    PJCTL_SYSTEM_CONFIG: join(home, 'etc/pjctl/config.json'),
  }
}

export function run(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('PJCTL_') && k !== 'FORCE_COLOR') env[k] = v
  }
  Object.assign(env, { NO_COLOR: '1' }, isolatedHome())
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k]
    else env[k] = v
  }
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [opts.bin ?? BIN, ...args], {
      env,
      cwd: opts.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs ?? 20_000)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolvePromise({ code, signal, stdout, stderr })
    })
    child.stdin.end(opts.stdin ?? '')
  })
}
