// src/bundle.ts: the CommonJS bundle compiled through node:vm, from V8's code cache when V8 takes it,
// from its source otherwise; and the build's own bundle and cache (dist/, written by npm run build).
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { BUNDLE_FILE, CODE_CACHE_FILE, compileBundle } from '../src/bundle.js'
import { YOUNG_GENERATION_SIZED } from '../src/heap.js'

const ROOT = resolve(__dirname, '..')

// V8 keeps what it compiled for the life of the process and then consults no code cache: every case
// compiles a source of its own, and the cache it takes comes from another process, as the build's does.
let sources = 0
function bundleDir(source: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'pjctl-bundle-'))
  writeFileSync(join(dir, BUNDLE_FILE), `${source}\n// ${++sources} ${dir}`)
  return dir
}

/** The code cache of `dir`'s bundle, written by a node process of its own (the same wrapper as bundle.ts). */
function cacheFromAnotherProcess(dir: string): Buffer {
  const script = [
    "const { Script } = require('node:vm')",
    "const { readFileSync } = require('node:fs')",
    'const file = process.argv[1]',
    "const source = readFileSync(file, 'utf8')",
    'const wrapped = `(function (exports, require, module, __filename, __dirname) {${source}\\n})`',
    'const s = new Script(wrapped, { filename: file })',
    's.runInThisContext()',
    'process.stdout.write(s.createCachedData())',
  ].join('\n')
  return execFileSync(process.execPath, ['-e', script, join(dir, BUNDLE_FILE)])
}

const SOURCE = [
  "const { basename } = require('node:path')",
  'function answer() { return 6 * 7 }',
  'module.exports = { answer: answer(), file: basename(__filename), self: this === exports }',
].join('\n')

describe('compileBundle', () => {
  it('runs the bundle as CommonJS: require, __filename, module.exports, `this` = exports', () => {
    const dir = bundleDir(SOURCE)
    const loaded = compileBundle(dir)
    expect(loaded.exports).toEqual({ answer: 42, file: BUNDLE_FILE, self: true })
    expect(loaded.cached).toBe(false)
  })

  it('takes the code cache written for the same source', () => {
    const dir = bundleDir(SOURCE)
    writeFileSync(join(dir, CODE_CACHE_FILE), cacheFromAnotherProcess(dir))
    const loaded = compileBundle(dir)
    expect(loaded.cached).toBe(true)
    expect(loaded.exports).toEqual({ answer: 42, file: BUNDLE_FILE, self: true })
  })

  it("a cache V8 rejects (another bundle's, or no cache at all) is ignored: compiled from the source", () => {
    const other = bundleDir(`${SOURCE}\nmodule.exports.more = 'a longer source'`)
    const dir = bundleDir(SOURCE)
    writeFileSync(join(dir, CODE_CACHE_FILE), cacheFromAnotherProcess(other))
    const loaded = compileBundle(dir)
    expect(loaded.cached).toBe(false)
    expect(loaded.exports).toEqual({ answer: 42, file: BUNDLE_FILE, self: true })
    const garbage = bundleDir(SOURCE)
    writeFileSync(join(garbage, CODE_CACHE_FILE), Buffer.from('not a code cache'))
    expect(compileBundle(garbage).cached).toBe(false)
  })

  it("the build's bundle: V8 takes its code cache, and it exports the command line's main", () => {
    const loaded = compileBundle(join(ROOT, 'dist'))
    expect(loaded.cached).toBe(true)
    expect(typeof (loaded.exports as { main?: unknown }).main).toBe('function')
    // the warm-up run compiled more than the bundle's top level: the cache is far from empty
    expect(readFileSync(join(ROOT, 'dist', CODE_CACHE_FILE)).length).toBeGreaterThan(200_000)
  })
})

describe('the built bundle', () => {
  it('is ASCII, without the comments of the source: Node reads it as a one-byte string, and every run reads less', () => {
    const text = readFileSync(join(ROOT, 'dist', BUNDLE_FILE), 'utf8')
    expect(text.match(/[^\p{ASCII}]/gu) ?? []).toEqual([])
    // a comment of src/sql/copytext.ts, written with an ellipsis: neither it nor its escape is there
    expect(readFileSync(join(ROOT, 'src', 'sql', 'copytext.ts'), 'utf8')).toContain(
      'COPY … TO STDOUT',
    )
    expect(text).not.toMatch(/COPY (…|\\u\{2026\}) TO STDOUT/)
  })
})

describe('the launcher (dist/cli.js)', () => {
  // the size of the young generation's semi-space after 25 MB of short-lived objects, in a process of
  // its own: with the launcher's main run first, or without
  function newSpaceAfterGarbage(runMain: boolean): number {
    const script = [
      "const v8 = require('node:v8')",
      ';(async () => {',
      '  const write = process.stdout.write.bind(process.stdout)',
      `  if (${runMain}) {`,
      `    const entry = await import(${JSON.stringify(join(ROOT, 'dist', 'cli.js'))})`,
      // its output discarded, each write's callback called (main waits for them), as the build's warm-up does
      "    process.stdout.write = (chunk, encoding, done) => { const cb = typeof encoding === 'function' ? encoding : done; if (cb) process.nextTick(cb); return true }",
      "    await entry.main([process.execPath, 'pjctl', 'gen', 'pjsip', 'FAP003', '--aor-only'])",
      '  }',
      '  let keep = []',
      '  for (let i = 0; i < 500000; i++) { keep.push({ i, s: `row ${i}` }); if (keep.length > 50000) keep = [] }',
      "  write(String(v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size))",
      '})()',
    ].join('\n')
    return Number(execFileSync(process.execPath, ['-e', script]).toString())
  }

  // V8 11 (Node 20) only: src/heap.ts says why
  it.runIf(YOUNG_GENERATION_SIZED)(
    "keeps V8's young generation at its first size for the run, once the bundle is compiled",
    () => {
      const without = newSpaceAfterGarbage(false)
      const withMain = newSpaceAfterGarbage(true)
      expect(withMain).toBeGreaterThan(0)
      expect(withMain).toBeLessThan(without)
      expect(withMain).toBeLessThanOrEqual(2 * 1024 * 1024)
    },
  )
})
