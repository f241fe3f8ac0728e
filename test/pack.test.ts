// What ships: `npm pack --dry-run`'s file list is the launcher, the build of src/ (dist/, rootDir
// src), the man page (man/pjctl.1, written by npm run build), the README and the LICENSE (MIT, as
// package.json says); never the benchmark, the tests, the sources or the test-only TLS keys.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

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
  packed = (JSON.parse(out) as { files: { path: string }[] }[])[0].files.map((f) => f.path).sort()
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
        'man/pjctl.1',
        'package.json',
      ]),
    )
    expect(
      files.filter(
        (f) =>
          !/^(package\.json|README\.md|LICENSE|bin\/pjctl\.js|dist\/.+\.js|man\/pjctl\.1)$/.test(f),
      ),
    ).toEqual([])
    // rootDir src: no dist/src, dist/bench or dist/test; bench builds into dist-bench, which is not shipped
    expect(
      files.filter((f) => /^dist\/(src|bench|test)\/|^dist-bench\/|^(src|test|bench)\//.test(f)),
    ).toEqual([])
    // every module the build has, from src/ (the simulator too: `pjctl demo` runs it)
    expect(files).toEqual(
      expect.arrayContaining([
        'dist/ami/session.js',
        'dist/ami/library.js',
        'dist/sim/server.js',
        'dist/commands/demo.js',
      ]),
    )
  })

  it('the LICENSE is the MIT licence package.json names, copyright the pjctl authors', () => {
    expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).license).toBe('MIT')
    const license = readFileSync(join(ROOT, 'LICENSE'), 'utf8')
    expect(license).toMatch(/^MIT License\n\nCopyright \(c\) 2026 pjctl authors\n/)
    expect(license).toContain('THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND')
  })

  it('the launcher imports what ships', () => {
    const bin = readFileSync(join(ROOT, 'bin/pjctl.js'), 'utf8')
    const target = /from '\.\.\/(dist\/[^']+)'/.exec(bin)?.[1]
    expect(target).toBe('dist/cli.js')
    expect(packedFiles()).toContain(target)
  })
})
