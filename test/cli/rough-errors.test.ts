// Rough edges an admin hits first: unreadable input files, --input with a server, a port that is not AMI.
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { cannotRead, InputError } from '../../src/errors.js'
import { runIn } from '../helpers/cli.js'
import { envFor, sim } from '../helpers/sim.js'

const DUMP = join(__dirname, '../fixtures/ami-transcripts/cli_database_show_registrar_contact.txt')
const dir = mkdtempSync(join(tmpdir(), 'pjctl-rough-'))
const MISSING = join(dir, 'nonexistent')
const CONN = { PJCTL_USER: 'pjctl', PJCTL_SECRET: 'pjctl-secret' }

describe('every unreadable input file: `cannot read FILE: why`, exit 2', () => {
  it.each([
    ['gen --from-csv', (f: string) => ['gen', 'pjsip', '--from-csv', f, '--generate-password']],
    ['contacts --input', (f: string) => ['contacts', '--input', f]],
    ['check --pjsip-conf', (f: string) => ['contacts', '--input', DUMP, '--pjsip-conf', f]],
    ['contacts --config', (f: string) => ['contacts', '--config', f]],
    ['contacts --secret-file', (f: string) => ['contacts', '--user', 'pjctl', '--secret-file', f]],
    ['restore FILE', (f: string) => ['restore', f, '--user', 'pjctl']],
  ])('%s: a missing file and a directory', async (_what, argv) => {
    const env = { PJCTL_SECRET: undefined }
    const missing = await runIn(argv(MISSING), { env })
    expect([missing.code, missing.stdout, missing.stderr]).toEqual([
      2,
      '',
      `pjctl: cannot read ${MISSING}: no such file\n`,
    ])
    const directory = await runIn(argv(dir), { env })
    expect([directory.code, directory.stdout, directory.stderr]).toEqual([
      2,
      '',
      `pjctl: cannot read ${dir}: is a directory\n`,
    ])
  })

  it.skipIf(process.getuid?.() === 0)(
    'a file without read permission: permission denied',
    async () => {
      const locked = join(dir, 'locked.csv')
      writeFileSync(locked, '1001,secret\n')
      chmodSync(locked, 0o000)
      const r = await runIn(['gen', 'pjsip', '--from-csv', locked])
      expect([r.code, r.stderr]).toEqual([2, `pjctl: cannot read ${locked}: permission denied\n`])
    },
  )

  it('the reasons in words (EACCES/EPERM as root cannot be provoked: checked here), control characters escaped', () => {
    const e = (code: string) => Object.assign(new Error(code), { code })
    expect(cannotRead('/x', e('EACCES')).message).toBe('cannot read /x: permission denied')
    expect(cannotRead('/x', e('EPERM')).message).toBe('cannot read /x: permission denied')
    expect(cannotRead('/x', e('EISDIR')).message).toBe('cannot read /x: is a directory')
    expect(cannotRead('/x', e('ENOENT')).message).toBe('cannot read /x: no such file')
    expect(cannotRead('/a\r\nb', e('ENOENT')).message).toBe('cannot read /a\\r\\nb: no such file')
    expect(cannotRead('/x', e('ENOENT'))).toBeInstanceOf(InputError)
  })
})

describe('--input with a server', () => {
  it.each([[['--host', '10.0.0.1']], [['--server', 'pbx1']], [['--port', '5039']]])(
    'contacts --input DUMP %j is a usage error (exit 2), nothing read',
    async (extra) => {
      const r = await runIn(['contacts', '--input', DUMP, ...extra])
      expect(r.code).toBe(2)
      expect(r.stdout).toBe('')
      expect(r.stderr).toBe(
        `pjctl: --input reads a saved dump and connects to nothing: it cannot be combined with ${extra[0]}\nhint: leave out the server, or leave out --input to read the server\n`,
      )
    },
  )

  it('check too; PJCTL_HOST in the environment is not a conflict', async () => {
    const r = await runIn(['check', '--input', DUMP, '--host', '10.0.0.1'])
    expect(r.stderr).toContain('cannot be combined with --host')
    expect(r.code).not.toBe(0)
    const server = await sim()
    const ok = await runIn(['contacts', '--input', DUMP], { env: envFor(server) })
    expect([ok.code, ok.stderr]).toEqual([0, ''])
    expect(server.received).toEqual([])
  })
})

describe('a port that accepts but is not AMI', () => {
  let silent: Server | null = null
  const sockets: Socket[] = []
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy()
    await new Promise<void>((resolve) => (silent ? silent.close(() => resolve()) : resolve()))
    silent = null
  })

  it('says "connected, but no AMI banner within N s", not "timed out connecting" (exit 3)', async () => {
    silent = createServer((socket) => void sockets.push(socket))
    await new Promise<void>((resolve) => silent!.listen(0, '127.0.0.1', resolve))
    const port = (silent.address() as { port: number }).port
    const r = await runIn(
      ['contacts', '--host', '127.0.0.1', '--port', String(port), '--timeout', '0.5'],
      { env: CONN },
    )
    expect(r.code).toBe(3)
    expect(r.stderr).toBe(
      `pjctl: 127.0.0.1:${port}: connected, but no AMI banner within 0.5 s\n` +
        'hint: is this the AMI port (manager.conf [general] port, usually 5038), and not another service? If it is AMI over TLS (tlsbindaddr, 5039 by convention), add --tls. (--timeout raises the limit)\n',
    )
  })
})
