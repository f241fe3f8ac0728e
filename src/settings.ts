// Which servers a run is for, and with what credentials: each server's settings are one
// layered merge, defaults <- its config-file profile <- environment <- flags, the higher
// layer winning key by key (the secret too: --secret-file beats PJCTL_SECRET, which beats
// the config file). The secret never comes from argv.

import { readFile, stat } from 'node:fs/promises'
import { homedir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import type { AmiTarget, TlsSettings } from './ami/types.js'
import { InputError, UsageError, cannotRead } from './errors.js'
import { printable } from './text.js'
import { OPTIONS, type OptionKey, type OptionSpec, type Settings } from './options.js'

type ServerProfile = Record<string, unknown>

export interface ConfigFile {
  path: string
  servers: Record<string, ServerProfile>
  /** Name of the server used when neither --server nor --host is given. */
  default?: string
  /** The exporter's web config file (top-level "webConfig"), relative names taken from the config file's directory. */
  webConfig?: string
}

/** The values given on the command line and in PJCTL_* variables, each parsed; a key is present only when given. */
export interface Layers {
  flags: Partial<Settings>
  env: Partial<Settings>
}

export interface ResolveInput {
  /** The run's settings: defaults <- environment <- flags (no config file). */
  settings: Settings
  layers: Layers
  env: Record<string, string | undefined>
  warn: (message: string) => void
}

function defaultConfigPath(env: Record<string, string | undefined>): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config')
  return join(base, 'pjctl', 'config.json')
}

/** The system-wide config file, read when the user has none (the nagios or cron user); PJCTL_SYSTEM_CONFIG moves it (packagers, tests). */
function systemConfigPath(env: Record<string, string | undefined>): string {
  return env.PJCTL_SYSTEM_CONFIG || '/etc/pjctl/config.json'
}

/** Where the config file is looked for without --config: the user's, then the system's. The first that exists is used. */
function configSearchPath(env: Record<string, string | undefined>): string[] {
  return [defaultConfigPath(env), systemConfigPath(env)]
}

/** Reads the config file; missing default files are no error, a missing --config file is. */
export async function loadConfig(input: ResolveInput): Promise<ConfigFile | null> {
  const explicit = input.settings.config
  let path = ''
  let text: string | null = null
  for (const candidate of explicit === undefined ? configSearchPath(input.env) : [explicit]) {
    path = candidate
    try {
      text = await readFile(path, 'utf8')
      break
    } catch (error) {
      if (explicit === undefined && (error as NodeJS.ErrnoException).code === 'ENOENT') continue
      throw cannotRead(path, error)
    }
  }
  if (text === null) return null
  await warnIfOthersCanRead(path, 'config file', input.warn)
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw new InputError(
      `config file ${path} is not valid JSON: ${jsonProblem((error as Error).message, text)}`,
    )
  }
  if (!isObject(parsed) || !isObject(parsed.servers ?? {})) {
    throw new InputError(
      `config file ${path} must be a JSON object with "servers": { "<name>": { "host": ..., "user": ..., "secret": ... } }`,
    )
  }
  const servers = (parsed.servers ?? {}) as Record<string, ServerProfile>
  for (const [name, profile] of Object.entries(servers)) {
    if (!isObject(profile))
      throw new InputError(`config file ${path}: server "${printable(name)}" must be an object`)
    for (const key of Object.keys(profile)) {
      const spec = (OPTIONS as Record<string, OptionSpec>)[key]
      if (!spec?.config)
        input.warn(
          `config file ${path}: server "${printable(name)}" has unknown key "${printable(key)}" (ignored)`,
        )
    }
  }
  for (const key of Object.keys(parsed)) {
    if (key !== 'servers' && key !== 'default' && key !== 'webConfig')
      input.warn(`config file ${path}: unknown top-level key "${printable(key)}" (ignored)`)
  }
  const webConfig = parsed.webConfig
  if (webConfig !== undefined && (typeof webConfig !== 'string' || !webConfig))
    throw new InputError(`config file ${path}: webConfig: expected a file name`)
  return {
    path,
    servers,
    default: typeof parsed.default === 'string' ? parsed.default : undefined,
    ...(webConfig ? { webConfig: resolve(dirname(path), webConfig) } : {}),
  }
}

