// Renders pjsip.conf / pjsip_wizard.conf snippets whose AORs do not lock phones
// out: max_contacts >= 1 and remove_existing=yes. Pure: no I/O, no clock, no
// randomness; the same request gives the same bytes. Passwords come in with the
// request (the command reads --password-env, the CSV, or generates them).
//
// Asterisk's names, from its source:
//  - aor (res/res_pjsip/location.c): max_contacts (default 0 = every REGISTER is
//    refused), remove_existing (no), remove_unavailable (no), qualify_frequency
//    (0, range 0-86400), minimum_expiration, maximum_expiration, default_expiration
//    (their defaults: AOR_DEFAULTS in ./types.ts).
//  - wizard (res/res_pjsip_config_wizard.c): type=wizard, accepts_registrations,
//    sends_registrations, accepts_auth, transport (top-level key, passed to the
//    endpoint), inbound_auth/<auth option>, endpoint/<endpoint option>,
//    aor/<aor option>. The wizard sets no max_contacts of its own.
//  - config syntax (main/config.c): `[name](template)`, `[name](!)`,
//    `[name](+filter)`; a name is at most 79 bytes (struct ast_category).
//
// Forms:
//  - pjsip: for each NAME an endpoint, an auth and an aor, all named NAME.
//  - pjsip --aor-only: only the aor.
//  - --template T: the snippet starts with the template(s), then each NAME
//    inherits and keeps only what is its own.
//      pjsip:            [T](!) type=endpoint + context/disallow/allow/transport,
//                        [T-auth](!) type=auth + auth_type=userpass,
//                        [T-aor](!) type=aor + every AOR option;
//                        [NAME](T) auth=/aors=, [NAME](T-auth) username/password,
//                        [NAME](T-aor).
//      pjsip --aor-only: [T](!) type=aor + AOR options; [NAME](T).
//      wizard:           [T](!) type=wizard + every shared key; [NAME](T) with
//                        inbound_auth/username and inbound_auth/password.
//    The template named by --template is always the one the main object of the
//    snippet (the endpoint, or the aor with --aor-only, or the wizard) inherits
//    from. A per-name override (CSV column) that differs from the template is
//    written in the NAME section, after the inherited values, so it wins;
//    `allow` is written with its own `disallow=all` because allow accumulates.
//  - --append (and --from-server): only the AOR options, added to an AOR that
//    exists elsewhere. pjsip.conf: `[NAME](+type=aor)`, not `[NAME](+)`:
//    config.c adds `(+)` to the FIRST non-template section named NAME, and in
//    FreePBX's pjsip.conf the endpoint (pjsip.endpoint.conf) comes before the
//    aor (pjsip.aor.conf), so `[NAME](+)` in pjsip.aor_custom_post.conf would
//    put max_contacts into the endpoint and Asterisk would refuse it. The filter
//    form exists since Asterisk 13.9 (config: Allow filters when appending to a
//    category). pjsip_wizard.conf has one section per NAME: `[NAME](+)`.

import { InputError } from '../errors.js'
import { CONTROL_CHARACTER, printable } from '../text.js'
import { AOR_DEFAULTS } from './types.js'

/**
 * The CLI commands that load a changed pjsip.conf / pjsip_wizard.conf. Asterisk has no `pjsip
 * reload` (22.10.1: `No such command 'pjsip reload'`); test:asterisk runs these on the lab.
 */
export const PJSIP_RELOAD = 'module reload res_pjsip.so'
export const WIZARD_RELOAD = 'module reload res_pjsip_config_wizard.so'

export type GenKind = 'pjsip' | 'wizard'

/** The AOR options gen can set; undefined = not given. */
interface AorOptions {
  maxContacts?: number
  removeExisting?: boolean
  removeUnavailable?: boolean
  qualifyFrequency?: number
  minimumExpiration?: number
  maximumExpiration?: number
  defaultExpiration?: number
}

interface EndpointOptions {
  context?: string
  transport?: string
  allow?: string
}

/** One NAME to generate, with its own overrides (CSV columns, --from-server counts). */
export interface GenEntry extends AorOptions, EndpointOptions {
  name: string
  password?: string
  /** Comment lines printed above the NAME's sections (without the leading '; '). */
  note?: string[]
  /** Where the entry came from, for messages (e.g. 'line 4'). */
  origin?: string
}

