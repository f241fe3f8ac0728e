// The layering the README promises, checked on the source: each rule names the only place allowed.
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = join(__dirname, '..')
const SRC = join(ROOT, 'src')

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [join(dir, e.name)] : [],
  )
}

const FILES = sources(SRC).map((path) => ({ path: relative(ROOT, path), text: readFileSync(path, 'utf8') }))

function offenders(pattern: RegExp, allowed: (path: string) => boolean): string[] {
  return FILES.filter((f) => pattern.test(f.text) && !allowed(f.path)).map((f) => f.path)
}

describe('layering', () => {
  it('only src/ami imports asterisk-manager', () => {
    expect(offenders(/from ['"]asterisk-manager['"]/, (p) => p.startsWith('src/ami/'))).toEqual([])
    expect(FILES.some((f) => f.path.startsWith('src/ami/') && /from ['"]asterisk-manager['"]/.test(f.text))).toBe(true)
  })

  it('only src/output imports chalk and cli-table3', () => {
    expect(offenders(/from ['"](chalk|cli-table3)['"]/, (p) => p.startsWith('src/output/'))).toEqual([])
  })

  it('src/core is pure: no node:* modules, no process, no console, no clock', () => {
    expect(offenders(/from ['"]node:|\bprocess\.|\bconsole\.|Date\.now\(/, (p) => !p.startsWith('src/core/'))).toEqual([])
  })

  it('only src/cli.ts exits or writes to the terminal', () => {
    expect(offenders(/process\.exit\(|process\.std(out|err)\.write|\bconsole\.(log|error|warn)/, (p) => p === 'src/cli.ts')).toEqual([])
  })

  it('commands never import commander, chalk, cli-table3 or sockets', () => {
    expect(offenders(/from ['"](commander|chalk|cli-table3|node:net)['"]/, (p) => !p.startsWith('src/commands/'))).toEqual([])
  })

  it('the simulated Asterisk uses node:* and the core types only (it ships for `pjctl demo`)', () => {
    const bad = FILES.filter((f) => f.path.startsWith('src/sim/')).flatMap((f) =>
      [...f.text.matchAll(/from ['"]([^'"]+)['"]/g)].map((m) => m[1]).filter((m) => !m.startsWith('node:') && !m.startsWith('./') && m !== '../core/types.js').map((m) => `${f.path}: ${m}`),
    )
    expect(bad).toEqual([])
  })

  it('no module does work at import: bin only calls main()', () => {
    const bin = readFileSync(join(ROOT, 'bin/pjctl.js'), 'utf8')
    expect(bin).toMatch(/import \{ main \} from '..\/dist\/src\/cli.js'/)
    expect(bin).not.toMatch(/child_process|spawn|fork/)
  })
})
