// What monitoring and scripts rely on: parse problems that page, --textfile that always says
// how things are now, and write errors that are not success (issue 11, items 7, 8, 9).
import { spawn } from 'node:child_process'
import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runIn as run } from '../helpers/cli.js'
import { BIN, isolatedHome, type RunResult } from '../helpers/run.js'
import { envFor, sim } from '../helpers/sim.js'
import {
  aor,
  closedPort,
  dumpOf,
  nowSeconds,
  row,
  seedOf,
  tempDir,
  writeFile,
} from '../helpers/rows.js'

const lines = (r: RunResult) => r.stdout.split('\n')

/** A dump of three good contacts plus extra lines, its count line counting them too (as Asterisk would). */
function dumpWith(extra: string[], now = nowSeconds()): string {
  const good = dumpOf(
    ['1000', '1001', '1002'].map((name, i) =>
      row({ aor: name, viaPort: 5060 + i, expirationTime: now + 600 }),
    ),
  ).split('\n')
  const count = good.length - 2 + extra.length
  return [...good.slice(0, -2), ...extra, `${count} results found.`, ''].join('\n')
}

describe('parse problems are visible to monitoring (item 9)', () => {
  it('a garbage line: check is WARNING with parse_errors=1 in the perfdata and pjctl_parse_errors 1', async () => {
    const dir = tempDir()
    const file = writeFile(
      dir,
      'dump.txt',
      dumpWith([
        '/registrar/contact/1003;@0123456789abcdef0123456789abcdef: {"uri":"sip:1003@x",garbage',
      ]),
    )
    const r = await run(['check', '--input', file, '--max-contacts', '3'])
    expect(r.code).toBe(1)
    expect(lines(r)[0]).toMatch(
      /^PJCTL WARNING - 1 parse problem\(s\) in the answer: line 4: value is not valid JSON \| .*'parse_errors'=1;0;;0 /,
    )
    expect(lines(r)).toContain('WARNING: line 4: value is not valid JSON')
    expect(r.stderr).toContain('pjctl: warning: line 4 did not parse (value is not valid JSON)')
    const prom = await run([
      'check',
      '--input',
      file,
      '--max-contacts',
      '3',
      '--format',
      'prometheus',
    ])
    expect(prom.code).toBe(1)
    expect(lines(prom)).toContain(`pjctl_parse_errors{server="${file}"} 1`)
    expect(lines(prom)).toContain(`pjctl_check_status{server="${file}"} 1`)
    const json = JSON.parse(
      (await run(['check', '--input', file, '--max-contacts', '3', '--json'])).stdout,
    )
    expect(json.servers[0]).toMatchObject({
      status: 1,
      parseErrors: 1,
      findings: [{ kind: 'parse', severity: 1, subject: 'line 4: value is not valid JSON' }],
    })
    // the perfdata says what it counts: servers_unreadable, not a count of bad lines
    expect(lines(r)[0]).toContain("'servers_unreadable'=0;;0;0;1")
    expect(lines(r)[0]).not.toMatch(/ unreadable=/)
  })

  it('a non-numeric expiration_time is a problem (the contact is still listed, expiry unknown), not a silent `active`', async () => {
    const now = nowSeconds()
    const soon = row({ aor: '1003', viaPort: 5070, expirationTime: 0 })
    const value = soon.value.replace('"expiration_time":"0"', '"expiration_time":"soon"')
    const dir = tempDir()
    const file = writeFile(
      dir,
      'dump.txt',
      dumpWith([`${`/registrar/contact/${soon.key}`.padEnd(50)}: ${value}`], now),
    )
    const r = await run(['check', '--input', file, '--max-contacts', '3'])
    expect(r.code).toBe(1)
    expect(lines(r)[0]).toMatch(
      /^PJCTL WARNING - 1 parse problem\(s\) in the answer: line 4: expiration_time "soon" is not a number \| .*'contacts'=4;;;0 .*'parse_errors'=1;0;;0 /,
    )
    const doc = JSON.parse(
      (await run(['contacts', '--input', file, '--max-contacts', '3', '--json'])).stdout,
    )
    expect(doc.aors.find((a: { aor: string }) => a.aor === '1003').contacts[0]).toMatchObject({
      expirationTime: null,
      expiresIn: null,
      status: 'active',
    })
    expect(doc.problems).toEqual([
      {
        line: 4,
        reason: 'expiration_time "soon" is not a number',
        text: expect.stringContaining(`/registrar/contact/${soon.key}: `),
        kept: true,
      },
    ])
    const strict = await run(['check', '--strict', '--input', file, '--max-contacts', '3'])
    expect(strict.code).toBe(3)
  })
})

