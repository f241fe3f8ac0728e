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

/** Every relative import of each src/ file: static (`import type` too), re-exports, side-effect and dynamic import('…'). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>()
  for (const f of FILES) {
    const code = withoutComments(f.text)
    const specifiers = [
      ...code.matchAll(/^\s*(?:import|export)\s[^'"]*?\bfrom\s+['"](\.[^'"]+)['"]/gm),
      ...code.matchAll(/^\s*import\s+['"](\.[^'"]+)['"]/gm),
      ...code.matchAll(/\bimport\(\s*['"](\.[^'"]+)['"]\s*\)/g),
    ].map((m) => m[1]!)
    graph.set(f.path, [
      ...new Set(specifiers.map((s) => join(dirname(f.path), s).replace(/\.js$/, '.ts'))),
    ])
  }
  return graph
}

/** The import circles of a graph (its strongly connected components of more than one file, or a file importing itself). */
function importCircles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const circles: string[][] = []
  const visit = (v: string): void => {
    index.set(v, index.size)
    low.set(v, index.get(v)!)
    stack.push(v)
    onStack.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue
      if (!index.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!))
    }
    if (low.get(v) !== index.get(v)) return
    const circle: string[] = []
    for (let w = stack.pop(); w !== undefined; w = stack.pop()) {
      onStack.delete(w)
      circle.push(w)
      if (w === v) break
    }
    if (circle.length > 1 || graph.get(v)?.includes(v)) circles.push(circle.sort())
  }
  for (const v of graph.keys()) if (!index.has(v)) visit(v)
  return circles
}

/**
 * The layers, lowest first (docs/architecture.md): a file imports only from its own folder (or itself)
 * and from lower layers. Output renders the commands' views, so it sits above them; the command line
 * (usage.ts, cli.ts) is on top.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['src/text.ts', 'src/version.ts', 'src/heap.ts'],
  ['src/errors.ts'],
  ['src/core/'],
  [
    'src/ami/',
    'src/sql/',
    'src/sim/',
    'src/http/',
    'src/files.ts',
    'src/atomic.ts',
    'src/options.ts',
    'src/reasons.ts',
  ],
  ['src/settings.ts'],
  // the exporter's machinery (follower, metrics, render scheduler) over AMI and HTTP; the command wires it to the read path
  ['src/exporter/'],
  ['src/commands/'],
  ['src/output/'],
  ['src/usage.ts'],
  ['src/cli.ts'],
  // loads the bundle of cli.ts (dist/pjctl.cjs) with its code cache; it imports nothing of pjctl's
  ['src/bundle.ts'],
  // what bin/pjctl.js runs: `pjctl --version` alone, else cli.ts (loaded only then)
  ['src/entry.ts'],
]

/** A file's unit (its folder under src/, or the file itself) and that unit's layer; -1: in no layer. */
function placeOf(path: string): { unit: string; layer: number } {
  const unit = /^src\/[^/]+\//.exec(path)?.[0] ?? path
  return { unit, layer: LAYERS.findIndex((units) => units.includes(unit)) }
}

/** Imports that run up the layers, or across units of one layer, or from or to a file in no layer. */
function upwardImports(graph: Map<string, string[]>): string[] {
  return [...graph].flatMap(([from, targets]) =>
    targets
      .filter((to) => {
        const a = placeOf(from)
        const b = placeOf(to)
        if (a.unit === b.unit) return false
        return a.layer < 0 || b.layer < 0 || b.layer >= a.layer
      })
      .map((to) => `${from} -> ${to}`),
  )
}

describe('import structure', () => {
  const graph = importGraph()

  it('follows every kind of import (static, type, re-export, dynamic)', () => {
    expect(graph.get('src/cli.ts')).toEqual(
      expect.arrayContaining(['src/usage.ts', 'src/output/index.ts', 'src/commands/types.ts']),
    )
    // a dynamic import
    expect(graph.get('src/commands/demo.ts')).toContain('src/sim/server.ts')
    // a type-only import
    expect(graph.get('src/sim/actions.ts')).toContain('src/sim/context.ts')
    expect([...graph.values()].flat().filter((to) => !graph.has(to))).toEqual([])
  })

  it('has no import circle', () => {
    expect(importCircles(graph)).toEqual([])
  })

  it('has no import that runs up the layers', () => {
    // no exceptions: a command wording its data with an output module, say, is refused
    expect(upwardImports(graph)).toEqual([])
  })

  it('finds a planted circle and a planted upward import', () => {
    const planted = new Map(graph)
    planted.set('src/core/types.ts', [...(graph.get('src/core/types.ts') ?? []), 'src/cli.ts'])
    expect(importCircles(planted).some((c) => c.includes('src/core/types.ts'))).toBe(true)
    expect(upwardImports(planted)).toContain('src/core/types.ts -> src/cli.ts')
    const selfImport = new Map([['src/text.ts', ['src/text.ts']]])
    expect(importCircles(selfImport)).toEqual([['src/text.ts']])
    const crossLayer = new Map([['src/ami/session.ts', ['src/sql/pg.ts']]])
    expect(upwardImports(crossLayer)).toEqual(['src/ami/session.ts -> src/sql/pg.ts'])
    const commandToOutput = new Map([['src/commands/prune.ts', ['src/output/prune.ts']]])
    expect(upwardImports(commandToOutput)).toEqual(['src/commands/prune.ts -> src/output/prune.ts'])
    const unplaced = new Map([['src/commands/prune.ts', ['src/newthing.ts']]])
    expect(upwardImports(unplaced)).toEqual(['src/commands/prune.ts -> src/newthing.ts'])
  })
})

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

  it('only src/cli.ts exits or writes to the terminal (and entry.ts the one line of `pjctl --version`, or of a bundle it cannot load)', () => {
    expect(
      offenders(
        /process\.exit\(|process\.std(out|err)\.write|\bconsole\.(log|error|warn)/,
        (p) => p === 'src/cli.ts',
      ),
    ).toEqual(['src/entry.ts'])
    const entry = FILES.find((f) => f.path === 'src/entry.ts')!.text
    expect(entry.match(/process\.std(out|err)\.write\(.*\)/g)).toEqual([
      'process.stdout.write(`${VERSION}\\n`)',
      'process.stderr.write(`pjctl: cannot load the command line (${why}); reinstall pjctl\\n`)',
    ])
    expect(entry).not.toMatch(/process\.exit\(/)
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
        (f) =>
          f.path.startsWith('src/commands/') && /^export const \w+: CommandSpec</m.test(f.text),
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
    // and exits with main's code once main has resolved (everything written by then)
    expect(bin).toMatch(/process\.exit\(await main\(process\.argv\)\)/)
    expect(bin).not.toMatch(/child_process|spawn|fork/)
  })
})
