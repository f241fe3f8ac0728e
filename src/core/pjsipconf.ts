// A pjsip.conf reader that follows Asterisk's own config parser (main/config.c,
// process_text_line and config_text_file_load) closely enough to tell what
// max_contacts / remove_existing each AOR really gets. Pure: the caller hands in
// readFile/resolvePath (node:fs/node:path in a command, a Map in tests).
//
// What it understands, as Asterisk does:
//  - `[name]`; `[name](!)` a template; `[name](tpl1,tpl2)` inherits the variables
//    of tpl1 then tpl2 (copied when the header is read, so a template must come
//    first), then the section's own; `[name](+)` adds to the first non-template
//    section of that name; `[name](+type=aor)` adds to the first one whose
//    variables match the filter (`name=value` regexes joined by `&`, Asterisk
//    13.9+). The options between the parentheses must follow `]` directly:
//    Asterisk ignores `[name] (!)` (with a space) and so does this reader, with
//    a warning.
//  - `;` comments, `\;` for a literal semicolon, `;-- ... --;` block comments
//    (nested), a UTF-8 BOM, CRLF line ends.
//  - `key=value`, `key => value`, `key += more` (appends to the last value),
//    a leading `\` escaping the first character of a key.
//  - `#include file`, `#include "file"`, `#include <file>`, `#tryinclude`
//    (a missing file is skipped), nested up to 10 levels like Asterisk; an
//    include cycle is an error. `#exec` is never run (warning).
//  Section names are matched case-insensitively for `(+)` and inheritance (as
//  strcasecmp in config.c); option names are case-insensitive (as ACO).
//
// Include paths: Asterisk resolves a relative #include against its config
// directory (astetcdir, usually /etc/asterisk), not against the including file.
// `resolvePath(fromFile, include)` decides; a caller that joins with
// dirname(fromFile) gets the same answer whenever the includes live in the same
// directory as pjsip.conf (FreePBX, most hand-made setups).
//
// Not read here: pjsip_wizard.conf (the wizard builds its AORs from `aor/...`
// keys), realtime/ARA backends, sorcery.conf remapping.

import { InputError } from '../errors.js'
import { printable } from '../text.js'
import { AOR_DEFAULTS, type AorConfig } from './types.js'

export type ReadFile = (path: string) => string | null
export type ResolvePath = (fromFile: string, include: string) => string

export interface PjsipConfOptions {
  /** Expands an #include whose name has glob characters (`*?[{`), as Asterisk does with glob(3).
   *  Without it such an include is skipped with a warning. */
  expandGlob?: (pattern: string) => string[]
}

/** One `key=value` as Asterisk holds it after parsing. */
interface PjsipConfEntry {
  /** The key as written (case kept). */
  key: string
  value: string
  file: string
  line: number
  /** Copied from a template by `[name](tpl)`. */
  inherited: boolean
}

interface PjsipConfSection {
  name: string
  /** `(!)`: a template, never an object of its own. */
  template: boolean
  /** Sections it inherited from, in order (as written in the header). */
  inherits: string[]
  /** Where the section was declared. */
  file: string
  line: number
  /** Every variable in Asterisk's order: inherited ones first, then its own, then `(+)` additions. */
  entries: PjsipConfEntry[]
  /** Resolved options: lower-cased key → every value in order (multi-valued keys such as allow keep all). */
  options: Record<string, string[]>
  /** The value that wins for a single-valued option: the last one (sorcery applies variables in order). */
  get(key: string): string | undefined
}

export interface PjsipConf {
  entry: string
  /** Every file read, in the order read. */
  files: string[]
  /** Sections in file order, templates included. */
  sections: PjsipConfSection[]
  /** Things Asterisk would warn about or that change the result (duplicate AOR, ignored header text, #exec ...). */
  warnings: string[]
  /** The first non-template section with this name and, if given, this `type`. */
  section(name: string, type?: string): PjsipConfSection | undefined
  /** Every non-template section whose type is aor, with Asterisk's defaults for options not set. */
  aors(): AorConfig[]
}

/** Asterisk's MAX_INCLUDE_LEVEL (main/config.c). */
const MAX_INCLUDE_DEPTH = 10
/** Asterisk reads lines into an 8192-byte buffer and skips longer ones. */
const MAX_LINE = 8191
/** Guards against `[b](a,a)`, `[c](b,b)`... doubling the variables at every level. */
const MAX_ENTRIES = 2_000_000