export interface GenOptions extends AorOptions, EndpointOptions {
  /** `MIN-MAX`: minimum_expiration and maximum_expiration together. */
  expirationWindow?: string
  template?: string
  aorOnly?: boolean
  append?: boolean
  /** Proposals from a live server: implies append. */
  fromServer?: boolean
  // Only named in the header line (never a password or an environment value):
  passwordEnv?: string
  generatePassword?: boolean
  fromCsv?: string
}

export interface GenRequest {
  kind: GenKind
  entries: GenEntry[]
  options: GenOptions
  /** What the caller calls each option in messages and in the header line (the CLI: its flags); default Asterisk-style names. */
  names?: OptionNames
}

/** The options a message or the header line may name. */
type NamedOption =
  | keyof AorOptions
  | keyof EndpointOptions
  | 'expirationWindow'
  | 'template'
  | 'aorOnly'
  | 'append'
  | 'fromServer'
  | 'passwordEnv'
  | 'generatePassword'
  | 'fromCsv'

export type OptionNames = Readonly<Record<NamedOption, string>>

/** Names for callers that are not the command line. */
const PLAIN_NAMES: OptionNames = {
  maxContacts: 'max_contacts',
  removeExisting: 'remove_existing=no',
  removeUnavailable: 'remove_unavailable',
  qualifyFrequency: 'qualify_frequency',
  minimumExpiration: 'minimum_expiration',
  maximumExpiration: 'maximum_expiration',
  defaultExpiration: 'default_expiration',
  expirationWindow: 'expiration window',
  context: 'context',
  transport: 'transport',
  allow: 'allow',
  template: 'template',
  aorOnly: 'aor only',
  append: 'append',
  fromServer: 'from server',
  passwordEnv: 'password variable',
  generatePassword: 'generated password',
  fromCsv: 'CSV file',
}

export interface GenResult {
  text: string
  warnings: string[]
}

/** Asterisk's defaults for what gen does not always write. */
const GEN_DEFAULTS = {
  maxContacts: 1,
  removeExisting: true,
  context: 'from-internal',
  allow: 'ulaw,alaw',
} as const

/** Longest section name Asterisk keeps (char name[80] in struct ast_category). */
const MAX_NAME_BYTES = 79
const MAX_VALUE_BYTES = 4000

const utf8 = new TextEncoder()
/** Marks a template in the name-uniqueness check (never a real origin). */
const TEMPLATE = Symbol('template').toString()

function fail(message: string, hint?: string): never {
  throw new InputError(message, hint)
}

/** Refuses a section name pjsip.conf cannot hold. `what` describes it in the message. */
export function checkName(what: string, name: string): void {
  if (typeof name !== 'string' || name === '') fail(`${what} is empty`)
  const ctl = CONTROL_CHARACTER.exec(name)
  if (ctl)
    fail(
      `${what} '${printable(name, 80)}' contains a control character (${printable(ctl[0])}); pjsip.conf cannot hold it`,
    )
  if (/\s/.test(name))
    fail(
      `${what} '${printable(name, 80)}' contains whitespace; pjsip.conf section names cannot hold it`,
    )
  const bad = /[[\];=,]/.exec(name)
  if (bad)
    fail(
      `${what} '${printable(name, 80)}' contains '${bad[0]}', which pjsip.conf section names cannot hold`,
    )
  const n = utf8.encode(name).length
  if (n > MAX_NAME_BYTES)
    fail(
      `${what} '${printable(name, 80)}' is ${n} bytes long; Asterisk keeps only ${MAX_NAME_BYTES}`,
    )
}

/** Refuses a value pjsip.conf cannot hold as written. Secrets are never echoed. */
export function checkValue(what: string, value: string, secret = false): void {
  const show = secret ? '' : ` '${printable(value, 80)}'`
  if (typeof value !== 'string' || value === '') fail(`${what} is empty`)
  const ctl = CONTROL_CHARACTER.exec(value)
  if (ctl)
    fail(
      `${what}${show} contains a control character (${printable(ctl[0])}); pjsip.conf cannot hold it`,
    )
  if (value.includes(';')) fail(`${what}${show} contains ';', which starts a comment in pjsip.conf`)
  if (value.trim() !== value)
    fail(`${what}${show} starts or ends with whitespace, which Asterisk strips`)
  if (value.startsWith('>'))
    fail(`${what}${show} starts with '>', which Asterisk would read as part of '=>'`)
  if (utf8.encode(value).length > MAX_VALUE_BYTES)
    fail(`${what} is longer than ${MAX_VALUE_BYTES} bytes`)
}

