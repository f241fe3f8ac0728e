// Runs the built CLI on a real pseudo-terminal (util-linux `script`): stdin, stdout and
// stderr are the pty, so readline runs in raw mode as it does for an admin. The test types
// keys when the output shows what it waits for (the prompt), as a person would.
import { spawn, spawnSync } from 'node:child_process'
import { BIN, isolatedHome } from './run.js'

export const hasScript = spawnSync('script', ['--version']).status === 0

export interface PtyRun {
  /**
   * Everything the terminal showed so far (stdout and stderr together, CRLF as the pty writes
   * it), without readline's cursor moves (`ESC[47G`).
   */
  screen(): string
  /** Resolves once the screen contains `text`. */
  waitFor(text: string): Promise<void>
  /** Types on the terminal (`y\r`, `\x03` for Ctrl-C, `\x04` for Ctrl-D). */
  type(keys: string): void
  done: Promise<{ code: number | null; screen: string }>
}

/** `pjctl ...args` on a pseudo-terminal of `columns` columns, with `env` on top of a clean HOME. */
export function onTerminal(
  args: string[],
  env: Record<string, string | undefined>,
  { killAfterMs = 20_000, command = [process.execPath, BIN] } = {},
): PtyRun {
  const quoted = [...command, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')
  const full: Record<string, string> = {}
  for (const [k, v] of Object.entries({
    PATH: process.env.PATH,
    TERM: 'xterm',
    NO_COLOR: '1',
    ...isolatedHome(),
    ...env,
  }))
    if (v !== undefined) full[k] = v
  const child = spawn('script', ['-qec', quoted, '/dev/null'], {
    env: full,
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let out = ''
  const waiting: { text: string; resolve(): void }[] = []
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '')
    for (const w of waiting.splice(0))
      if (out.includes(w.text)) w.resolve()
      else waiting.push(w)
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs)
  const done = new Promise<{ code: number | null; screen: string }>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, screen: out })
    })
  })
  return {
    screen: () => out,
    waitFor: (text) =>
      out.includes(text)
        ? Promise.resolve()
        : Promise.race([
            new Promise<void>((resolve) => waiting.push({ text, resolve })),
            done.then(() => {
              throw new Error(`the run ended before showing ${JSON.stringify(text)}:\n${out}`)
            }),
          ]),
    type: (keys) => void child.stdin.write(keys),
    done,
  }
}