/** Options that only an aor has; seeing them elsewhere usually means a `(+)` that hit the endpoint. */
const AOR_ONLY_KEYS = [
  'max_contacts',
  'remove_existing',
  'remove_unavailable',
  'minimum_expiration',
  'maximum_expiration',
  'default_expiration',
]

interface Section {
  name: string
  lname: string
  template: boolean
  inherits: string[]
  file: string
  line: number
  entries: PjsipConfEntry[]
}

/** ASCII lower case, as strcasecmp compares. */
function lower(s: string): string {
  return /[A-Z]/.test(s) ? s.replace(/[A-Z]+/g, (c) => c.toLowerCase()) : s
}

function isSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13)
}

/** ast_strip: leading and trailing C isspace() characters. */
function strip(s: string): string {
  let a = 0
  let b = s.length
  while (a < b && isSpace(s.charCodeAt(a))) a++
  while (b > a && isSpace(s.charCodeAt(b - 1))) b--
  return a === 0 && b === s.length ? s : s.slice(a, b)
}

/** Reports a number Asterisk would refuse: the option, its value as written, the largest allowed. */
type Refused = (key: string, value: string, max: number) => void

/** All ASCII digits, at least one (`^\d+$`). */
function allDigits(text: string): boolean {
  if (text.length === 0) return false
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 48 || code > 57) return false
  }
  return true
}

/** An unsigned option: `dflt` when not set, null (and `refused` told) for what Asterisk would refuse. */
function uintOption(
  get: (key: string) => string | undefined,
  refused: Refused,
  key: string,
  dflt: number,
  max = 0xffffffff,
): number | null {
  const v = get(key)
  if (v === undefined) return dflt
  const t = strip(v)
  if (allDigits(t) && Number(t) <= max) return Number(t)
  refused(key, v, max)
  return null
}

function boolOption(get: (key: string) => string | undefined, key: string, dflt: boolean): boolean {
  const v = get(key)
  return v === undefined ? dflt : astTrue(v)
}

/** An AOR's options as Asterisk reads them, with res/res_pjsip/location.c's defaults for what is not set.
 *  `get` looks an option up; a number Asterisk would refuse is null, and `refused` is told. One reading
 *  for pjsip.conf files on disk (--pjsip-conf) and for GetConfig's answer (core/limits.ts). */
export function aorOptions(
  get: (key: string) => string | undefined,
  refused: Refused,
): Omit<AorConfig, 'aor' | 'source' | 'definedIn'> {
  return {
    maxContacts: uintOption(get, refused, 'max_contacts', AOR_DEFAULTS.maxContacts),
    removeExisting: boolOption(get, 'remove_existing', AOR_DEFAULTS.removeExisting),
    removeUnavailable: boolOption(get, 'remove_unavailable', AOR_DEFAULTS.removeUnavailable),
    qualifyFrequency: uintOption(
      get,
      refused,
      'qualify_frequency',
      AOR_DEFAULTS.qualifyFrequency,
      86400,
    ),
    minimumExpiration: uintOption(
      get,
      refused,
      'minimum_expiration',
      AOR_DEFAULTS.minimumExpiration,
    ),
    maximumExpiration: uintOption(
      get,
      refused,
      'maximum_expiration',
      AOR_DEFAULTS.maximumExpiration,
    ),
    defaultExpiration: uintOption(
      get,
      refused,
      'default_expiration',
      AOR_DEFAULTS.defaultExpiration,
    ),
  }
}

/** What ast_true takes as true, in lower case. */
const AST_TRUE = new Set(['yes', 'true', 'y', 't', '1', 'on'])

/** ast_true (main/utils.c). */
export function astTrue(value: string | undefined): boolean {
  if (value === undefined) return false
  const word = strip(value)
  // nothing longer than `true` is
  return word.length <= 4 && AST_TRUE.has(lower(word))
}

/** Removes comments from one physical line; keeps the block-comment depth across lines (per file, as Asterisk). */
class CommentStripper {
  depth = 0
  startLine = 0

