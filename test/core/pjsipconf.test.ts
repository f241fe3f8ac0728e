import { existsSync, readFileSync } from 'node:fs'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { renderGen, type GenRequest } from '../../src/core/genconf.js'
import { proposeFromReports } from '../../src/core/genpropose.js'
import { parsePjsipConf, type PjsipConf } from '../../src/core/pjsipconf.js'
import type { AorConfig, AorReport, ClassifiedContact } from '../../src/core/types.js'
import { InputError } from '../../src/errors.js'

/** An in-memory config directory: paths are resolved against the including file's directory. */
function memfs(files: Record<string, string>) {
  const reads: string[] = []
  const readFile = (path: string): string | null => {
    reads.push(path)
    return Object.prototype.hasOwnProperty.call(files, path) ? files[path]! : null
  }
  const resolvePath = (from: string, include: string) =>
    include.startsWith('/') ? include : join(dirname(from), include)
  return { readFile, resolvePath, reads }
}

function conf(files: Record<string, string>, entry = '/etc/asterisk/pjsip.conf'): PjsipConf {
  const fs = memfs(files)
  return parsePjsipConf(entry, fs.readFile, fs.resolvePath)
}

function one(text: string): PjsipConf {
  return conf({ '/etc/asterisk/pjsip.conf': text })
}

function thrown(fn: () => unknown): InputError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(InputError)
    return error as InputError
  }
  throw new Error('expected an InputError')
}

/** Asterisk's defaults (res/res_pjsip/location.c) for every option not set. */
const DEFAULTS = {
  maxContacts: 0,
  removeExisting: false,
  removeUnavailable: false,
  qualifyFrequency: 0,
  minimumExpiration: 60,
  maximumExpiration: 7200,
  defaultExpiration: 3600,
  source: 'pjsip-conf',
} as const

function aor(name: string, over: Partial<AorConfig> = {}): AorConfig {
  return { aor: name, ...DEFAULTS, ...over }
}

