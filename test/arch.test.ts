// The layering docs/architecture.md describes, checked on the source: each rule names the only place allowed.
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { FAULT_CODE } from './helpers/faults.js'

const ROOT = join(__dirname, '..')
const SRC = join(ROOT, 'src')

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sources(join(dir, e.name))
      : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')
        ? [join(dir, e.name)]
        : [],
  )
}

const FILES = sources(SRC).map((path) => ({
  path: relative(ROOT, path),
  text: readFileSync(path, 'utf8'),
}))

const withoutComments = (text: string) => text.replace(/\/\*[\s\S]*?\*\/|^\s*\/\/.*$/gm, '')

/** The src/ files a module loads when it runs: its relative imports and re-exports (not `import type`), import('…') too, transitively. */
function loadClosure(...entries: string[]): Set<string> {
  const seen = new Set<string>()
  const pending = [...entries]
  for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
    if (seen.has(path)) continue
    seen.add(path)
    const code = withoutComments(FILES.find((f) => f.path === path)?.text ?? '')
    const specifiers = [
      ...code.matchAll(/^\s*(?:import|export)\s+(?!type\b)[^'"]*?\bfrom\s+['"](\.[^'"]+)['"]/gm),
      ...code.matchAll(/^\s*import\s+['"](\.[^'"]+)['"]/gm),
      ...code.matchAll(/\bimport\(\s*['"](\.[^'"]+)['"]\s*\)/g),
    ].map((m) => m[1])
    for (const specifier of specifiers)
      pending.push(join(dirname(path), specifier!).replace(/\.js$/, '.ts'))
  }
  return seen
}

function offenders(pattern: RegExp, allowed: (path: string) => boolean): string[] {
  return FILES.filter((f) => pattern.test(f.text) && !allowed(f.path)).map((f) => f.path)
}

