// The README is the front door and docs/ the reference: every command has its page, every option
// pjctl has is documented, nothing documented is gone, and the README stays short.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { OPTIONS } from '../src/options.js'
import { COMMANDS } from '../src/commands/index.js'
import { commandDocs } from '../src/usage.js'

const ROOT = join(__dirname, '..')
const README = readFileSync(join(ROOT, 'README.md'), 'utf8')

function markdown(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? markdown(join(dir, e.name))
      : e.name.endsWith('.md')
        ? [join(dir, e.name)]
        : [],
  )
}

/** README.md and every page under docs/, by path relative to the repository. */
const PAGES = new Map<string, string>([
  ['README.md', README],
  ...markdown(join(ROOT, 'docs')).map(
    (path) => [relative(ROOT, path), readFileSync(path, 'utf8')] as [string, string],
  ),
])
const ALL = [...PAGES.values()].join('\n')
/** The pages, and the lab's README: what a contributor reads. */
const READ = new Map([
  ...PAGES,
  ['lab/README.md', readFileSync(join(ROOT, 'lab', 'README.md'), 'utf8')],
])

/** A command's own page. */
const pageOf = (command: string): string =>
  PAGES.get(`docs/commands/${command}.md`) ?? `(no docs/commands/${command}.md)`

/** The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces to hyphens. */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>()
  const anchors = new Set<string>()
  for (const m of markdown.replace(/```[\s\S]*?```/g, '').matchAll(/^#{1,6} (.+)$/gm)) {
    const slug = m[1]!
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, '')
      .replace(/ /g, '-')
    const n = seen.get(slug) ?? 0
    seen.set(slug, n + 1)
    anchors.add(n ? `${slug}-${n}` : slug)
  }
  return anchors
}

/** `-H, --host <host>` → `--host`. */
function longFlag(flag: string | undefined): string | undefined {
  return flag ? /--[a-z][a-z-]*/.exec(flag)?.[0] : undefined
}