  /** The text of the line outside comments, or null when the whole line is inside a block comment. */
  strip(line: string, lineno: number): string | null {
    let processing = this.depth === 0
    let out = ''
    let segStart = 0
    let i = 0
    for (;;) {
      const p = line.indexOf(';', i)
      if (p < 0) {
        if (this.depth === 0 && processing) out += line.slice(segStart)
        break
      }
      if (p > i && line[p - 1] === '\\') {
        // `\;`: a literal semicolon; the backslash goes.
        if (this.depth === 0) {
          out += line.slice(segStart, p - 1) + ';'
          segStart = p + 1
        }
        i = p + 1
      } else if (line[p + 1] === '-' && line[p + 2] === '-' && line[p + 3] !== '-') {
        // `;--` opens a block comment (`;---...` is an ordinary comment: FreePBX banners).
        if (this.depth === 0 && processing) out += line.slice(segStart, p)
        if (this.depth === 0) this.startLine = lineno
        this.depth++
        i = p + 3
      } else if (this.depth > 0 && p >= i + 2 && line[p - 1] === '-' && line[p - 2] === '-') {
        // `--;` closes one level.
        this.depth--
        i = p + 1
        if (this.depth === 0) {
          segStart = p + 1
          processing = true
        }
      } else if (this.depth === 0) {
        // A plain `;`: the rest of the line is a comment.
        if (processing) out += line.slice(segStart, p)
        break
      } else {
        i = p + 1
      }
    }
    return processing ? out : null
  }
}

/**
 * Reads pjsip.conf as main/config.c does: one reader per entry file, following #include
 * and #tryinclude, applying templates and (+) additions as it goes.
 */
class PjsipConfReader {
  private readonly sections: Section[] = []
  private readonly byName = new Map<string, Section[]>()
  readonly warnings: string[] = []
  readonly files: string[] = []
  /** The files being read, outermost first (for include cycles). */
  private readonly stack: string[] = []
  /** The section options go to; it carries over into an included file. */
  private current: Section | null = null
  private totalEntries = 0

  constructor(
    private readonly readFile: ReadFile,
    private readonly resolvePath: ResolvePath,
    private readonly options: PjsipConfOptions,
  ) {}

  /** Counts options copied or added, refusing template inheritance that explodes. */
  private count(n: number, file: string, line: number): void {
    this.totalEntries += n
    if (this.totalEntries > MAX_ENTRIES)
      fail(file, line, `template inheritance expands to more than ${MAX_ENTRIES} options`)
  }

  private addSection(s: Section): void {
    this.sections.push(s)
    const list = this.byName.get(s.lname)
    if (list) list.push(s)
    else this.byName.set(s.lname, [s])
  }

  /** does_category_match for `(+filter)`: every `name=value` regex (joined by &) must match one variable. */
  private matchesFilter(s: Section, filter: string, file: string, line: number): boolean {
    if (filter === '') return !s.template
    let templateOk = false
    let found = 0
    let expressions = 0
    for (const raw of filter.split('&')) {
      const nvp = strip(raw)
      expressions++
      const eq = nvp.indexOf('=')
      if (eq < 0) break
      const name = strip(nvp.slice(0, eq))
      const rest = nvp.slice(eq + 1)
      const eq2 = rest.indexOf('=')
      const value = strip(eq2 < 0 ? rest : rest.slice(0, eq2))
      if (name === 'TEMPLATES') {
        const v = lower(value)
        if (v === 'include') {
          if (s.template) templateOk = true
          found++
        } else if (v === 'restrict') {
          if (!s.template) break
          found++
          templateOk = true
        }
        continue
      }
      let rn: RegExp
      let rv: RegExp
      try {
        rn = new RegExp(name)
        rv = new RegExp(value)
      } catch {
        this.warnings.push(
          `${where(file, line)}: filter '${printable(nvp, 80)}' is not a regular expression`,
        )
        return false
      }
      if (s.entries.some((e) => rn.test(e.key) && rv.test(e.value))) found++
    }
    return found === expressions && (!s.template || templateOk)
  }

  private findForAddition(
    name: string,
    filter: string,
    file: string,
    line: number,
  ): Section | undefined {
    return this.byName.get(lower(name))?.find((s) => this.matchesFilter(s, filter, file, line))
  }

