// Every option pjctl has, declared once as data. src/cli.ts turns these into commander
// options; the docs (README.md, docs/) are checked against this file by a test.
// An option that is not here does not exist. A leaf module: imports only ./errors and ./text.

import { UsageError } from './errors.js'
import { printable } from './text.js'

export interface OptionSpec<T = unknown> {
  /** Commander flag syntax. No flag = never on argv (secrets). */
  flag?: string
  env?: `PJCTL_${string}`
  default?: T
  /** Turns a flag, env or config-file string into the value; throws UsageError. */
  parse?: (raw: string) => T
  choices?: readonly string[]
  /** Allowed as a key of a server profile in the config file. */
  config?: boolean
  help: string
}

function integer(min: number, max = Number.MAX_SAFE_INTEGER): (raw: string) => number {
  return (raw) => {
    const text = raw.trim()
    if (!/^\d+$/.test(text))
      throw new UsageError(`expected a whole number, got '${printable(text)}'`)
    const n = Number(text)
    if (n < min || n > max)
      throw new UsageError(`expected a number from ${min} to ${max}, got ${n}`)
    return n
  }
}

function seconds(raw: string): number {
  const n = Number(raw.trim())
  if (!Number.isFinite(n) || n <= 0 || n > 86400)
    throw new UsageError(`expected seconds (a number > 0), got '${printable(raw)}'`)
  return n
}

function bytes(raw: string): number {
  const m = /^(\d+)\s*([kmg]?)b?$/i.exec(raw.trim())
  if (!m) throw new UsageError(`expected a size such as 256M, got '${printable(raw)}'`)
  const [, digits, suffix = ''] = m
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[
    suffix.toLowerCase() as '' | 'k' | 'm' | 'g'
  ]
  return Number(digits) * unit
}

/** The inverse of bytes(), for a default shown in help: 268435456 → `256M`; a size that is not a
 *  whole number of K/M/G stays in bytes. (A size in a message is text.ts's sizeText: `256 MiB`.) */
export function sizeAsTyped(n: number): string {
  for (const [unit, size] of [
    ['G', 1024 ** 3],
    ['M', 1024 ** 2],
    ['K', 1024],
  ] as const) {
    if (n >= size && n % size === 0) return `${n / size}${unit}`
  }
  return String(n)
}

/** A value taken as given (a host, a file, a name). */
function text(raw: string): string {
  return raw
}

/** `300`, `300s`, `5m`, `1h`, `1.5s`, `500ms` → seconds (at least 0.1, at most a day). */
function duration(raw: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/i.exec(raw.trim())
  if (!m) throw new UsageError(`expected a duration such as 30s, 5m or 1h, got '${printable(raw)}'`)
  const n =
    Number(m[1]) *
    { ms: 0.001, s: 1, m: 60, h: 3600 }[(m[2] ?? 's').toLowerCase() as 'ms' | 's' | 'm' | 'h']
  if (n < 0.1 || n > 86400)
    throw new UsageError(`expected a duration from 0.1s to 24h, got '${printable(raw)}'`)
  return n
}

/** `HOST:PORT`, `[v6]:PORT` or `:PORT` (every interface) → host and port. */
export function listenAddress(raw: string): { host: string; port: number } {
  const text = raw.trim()
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text)
  if (!m || Number(m[3]) > 65535)
    throw new UsageError(
      `expected HOST:PORT (e.g. 127.0.0.1:9814, [::1]:9814 or :9814), got '${printable(text)}'`,
    )
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port: Number(m[3]) }
}

function oneOf<T extends string>(choices: readonly T[]): (raw: string) => T {
  return (raw) => {
    const text = raw.trim().toLowerCase()
    if (!(choices as readonly string[]).includes(text))
      throw new UsageError(`expected ${choices.join(' or ')}, got '${printable(raw)}'`)
    return text as T
  }
}

function list(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
}

/** `-p, --port <port>` → `--port <port>`: how messages name an option. */
export function longForm(flag: string): string {
  return flag.replace(/^-[a-zA-Z], /, '')
}