describe('README and docs/', () => {
  it('the README is at most 400 lines', () => {
    expect(README.split('\n').length).toBeLessThanOrEqual(400)
  })

  it("every command has its page in docs/commands/ and a row in the README's command table linking to it", () => {
    const lines = README.split('\n')
    const start = lines.indexOf('| command | what it does |')
    const end = lines.findIndex((line, i) => i > start && !line.startsWith('|'))
    const table = lines.slice(start, end).join('\n')
    for (const command of COMMANDS) {
      expect(pageOf(command.name)).toContain(`# \`pjctl ${command.name}`)
      expect(table).toContain(`| [\`pjctl ${command.name}`)
      expect(table).toContain(`(docs/commands/${command.name}.md)`)
    }
  })

  it("documents each command's own options on that command's page", () => {
    // Connection options and the output switches every command takes are documented once, in the README.
    const shared = new Set(['--no-color', '--quiet', '--debug', '--format', '--json'])
    const missing: string[] = []
    for (const doc of commandDocs()) {
      const page = pageOf(doc.name)
      for (const flag of doc.flags) {
        if (flag.group === 'connection' || shared.has(flag.long)) continue
        if (!page.includes(`\`${flag.long}`)) missing.push(`${doc.name} ${flag.long}`)
      }
    }
    expect(missing).toEqual([])
  })

  it('documents every flag and environment variable in src/options.ts', () => {
    const missing: string[] = []
    for (const spec of Object.values(OPTIONS) as { flag?: string; env?: string }[]) {
      const flag = longFlag(spec.flag)
      if (flag && !ALL.includes(`\`${flag}`)) missing.push(flag)
      if (spec.env && !ALL.includes(spec.env)) missing.push(spec.env)
    }
    expect(missing).toEqual([])
  })

  it('documents every connection option in the README', () => {
    const missing = commandDocs()
      .flatMap((doc) => doc.flags)
      .filter((flag) => flag.group === 'connection' && !README.includes(`\`${flag.long}`))
      .map((flag) => flag.long)
    expect([...new Set(missing)]).toEqual([])
  })

  it('documents every short alias (-H, -p, -t, -w, -c, -v)', () => {
    const shorts = Object.values(OPTIONS).flatMap((s) => {
      const m = /^(-[a-zA-Z]),/.exec((s as { flag?: string }).flag ?? '')
      return m ? [m[1]] : []
    })
    expect(shorts.sort()).toEqual(['-H', '-c', '-p', '-t', '-v', '-w'])
    for (const short of shorts) expect(ALL).toContain(`\`${short}\``)
  })

  it('mentions no flag that does not exist, on any page', () => {
    const known = new Set(
      Object.values(OPTIONS).flatMap((s) =>
        (s as { flag?: string }).flag ? [longFlag((s as { flag: string }).flag)!] : [],
      ),
    )
    for (const extra of ['--help', '--version', '--secret', '--remove-existing']) known.add(extra)
    // npm run bench's own flags (bench/bench.ts), and Node's --trace-gc, named in docs/performance.md
    for (const bench of ['--asterisk', '--only', '--scales', '--quick', '--trace-gc'])
      known.add(bench)
    const unknown: string[] = []
    for (const [path, text] of PAGES) {
      for (const m of text.matchAll(/`(--[a-z][a-z-]*)/g))
        if (!known.has(m[1]!)) unknown.push(`${path}: ${m[1]}`)
    }
    expect(unknown).toEqual([])
  })

  it('links every page of docs/ from the README', () => {
    const pages = [...PAGES.keys()].filter((path) => path.startsWith('docs/'))
    expect(pages.filter((path) => !README.includes(`](${path})`))).toEqual([])
  })

  it('links only to files and headings that exist in the repository, never outside it', () => {
    const broken: string[] = []
    for (const [path, text] of READ) {
      if (text.includes('../shared')) broken.push(`${path}: ../shared`)
      const prose = text
        .replace(/```[\s\S]*?```/g, '')
        .replace(/^ {4}.*$/gm, '')
        .replace(/`[^`\n]*`/g, '')
      for (const m of prose.matchAll(/\]\(([^)#\s]*)(?:#([^)\s]*))?\)/g)) {
        const [, target = '', anchor] = m
        if (/^[a-z]+:/.test(target) || (!target && !anchor)) continue
        const resolved = target ? join(ROOT, path, '..', target) : join(ROOT, path)
        if (!resolved.startsWith(ROOT) || !existsSync(resolved)) {
          broken.push(`${path}: ${target}`)
          continue
        }
        if (anchor && !anchorsOf(readFileSync(resolved, 'utf8')).has(anchor))
          broken.push(`${path}: ${target}#${anchor}`)
      }
    }
    expect(broken).toEqual([])
  })

  it('says nothing about how or by whom the project was built', () => {
    const words =
      /\b(coordinator|other engineers|helper session|AI agent|\d{1,2}:\d{2}(?::\d{2})? ?[–-] ?\d{1,2}:\d{2})\b|\bat \d{1,2}:\d{2}\b|\(\d{1,2}:\d{2}\)/i
    const found = [...READ].flatMap(([path, text]) =>
      text
        .split('\n')
        .flatMap((line, i) => (words.test(line) ? [`${path}:${i + 1}: ${line}`] : [])),
    )
    expect(found).toEqual([])
  })
})

describe('CHANGELOG.md', () => {
  const changelog = readFileSync(join(ROOT, 'CHANGELOG.md'), 'utf8')
  const version = (
    JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }
  ).version

  it('is in Keep a Changelog form: [Unreleased] first, then the current version', () => {
    const releases = [...changelog.matchAll(/^## \[([^\]]+)\]/gm)].map((m) => m[1])
    expect(releases[0]).toBe('Unreleased')
    expect(releases).toContain(version)
  })

  it('groups changes only under the six kinds Keep a Changelog names', () => {
    const kinds = [...changelog.matchAll(/^### (.+)$/gm)].map((m) => m[1])
    const allowed = ['Added', 'Changed', 'Deprecated', 'Removed', 'Fixed', 'Security']
    expect(kinds.filter((kind) => !allowed.includes(kind!))).toEqual([])
  })
})