describe('parsePjsipConf: syntax (main/config.c)', () => {
  it('reads sections, key=value, key => value, whitespace and comments', () => {
    const c = one(
      [
        '; a comment',
        '[1001]   ; trailing comment',
        'type=aor',
        '  max_contacts   =   3  ',
        'remove_existing => yes',
        'mailboxes=1001@default ; voicemail',
        '',
        '[1001]',
        'type = endpoint',
        'allow=ulaw',
        'allow=alaw,g722',
        'callerid=Semi \\; Colon <1001>',
      ].join('\n'),
    )
    expect(c.sections.map((s) => [s.name, s.get('type')])).toEqual([
      ['1001', 'aor'],
      ['1001', 'endpoint'],
    ])
    const aorSection = c.section('1001', 'aor')!
    expect(aorSection.options).toEqual({
      type: ['aor'],
      max_contacts: ['3'],
      remove_existing: ['yes'],
      mailboxes: ['1001@default'],
    })
    const ep = c.section('1001', 'endpoint')!
    expect(ep.options.allow).toEqual(['ulaw', 'alaw,g722'])
    expect(ep.get('allow')).toBe('alaw,g722')
    expect(ep.get('callerid')).toBe('Semi ; Colon <1001>')
    expect(c.section('1001')).toBe(aorSection)
    expect(c.aors()).toEqual([aor('1001', { maxContacts: 3, removeExisting: true })])
    expect(c.warnings).toEqual([])
  })

  it('option names are case-insensitive, the type value is matched exactly (res_sorcery_config)', () => {
    const c = one('[a]\nTYPE=aor\nMax_Contacts=2\n[b]\ntype=AOR\nmax_contacts=5\n')
    expect(c.aors()).toEqual([aor('a', { maxContacts: 2 })])
  })

  it('handles CRLF, a UTF-8 BOM and a last line without newline', () => {
    const c = one('\uFEFF[x]\r\ntype=aor\r\nmax_contacts=2')
    expect(c.aors()).toEqual([aor('x', { maxContacts: 2 })])
  })

  it('block comments ;-- --; span lines and nest; ;--- banners are ordinary comments', () => {
    const c = one(
      [
        ';--------------------------------------------------------------------------------;',
        '[a]',
        'type=aor',
        ';-- max_contacts=9',
        '   ;-- nested --; still comment',
        '   max_contacts=8 --; max_contacts=2',
        'remove_existing=yes ;-- inline --; ',
        'qualify_frequency=;-- hidden --;30',
      ].join('\n'),
    )
    expect(c.aors()).toEqual([
      aor('a', { maxContacts: 2, removeExisting: true, qualifyFrequency: 30 }),
    ])
  })

  it('warns about a block comment that is never closed', () => {
    const c = one('[a]\ntype=aor\n;-- open\nmax_contacts=3\n')
    expect(c.aors()[0]!.maxContacts).toBe(0)
    expect(c.warnings).toEqual([
      expect.stringContaining("pjsip.conf:3: block comment ';--' is never closed"),
    ])
  })

  it('+= appends to the last value of the key', () => {
    const c = one('[e]\ntype=endpoint\nallow=ulaw\nallow +=,alaw\nallow+= ,g722\nsetvar+=X=1\n')
    // Asterisk concatenates exactly what follows '=' (leading blanks included), then trims the ends.
    expect(c.sections[0]!.options.allow).toEqual(['ulaw,alaw ,g722'])
    expect(c.sections[0]!.get('setvar')).toBe('X=1')
  })

  it('a leading backslash escapes the first character of a key', () => {
    const c = one('[e]\n\\#odd=1\n')
    expect(c.sections[0]!.options['#odd']).toEqual(['1'])
  })

  it('refuses a line that is not a section, option, comment or directive, with file:line', () => {
    const e = thrown(() => one('[a]\ntype=aor\nmax_contacts 3\n'))
    expect(e.message).toBe(
      "/etc/asterisk/pjsip.conf:3: not a section, option, comment or directive: 'max_contacts 3'",
    )
  })

  it('refuses an option before any section, an unclosed header, an empty key', () => {
    expect(thrown(() => one('type=aor\n')).message).toMatch(
      /pjsip\.conf:1: option outside any section/,
    )
    expect(thrown(() => one('[a\n')).message).toMatch(
      /pjsip\.conf:1: section header has no closing '\]'/,
    )
    expect(thrown(() => one('[a](!\n')).message).toMatch(
      /pjsip\.conf:1: section options have no closing '\)'/,
    )
    expect(thrown(() => one('[a]\n=x\n')).message).toMatch(/pjsip\.conf:2: no option name/)
  })

  it('never echoes control characters from the file in errors', () => {
    const e = thrown(() => one('[a]\nbad\u001b[31mline\n'))
    expect(e.message).not.toMatch(/\u001b/)
    expect(e.message).toContain('\\u001b')
  })

  it('ignores (with a warning) unknown directives and never runs #exec', () => {
    const c = one('#exec /bin/echo hi\n#frobnicate x\n[a]\ntype=aor\n')
    expect(c.warnings).toEqual([
      expect.stringContaining('#exec /bin/echo hi is not run'),
      expect.stringContaining("unknown directive '#frobnicate'"),
    ])
  })
})