export const OPTIONS = {
  // --- which server, as whom ---
  server: {
    flag: '--server <names>',
    env: 'PJCTL_SERVER',
    parse: list,
    help: 'Server name(s) from the config file, comma-separated.',
  },
  all: { flag: '--all', help: 'Every server in the config file.' },
  config: {
    flag: '--config <file>',
    env: 'PJCTL_CONFIG',
    parse: text,
    help: 'Config file (default: $XDG_CONFIG_HOME/pjctl/config.json, else ~/.config/pjctl/config.json, else /etc/pjctl/config.json).',
  },
  host: {
    flag: '-H, --host <host>',
    env: 'PJCTL_HOST',
    default: '127.0.0.1',
    config: true,
    parse: text,
    help: 'AMI host.',
  },
  port: {
    flag: '-p, --port <port>',
    env: 'PJCTL_PORT',
    default: 5038,
    parse: integer(1, 65535),
    config: true,
    help: 'AMI port.',
  },
  user: {
    flag: '--user <user>',
    env: 'PJCTL_USER',
    config: true,
    parse: text,
    help: 'AMI user (manager.conf section).',
  },
  secret: {
    env: 'PJCTL_SECRET',
    config: true,
    parse: text,
    help: 'AMI secret: from PJCTL_SECRET, --secret-file or the config file; never a flag.',
  },
  secretFile: {
    flag: '--secret-file <file>',
    env: 'PJCTL_SECRET_FILE',
    config: true,
    parse: text,
    help: 'Read the AMI secret from this file (first line).',
  },
  auth: {
    flag: '--auth <method>',
    env: 'PJCTL_AUTH',
    default: 'md5',
    parse: oneOf(['md5', 'plain']),
    choices: ['md5', 'plain'] as const,
    config: true,
    help: 'AMI login: md5 (Challenge, the secret never crosses the network) or plain (Secret in clear; for servers that refuse the challenge).',
  },
  tls: {
    flag: '--tls',
    config: true,
    help: 'AMI over TLS (manager.conf tlsenable/tlsbindaddr; port 5039 unless --port), the certificate verified against the system store or --tls-ca. Never falls back to plain TCP.',
  },
  tlsCa: {
    flag: '--tls-ca <file>',
    env: 'PJCTL_TLS_CA',
    config: true,
    parse: text,
    help: 'Verify the AMI TLS certificate against the CA certificate(s) in this PEM file instead of the system store (implies --tls).',
  },
  tlsInsecure: {
    flag: '--tls-insecure',
    config: true,
    help: 'TLS without verifying the certificate (implies --tls): anyone on the path can pose as the server. Warns on every run.',
  },
  timeout: {
    flag: '-t, --timeout <seconds>',
    env: 'PJCTL_TIMEOUT',
    default: 10,
    parse: seconds,
    config: true,
    help: 'Bound the connect and every AMI action.',
  },
  maxOutput: {
    flag: '--max-output <size>',
    env: 'PJCTL_MAX_OUTPUT',
    default: 256 * 1024 ** 2,
    parse: bytes,
    config: true,
    help: 'Refuse an AMI answer larger than this (e.g. 256M).',
  },
  parallel: {
    flag: '--parallel <n>',
    env: 'PJCTL_PARALLEL',
    default: 4,
    parse: integer(1, 64),
    help: 'Servers worked on at once with --server a,b or --all.',
  },

  // --- reading contacts ---
  contactsDb: {
    flag: '--contacts-db <url>',
    env: 'PJCTL_CONTACTS_DB',
    parse: text,
    config: true,
    help: 'The realtime contacts database, for sorcery.conf contact=realtime: postgresql://USER@HOST:PORT/DB (PostgreSQL) or mysql://USER@HOST:PORT/DB (MySQL/MariaDB). Default: what res_pgsql.conf or res_config_mysql.conf says (AMI GetConfig). The password never on the command line: from the config file or PJCTL_CONTACTS_DB, PGPASSWORD or ~/.pgpass (PostgreSQL), or the connection file for the same user.',
  },
  source: {
    flag: '--source <source>',
    env: 'PJCTL_SOURCE',
    default: 'auto',
    choices: ['auto', 'dbgettree', 'command'] as const,
    config: true,
    help: 'How to read contacts: AMI DBGetTree, AMI Command "database show", or auto (DBGetTree where allowed, else Command).',
  },
  input: {
    flag: '--input <file>',
    parse: text,
    help: 'Parse a saved \'asterisk -rx "database show registrar/contact"\' dump (- for stdin) instead of connecting.',
  },
  strict: {
    flag: '--strict',
    help: 'Fail when any line of the answer does not parse, instead of warning: exit 2, or 3 (UNKNOWN) under check.',
  },
  pjsipConf: {
    flag: '--pjsip-conf <file>',
    parse: text,
    help: 'Read max_contacts from this pjsip.conf (follows #include) when AMI cannot tell.',
  },
  limits: {
    flag: '--limits <how>',
    env: 'PJCTL_LIMITS',
    default: 'auto',
    choices: ['auto', 'config', 'ami'] as const,
    config: true,
    help: 'Where AOR limits come from: config (AMI GetConfig of pjsip.conf and pjsip_wizard.conf, the files on disk), ami (PJSIPShowAors, what Asterisk runs; slow on big servers), or auto (config unless sorcery.conf maps AORs elsewhere or GetConfig is refused).',
  },
  maxContacts: {
    flag: '--max-contacts <n>',
    parse: integer(0),
    help: 'Assume this max_contacts for AORs whose limit is not otherwise known.',
  },

  // --- output ---
  node: {
    flag: '--node <names>',
    parse: list,
    help: "Only the contacts registered through these cluster nodes (their systemname, the contact's reg_server; '-' for none), comma-separated. AORs are still judged on all their contacts.",
  },
  problems: {
    flag: '--problems',
    help: 'Only AORs that check would not call OK, or that hold stale (superseded, expired or twin) contacts.',
  },
  format: {
    flag: '--format <format>',
    choices: ['table', 'json', 'nagios', 'prometheus', 'text'] as const,
    help: 'Output format (choices depend on the command).',
  },
  json: {
    flag: '--json',
    help: 'Shorthand for --format json (indented on a terminal, compact when piped).',
  },
  raw: {
    flag: '--raw',
    help: 'JSON: include every raw stored astdb field of each contact (fields); left out by default.',
  },
  color: {
    flag: '--no-color',
    help: 'No colour (also NO_COLOR=1; colour is only used on a terminal).',
  },
  quiet: { flag: '--quiet', help: 'No warnings or progress on stderr.' },
  debug: {
    flag: '--debug',
    env: 'PJCTL_DEBUG',
    help: 'Print stack traces and AMI traffic summaries on stderr.',
  },

  // --- check ---
  warn: {
    flag: '-w, --warn <threshold>',
    parse: text,
    help: "Also WARNING (and near) when an AOR has this many free slots or fewer, or this percent used: '1', '80%' or '1,80%'. Default: near is shown, not paged.",
  },
  crit: {
    flag: '-c, --crit <threshold>',
    parse: text,
    help: "Also CRITICAL when an AOR meets this threshold, same form as --warn ('0': every full AOR). Default: only full AORs holding stale contacts.",
  },
  verbose: {
    flag: '-v, --verbose',
    help: 'List every AOR that is not OK in the long output (default: the first 20, then "and N more").',
  },
  textfile: {
    flag: '--textfile <path>',
    parse: text,
    help: 'Write the Prometheus metrics to PATH atomically (node_exporter textfile collector); exit 0 once written, whatever the state.',
  },

  // --- sources (also contacts, check, doctor) ---
  perIpLimit: {
    flag: '--per-ip-limit <n>',
    env: 'PJCTL_PER_IP_LIMIT',
    parse: integer(1),
    help: 'Flag source addresses holding N contacts or more.',
  },
  by: {
    flag: '--by <what>',
    default: 'address',
    choices: ['address', 'node'] as const,
    help: "One row per source address (the contacts' via_addr, the default), or per cluster node (the contacts' reg_server): how registrations spread over the nodes sharing a contact table.",
  },
  per: {
    flag: '--per <scope>',
    choices: ['address', 'aor'],
    help: "What --per-ip-limit counts: 'address' (all AORs together, the default) or 'aor' (each AOR's contacts from one address, as hosted SIP providers limit).",
  },

  // --- prune ---
  expired: { flag: '--expired', help: 'Prune contacts whose expiration_time has passed.' },
  superseded: {
    flag: '--superseded',
    help: 'Prune contacts superseded by a newer registration from the same device (via address and user agent).',
  },
  keep: {
    flag: '--keep <n>',
    parse: integer(1),
    help: 'Keep the N latest-expiring contacts of each AOR; prune the rest.',
  },
  key: {
    flag: '--key <key>',
    parse: list,
    help: 'Exactly this contact: astdb key <aor>;@<hash>, or a unique hash prefix (6+ hex digits, alone or after <aor>;@); several with commas.',
  },
  orphaned: {
    flag: '--orphaned',
    help: 'Prune contacts of AORs that are no longer configured (state orphaned).',
  },
  unreachable: {
    flag: '--unreachable',
    help: 'Prune contacts that qualify reports Unreachable (PJSIPShowEndpoint of their endpoints).',
  },
  via: {
    flag: '--via <how>',
    default: 'asterisk',
    choices: ['asterisk', 'delete', 'expire'] as const,
    help: "asterisk: set expiration_time to 1, then PJSIPShowEndpoint of its endpoint, so Asterisk deletes the contact itself at once (ContactStatus Removed, qualify stops); one no endpoint collects (orphaned) is then deleted directly. delete: DBDel the key (or DELETE the row): the literal 'database del', and Asterisk goes on qualifying the contact until it restarts. expire: set expiration_time to 1 only; Asterisk's sweep removes it within contact_expiration_check_interval (30 s).",
  },
  unknownNode: {
    flag: '--unknown-node <what>',
    default: 'keep',
    choices: ['keep', 'delete'] as const,
    help: 'A contact of a shared contact table registered through a cluster node (its reg_server) that no configured server is, or that does not answer: keep reports it and leaves it alone (only that node stops qualifying it); delete prunes it through this server, and that node goes on qualifying it until it restarts.',
  },
  dryRun: { flag: '--dry-run', help: 'Print the plan; change nothing.' },
  yes: { flag: '--yes', help: 'Do not ask (required without a terminal, e.g. in cron).' },
  backup: {
    flag: '--backup <file>',
    env: 'PJCTL_BACKUP',
    parse: text,
    help: 'Append deleted values here (default $XDG_STATE_HOME/pjctl/backups/<server>-<date>.jsonl).',
  },
  backupRetention: {
    flag: '--backup-retention <days>',
    env: 'PJCTL_BACKUP_RETENTION',
    default: 30,
    parse: integer(0, 36500),
    help: "Each prune removes this server's own default backup files older than this many days (0: keep them all).",
  },
  maxDelete: {
    flag: '--max-delete <n>',
    default: 50,
    parse: integer(1),
    help: 'Refuse to delete more than this many contacts in one run without --force.',
  },
  force: {
    flag: '--force',
    help: 'Do what pjctl otherwise refuses as too risky (what that is depends on the command).',
  },
  inFlight: {
    flag: '--in-flight <n>',
    default: 64,
    parse: integer(1, 1024),
    help: 'AMI actions kept in flight on the one connection while pruning.',
  },

  // --- gen ---
  genMaxContacts: {
    flag: '--max-contacts <n>',
    default: 1,
    parse: integer(0),
    help: 'max_contacts for the generated AOR (default 1).',
  },
  removeExisting: {
    flag: '--no-remove-existing',
    help: 'Leave out remove_existing=yes (the default is yes).',
  },
  removeUnavailable: {
    flag: '--remove-unavailable',
    help: 'remove_unavailable=yes (needs --qualify-frequency).',
  },
  qualifyFrequency: {
    flag: '--qualify-frequency <s>',
    parse: integer(0),
    help: 'qualify_frequency (seconds).',
  },
  minimumExpiration: {
    flag: '--minimum-expiration <s>',
    parse: integer(1),
    help: 'minimum_expiration (seconds).',
  },
  maximumExpiration: {
    flag: '--maximum-expiration <s>',
    parse: integer(1),
    help: 'maximum_expiration (seconds).',
  },
  defaultExpiration: {
    flag: '--default-expiration <s>',
    parse: integer(1),
    help: 'default_expiration (seconds).',
  },
  expirationWindow: {
    flag: '--expiration-window <min-max>',
    parse: text,
    help: 'minimum and maximum expiration together, e.g. 600-3600.',
  },
  context: {
    flag: '--context <context>',
    parse: text,
    help: 'Endpoint context (default from-internal).',
  },
  transport: { flag: '--transport <name>', parse: text, help: 'Endpoint transport.' },
  allow: {
    flag: '--allow <codecs>',
    parse: text,
    help: 'Endpoint codecs, e.g. ulaw,alaw (default ulaw,alaw).',
  },
  template: {
    flag: '--template <name>',
    parse: text,
    help: 'Define templates TEMPLATE, TEMPLATE-auth, TEMPLATE-aor and emit [NAME](TEMPLATE) sections that hold only what is per name.',
  },
  passwordEnv: {
    flag: '--password-env <var>',
    parse: text,
    help: 'Take the password from this environment variable.',
  },
  generatePassword: {
    flag: '--generate-password',
    help: 'Generate a strong random password per name.',
  },
  out: {
    flag: '--out <file>',
    parse: text,
    help: 'Write to this file (never overwrites without --force).',
  },
  append: {
    flag: '--append',
    help: 'Emit [NAME](+type=aor) sections that add only the AOR options to an AOR defined elsewhere.',
  },
  aorOnly: { flag: '--aor-only', help: 'Only the type=aor section.' },
  fromCsv: {
    flag: '--from-csv <file>',
    parse: text,
    help: 'Names from a CSV file: name,password[,max_contacts,...].',
  },
  fromServer: {
    flag: '--from-server',
    help: 'Propose AOR snippets from what is registered on a live server.',
  },

  // --- exporter ---
  listen: {
    flag: '--listen <host:port>',
    env: 'PJCTL_LISTEN',
    default: '127.0.0.1:9814',
    parse: (raw: string) => (listenAddress(raw), raw.trim()),
    help: 'exporter: serve /metrics and /healthz here (HOST:PORT, [::1]:PORT, :PORT for every interface).',
  },
  resync: {
    flag: '--resync <duration>',
    env: 'PJCTL_RESYNC',
    default: 300,
    parse: duration,
    help: 'exporter: re-read every server this often (30s, 5m, 1h) to catch what no event tells.',
  },
  heal: {
    flag: '--heal',
    help: "watch, exporter: on a max_contacts refusal, prune that AOR's stale contacts as pjctl prune does (backup, compare-before-delete): by default only the refused phone's own old contact or an unreachable one; --expired, --superseded, --keep, --unreachable widen it. At most once a minute per AOR.",
  },
  perAor: {
    flag: '--per-aor <which>',
    env: 'PJCTL_PER_AOR',
    default: 'all',
    choices: ['all', 'problems'] as const,
    help: 'exporter: per-AOR series for every AOR, or only for AORs not ok or holding stale contacts.',
  },
  webConfig: {
    flag: '--web-config <file>',
    env: 'PJCTL_WEB_CONFIG',
    parse: text,
    help: "exporter: TLS and basic auth for /metrics and /healthz, in exporter-toolkit's web config format (as node_exporter reads it); re-read when it changes and on SIGHUP.",
  },
} satisfies Record<string, OptionSpec>

