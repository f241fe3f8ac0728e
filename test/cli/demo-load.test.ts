// `pjctl demo` ships to users and runs the simulated Asterisk: the modules it loads must hold no
// fault-injection code (src/sim/faults.ts is for tests). Recorded with a module-load hook in a
// real run of the built CLI; test/arch.test.ts checks the same on the source's import graph.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative, resolve } from 'node:path'
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

describe('what pjctl demo loads', () => {
  it('the simulated Asterisk, and no module with fault-injection code', async () => {
    const { result, files } = await loadedBy(['demo'])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('pjctl prune FAP003 --yes')
    // the recording saw the demo run the sim (else the check below would prove nothing): the built
    // CLI, the demo command's chunk and the simulator's (scripts/build.mjs names chunks after a module)
    expect(files).toContain('dist/cli.js')
    expect(files.some((path) => /^dist\/chunks\/demo-\w+\.js$/.test(path))).toBe(true)
    expect(files.some((path) => /^dist\/chunks\/server-\w+\.js$/.test(path))).toBe(true)
    expect(files.filter((path) => FAULT_CODE.test(readFileSync(join(ROOT, path), 'utf8')))).toEqual(
      [],
    )
  })

  it('the build holds no fault injection at all (src/sim/faults.ts is for tests), and the marker finds it in the source', () => {
    const built = readdirSync(join(ROOT, 'dist'), { recursive: true, encoding: 'utf8' }).filter(
      (path) => path.endsWith('.js'),
    )
    expect(built).toContain('cli.js')
    expect(
      built.filter((path) => FAULT_CODE.test(readFileSync(join(ROOT, 'dist', path), 'utf8'))),
    ).toEqual([])
    expect(FAULT_CODE.test(readFileSync(join(ROOT, 'src/sim/faults.ts'), 'utf8'))).toBe(true)
  })
})

describe('what pjctl --version loads', () => {
  it('dist/cli.js and what it shares with the rest (the version), no command-line parser (commander) and no command catalog', async () => {
    const { result, files } = await loadedBy(['--version'])
    expect(result.code).toBe(0)
    expect(result.stdout).toBe(`${VERSION}\n`)
    expect(result.stderr).toBe('')
    expect(files).toContain('dist/cli.js')
    expect(files.filter((path) => /^dist\/chunks\/cli-\w+\.js$/.test(path))).toEqual([])
    for (const path of files) {
      const text = readFileSync(join(ROOT, path), 'utf8')
      expect(text, path).not.toMatch(/node_modules[\\/]commander/)
      expect(text, path).not.toContain('COMMANDS')
    }
  })

  it('anything more than --version alone is the command line as before (commander prints the version)', async () => {
    const { result, files } = await loadedBy(['--version', '--no-color'])
    expect(result.code).toBe(0)
    expect(result.stdout).toBe(`${VERSION}\n`)
    expect(files.some((path) => /^dist\/chunks\/cli-\w+\.js$/.test(path))).toBe(true)
  })
})