describe('parsePjsipConf: templates and additions', () => {
  it('inherits templates in order, then the section’s own values; templates are not AORs', () => {
    const c = one(
      [
        '[base](!)',
        'type=aor',
        'max_contacts=1',
        'qualify_frequency=60',
        '[roam](!)',
        'max_contacts=3',
        'remove_existing=yes',
        '[1001](base,roam)',
        'qualify_frequency=30',
        '[1002](roam,base)',
        '[1003](base)',
        'max_contacts=5',
      ].join('\n'),
    )
    expect(c.aors()).toEqual([
      aor('1001', { maxContacts: 3, removeExisting: true, qualifyFrequency: 30 }),
      aor('1002', { maxContacts: 1, removeExisting: true, qualifyFrequency: 60 }),
      aor('1003', { maxContacts: 5, qualifyFrequency: 60 }),
    ])
    const s = c.section('1001')!
    expect(s.inherits).toEqual(['base', 'roam'])
    expect(s.options.max_contacts).toEqual(['1', '3'])
    expect(s.entries.filter((e) => !e.inherited).map((e) => e.key)).toEqual(['qualify_frequency'])
    expect(c.sections.filter((x) => x.template).map((x) => x.name)).toEqual(['base', 'roam'])
  })

  it('a template must be defined before it is used; no spaces between the parentheses', () => {
    expect(thrown(() => one('[1001](later)\ntype=aor\n[later](!)\n')).message).toBe(
      "/etc/asterisk/pjsip.conf:1: [1001] inherits from 'later', which is not defined before it",
    )
    expect(thrown(() => one('[a](!)\n[b](!)\n[x](a, b)\n')).message).toMatch(
      /inherits from ' b'.*spaces/,
    )
  })

  it('ignores options separated from the header by a space, as Asterisk does, and says so', () => {
    const c = one('[tpl] (!)\ntype=aor\nmax_contacts=2\n')
    expect(c.sections[0]!.template).toBe(false)
    expect(c.aors()).toEqual([aor('tpl', { maxContacts: 2 })])
    expect(c.warnings[0]).toMatch(/ignores '\(!\)' after the section header of \[tpl\]/)
  })

  it('(+) adds to the first non-template section of that name (case-insensitively), even in another file', () => {
    const c = conf({
      '/etc/asterisk/pjsip.conf': '[Phone1]\ntype=aor\nmax_contacts=1\n#include extra.conf\n',
      '/etc/asterisk/extra.conf': '[phone1](+)\nmax_contacts=2\nremove_existing=yes\n',
    })
    expect(c.aors()).toEqual([aor('Phone1', { maxContacts: 2, removeExisting: true })])
    expect(c.sections).toHaveLength(1)
    expect(c.section('Phone1')!.options.max_contacts).toEqual(['1', '2'])
  })

  it('(+) with endpoint first hits the endpoint; (+type=aor) hits the aor (config.c filter)', () => {
    const base = '[1001]\ntype=endpoint\naors=1001\n[1001]\ntype=aor\nmax_contacts=1\n'
    const plain = one(base + '[1001](+)\nmax_contacts=2\n')
    expect(plain.aors()).toEqual([aor('1001', { maxContacts: 1 })])
    expect(plain.warnings).toEqual([
      expect.stringMatching(
        /pjsip\.conf:8: max_contacts is in the type=endpoint section \[1001\].*\[1001\]\(\+type=aor\)/,
      ),
    ])
    const filtered = one(base + '[1001](+type=aor)\nmax_contacts=2\nremove_existing=yes\n')
    expect(filtered.aors()).toEqual([aor('1001', { maxContacts: 2, removeExisting: true })])
    expect(filtered.warnings).toEqual([])
    expect(filtered.section('1001', 'endpoint')!.options.max_contacts).toBeUndefined()
  })

  it('refuses (+) of a section that does not exist, or that the filter does not match', () => {
    expect(thrown(() => one('[a](+)\nmax_contacts=2\n')).message).toMatch(
      /pjsip\.conf:1: \[a\]\(\+\) adds to a section that does not exist/,
    )
    expect(thrown(() => one('[a]\ntype=endpoint\n[a](+type=aor)\n')).message).toMatch(
      /none named 'a' matches type=aor/,
    )
    expect(thrown(() => one('[t](!)\ntype=aor\n[t](+)\n')).message).toMatch(
      /no non-template section/,
    )
  })

  it('keeps the first of two type=aor sections with one name and warns (Asterisk refuses the file)', () => {
    const c = one('[a]\ntype=aor\nmax_contacts=1\n[a]\ntype=aor\nmax_contacts=5\n')
    expect(c.aors()).toEqual([aor('a', { maxContacts: 1 })])
    expect(c.warnings[0]).toMatch(
      /pjsip\.conf:4: a second type=aor section \[a\] \(first at .*pjsip\.conf:1\)/,
    )
  })
})