function checkInt(what: string, n: number, min: number, max = 0xffffffff): void {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    fail(`${what} must be a whole number from ${min} to ${max}, got ${printable(String(n), 80)}`)
  }
}

/** Parses `MIN-MAX` (e.g. 600-3600). */
export function parseExpirationWindow(
  raw: string,
  n: OptionNames = PLAIN_NAMES,
): { min: number; max: number } {
  const m = /^\s*(\d{1,9})\s*-\s*(\d{1,9})\s*$/.exec(raw)
  if (!m)
    fail(
      `${n.expirationWindow} expects MIN-MAX in seconds, e.g. 600-3600; got '${printable(raw, 80)}'`,
    )
  const min = Number(m[1])
  const max = Number(m[2])
  if (min < 1) fail(`${n.expirationWindow} ${min}-${max}: the minimum must be at least 1 second`)
  if (min > max) fail(`${n.expirationWindow} ${min}-${max}: the minimum is larger than the maximum`)
  return { min, max }
}

/** What one NAME ends up with. */
interface Effective {
  maxContacts: number
  removeExisting: boolean
  removeUnavailable: boolean
  qualifyFrequency: number | undefined
  minimumExpiration: number | undefined
  maximumExpiration: number | undefined
  defaultExpiration: number | undefined
  context: string
  allow: string
  transport: string | undefined
}

function label(e: GenEntry): string {
  return e.origin ? `${e.origin}: '${printable(e.name, 80)}'` : `'${printable(e.name, 80)}'`
}

/** `n` names the options (a run's own options); null: a NAME's values, named as Asterisk does. */
function checkAorNumbers(where: string, v: Effective, n: OptionNames | null): void {
  const f = (option: keyof AorOptions, key: string) => (n ? n[option] : key)
  if (typeof v.maxContacts !== 'number' || !Number.isInteger(v.maxContacts) || v.maxContacts < 1) {
    fail(
      `${where}${f('maxContacts', 'max_contacts')} ${printable(String(v.maxContacts), 80)} is refused: max_contacts must be at least 1 (0, Asterisk's default, makes it refuse every registration to the AOR)`,
    )
  }
  if (v.qualifyFrequency !== undefined)
    checkInt(`${where}${f('qualifyFrequency', 'qualify_frequency')}`, v.qualifyFrequency, 0, 86400)
  if (v.minimumExpiration !== undefined)
    checkInt(`${where}${f('minimumExpiration', 'minimum_expiration')}`, v.minimumExpiration, 1)
  if (v.maximumExpiration !== undefined)
    checkInt(`${where}${f('maximumExpiration', 'maximum_expiration')}`, v.maximumExpiration, 1)
  if (v.defaultExpiration !== undefined)
    checkInt(`${where}${f('defaultExpiration', 'default_expiration')}`, v.defaultExpiration, 1)
  const min = v.minimumExpiration ?? AOR_DEFAULTS.minimumExpiration
  const max = v.maximumExpiration ?? AOR_DEFAULTS.maximumExpiration
  const def = v.defaultExpiration ?? AOR_DEFAULTS.defaultExpiration
  if (!(min <= def && def <= max)) {
    const part = (n: number, given: number | undefined) =>
      `${n}${given === undefined ? ' (Asterisk default)' : ''}`
    fail(
      `${where}expirations out of order: minimum_expiration ${part(min, v.minimumExpiration)}, default_expiration ${part(def, v.defaultExpiration)}, maximum_expiration ${part(max, v.maximumExpiration)}; need minimum <= default <= maximum`,
      def > max || def < min
        ? `set ${(n ?? PLAIN_NAMES).defaultExpiration} inside the window`
        : undefined,
    )
  }
}

function checkEndpointValues(where: string, v: Effective): void {
  checkValue(`${where}context`, v.context)
  checkValue(`${where}allow`, v.allow)
  if (v.transport !== undefined) checkValue(`${where}transport`, v.transport)
}