export type OptionKey = keyof typeof OPTIONS

/** The headings options are grouped under in --help and the man page, in this order. */
export const OPTION_GROUPS = {
  connection: 'Connection',
  reading: 'Reading contacts',
  selection: 'Selection',
  thresholds: 'Thresholds',
  output: 'Output',
  safety: 'Safety',
  generation: 'Generated config',
  exporter: 'Exporter',
} as const
export type OptionGroup = keyof typeof OPTION_GROUPS

/** Each option's group. A new option must name one here (the type requires every key). */
export const GROUP_OF: Record<OptionKey, OptionGroup> = {
  server: 'connection',
  all: 'connection',
  config: 'connection',
  host: 'connection',
  port: 'connection',
  user: 'connection',
  secret: 'connection',
  secretFile: 'connection',
  auth: 'connection',
  tls: 'connection',
  tlsCa: 'connection',
  tlsInsecure: 'connection',
  timeout: 'connection',
  maxOutput: 'connection',
  parallel: 'connection',
  source: 'connection',
  contactsDb: 'connection',
  input: 'reading',
  limits: 'reading',
  strict: 'reading',
  pjsipConf: 'reading',
  maxContacts: 'reading',
  expired: 'selection',
  superseded: 'selection',
  keep: 'selection',
  key: 'selection',
  unreachable: 'selection',
  orphaned: 'selection',
  warn: 'thresholds',
  crit: 'thresholds',
  perIpLimit: 'thresholds',
  per: 'thresholds',
  by: 'output',
  problems: 'selection',
  node: 'selection',
  verbose: 'output',
  textfile: 'output',
  format: 'output',
  json: 'output',
  raw: 'output',
  color: 'output',
  quiet: 'output',
  debug: 'output',
  via: 'safety',
  unknownNode: 'safety',
  dryRun: 'safety',
  yes: 'safety',
  backup: 'safety',
  backupRetention: 'safety',
  maxDelete: 'safety',
  force: 'safety',
  inFlight: 'safety',
  genMaxContacts: 'generation',
  removeExisting: 'generation',
  removeUnavailable: 'generation',
  qualifyFrequency: 'generation',
  minimumExpiration: 'generation',
  maximumExpiration: 'generation',
  defaultExpiration: 'generation',
  expirationWindow: 'generation',
  context: 'generation',
  transport: 'generation',
  allow: 'generation',
  template: 'generation',
  passwordEnv: 'generation',
  generatePassword: 'generation',
  out: 'generation',
  append: 'generation',
  aorOnly: 'generation',
  fromCsv: 'generation',
  fromServer: 'generation',
  listen: 'exporter',
  resync: 'exporter',
  perAor: 'exporter',
  heal: 'safety',
  webConfig: 'exporter',
}