describe('parsePjsipConf: includes', () => {
  it('follows #include (bare, "quoted", <angled>) relative to the including file, and absolute paths', () => {
    const fs = memfs({
      '/etc/asterisk/pjsip.conf':
        '#include pjsip.d/a.conf\n#include "pjsip.d/b.conf"\n#include </opt/pbx/c.conf>\n',
      '/etc/asterisk/pjsip.d/a.conf': '[a]\ntype=aor\nmax_contacts=1\n#include inner.conf\n',
      '/etc/asterisk/pjsip.d/inner.conf': '[i]\ntype=aor\n',
      '/etc/asterisk/pjsip.d/b.conf': '[b]\ntype=aor\nmax_contacts=2\n',
      '/opt/pbx/c.conf': '[c]\ntype=aor\nmax_contacts=3\n',
    })
    const c = parsePjsipConf('/etc/asterisk/pjsip.conf', fs.readFile, fs.resolvePath)
    expect(c.aors().map((a) => [a.aor, a.maxContacts])).toEqual([
      ['a', 1],
      ['i', 0],
      ['b', 2],
      ['c', 3],
    ])
    expect(c.files).toEqual([
      '/etc/asterisk/pjsip.conf',
      '/etc/asterisk/pjsip.d/a.conf',
      '/etc/asterisk/pjsip.d/inner.conf',
      '/etc/asterisk/pjsip.d/b.conf',
      '/opt/pbx/c.conf',
    ])
  })

  it('skips a missing #tryinclude silently; a missing #include is an error with file:line', () => {
    const ok = conf({
      '/etc/asterisk/pjsip.conf': '[a]\ntype=aor\n#tryinclude nope.conf\nmax_contacts=2\n',
    })
    expect(ok.aors()).toEqual([aor('a', { maxContacts: 2 })])
    expect(ok.warnings).toEqual([])
    const e = thrown(() => conf({ '/etc/asterisk/pjsip.conf': '; x\n#include nope.conf\n' }))
    expect(e.message).toBe(
      "/etc/asterisk/pjsip.conf:2: cannot read '/etc/asterisk/nope.conf' (#include nope.conf)",
    )
    expect(thrown(() => conf({})).message).toBe("cannot read '/etc/asterisk/pjsip.conf'")
  })

  it('refuses an include cycle instead of hanging, naming the chain', () => {
    const e = thrown(() =>
      conf({
        '/etc/asterisk/pjsip.conf': '#include a.conf\n',
        '/etc/asterisk/a.conf': '[a]\ntype=aor\n#include b.conf\n',
        '/etc/asterisk/b.conf': '\n\n#tryinclude a.conf\n',
      }),
    )
    expect(e.message).toBe(
      '/etc/asterisk/b.conf:3: include cycle: /etc/asterisk/a.conf -> /etc/asterisk/b.conf -> /etc/asterisk/a.conf',
    )
    expect(
      thrown(() => conf({ '/etc/asterisk/pjsip.conf': '#include pjsip.conf\n' })).message,
    ).toMatch(/include cycle/)
  })

  it('allows the same file twice when it is not a cycle, and refuses nesting deeper than Asterisk (10)', () => {
    const twice = conf({
      '/etc/asterisk/pjsip.conf': '[t](!)\n#include x.conf\n#include x.conf\n',
      '/etc/asterisk/x.conf': 'max_contacts=2\n',
    })
    expect(twice.sections[0]!.options.max_contacts).toEqual(['2', '2'])
    const files: Record<string, string> = {}
    for (let i = 0; i <= 11; i++)
      files[`/etc/asterisk/${i === 0 ? 'pjsip' : `f${i}`}.conf`] =
        i < 11 ? `#include f${i + 1}.conf\n` : '[a]\ntype=aor\n'
    expect(thrown(() => conf(files)).message).toMatch(
      /f10\.conf:1: includes nested deeper than 10 levels/,
    )
    delete files['/etc/asterisk/f11.conf']
    files['/etc/asterisk/f10.conf'] = '[a]\ntype=aor\n'
    expect(conf(files).aors()).toEqual([aor('a')])
  })

  it('an included file starts in the including file’s current section', () => {
    const c = conf({
      '/etc/asterisk/pjsip.conf': '[a]\ntype=aor\n#include more.conf\nremove_existing=yes\n',
      '/etc/asterisk/more.conf': 'max_contacts=4\n',
    })
    expect(c.aors()).toEqual([aor('a', { maxContacts: 4, removeExisting: true })])
  })

  it('expands a glob include with expandGlob, and warns without it', () => {
    const fs = memfs({
      '/etc/asterisk/pjsip.conf': '#include pjsip.d/*.conf\n',
      '/etc/asterisk/pjsip.d/a.conf': '[a]\ntype=aor\n',
      '/etc/asterisk/pjsip.d/b.conf': '[b]\ntype=aor\n',
    })
    const c = parsePjsipConf('/etc/asterisk/pjsip.conf', fs.readFile, fs.resolvePath, {
      expandGlob: (p) =>
        p === '/etc/asterisk/pjsip.d/*.conf'
          ? ['/etc/asterisk/pjsip.d/a.conf', '/etc/asterisk/pjsip.d/b.conf']
          : [],
    })
    expect(c.aors().map((a) => a.aor)).toEqual(['a', 'b'])
    const d = parsePjsipConf('/etc/asterisk/pjsip.conf', fs.readFile, fs.resolvePath)
    expect(d.aors()).toEqual([])
    expect(d.warnings).toEqual([
      expect.stringContaining('#include pjsip.d/*.conf is a pattern; not followed'),
    ])
  })
})