  private parseHeader(text: string, file: string, line: number): Section {
    const close = text.indexOf(']')
    if (close < 0) fail(file, line, "section header has no closing ']'")
    const name = text.slice(1, close)
    let rest = text.slice(close + 1)
    let opts: string[] = []
    if (rest.startsWith('(')) {
      const end = rest.indexOf(')')
      if (end < 0) fail(file, line, "section options have no closing ')'")
      opts = rest.slice(1, end).split(',')
      rest = rest.slice(end + 1)
    }
    if (strip(rest) !== '') {
      this.warnings.push(
        `${where(file, line)}: Asterisk ignores '${printable(strip(rest), 80)}' after the section header of [${printable(name, 80)}] (options must follow ']' directly, e.g. [name](!))`,
      )
    }
    const fresh: Section = {
      name,
      lname: lower(name),
      template: false,
      inherits: [],
      file,
      line,
      entries: [],
    }
    let target = fresh
    let isNew = true
    for (const opt of opts) {
      if (opt === '!') {
        target.template = true
      } else if (opt.startsWith('+')) {
        const filter = opt.slice(1)
        const found = this.findForAddition(name, filter, file, line)
        if (!found) {
          fail(
            file,
            line,
            `[${printable(name, 80)}](${printable(opt, 80)}) adds to a section that does not exist${filter ? ` (none named '${printable(name, 80)}' matches ${printable(filter, 80)})` : ` (no non-template section named '${printable(name, 80)}' before it)`}`,
          )
        }
        if (isNew) {
          found.template ||= fresh.template
          for (const e of fresh.entries) found.entries.push(e)
          isNew = false
        }
        target = found
      } else {
        const base = this.byName.get(lower(opt))?.[0]
        if (!base) {
          const spaced =
            strip(opt) !== opt ? ' (Asterisk does not allow spaces between the parentheses)' : ''
          fail(
            file,
            line,
            `[${printable(name, 80)}] inherits from '${printable(opt, 80)}', which is not defined before it${spaced}`,
          )
        }
        this.count(base.entries.length, file, line)
        for (const e of base.entries)
          target.entries.push({
            key: e.key,
            value: e.value,
            file: e.file,
            line: e.line,
            inherited: true,
          })
        target.inherits.push(base.name)
      }
    }
    if (isNew) this.addSection(fresh)
    this.current = target
    return target
  }

  load(
    path: string,
    depth: number,
    optional: boolean,
    from: { file: string; line: number; include: string } | null,
  ): void {
    if (this.stack.includes(path)) {
      const chain = [...this.stack.slice(this.stack.indexOf(path)), path]
        .map((p) => printable(p, 200))
        .join(' -> ')
      fail(from?.file ?? path, from?.line ?? 0, `include cycle: ${chain}`)
    }
    if (depth > MAX_INCLUDE_DEPTH)
      fail(
        from?.file ?? path,
        from?.line ?? 0,
        `includes nested deeper than ${MAX_INCLUDE_DEPTH} levels (Asterisk refuses them)`,
      )
    const text = this.readFile(path)
    if (text === null) {
      if (optional) return
      if (from)
        fail(
          from.file,
          from.line,
          `cannot read '${printable(path, 200)}' (#include ${printable(from.include, 200)})`,
        )
      throw new InputError(`cannot read '${printable(path, 200)}'`)
    }
    this.stack.push(path)
    this.files.push(path)
    this.parseText(path, text, depth)
    this.stack.pop()
  }