/** The targets of this run: one (flags/env/default profile) or several (--server a,b / --all). */
export async function resolveTargets(
  input: ResolveInput,
  loaded?: Promise<ConfigFile | null>,
): Promise<AmiTarget[]> {
  const config = await (loaded ?? loadConfig(input))
  const { settings } = input
  const names = settings.all ? Object.keys(config?.servers ?? {}) : (settings.server ?? [])
  if (settings.all && names.length === 0)
    throw new UsageError(
      '--all: the config file lists no servers',
      `add them under "servers" in ${config?.path ?? defaultConfigPath(input.env)}`,
    )
  if (names.length === 0) {
    const fallback =
      config?.default && !('host' in input.layers.flags) && !('host' in input.layers.env)
        ? config.default
        : undefined
    return [
      await buildTarget(
        fallback,
        fallback && config ? profileOf(config, fallback) : {},
        config,
        input,
      ),
    ]
  }
  const seen = new Set<string>()
  const targets: AmiTarget[] = []
  for (const name of names) {
    if (seen.has(name)) continue
    seen.add(name)
    if (!config)
      throw new UsageError(
        `--server ${printable(name)}: no config file at ${configSearchPath(input.env).join(' or ')}`,
        'create one, or pass --config FILE',
      )
    targets.push(await buildTarget(name, profileOf(config, name), config, input))
  }
  return targets
}

function profileOf(config: ConfigFile, name: string): ServerProfile {
  const profile = config.servers[name]
  if (!profile) {
    const known = Object.keys(config.servers)
    throw new UsageError(
      `no server named '${printable(name)}' in ${config.path}`,
      known.length ? `known servers: ${known.join(', ')}` : undefined,
    )
  }
  return profile
}

/**
 * A profile's values as a layer: each known key checked for its type and parsed like its flag
 * (`"port": "5038"` and `"port": 5038` alike; `"secret": ["x"]` is an error naming it, not a
 * missing secret).
 */