describe('parsePjsipConf: AOR values', () => {
  it('applies Asterisk defaults and ast_true() for booleans', () => {
    const c = one(
      [
        '[a]',
        'type=aor',
        '[b]',
        'type=aor',
        'remove_existing=on',
        'remove_unavailable=Y',
        '[c]',
        'type=aor',
        'remove_existing=maybe',
        'default_expiration=120',
        'minimum_expiration=30',
        'maximum_expiration=600',
      ].join('\n'),
    )
    expect(c.aors()).toEqual([
      aor('a'),
      aor('b', { removeExisting: true, removeUnavailable: true }),
      aor('c', { defaultExpiration: 120, minimumExpiration: 30, maximumExpiration: 600 }),
    ])
  })

  it('reports a value Asterisk would refuse as null, with a warning', () => {
    const c = one('[a]\ntype=aor\nmax_contacts=two\nqualify_frequency=90000\n')
    expect(c.aors()).toEqual([aor('a', { maxContacts: null, qualifyFrequency: null })])
    expect(c.warnings).toHaveLength(2)
    expect(c.warnings[0]).toMatch(/\[a\] max_contacts=two is not a number/)
  })

  it('aors() returns copies', () => {
    const c = one('[a]\ntype=aor\n')
    c.aors()[0]!.maxContacts = 99
    expect(c.aors()[0]!.maxContacts).toBe(0)
  })

  it('reads 20,000 AORs inheriting one template, each with the template values', () => {
    const lines = ['[tpl](!)', 'type=aor', 'max_contacts=2', 'remove_existing=yes']
    for (let i = 0; i < 20000; i++)
      lines.push(
        `[${i}](tpl)`,
        `qualify_frequency=${i % 60}`,
        `[${i}]`,
        'type=endpoint',
        `aors=${i}`,
      )
    // speed is the benchmark's to measure, never a test's: this checks the result at that size
    const c = one(lines.join('\n'))
    expect(c.aors()).toHaveLength(20000)
    expect(c.aors()[19999]).toMatchObject({ maxContacts: 2, removeExisting: true })
  })

  it('refuses template inheritance that explodes (each level doubling)', () => {
    const lines = ['[t0](!)', 'a=1']
    for (let i = 1; i <= 30; i++) lines.push(`[t${i}](!,t${i - 1},t${i - 1})`)
    expect(thrown(() => one(lines.join('\n'))).message).toMatch(/inheritance expands to more than/)
  })
})