  private include(
    kind: 'include' | 'tryinclude',
    arg: string,
    file: string,
    line: number,
    depth: number,
  ): void {
    let name = arg
    if (
      (name.startsWith('"') || name.startsWith('<')) &&
      name.endsWith(name.startsWith('<') ? '>' : '"')
    ) {
      name = name.slice(1, -1)
    }
    const resolved = this.resolvePath(file, name)
    const optional = kind === 'tryinclude'
    if (/[*?[{]/.test(name)) {
      if (!this.options.expandGlob) {
        this.warnings.push(
          `${where(file, line)}: #${kind} ${printable(name, 80)} is a pattern; not followed`,
        )
        return
      }
      const paths = this.options.expandGlob(resolved)
      if (paths.length === 0 && !optional)
        fail(file, line, `#include ${printable(name, 80)} matches no file`)
      for (const p of paths) this.load(p, depth + 1, optional, { file, line, include: name })
      return
    }
    this.load(resolved, depth + 1, optional, { file, line, include: name })
  }

  private parseText(file: string, text: string, depth: number): void {
    // The current section carries over into an included file (cfg->current), not back out of it.
    let cat: Section | null = this.current
    const stripper = new CommentStripper()
    let start = 0
    let lineno = 0
    const n = text.length
    while (start <= n) {
      let end = text.indexOf('\n', start)
      if (end < 0) end = n
      let raw = text.slice(start, end)
      start = end + 1
      lineno++
      if (end === n && raw === '') break
      if (lineno === 1 && raw.charCodeAt(0) === 0xfeff) raw = raw.slice(1)
      if (raw.length > MAX_LINE) {
        this.warnings.push(
          `${where(file, lineno)}: line longer than ${MAX_LINE} characters; Asterisk skips it`,
        )
        continue
      }
      const kept = stripper.strip(raw, lineno)
      if (kept === null) continue
      const line = strip(kept)
      if (line === '') continue

      if (line.startsWith('[')) {
        cat = this.parseHeader(line, file, lineno)
      } else if (line.startsWith('#')) {
        const body = line.slice(1)
        let i = 0
        while (i < body.length && body.charCodeAt(i) > 32) i++
        const directive = lower(body.slice(0, i))
        const arg = strip(body.slice(i))
        if (directive === 'include' || directive === 'tryinclude') {
          if (!arg)
            this.warnings.push(
              `${where(file, lineno)}: #${directive} without a file name is ignored`,
            )
          else this.include(directive, arg, file, lineno, depth)
        } else if (directive === 'exec') {
          this.warnings.push(
            `${where(file, lineno)}: #exec ${printable(arg, 80)} is not run; what it would print is not read`,
          )
        } else {
          this.warnings.push(
            `${where(file, lineno)}: unknown directive '#${printable(body.slice(0, i), 80)}' is ignored`,
          )
        }
      } else {
        if (!cat) fail(file, lineno, `option outside any section: '${printable(line, 80)}'`)
        let cur = line
        let escaped = 0
        if (cur.startsWith('\\')) {
          cur = cur.slice(1)
          if (cur === '' || cur.charCodeAt(0) < 33)
            fail(file, lineno, 'invalid escape at the start of the line')
          escaped = 1
        }
        const eq = cur.indexOf('=', escaped)
        if (eq < 0)
          fail(
            file,
            lineno,
            `not a section, option, comment or directive: '${printable(line, 80)}'`,
          )
        if (eq > escaped && cur[eq - 1] === '+') {
          const key = strip(cur.slice(0, eq - 1))
          const more = cur.slice(eq + 1)
          let last: PjsipConfEntry | undefined
          for (const e of cat.entries) if (e.key === key) last = e
          if (last) {
            last.value = strip(last.value + more)
            continue
          }
          if (!key) fail(file, lineno, `no option name before '+=': '${printable(line, 80)}'`)
          this.count(1, file, lineno)
          cat.entries.push({ key, value: strip(more), file, line: lineno, inherited: false })
          continue
        }
        const key = strip(cur.slice(0, eq))
        let rest = cur.slice(eq + 1)
        if (rest.startsWith('>')) rest = rest.slice(1)
        if (!key) fail(file, lineno, `no option name before '=': '${printable(line, 80)}'`)
        this.count(1, file, lineno)
        cat.entries.push({ key, value: strip(rest), file, line: lineno, inherited: false })
      }
    }
    if (stripper.depth > 0) {
      this.warnings.push(
        `${where(file, stripper.startLine)}: block comment ';--' is never closed with '--;'`,
      )
    }
  }

  /** What was read, as the caller sees it. */
  result(entry: string): PjsipConf {
    const out = this.sections.map(freeze)
    const aorList = collectAors(out, this.warnings)
    return {
      entry,
      files: this.files,
      sections: out,
      warnings: this.warnings,
      section(name: string, type?: string) {
        const ln = lower(name)
        return out.find(
          (s) =>
            !s.template &&
            lower(s.name) === ln &&
            (type === undefined || firstValue(s, 'type') === type),
        )
      },
      aors: () => aorList.map((a) => ({ ...a })),
    }
  }
}

function where(file: string, line: number): string {
  return `${printable(file, 200)}:${line}`
}

function fail(file: string, line: number, message: string): never {
  throw new InputError(`${where(file, line)}: ${message}`)
}

/**
 * Reads `entry` and everything it includes, as Asterisk would.
 * Throws InputError (with file:line) for an unreadable #include, an include cycle,
 * a line that is not a section, option, comment or directive, and header errors
 * Asterisk also refuses (no closing bracket, unknown template, `(+)` of a missing section).
 */
export function parsePjsipConf(
  entry: string,
  readFile: ReadFile,
  resolvePath: ResolvePath,
  options: PjsipConfOptions = {},
): PjsipConf {
  const reader = new PjsipConfReader(readFile, resolvePath, options)
  reader.load(entry, 0, false, null)
  return reader.result(entry)
}

/** The public view of a section; `options` is built on first use (most sections are only asked their type). */
class FrozenSection implements PjsipConfSection {
  readonly name: string
  readonly template: boolean
  readonly inherits: string[]
  readonly file: string
  readonly line: number
  readonly entries: PjsipConfEntry[]
  #options: Record<string, string[]> | null = null

  constructor(s: Section) {
    this.name = s.name
    this.template = s.template
    this.inherits = s.inherits
    this.file = s.file
    this.line = s.line
    this.entries = s.entries
  }

  get options(): Record<string, string[]> {
    if (this.#options) return this.#options
    const opts = Object.create(null) as Record<string, string[]>
    for (const e of this.entries) {
      const k = lower(e.key)
      const list = opts[k]
      if (list) list.push(e.value)
      else opts[k] = [e.value]
    }
    this.#options = opts
    return opts
  }

  get(key: string): string | undefined {
    const k = lower(key)
    return this.entries.findLast((entry) => lower(entry.key) === k)?.value
  }

  toJSON() {
    return {
      name: this.name,
      template: this.template,
      inherits: this.inherits,
      file: this.file,
      line: this.line,
      options: this.options,
    }
  }
}

function freeze(s: Section): PjsipConfSection {
  return new FrozenSection(s)
}

/** res_sorcery_config matches `type=aor` with the first `type` variable, compared exactly. */
function firstValue(s: PjsipConfSection, key: string): string | undefined {
  const k = lower(key)
  for (const e of s.entries) if (lower(e.key) === k) return e.value
  return undefined
}

function collectAors(sections: PjsipConfSection[], warnings: string[]): AorConfig[] {
  const seen = new Map<string, PjsipConfSection>()
  const result: AorConfig[] = []
  for (const s of sections) {
    if (s.template) continue
    const type = firstValue(s, 'type')
    if (type !== 'aor') {
      const stray =
        type === 'endpoint' || type === 'auth'
          ? AOR_ONLY_KEYS.filter((k) => s.get(k) !== undefined)
          : []
      const e = s.entries.find((x) => stray.includes(lower(x.key)))
      if (e) {
        warnings.push(
          `${printable(e.file, 200)}:${e.line}: ${printable(e.key, 80)} is in the type=${type} section [${printable(s.name, 80)}] (declared ${printable(s.file, 200)}:${s.line}); Asterisk will refuse that ${type}. To add to the AOR use [${printable(s.name, 80)}](+type=aor)`,
        )
      }
      continue
    }
    const prev = seen.get(s.name)
    if (prev) {
      warnings.push(
        `${printable(s.file, 200)}:${s.line}: a second type=aor section [${printable(s.name, 80)}] (first at ${printable(prev.file, 200)}:${prev.line}); Asterisk refuses to load the AORs of this file ("duplicate object"); use [${printable(s.name, 80)}](+type=aor) to add to it`,
      )
      continue
    }
    seen.set(s.name, s)
    const where = `${printable(s.file, 200)}:${s.line}: [${printable(s.name, 80)}]`
    result.push({
      aor: s.name,
      ...aorOptions(
        (key) => s.get(key),
        (key, value, max) =>
          warnings.push(
            `${where} ${key}=${printable(value, 80)} is not a number from 0 to ${max}; Asterisk would refuse this AOR`,
          ),
      ),
      source: 'pjsip-conf',
    })
  }
  return result
}