/** An option's value: one of its choices, what its parser returns, or (a flag without a value) a boolean. */
type ValueOf<S> = S extends { choices: readonly (infer C)[] }
  ? C
  : S extends { parse: (raw: string) => infer T }
    ? T
    : boolean

type Defaulted = {
  [K in OptionKey]: (typeof OPTIONS)[K] extends { default: unknown } ? K : never
}[OptionKey]

/**
 * Option values after parsing (flag > env > config profile > default), typed from OPTIONS:
 * an option with a default always has a value; the others only when given.
 */
export type Settings = { [K in Defaulted]: ValueOf<(typeof OPTIONS)[K]> } & {
  [K in Exclude<OptionKey, Defaulted>]?: ValueOf<(typeof OPTIONS)[K]>
}

export type Format = ValueOf<(typeof OPTIONS)['format']>

/** Every default from OPTIONS, under the given values (for a run that does not come from the command line: demo, tests). */
export function withDefaults(values: Partial<Settings> = {}): Settings {
  const defaults: Record<string, unknown> = {}
  for (const [key, spec] of Object.entries(OPTIONS) as [OptionKey, OptionSpec][])
    if (spec.default !== undefined) defaults[key] = spec.default
  return { ...defaults, ...values } as Settings
}

/** The flag as typed, without its value: `--max-contacts`, `--no-remove-existing`. */
export function flagOf(key: OptionKey): string {
  const spec: OptionSpec = OPTIONS[key]
  return spec.flag?.split(' ')[0] ?? key
}

