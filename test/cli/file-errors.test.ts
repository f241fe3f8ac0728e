// File errors in words, naming the path, before anything is changed (gen --out, check --textfile,
// prune --backup): never a raw code (EISDIR, ENOENT) or Node's "Illegal operation on a directory",
// never "exists, use --force" for what --force cannot fix.
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runIn } from '../helpers/cli.js'
import { envFor, sim } from '../helpers/sim.js'

const tempDir = (): string => mkdtempSync(join(tmpdir(), 'pjctl-files-'))

describe('gen --out', () => {
  it('a directory: "is a directory", not "exists, use --force", with or without --force; nothing written', async () => {
    const dir = tempDir()
    for (const force of [[], ['--force']]) {
      const r = await runIn(['gen', 'pjsip', '1001', '--aor-only', '--out', dir, ...force])
      expect([r.code, r.stdout, r.stderr]).toEqual([
        2,
        '',
        `pjctl: --out ${dir} is a directory, not a regular file\nhint: nothing was changed\n`,
      ])
    }
    expect(readdirSync(dir)).toEqual([])
  })

  it('a missing directory: named, in words (not ENOENT)', async () => {
    const dir = tempDir()
    const out = join(dir, 'nodir', 'aor.conf')
    const r = await runIn(['gen', 'pjsip', '1001', '--aor-only', '--out', out])
    expect([r.code, r.stderr]).toEqual([
      2,
      `pjctl: --out ${out}: the directory ${join(dir, 'nodir')} does not exist\nhint: nothing was changed\n`,
    ])
  })

  it('a symbolic link is refused, its target untouched, even with --force', async () => {
    const dir = tempDir()
    const target = join(dir, 'real.conf')
    writeFileSync(target, 'keep\n')
    const out = join(dir, 'link.conf')
    symlinkSync(target, out)
    const r = await runIn(['gen', 'pjsip', '1001', '--aor-only', '--out', out, '--force'])
    expect([r.code, r.stderr]).toEqual([
      2,
      `pjctl: --out ${out} is a symbolic link: refusing to write through it (name the file itself)\nhint: nothing was changed\n`,
    ])
    expect(readFileSync(target, 'utf8')).toBe('keep\n')
  })
})

describe('check --textfile', () => {
  it('a directory: refused in words before the server is read; the directory untouched', async () => {
    const server = await sim()
    const dir = tempDir()
    const r = await runIn(['check', '--textfile', dir], { env: envFor(server) })
    expect(r.stderr).toBe(
      `pjctl: --textfile ${dir} is a directory, not a regular file\nhint: nothing was changed\n`,
    )
    expect(r.stderr).not.toContain('Illegal operation')
    expect(r.code).toBe(1)
    expect(server.received).toEqual([])
    expect(readdirSync(dir)).toEqual([])
  })

  it('a missing directory: named before the server is read', async () => {
    const server = await sim()
    const dir = tempDir()
    const path = join(dir, 'nodir', 'pjctl.prom')
    const r = await runIn(['check', '--textfile', path], { env: envFor(server) })
    expect(r.stderr).toBe(
      `pjctl: --textfile ${path}: the directory ${join(dir, 'nodir')} does not exist\nhint: nothing was changed\n`,
    )
    expect(r.code).toBe(1)
    expect(server.received).toEqual([])
  })
})

describe('prune --backup', () => {
  it('a file in a missing directory: named in words before anything connects', async () => {
    const server = await sim()
    const dir = tempDir()
    mkdirSync(join(dir, 'x'))
    const file = join(dir, 'nodir', 'b.jsonl')
    const r = await runIn(['prune', '--yes', '--backup', file], { env: envFor(server) })
    expect([r.code, r.stderr]).toEqual([
      2,
      `pjctl: --backup ${file}: the directory ${join(dir, 'nodir')} does not exist\nhint: nothing was changed\n`,
    ])
    expect(server.received).toEqual([])
  })
})