/** Shell-style quoting for the header line (never a secret). */
function quote(value: string): string {
  const s = value
  const q = /^[A-Za-z0-9._,:/@%+=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`
  return printable(q, 200)
}

function headerFlags(
  kind: GenKind,
  o: GenOptions,
  window: { min: number; max: number } | null,
  maxContacts: number,
  append: boolean,
  n: OptionNames,
): string {
  const f: string[] = [`; generated by pjctl gen ${kind}`]
  if (!o.fromServer) f.push(`${n.maxContacts} ${maxContacts}`)
  if (o.removeExisting === false) f.push(n.removeExisting)
  if (o.removeUnavailable) f.push(n.removeUnavailable)
  if (o.qualifyFrequency !== undefined) f.push(`${n.qualifyFrequency} ${o.qualifyFrequency}`)
  if (window) f.push(`${n.expirationWindow} ${window.min}-${window.max}`)
  else {
    if (o.minimumExpiration !== undefined) f.push(`${n.minimumExpiration} ${o.minimumExpiration}`)
    if (o.maximumExpiration !== undefined) f.push(`${n.maximumExpiration} ${o.maximumExpiration}`)
  }
  if (o.defaultExpiration !== undefined) f.push(`${n.defaultExpiration} ${o.defaultExpiration}`)
  if (o.context !== undefined) f.push(`${n.context} ${quote(o.context)}`)
  if (o.transport !== undefined) f.push(`${n.transport} ${quote(o.transport)}`)
  if (o.allow !== undefined) f.push(`${n.allow} ${quote(o.allow)}`)
  if (o.template !== undefined) f.push(`${n.template} ${quote(o.template)}`)
  if (o.aorOnly) f.push(n.aorOnly)
  if (o.append && !o.fromServer) f.push(n.append)
  if (o.fromServer) f.push(n.fromServer)
  if (!append && !o.aorOnly) {
    if (o.passwordEnv !== undefined) f.push(`${n.passwordEnv} ${quote(o.passwordEnv)}`)
    if (o.generatePassword) f.push(n.generatePassword)
  }
  if (o.fromCsv !== undefined) f.push(`${n.fromCsv} ${quote(o.fromCsv)}`)
  return f.join(' ')
}

/** `key=value` lines for the AOR options, all of them (a full aor, a template, an append). */
function aorLines(v: Effective, prefix: string): string[] {
  const l = [`${prefix}max_contacts=${v.maxContacts}`]
  if (v.removeExisting) l.push(`${prefix}remove_existing=yes`)
  if (v.removeUnavailable) l.push(`${prefix}remove_unavailable=yes`)
  if (v.qualifyFrequency !== undefined) l.push(`${prefix}qualify_frequency=${v.qualifyFrequency}`)
  if (v.minimumExpiration !== undefined)
    l.push(`${prefix}minimum_expiration=${v.minimumExpiration}`)
  if (v.maximumExpiration !== undefined)
    l.push(`${prefix}maximum_expiration=${v.maximumExpiration}`)
  if (v.defaultExpiration !== undefined)
    l.push(`${prefix}default_expiration=${v.defaultExpiration}`)
  return l
}

/** Only the AOR options where a NAME differs from the template it inherits. */
function aorOverrides(v: Effective, t: Effective, prefix: string): string[] {
  const l: string[] = []
  if (v.maxContacts !== t.maxContacts) l.push(`${prefix}max_contacts=${v.maxContacts}`)
  if (v.removeExisting !== t.removeExisting)
    l.push(`${prefix}remove_existing=${v.removeExisting ? 'yes' : 'no'}`)
  if (v.removeUnavailable !== t.removeUnavailable)
    l.push(`${prefix}remove_unavailable=${v.removeUnavailable ? 'yes' : 'no'}`)
  const num = (key: string, a: number | undefined, b: number | undefined, dflt: number) => {
    if (a !== b) l.push(`${prefix}${key}=${a ?? dflt}`)
  }
  num('qualify_frequency', v.qualifyFrequency, t.qualifyFrequency, 0)
  num(
    'minimum_expiration',
    v.minimumExpiration,
    t.minimumExpiration,
    AOR_DEFAULTS.minimumExpiration,
  )
  num(
    'maximum_expiration',
    v.maximumExpiration,
    t.maximumExpiration,
    AOR_DEFAULTS.maximumExpiration,
  )
  num(
    'default_expiration',
    v.defaultExpiration,
    t.defaultExpiration,
    AOR_DEFAULTS.defaultExpiration,
  )
  return l
}

function endpointLines(v: Effective, prefix: string): string[] {
  const l = [`${prefix}context=${v.context}`, `${prefix}disallow=all`, `${prefix}allow=${v.allow}`]
  return l
}

function endpointOverrides(
  v: Effective,
  t: Effective,
  prefix: string,
  transportKey: string,
): string[] {
  const l: string[] = []
  if (v.context !== t.context) l.push(`${prefix}context=${v.context}`)
  if (v.allow !== t.allow) l.push(`${prefix}disallow=all`, `${prefix}allow=${v.allow}`)
  if (v.transport !== t.transport && v.transport !== undefined)
    l.push(`${transportKey}=${v.transport}`)
  return l
}

function dialplanComment(name: string, v: Effective): string[] {
  if (v.maxContacts <= 1) return []
  return [
    `; ${name} takes up to ${v.maxContacts} contacts; to ring every registered device:`,
    `; exten => ${name},1,Dial(\${PJSIP_DIAL_CONTACTS(${name})})`,
  ]
}

/** Adds a name to a warning's list (first few named, then a count). */
function names(list: string[]): string {
  const shownList = list
    .slice(0, 10)
    .map((n) => printable(n, 80))
    .join(', ')
  return list.length > 10 ? `${shownList} and ${list.length - 10} more` : shownList
}

/**
 * Renders the snippet. Throws InputError for anything Asterisk would refuse or
 * misread (max_contacts < 1, names/values pjsip.conf cannot hold, expirations out
 * of order, a missing password where an endpoint is generated, conflicting forms).
 */
export function renderGen(req: GenRequest): GenResult {
  const { kind, options: o } = req
  const n = req.names ?? PLAIN_NAMES
  // GenRequest comes from JavaScript callers too: the kind is checked, not trusted
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
  if (kind !== 'pjsip' && kind !== 'wizard')
    fail(`unknown kind '${printable(String(kind), 80)}': expected pjsip or wizard`)
  const append = Boolean(o.append || o.fromServer)
  const aorOnly = Boolean(o.aorOnly)
  if (kind === 'wizard' && aorOnly && !append) {
    fail(
      `${n.aorOnly} applies to gen pjsip: a wizard always creates its endpoint`,
      `to add AOR options to existing wizards use ${n.append}`,
    )
  }
  if (append && o.template !== undefined)
    fail(
      `${n.template} cannot be combined with ${n.append}/${n.fromServer}: an addition [NAME](+) adds to a section that already has its own template`,
    )
  if (
    o.expirationWindow !== undefined &&
    (o.minimumExpiration !== undefined || o.maximumExpiration !== undefined)
  ) {
    fail(
      `give either ${n.expirationWindow} or ${n.minimumExpiration}/${n.maximumExpiration}, not both`,
    )
  }
  const window =
    o.expirationWindow !== undefined ? parseExpirationWindow(o.expirationWindow, n) : null
  const needsPassword = !append && !aorOnly
  const endpointToo = !append && !aorOnly

  const global: Effective = {
    maxContacts: o.maxContacts ?? GEN_DEFAULTS.maxContacts,
    removeExisting: o.removeExisting ?? GEN_DEFAULTS.removeExisting,
    removeUnavailable: o.removeUnavailable ?? false,
    qualifyFrequency: o.qualifyFrequency,
    minimumExpiration: window ? window.min : o.minimumExpiration,
    maximumExpiration: window ? window.max : o.maximumExpiration,
    defaultExpiration: o.defaultExpiration,
    context: o.context ?? GEN_DEFAULTS.context,
    allow: o.allow ?? GEN_DEFAULTS.allow,
    transport: o.transport,
  }
  checkAorNumbers('', global, n)
  if (endpointToo) {
    if (o.context !== undefined) checkValue(n.context, o.context)
    if (o.allow !== undefined) checkValue(n.allow, o.allow)
    if (o.transport !== undefined) checkValue(n.transport, o.transport)
  }

  const entries = req.entries
  if (!Array.isArray(entries) || entries.length === 0) fail('no names to generate')

  // Template names.
  const template = o.template
  const tplNames: string[] = []
  if (template !== undefined) {
    checkName(n.template, template)
    if (kind === 'pjsip' && !aorOnly) tplNames.push(template, `${template}-auth`, `${template}-aor`)
    else tplNames.push(template)
    for (const t of tplNames) checkName('template name', t)
  }

  // Names: valid, unique (Asterisk matches names case-insensitively for (+) and templates).
  const seen = new Map<string, GenEntry>()
  for (const t of tplNames) seen.set(t.toLowerCase(), { name: t, origin: TEMPLATE })
  for (const e of entries) {
    checkName(e.origin ? `${e.origin}: name` : 'name', e.name)
    const key = e.name.toLowerCase()
    const prev = seen.get(key)
    if (prev) {
      if (prev.origin === TEMPLATE)
        fail(
          `name ${label(e)} is also a template name (${printable(prev.name, 80)}); pick another ${n.template}`,
        )
      fail(
        `name ${label(e)} is listed twice (also ${label(prev)}); Asterisk would refuse the duplicate sections`,
      )
    }
    seen.set(key, e)
  }

  // Effective values per name, checked.
  const lockout: string[] = []
  const uselessUnavailable: string[] = []
  const effective = entries.map((e) => {
    const v: Effective = {
      maxContacts: e.maxContacts ?? global.maxContacts,
      removeExisting: e.removeExisting ?? global.removeExisting,
      removeUnavailable: e.removeUnavailable ?? global.removeUnavailable,
      qualifyFrequency: e.qualifyFrequency ?? global.qualifyFrequency,
      minimumExpiration: e.minimumExpiration ?? global.minimumExpiration,
      maximumExpiration: e.maximumExpiration ?? global.maximumExpiration,
      defaultExpiration: e.defaultExpiration ?? global.defaultExpiration,
      context: e.context ?? global.context,
      allow: e.allow ?? global.allow,
      transport: e.transport ?? global.transport,
    }
    const where = `${label(e)}: `
    checkAorNumbers(where, v, null)
    if (endpointToo) checkEndpointValues(where, v)
    if (needsPassword) {
      if (e.password === undefined || e.password === '') {
        fail(
          `no password for ${label(e)}: gen never invents one`,
          `give ${n.passwordEnv} VAR, ${n.generatePassword}, or a password column with ${n.fromCsv} (or ${n.aorOnly} / ${n.append} for AOR options only)`,
        )
      }
      checkValue(`password for ${label(e)}`, e.password, true)
    }
    if (v.removeUnavailable && !(v.qualifyFrequency !== undefined && v.qualifyFrequency > 0))
      uselessUnavailable.push(e.name)
    if (!v.removeExisting && v.maxContacts === 1) lockout.push(e.name)
    return { e, v }
  })

  const warnings: string[] = []
  if (uselessUnavailable.length > 0) {
    warnings.push(
      `remove_unavailable=yes does nothing without qualify_frequency > 0 (Asterisk only removes contacts that qualify found Unavailable): set ${n.qualifyFrequency}${append ? ' or make sure the AOR already has it' : ''} (${names(uselessUnavailable)})`,
    )
  }
  if (lockout.length > 0) {
    warnings.push(
      `remove_existing=no with max_contacts=1 is the setup that locks phones out: a phone that registers again from a new address or port is refused (403, "will exceed max contacts of 1") until its old contact expires (${names(lockout)})`,
    )
  }

  // Render.
  const out: string[] = [headerFlags(kind, o, window, global.maxContacts, append, n)]
  if (append) {
    out.push(
      kind === 'pjsip'
        ? `; adds to AORs defined elsewhere: load it after them (FreePBX: /etc/asterisk/pjsip.aor_custom_post.conf), then: ${PJSIP_RELOAD}`
        : `; adds to wizards defined elsewhere: append to pjsip_wizard.conf after them, then: ${WIZARD_RELOAD}`,
    )
  } else if (needsPassword) {
    out.push('; contains passwords: keep the file private (chmod 600)')
  }
  const block = (lines: string[]) => {
    out.push('')
    for (const l of lines) out.push(l)
  }

  const form = FORMS[formOf(kind, append, aorOnly)]
  const { templates, templated } = form
  // refused above: --template with an append form (the forms without templates)
  if (template !== undefined && (!templates || !templated))
    throw new Error(`gen: the ${formOf(kind, append, aorOnly)} form has no templates`)
  if (template !== undefined && templates)
    for (const lines of templates(template, global)) block(lines)
  effective.forEach(({ e, v }) => {
    const lead: string[] = []
    for (const note of e.note ?? []) lead.push(`; ${printable(note, 400)}`)
    lead.push(...dialplanComment(e.name, v))
    const sections =
      template !== undefined && templated
        ? templated({ name: e.name, password: e.password, v, t: global, template })
        : form.plain({ name: e.name, password: e.password, v, t: global, template: '' })
    sections.forEach((lines, j) => block(j === 0 ? [...lead, ...lines] : lines))
  })

  return { text: out.join('\n') + '\n', warnings }
}

/** What one NAME's sections are drawn from. */
interface Snippet {
  name: string
  password?: string
  /** The NAME's own values. */
  v: Effective
  /** The shared values (what the templates hold). */
  t: Effective
  /** --template T ('' without). */
  template: string
}

/** One snippet form: its template sections (--template T), and each NAME's sections with and without them. */
interface SnippetForm {
  templates?: (template: string, t: Effective) => string[][]
  plain: (s: Snippet) => string[][]
  templated?: (s: Snippet) => string[][]
}

type FormName = 'pjsip' | 'pjsipAorOnly' | 'pjsipAppend' | 'wizard' | 'wizardAppend'

function formOf(kind: GenKind, append: boolean, aorOnly: boolean): FormName {
  if (kind === 'pjsip') return append ? 'pjsipAppend' : aorOnly ? 'pjsipAorOnly' : 'pjsip'
  return append ? 'wizardAppend' : 'wizard'
}

const transportLine = (v: Effective): string[] =>
  v.transport !== undefined ? [`transport=${v.transport}`] : []

/** Every form gen writes; --template with an append form is refused before rendering. */
const FORMS: Record<FormName, SnippetForm> = {
  pjsip: {
    templates: (tpl, t) => [
      [`[${tpl}](!)`, 'type=endpoint', ...endpointLines(t, ''), ...transportLine(t)],
      [`[${tpl}-auth](!)`, 'type=auth', 'auth_type=userpass'],
      [`[${tpl}-aor](!)`, 'type=aor', ...aorLines(t, '')],
    ],
    plain: ({ name, password, v }) => [
      [
        `[${name}]`,
        'type=endpoint',
        `auth=${name}`,
        `aors=${name}`,
        ...endpointLines(v, ''),
        ...transportLine(v),
      ],
      [`[${name}]`, 'type=auth', 'auth_type=userpass', `username=${name}`, `password=${password}`],
      [`[${name}]`, 'type=aor', ...aorLines(v, '')],
    ],
    templated: ({ name, password, v, t, template }) => [
      [
        `[${name}](${template})`,
        `auth=${name}`,
        `aors=${name}`,
        ...endpointOverrides(v, t, '', 'transport'),
      ],
      [`[${name}](${template}-auth)`, `username=${name}`, `password=${password}`],
      [`[${name}](${template}-aor)`, ...aorOverrides(v, t, '')],
    ],
  },
  pjsipAorOnly: {
    templates: (tpl, t) => [[`[${tpl}](!)`, 'type=aor', ...aorLines(t, '')]],
    plain: ({ name, v }) => [[`[${name}]`, 'type=aor', ...aorLines(v, '')]],
    templated: ({ name, v, t, template }) => [
      [`[${name}](${template})`, ...aorOverrides(v, t, '')],
    ],
  },
  pjsipAppend: {
    plain: ({ name, v }) => [[`[${name}](+type=aor)`, ...aorLines(v, '')]],
  },
  wizard: {
    templates: (tpl, t) => [
      [`[${tpl}](!)`, ...wizardHead(t), ...endpointLines(t, 'endpoint/'), ...aorLines(t, 'aor/')],
    ],
    plain: ({ name, password, v }) => [
      [
        `[${name}]`,
        ...wizardHead(v),
        `inbound_auth/username=${name}`,
        `inbound_auth/password=${password}`,
        ...endpointLines(v, 'endpoint/'),
        ...aorLines(v, 'aor/'),
      ],
    ],
    templated: ({ name, password, v, t, template }) => [
      [
        `[${name}](${template})`,
        `inbound_auth/username=${name}`,
        `inbound_auth/password=${password}`,
        ...endpointOverrides(v, t, 'endpoint/', 'transport'),
        ...aorOverrides(v, t, 'aor/'),
      ],
    ],
  },
  wizardAppend: {
    plain: ({ name, v }) => [[`[${name}](+)`, ...aorLines(v, 'aor/')]],
  },
}

function wizardHead(v: Effective): string[] {
  const l = [
    'type=wizard',
    'accepts_registrations=yes',
    'sends_registrations=no',
    'accepts_auth=yes',
  ]
  if (v.transport !== undefined) l.push(`transport=${v.transport}`)
  return l
}
