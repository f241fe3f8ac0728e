// `pjctl demo` ships to users and runs the simulated Asterisk: what the build holds must hold no
// fault-injection code (src/sim/faults.ts is for tests); test/arch.test.ts checks the same on the
// source's import graph. What `pjctl --version` loads is recorded with a module-load hook in a real
// run of the built CLI, and checked by taking the bundle away.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { FAULT_CODE } from '../helpers/faults.js'
import { run } from '../helpers/run.js'
import { VERSION } from '../../src/version.js'

const ROOT = resolve(__dirname, '../..')
const RECORD = pathToFileURL(join(ROOT, 'test/fixtures/loads/record.mjs')).href

/** The files under dist/ that `pjctl ARGS` loaded, relative to the checkout, and its run. */
async function loadedBy(args: string[]) {
  const record = join(mkdtempSync(join(tmpdir(), 'pjctl-loads-')), 'loaded.txt')
  const result = await run(args, {
    env: { NODE_OPTIONS: `--import=${RECORD}`, RECORD_LOADS_TO: record },
  })
  const urls = readFileSync(record, 'utf8')
    .split('\n')
    .filter((url) => url.startsWith('file:'))
  const files = urls
    .map((url) => relative(ROOT, fileURLToPath(url)))
    .filter((path) => path.startsWith('dist/'))
  return { result, files }
}

describe('what pjctl demo runs', () => {
  it('the simulated Asterisk, from dist/sim.cjs', async () => {
    const result = await run(['demo'])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('pjctl prune FAP003 --yes')
    // the simulator is a bundle of its own, which the scan below looks into too
    expect(readFileSync(join(ROOT, 'dist/sim.cjs'), 'utf8')).toContain('function startSim(')
    expect(readFileSync(join(ROOT, 'dist/pjctl.cjs'), 'utf8')).not.toContain('function startSim(')
  })

  it('the build holds no fault injection at all (src/sim/faults.ts is for tests), and the marker finds it in the source', () => {
    const built = readdirSync(join(ROOT, 'dist'), { recursive: true, encoding: 'utf8' }).filter(
      (path) => /\.c?js$/.test(path),
    )
    expect(built).toEqual(expect.arrayContaining(['cli.js', 'pjctl.cjs', 'sim.cjs']))
    expect(
      built.filter((path) => FAULT_CODE.test(readFileSync(join(ROOT, 'dist', path), 'utf8'))),
    ).toEqual([])
    expect(FAULT_CODE.test(readFileSync(join(ROOT, 'src/sim/faults.ts'), 'utf8'))).toBe(true)
  })
})

describe('what pjctl --version loads', () => {
  it('dist/cli.js alone: no command-line parser (commander), no command catalog', async () => {
    const { result, files } = await loadedBy(['--version'])
    expect(result.code).toBe(0)
    expect(result.stdout).toBe(`${VERSION}\n`)
    expect(result.stderr).toBe('')
    expect(files).toEqual(['dist/cli.js'])
    const text = readFileSync(join(ROOT, 'dist/cli.js'), 'utf8')
    expect(text).not.toMatch(/node_modules[\\/]commander/)
    expect(text).not.toContain('COMMANDS')
  })

  /** A copy of the launcher and dist/cli.js, without the bundle next to them. */
  const withoutBundle = (): string => {
    const copy = mkdtempSync(join(tmpdir(), 'pjctl-nobundle-'))
    for (const path of ['bin/pjctl.js', 'dist/cli.js', 'package.json']) {
      mkdirSync(dirname(join(copy, path)), { recursive: true })
      copyFileSync(join(ROOT, path), join(copy, path))
    }
    return join(copy, 'bin/pjctl.js')
  }

  it('runs without the bundle; anything more than --version alone is the command line, which needs it', async () => {
    const bin = withoutBundle()
    const version = await run(['--version'], { bin })
    expect(version.stdout).toBe(`${VERSION}\n`)
    expect(version.code).toBe(0)
    const more = await run(['--version', '--no-color'], { bin })
    expect(more.code).toBe(1)
    expect(more.stderr).toMatch(
      /^pjctl: cannot load the command line \(.*pjctl\.cjs.*\); reinstall pjctl\n$/,
    )
    // with the bundle, commander prints the version
    const real = await run(['--version', '--no-color'])
    expect(real.code).toBe(0)
    expect(real.stdout).toBe(`${VERSION}\n`)
  })
})