describe('parsePjsipConf: a FreePBX configuration (test/fixtures/pjsip/freepbx)', () => {
  const dir = resolve(__dirname, '../fixtures/pjsip/freepbx')
  const readFile = (p: string) => (existsSync(p) ? readFileSync(p, 'utf8') : null)
  const resolvePath = (from: string, inc: string) =>
    isAbsolute(inc) ? inc : join(dirname(from), inc)

  it('reads every AOR with its effective max_contacts and remove_existing', () => {
    const c = parsePjsipConf(join(dir, 'pjsip.conf'), readFile, resolvePath)
    expect(c.warnings).toEqual([])
    expect(c.files.map((f) => f.slice(dir.length + 1))).toEqual([
      'pjsip.conf',
      'pjsip_custom.conf',
      'pjsip.transports.conf',
      'pjsip.transports_custom.conf',
      'pjsip.transports_custom_post.conf',
      'pjsip.endpoint.conf',
      'pjsip.endpoint_custom_post.conf',
      'pjsip.aor.conf',
      'pjsip.aor_custom_post.conf',
      'pjsip.auth.conf',
      'pjsip.auth_custom_post.conf',
      'pjsip.registration.conf',
      'pjsip.registration_custom_post.conf',
      'pjsip.identify.conf',
      'pjsip.identify_custom_post.conf',
    ])
    expect(c.aors()).toEqual([
      aor('2001', { maxContacts: 4, removeExisting: true, qualifyFrequency: 30 }),
      aor('2002', { maxContacts: 2, removeExisting: true, qualifyFrequency: 30 }),
      aor('1001', { maxContacts: 1, removeExisting: true, qualifyFrequency: 60 }),
      aor('1002', { maxContacts: 2, removeExisting: true, qualifyFrequency: 60 }),
      aor('1003', { maxContacts: 2, qualifyFrequency: 60 }),
      aor('itsp', { qualifyFrequency: 60 }),
    ])
    // [1003](+) in pjsip.endpoint_custom_post.conf went to the endpoint, the first [1003].
    expect(c.section('1003', 'endpoint')!.options.direct_media).toEqual(['yes', 'no'])
    // Multi-valued keys from a template keep every value.
    expect(c.section('2001', 'endpoint')!.options.allow).toEqual(['ulaw', 'g722'])
    expect(c.section('1001', 'auth')).toBeUndefined()
    expect(c.section('1001-auth', 'auth')!.get('username')).toBe('1001')
  })
})

// ---------------------------------------------------------------------------
// Round trip: what gen renders, read back by this reader. (The wizard form is
// not read here: pjsip_wizard.conf builds its AORs from `aor/...` keys, which
// this pjsip.conf reader does not interpret.)