describe('layering', () => {
  it('only src/ami imports asterisk-manager', () => {
    expect(offenders(/from ['"]asterisk-manager['"]/, (p) => p.startsWith('src/ami/'))).toEqual([])
    expect(
      FILES.some(
        (f) => f.path.startsWith('src/ami/') && /from ['"]asterisk-manager['"]/.test(f.text),
      ),
    ).toBe(true)
  })

  it('only src/output imports chalk and cli-table3', () => {
    expect(
      offenders(/from ['"](chalk|cli-table3)['"]/, (p) => p.startsWith('src/output/')),
    ).toEqual([])
  })

  it('src/core is pure: no node:* modules, no process, no console, no clock', () => {
    expect(
      offenders(
        /from ['"]node:|\bprocess\.|\bconsole\.|Date\.now\(/,
        (p) => !p.startsWith('src/core/'),
      ),
    ).toEqual([])
  })

  it('only src/cli.ts exits or writes to the terminal', () => {
    expect(
      offenders(
        /process\.exit\(|process\.std(out|err)\.write|\bconsole\.(log|error|warn)/,
        (p) => p === 'src/cli.ts',
      ),
    ).toEqual([])
  })

  it('commands never import commander, chalk, cli-table3 or sockets', () => {
    expect(
      offenders(
        /from ['"](commander|chalk|cli-table3|node:net)['"]/,
        (p) => !p.startsWith('src/commands/'),
      ),
    ).toEqual([])
  })

  it("core and ami do not import the option table (src/options.ts is the command line's)", () => {
    expect(
      offenders(
        /from ['"]\.\.\/options\.js['"]/,
        (p) => !p.startsWith('src/core/') && !p.startsWith('src/ami/'),
      ),
    ).toEqual([])
  })

  it('core/genconf knows no command-line flag: the command passes the names (FLAG_NAMES)', () => {
    const code = FILES.find((f) => f.path === 'src/core/genconf.ts')!.text.replace(
      /^\s*(\/\/|\*|\/\*).*$/gm,
      '',
    )
    expect(code.match(/(?<![\w-])--[a-z][a-z-]+/g) ?? []).toEqual([])
  })

  it('src/core knows no command-line flag: it returns kinds and figures, the command and output layers word them', () => {
    // doctor.ts is the one exception, for now: each finding's `fix` is a whole pjctl command line for the admin to run
    const flags = FILES.filter(
      (f) => f.path.startsWith('src/core/') && f.path !== 'src/core/doctor.ts',
    ).flatMap((f) =>
      (withoutComments(f.text).match(/(?<![\w-])--[a-z][a-z-]+/g) ?? []).map(
        (flag) => `${f.path}: ${flag}`,
      ),
    )
    expect(flags).toEqual([])
    // the pattern finds a flag where there is one
    expect(withoutComments(FILES.find((f) => f.path === 'src/core/doctor.ts')!.text)).toMatch(
      /(?<![\w-])--[a-z][a-z-]+/,
    )
  })

  it('output imports from commands only the data shapes (types.ts, views.ts)', () => {
    const bad = FILES.filter((f) => f.path.startsWith('src/output/')).flatMap((f) =>
      [...f.text.matchAll(/from ['"]\.\.\/commands\/([^'"]+)['"]/g)]
        .map((m) => m[1])
        .filter((m) => m !== 'types.js' && m !== 'views.js')
        .map((m) => `${f.path}: ${m}`),
    )
    expect(bad).toEqual([])
  })

  it('commands do not import each other (shared code lives in read.ts, backup.ts, views.ts); only demo runs the others, and the heal (refusal.ts) runs prune', () => {
    const commands = new Set(
      FILES.filter(
        (f) => f.path.startsWith('src/commands/') && f.text.includes(': CommandSpec<'),
      ).map((f) => f.path.slice('src/commands/'.length).replace(/\.ts$/, '.js')),
    )
    expect(commands.size).toBeGreaterThanOrEqual(6)
    const bad = FILES.filter(
      (f) =>
        f.path.startsWith('src/commands/') &&
        !['src/commands/index.ts', 'src/commands/demo.ts'].includes(f.path),
    ).flatMap((f) =>
      [...f.text.matchAll(/from ['"]\.\/([^'"]+)['"]/g)]
        .map((m) => m[1])
        .filter((m) => commands.has(m!))
        // --heal is pjctl prune itself, not a second deletion path
        .filter((m) => !(f.path === 'src/commands/refusal.ts' && m === 'prune.js'))
        .map((m) => `${f.path}: ${m}`),
    )
    expect(bad).toEqual([])
  })

  it('src/cli.ts names no command: what differs per command is a CommandSpec field', () => {
    const cli = FILES.find((f) => f.path === 'src/cli.ts')!.text
    const names = [
      ...FILES.filter((f) => f.path.startsWith('src/commands/')).flatMap((f) =>
        [...f.text.matchAll(/^ {2}name: '([a-z]+)'/gm)].map((m) => m[1]),
      ),
    ]
    expect(names).toContain('check')
    expect(names.filter((name) => new RegExp(`['"\`]${name}['"\`]`).test(cli))).toEqual([])
  })

  it('one sanitiser for printed text (src/text.ts): no other control-character replacement', () => {
    expect(offenders(/\\u001f|\\x1f/, (p) => p === 'src/text.ts')).toEqual([])
    expect(
      offenders(
        /function (clean|shown|escapeControls|showSafely)\b|export function printable/,
        (p) => p === 'src/text.ts',
      ),
    ).toEqual([])
  })

  it('the simulated Asterisk uses node:* and the core types only (it ships for `pjctl demo`)', () => {
    const bad = FILES.filter((f) => f.path.startsWith('src/sim/')).flatMap((f) =>
      [...f.text.matchAll(/from ['"]([^'"]+)['"]/g)]
        .map((m) => m[1])
        .filter((m) => !m!.startsWith('node:') && !m!.startsWith('./') && m !== '../core/types.js')
        .map((m) => `${f.path}: ${m}`),
    )
    expect(bad).toEqual([])
  })

  it('`pjctl demo` (and the CLI) load no fault injection: it lives in src/sim/faults.ts, which only tests import', () => {
    const closure = loadClosure('src/cli.ts', 'src/commands/demo.ts')
    // the closure follows demo's import('../sim/server.js'), and the marker finds the fault module
    expect([...closure]).toEqual(
      expect.arrayContaining(['src/commands/demo.ts', 'src/sim/server.ts', 'src/sim/actions.ts']),
    )
    const loaded = FILES.filter((f) => closure.has(f.path))
    expect(loaded.length).toBe(closure.size)
    expect(
      loaded.filter((f) => FAULT_CODE.test(withoutComments(f.text))).map((f) => f.path),
    ).toEqual([])
    expect(
      FAULT_CODE.test(
        withoutComments(FILES.find((f) => f.path === 'src/sim/faults.ts')?.text ?? ''),
      ),
    ).toBe(true)
  })

  it('no module does work at import: bin only calls main()', () => {
    const bin = readFileSync(join(ROOT, 'bin/pjctl.js'), 'utf8')
    expect(bin).toMatch(/const \{ main \} = await import\('..\/dist\/cli.js'\)/)
    expect(bin).toMatch(/process\.exitCode = await main\(process\.argv\)/)
    expect(bin).not.toMatch(/child_process|spawn|fork/)
  })
})