describe('check --textfile PATH (item 7)', () => {
  it('writes the metrics atomically and exits 0 whatever they say: CRITICAL, then a server that cannot be read', async () => {
    const server = await sim()
    const dir = tempDir()
    const path = join(dir, 'pjctl.prom')
    writeFileSync(path, 'old\n', { mode: 0o600 })
    const r = await run(['check', '--textfile', path], { env: envFor(server) })
    expect([r.code, r.stdout, r.stderr]).toEqual([0, '', ''])
    const text = readFileSync(path, 'utf8')
    expect(text).toContain(`pjctl_check_status{server="127.0.0.1:${server.port}"} 2`)
    expect(text).toContain(`pjctl_server_up{server="127.0.0.1:${server.port}"} 1`)
    // a new file (rename), readable by the collector, no temporary file left behind
    expect(statSync(path).mode & 0o777).toBe(0o644)
    expect(readdirSync(dir)).toEqual(['pjctl.prom'])

    const dead = await closedPort()
    const down = await run(['check', '--textfile', path, '--format', 'prometheus'], {
      env: {
        PJCTL_HOST: '127.0.0.1',
        PJCTL_PORT: String(dead),
        PJCTL_USER: 'pjctl',
        PJCTL_SECRET: 'x',
      },
    })
    expect([down.code, down.stdout]).toEqual([0, ''])
    expect(down.stderr.split('\n')[0]).toBe(`pjctl: connection refused by 127.0.0.1:${dead}`)
    expect(readFileSync(path, 'utf8')).toContain(`pjctl_server_up{server="127.0.0.1:${dead}"} 0`)
    expect(readFileSync(path, 'utf8')).toContain(`pjctl_check_status{server="127.0.0.1:${dead}"} 3`)
    expect(readdirSync(dir)).toEqual(['pjctl.prom'])
  })

  it('exits non-zero only when it cannot write, and leaves no temporary file; --textfile with another format is a usage error', async () => {
    const server = await sim()
    const dir = tempDir()
    const missing = await run(['check', '--textfile', join(dir, 'nodir', 'pjctl.prom')], {
      env: envFor(server),
    })
    expect([missing.code, missing.stdout, missing.stderr]).toEqual([
      1,
      '',
      `pjctl: --textfile ${join(dir, 'nodir', 'pjctl.prom')}: the directory ${join(dir, 'nodir')} does not exist\nhint: nothing was changed\n`,
    ])
    const path = join(dir, 'pjctl.prom')
    const json = await run(['check', '--textfile', path, '--json'], { env: envFor(server) })
    expect(json.code).toBe(3)
    expect(json.stderr).toBe(
      'pjctl: --textfile writes Prometheus metrics: use it with --format prometheus (or no --format)\n',
    )
    expect(existsSync(path)).toBe(false)
    expect(readdirSync(dir)).toEqual([])
  })
})

/** Runs the CLI with stdout on /dev/full. */
function runToDevFull(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stderr: string }> {
  const fd = openSync('/dev/full', 'w')
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, NO_COLOR: '1', ...isolatedHome(), ...env },
      stdio: ['ignore', fd, 'pipe'],
    })
    closeSync(fd)
    let stderr = ''
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.on('close', (code) => resolve({ code, stderr }))
  })
}

describe.runIf(existsSync('/dev/full'))('write errors (item 8)', { timeout: 60_000 }, () => {
  it('contacts, check --format prometheus and gen > /dev/full exit 1 with `write error: No space left on device`', async () => {
    const server = await sim()
    const runs = [
      ['contacts'],
      ['check', '--format', 'prometheus'],
      ['check'],
      ['gen', 'pjsip', '1001', '--aor-only'],
    ]
    const results = await Promise.all(runs.map((args) => runToDevFull(args, envFor(server))))
    for (const [i, args] of runs.entries())
      expect([args, results[i]!.code, results[i]!.stderr]).toEqual([
        args,
        1,
        'pjctl: write error: No space left on device\n',
      ])
  })

  it('a reader that closes the pipe (| head) is no error: nothing on stderr', async () => {
    const names = Array.from({ length: 4000 }, (_, i) => `ext${i}`)
    const child = spawn(process.execPath, [BIN, 'gen', 'pjsip', ...names, '--aor-only'], {
      env: { ...process.env, ...isolatedHome() },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.stdout.once('data', () => child.stdout.destroy())
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)))
    expect([code, stderr]).toEqual([0, ''])
  })
})

describe('check severity on a seeded server (item 5): max_contacts=1 with one phone does not page', () => {
  it('2,000 healthy max_contacts=1 AORs are OK, in one short line', async () => {
    const now = nowSeconds()
    const names = Array.from({ length: 2000 }, (_, i) => `ext${1000 + i}`)
    const server = await sim({
      seed: seedOf(
        names.map((n, i) => row({ aor: n, viaPort: 5060 + (i % 1000), expirationTime: now + 600 })),
        names.map((n) => aor(n, 1)),
      ),
    })
    const r = await run(['check'], { env: envFor(server) })
    expect(r.code).toBe(0)
    expect(lines(r)).toHaveLength(2)
    expect(lines(r)[0]).toMatch(
      /^PJCTL OK - 2000 AOR\(s\), 2000 contact\(s\), no lockout \(2000 full with one healthy contact\) \| /,
    )
  })
})