/** How every command that connects logs in and protects the connection. */
export const CONNECTION_SECURITY = [
  'auth',
  'tls',
  'tlsCa',
  'tlsInsecure',
] as const satisfies readonly OptionKey[]

/** --heal and the policy it prunes by, for the commands that follow refusals (watch, exporter). */
export const HEAL_OPTIONS = [
  'heal',
  'expired',
  'superseded',
  'keep',
  'unreachable',
] as const satisfies readonly OptionKey[]

/** The help of HEAL_OPTIONS' policy options, where it differs from prune's. */
export const HEAL_OPTION_HELP = {
  expired: "With --heal: also prune the refused AOR's expired contacts.",
  superseded: 'With --heal: also prune every superseded contact of the refused AOR (any device).',
  keep: 'With --heal: also keep only the N latest-expiring contacts of the refused AOR.',
  unreachable: "With --heal: prune the refused AOR's unreachable contacts (the default does too).",
} as const satisfies Partial<Record<OptionKey, string>>

/** Which servers a command that follows or reads them all takes, and how it reaches them. */
export const SERVER_OPTIONS = [
  'server',
  'all',
  'config',
  'host',
  'port',
  'user',
  'secretFile',
  ...CONNECTION_SECURITY,
  'timeout',
  'maxOutput',
] as const satisfies readonly OptionKey[]
