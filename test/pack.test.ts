// What ships: `npm pack --dry-run`'s file list is the launcher, the build of src/ (dist/, rootDir
// src), the man page (man/pjctl.1, written by npm run build), the README and the LICENSE (MIT, as
// package.json says); never the benchmark, the tests, the sources or the test-only TLS keys.
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { COMMANDS } from '../src/commands/index.js'
import { runIn } from './helpers/cli.js'

const ROOT = join(__dirname, '..')

let packed: string[] | undefined
/** npm pack's file list, asked once for the file (npm takes a second or two to start). */
function packedFiles(): string[] {
  if (packed) return packed
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  packed = (JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path).sort()
  return packed
}

describe('npm pack', () => {
  it('ships bin/pjctl.js, dist/ (the build of src/ only), man/pjctl.1, README.md and LICENSE, nothing else', () => {
    const files = packedFiles()
    expect(files).toEqual(
      expect.arrayContaining([
        'LICENSE',
        'README.md',
        'bin/pjctl.js',
        'dist/cli.js',
        'dist/pjctl.cjs',
        'dist/pjctl.cjs.cache',
        'man/pjctl.1',
        'package.json',
      ]),
    )
    expect(
      files.filter(
        (f) =>
          !/^(package\.json|README\.md|LICENSE|bin\/pjctl\.js|dist\/.+\.(js|cjs|cjs\.cache)|man\/pjctl\.1)$/.test(
            f,
          ),
      ),
    ).toEqual([])
    // rootDir src: no dist/src, dist/bench or dist/test; bench builds into dist-bench, which is not shipped
    expect(
      files.filter((f) => /^dist\/(src|bench|test)\/|^dist-bench\/|^(src|test|bench)\//.test(f)),
    ).toEqual([])
    // the build: the start-up module, the bundle and its code cache, the vendored dependencies
    const built = readdirSync(join(ROOT, 'dist'), { recursive: true, encoding: 'utf8' })
      .filter((f) => /\.(js|cjs|cache)$/.test(f))
      .map((f) => `dist/${f}`)
    expect(built.length).toBeGreaterThan(1)
    expect(files.filter((f) => f.startsWith('dist/')).sort()).toEqual(built.sort())
  })

  it('the LICENSE is the MIT licence package.json names, copyright the pjctl authors', () => {
    expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).license).toBe('MIT')
    const license = readFileSync(join(ROOT, 'LICENSE'), 'utf8')
    expect(license).toMatch(/^MIT License\n\nCopyright \(c\) 2026 pjctl authors\n/)
    expect(license).toContain('THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND')
  })

  it('the launcher imports what ships', () => {
    const bin = readFileSync(join(ROOT, 'bin/pjctl.js'), 'utf8')
    const target = /import\('\.\.\/(dist\/[^']+)'\)/.exec(bin)?.[1]
    expect(target).toBe('dist/cli.js')
    expect(packedFiles()).toContain(target)
  })
})

// Everything runs from the packed tarball alone: installed into an empty directory (no
// node_modules of the checkout, no dependencies to fetch: the build bundles them), each command's
// --help and `pjctl demo` (which starts the simulated Asterisk and runs contacts, check, gen and prune).
describe('the packed tarball, installed', () => {
  let bin = ''
  const scratch = mkdtempSync(join(tmpdir(), 'pjctl-pack-'))
  afterAll(() => rmSync(scratch, { recursive: true, force: true }))
  beforeAll(() => {
    const out = execFileSync(
      'npm',
      ['pack', '--json', '--ignore-scripts', '--pack-destination', scratch],
      { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    )
    const tarball = join(scratch, (JSON.parse(out) as { filename: string }[])[0]!.filename)
    const prefix = join(scratch, 'install')
    execFileSync(
      'npm',
      ['install', '--prefix', prefix, '--no-audit', '--no-fund', '--ignore-scripts', tarball],
      { cwd: scratch, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    )
    bin = join(prefix, 'node_modules/.bin/pjctl')
  }, 120_000)

  const pjctl = (args: string[]) =>
    spawnSync(bin, args, {
      cwd: scratch,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, NO_COLOR: '1', HOME: scratch },
      timeout: 60_000,
    })

  it('installs nothing but pjctl itself (its dependencies are in the build)', () => {
    const modules = readdirSync(join(scratch, 'install/node_modules')).filter(
      (name) => !name.startsWith('.'),
    )
    expect(modules).toEqual(['pjctl'])
  })

  it('--version and --help', () => {
    const version = pjctl(['--version'])
    expect(version.status).toBe(0)
    expect(version.stdout.trim()).toBe(
      (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version,
    )
    const help = pjctl(['--help'])
    expect(help.status).toBe(0)
    for (const spec of COMMANDS) expect(help.stdout).toContain(spec.name)
  })

  // the build's command catalog (scripts/build.mjs) says what the specs in src/commands say
  it.each(COMMANDS.map((spec) => spec.name))('%s --help, as the source has it', async (name) => {
    const help = pjctl([name, '--help'])
    expect(help.stderr).toBe('')
    expect(help.status).toBe(0)
    expect(help.stdout).toMatch(new RegExp(`^Usage: pjctl ${name} `))
    expect(help.stdout).toBe((await runIn([name, '--help'])).stdout)
  })

  it('demo', () => {
    const demo = pjctl(['demo'])
    expect(demo.stderr).toBe('')
    expect(demo.status).toBe(0)
    expect(demo.stdout).toContain('pjctl prune FAP003 --yes')
    expect(demo.stdout).toContain('the phone got in at once')
  })
})