describe('round trip: renderGen → parsePjsipConf', () => {
  const entries = [
    { name: '1001', password: 'pw-1001' },
    { name: '1002', password: 'pw-1002', maxContacts: 3 },
    { name: 'desk.7', password: 'pw-desk', removeExisting: false, maxContacts: 2 },
  ]
  const expected = (over: Partial<AorConfig> = {}) => [
    aor('1001', { maxContacts: 2, removeExisting: true, ...over }),
    aor('1002', { maxContacts: 3, removeExisting: true, ...over }),
    aor('desk.7', { maxContacts: 2, removeExisting: false, ...over }),
  ]
  const read = (req: GenRequest) => one(renderGen(req).text)

  it('pjsip: endpoint, auth and aor per name', () => {
    const c = read({
      kind: 'pjsip',
      entries,
      options: { maxContacts: 2, expirationWindow: '600-3600', qualifyFrequency: 60 },
    })
    expect(c.warnings).toEqual([])
    expect(c.aors()).toEqual(
      expected({ minimumExpiration: 600, maximumExpiration: 3600, qualifyFrequency: 60 }),
    )
    expect(c.section('1002', 'endpoint')!.get('aors')).toBe('1002')
    expect(c.section('1002', 'auth')!.get('password')).toBe('pw-1002')
  })

  it('pjsip --template: template inheritance resolved', () => {
    const c = read({
      kind: 'pjsip',
      entries,
      options: { maxContacts: 2, template: 'phone', allow: 'g722' },
    })
    expect(c.aors()).toEqual(expected())
    expect(c.sections.filter((s) => s.template).map((s) => s.name)).toEqual([
      'phone',
      'phone-auth',
      'phone-aor',
    ])
    const ep = c.section('1001', 'endpoint')!
    expect(ep.inherits).toEqual(['phone'])
    expect(ep.get('context')).toBe('from-internal')
    expect(ep.options.allow).toEqual(['g722'])
    expect(c.section('1001', 'auth')!.get('auth_type')).toBe('userpass')
  })

  it('pjsip --aor-only, with and without a template', () => {
    expect(
      read({ kind: 'pjsip', entries, options: { maxContacts: 2, aorOnly: true } }).aors(),
    ).toEqual(expected())
    expect(
      read({
        kind: 'pjsip',
        entries,
        options: { maxContacts: 2, aorOnly: true, template: 'aor-tpl' },
      }).aors(),
    ).toEqual(expected())
  })

  it('--append applied after a FreePBX-style base: [NAME](+type=aor) reaches the AOR, not the endpoint', () => {
    const base = [
      '[1001]\ntype=endpoint\naors=1001\n[1002]\ntype=endpoint\naors=1002\n[desk.7]\ntype=endpoint\naors=desk.7\n',
      '[1001]\ntype=aor\nmax_contacts=1\nqualify_frequency=60\n[1002]\ntype=aor\nmax_contacts=1\nremove_existing=no\n[desk.7]\ntype=aor\nmax_contacts=1\nremove_existing=yes\n',
    ]
    const snippet = renderGen({
      kind: 'pjsip',
      entries: entries.map(({ name, maxContacts, removeExisting }) => ({
        name,
        maxContacts,
        removeExisting,
      })),
      options: { maxContacts: 2, append: true },
    }).text
    const c = conf({
      '/etc/asterisk/pjsip.conf':
        '#include pjsip.endpoint.conf\n#include pjsip.aor.conf\n#include pjsip.aor_custom_post.conf\n',
      '/etc/asterisk/pjsip.endpoint.conf': base[0]!,
      '/etc/asterisk/pjsip.aor.conf': base[1]!,
      '/etc/asterisk/pjsip.aor_custom_post.conf': snippet,
    })
    expect(c.warnings).toEqual([])
    expect(c.aors()).toEqual([
      aor('1001', { maxContacts: 2, removeExisting: true, qualifyFrequency: 60 }),
      aor('1002', { maxContacts: 3, removeExisting: true }),
      // --no-remove-existing leaves remove_existing out: the AOR keeps its own.
      aor('desk.7', { maxContacts: 2, removeExisting: true }),
    ])
  })

  it('--from-server proposals applied after the base', () => {
    const contact = (
      key: string,
      viaAddr: string,
      userAgent: string,
      status: ClassifiedContact['status'],
    ): ClassifiedContact => ({
      key,
      aor: key.split(';@')[0]!,
      hash: key.split(';@')[1]!,
      uri: `sip:${key}`,
      viaAddr,
      viaPort: 5060,
      userAgent,
      regServer: '',
      endpoint: key.split(';@')[0]!,
      expirationTime: 0,
      fields: {},
      value: '{}',
      status,
      expiresIn: status === 'expired' ? -5 : 100,
      supersededBy: null,
      qualify: null,
    })
    const report = (name: string, contacts: ClassifiedContact[]): AorReport => ({
      aor: name,
      endpoints: [name],
      maxContacts: 1,
      maxContactsSource: 'ami',
      removeExisting: false,
      count: contacts.length,
      state: 'full',
      severity: 2,
      superseded: contacts.filter((c) => c.status === 'superseded').length,
      expired: contacts.filter((c) => c.status === 'expired').length,
      stale: contacts.filter((c) => c.status !== 'active').length,
      contacts,
    })
    const snippet = renderGen({
      kind: 'pjsip',
      entries: proposeFromReports([
        report('1002', [
          contact('1002;@a', '10.0.0.5', 'Yealink', 'active'),
          contact('1002;@b', '10.0.0.6', 'Zoiper', 'active'),
        ]),
        report('1001', [
          contact('1001;@c', '10.0.0.7', 'Polycom', 'superseded'),
          contact('1001;@d', '10.0.0.7', 'Polycom', 'active'),
        ]),
      ]),
      options: { fromServer: true },
    }).text
    const c = conf({
      '/etc/asterisk/pjsip.conf':
        '[1001]\ntype=endpoint\n[1002]\ntype=endpoint\n[1001]\ntype=aor\nmax_contacts=1\n[1002]\ntype=aor\nmax_contacts=1\n#include post.conf\n',
      '/etc/asterisk/post.conf': snippet,
    })
    expect(c.aors()).toEqual([
      aor('1001', { maxContacts: 1, removeExisting: true }),
      aor('1002', { maxContacts: 2, removeExisting: true }),
    ])
  })
})