function profileLayer(
  name: string | undefined,
  profile: ServerProfile,
  config: ConfigFile | null,
): Partial<Settings> {
  const layer: Record<string, unknown> = {}
  for (const [key, raw] of Object.entries(profile)) {
    const spec = (OPTIONS as Record<string, OptionSpec>)[key]
    if (!spec?.config) continue
    const where = `config file${config ? ` ${config.path}` : ''}: server "${printable(name ?? '')}": ${key}`
    const switchOnly = spec.flag !== undefined && !/[<[]/.test(spec.flag)
    const numeric = typeof spec.default === 'number'
    if (switchOnly) {
      if (typeof raw !== 'boolean')
        throw new InputError(`${where}: expected true or false, got ${describeJson(raw)}`)
      layer[key] = raw
      continue
    }
    if (!(typeof raw === 'string' || (numeric && typeof raw === 'number')))
      throw new InputError(
        `${where}: expected ${numeric ? 'a number' : 'a string'}, got ${describeJson(raw)}`,
      )
    try {
      layer[key] = spec.parse ? spec.parse(String(raw)) : raw
    } catch (error) {
      throw new InputError(`${where}: ${(error as Error).message}`)
    }
  }
  return layer
}

/** `["x"]` → `an array`, `true` → `true`: what a config value is, without echoing a secret. */
function describeJson(raw: unknown): string {
  if (Array.isArray(raw)) return 'an array'
  if (raw === null) return 'null'
  if (typeof raw === 'object') return 'an object'
  if (typeof raw === 'string') return 'a string'
  if (typeof raw === 'number') return 'a number'
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- objects were named above: a boolean or undefined is left
  return String(raw)
}

async function buildTarget(
  name: string | undefined,
  profile: ServerProfile,
  config: ConfigFile | null,
  input: ResolveInput,
): Promise<AmiTarget> {
  const { flags, env } = input.layers
  const fromProfile = profileLayer(name, profile, config)
  // one merge, key by key: defaults <- config file <- environment <- flags
  const merged: Settings = { ...input.settings, ...fromProfile, ...env, ...flags }
  const given = (key: OptionKey): boolean => key in fromProfile || key in env || key in flags
  const host = merged.host
  const tls = await resolveTls(name, merged)
  // AMI over TLS listens on its own port (tlsbindaddr), 5039 by convention
  const port = tls && !given('port') ? TLS_PORT : merged.port
  const user = merged.user
  const where = name ?? `${host}:${port}`
  if (!user)
    throw new UsageError(
      `no AMI user for ${where}`,
      'pass --user, set PJCTL_USER, or add "user" to the server in the config file',
    )
  const secret = await resolveSecret(
    [flags, { ...env, secret: input.env.PJCTL_SECRET || undefined }, fromProfile],
    input.warn,
    where,
  )
  const contactsDb = merged.contactsDb
  if (contactsDb !== undefined && 'contactsDb' in flags && hasPassword(contactsDb))
    throw new UsageError(
      '--contacts-db: a password is never a flag (others can read the command line)',
      'put the URL with its password in PJCTL_CONTACTS_DB or the config file (contactsDb), or (PostgreSQL) the password in ~/.pgpass',
    )
  return {
    name: where,
    host,
    port,
    user,
    secret,
    auth: merged.auth,
    ...(tls ? { tls } : {}),
    timeout: merged.timeout,
    maxOutput: merged.maxOutput,
    ...(contactsDb !== undefined ? { contactsDb } : {}),
  }
}

/** postgresql://user:password@host/db carries a password. */
function hasPassword(url: string): boolean {
  try {
    return new URL(url).password !== ''
  } catch {
    return false
  }
}

/** AMI over TLS's conventional port (manager.conf tlsbindaddr). */
const TLS_PORT = 5039

/** --tls, --tls-ca FILE (its PEM read here) or --tls-insecure; null for plain TCP. The two ways to trust a certificate exclude each other. */
async function resolveTls(name: string | undefined, merged: Settings): Promise<TlsSettings | null> {
  const flag = (key: 'tls' | 'tlsInsecure'): boolean => merged[key] === true
  const caFile: unknown = merged.tlsCa
  if (caFile !== undefined && (typeof caFile !== 'string' || !caFile))
    throw new InputError(
      `config file: server "${printable(name ?? '')}": tlsCa: expected a file name`,
    )
  const insecure = flag('tlsInsecure')
  if (!flag('tls') && !insecure && caFile === undefined) return null
  if (insecure && caFile !== undefined) {
    throw new UsageError(
      '--tls-insecure and --tls-ca contradict each other: --tls-ca verifies the certificate, --tls-insecure does not',
      'keep --tls-ca (and drop tlsInsecure from the config file if it is there)',
    )
  }
  if (caFile === undefined) return { insecure }
  let ca: string
  try {
    ca = await readFile(caFile, 'utf8')
  } catch (error) {
    throw new InputError(
      `cannot read --tls-ca file ${caFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    )
  }
  if (!ca.includes('-----BEGIN CERTIFICATE-----'))
    throw new InputError(
      `--tls-ca file ${caFile} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
    )
  return { ca, caFile: caFile, insecure: false }
}

/**
 * The secret from the highest layer that gives one (flags, then environment, then the config
 * file): an explicit --secret-file beats PJCTL_SECRET. Within the environment PJCTL_SECRET comes
 * before PJCTL_SECRET_FILE; within a profile "secretFile" before "secret".
 */
async function resolveSecret(
  [flags, env, profile]: [Partial<Settings>, Partial<Settings>, Partial<Settings>],
  warn: (message: string) => void,
  where: string,
): Promise<string> {
  if (flags.secretFile) return readSecretFile(flags.secretFile, warn)
  if (env.secret) return env.secret
  if (env.secretFile) return readSecretFile(env.secretFile, warn)
  if (profile.secretFile) return readSecretFile(profile.secretFile, warn)
  if (profile.secret) return profile.secret
  throw new UsageError(
    `no AMI secret for ${where}`,
    'set PJCTL_SECRET, pass --secret-file FILE, or add "secret" to the server in the config file (a secret is never a flag)',
  )
}

async function readSecretFile(path: string, warn: (message: string) => void): Promise<string> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw cannotRead(path, error)
  }
  await warnIfOthersCanRead(path, 'secret file', warn)
  const secret = text.split(/\r?\n/, 1)[0]
  if (!secret) throw new InputError(`secret file ${path} is empty`)
  return secret
}

async function warnIfOthersCanRead(
  path: string,
  what: string,
  warn: (message: string) => void,
): Promise<void> {
  const mode = (await stat(path)).mode
  if (mode & 0o044) {
    warn(
      `${what} ${path} is readable by ${mode & 0o004 ? 'others' : 'group'} (mode ${(mode & 0o777).toString(8)}); it holds AMI secrets: chmod 600 ${path}`,
    )
  }
}

/** JSON.parse's complaint without the snippet of the file V8 may quote (it can hold a secret), with line and column. */
function jsonProblem(message: string, text: string): string {
  const at = /at position (\d+)/.exec(message)
  const reason = / is not valid JSON|^Unexpected token/.test(message)
    ? 'unexpected token'
    : message
        .replace(/ (in|after) JSON at position \d+[\s\S]*$/, '')
        .replace(/ \(line \d+ column \d+\)$/, '')
  if (!at) return reason
  const before = text.slice(0, Number(at[1]))
  return `${reason} at line ${before.split('\n').length}, column ${before.length - before.lastIndexOf('\n')}`
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
