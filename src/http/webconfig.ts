// The exporter's --web-config file, in the format every Prometheus exporter shares (exporter-toolkit's
// web/tls_config.go, as node_exporter's --web.config.file reads it): tls_server_config, basic_auth_users
// with bcrypt hashes, http_server_config.headers. Read strictly as exporter-toolkit does (an unknown key
// is an error), relative file names taken from the file's own directory. Keys of that format pjctl does
// not implement (cipher_suites, curve_preferences, client_allowed_sans, rate_limit, …) are refused by
// name rather than silently ignored: a file that asks for a restriction gets it or does not load.

import { X509Certificate } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { dirname, isAbsolute, join } from 'node:path'
import { createSecureContext } from 'node:tls'
import { parseDocument } from 'yaml'
import { InputError } from '../errors.js'
import { printable } from '../text.js'

/** exporter-toolkit's client_auth_type values (crypto/tls ClientAuthType names). */
const CLIENT_AUTH_TYPES = [
  'NoClientCert',
  'RequestClientCert',
  'RequireAnyClientCert',
  'VerifyClientCertIfGiven',
  'RequireAndVerifyClientCert',
] as const
type ClientAuthType = (typeof CLIENT_AUTH_TYPES)[number]

const TLS_VERSIONS = {
  TLS10: 'TLSv1',
  TLS11: 'TLSv1.1',
  TLS12: 'TLSv1.2',
  TLS13: 'TLSv1.3',
} as const
type NodeTlsVersion = (typeof TLS_VERSIONS)[keyof typeof TLS_VERSIONS]

/** The headers exporter-toolkit lets a web config set, with their allowed values (none: any value). */
const EXTRA_HEADERS: Readonly<Record<string, readonly string[]>> = {
  'Strict-Transport-Security': [],
  'X-Content-Type-Options': ['nosniff'],
  'X-Frame-Options': ['deny', 'sameorigin'],
  'X-XSS-Protection': [],
  'Content-Security-Policy': [],
}

/** exporter-toolkit keys pjctl does not implement: refused by name. */
const NOT_IMPLEMENTED = new Set([
  'tls_server_config.cipher_suites',
  'tls_server_config.curve_preferences',
  'tls_server_config.prefer_server_cipher_suites',
  'tls_server_config.client_allowed_sans',
  'rate_limit',
])

export interface TlsServerConfig {
  cert: string
  key: string
  /** PEM of the client CAs (client_ca_file or client_ca). */
  clientCa?: string
  clientAuth: ClientAuthType
  minVersion: NodeTlsVersion
  maxVersion: NodeTlsVersion
}

export interface WebConfig {
  path: string
  /** null: plain HTTP. */
  tls: TlsServerConfig | null
  /** user → bcrypt hash; empty: no authentication. */
  users: ReadonlyMap<string, string>
  headers: Readonly<Record<string, string>>
  /** The files it was read from (the config and the certificate, key and CA files it names): a change to any is a reload. */
  files: readonly string[]
}

/** A bcrypt hash as Go's x/crypto/bcrypt and bcryptjs read it: $2a$, $2b$ or $2y$, cost 04–31, 53 characters of salt and hash. */
const BCRYPT = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/

/** Reads and checks a web config file; a problem is one InputError line naming the file and the key. */
export async function loadWebConfig(path: string): Promise<WebConfig> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw bad(path, `cannot read it: ${(error as NodeJS.ErrnoException).code ?? String(error)}`)
  }
  return parseWebConfig(path, text)
}

/** parseWebConfig without reading `path` itself (the files it names are read). */
async function parseWebConfig(path: string, text: string): Promise<WebConfig> {
  const document = parseDocument(text, { uniqueKeys: true, prettyErrors: false })
  if (document.errors.length) {
    throw bad(path, `not valid YAML: ${firstLine(document.errors[0]?.message ?? '')}`)
  }
  const root: unknown = document.toJS()
  if (root !== null && root !== undefined && !isMap(root))
    throw bad(path, 'expected a mapping of tls_server_config, basic_auth_users, http_server_config')
  const top = root ?? {}
  checkKeys(path, '', top, ['tls_server_config', 'basic_auth_users', 'http_server_config'])
  const dir = dirname(path)
  const files = [path]
  const tls = await tlsConfig(path, dir, section(path, top, 'tls_server_config'), files)
  const users = new Map<string, string>()
  const auth = top.basic_auth_users
  if (auth !== null && auth !== undefined) {
    if (!isMap(auth)) throw bad(path, 'basic_auth_users: expected a mapping of user: bcrypt hash')
    for (const [user, hash] of Object.entries(auth)) {
      if (typeof hash !== 'string' || !BCRYPT.test(hash))
        throw bad(
          path,
          `basic_auth_users: ${printable(user)}: not a bcrypt hash (make one with: htpasswd -nBC 10 "" | tr -d ':\\n')`,
        )
      users.set(user, hash)
    }
  }
  const http = section(path, top, 'http_server_config')
  checkKeys(path, 'http_server_config.', http, ['http2', 'headers'])
  if (http.http2 !== undefined && typeof http.http2 !== 'boolean')
    throw bad(path, 'http_server_config.http2: expected true or false')
  const headers: Record<string, string> = {}
  const wanted = http.headers
  if (wanted !== undefined && wanted !== null) {
    if (!isMap(wanted)) throw bad(path, 'http_server_config.headers: expected a mapping')
    for (const [name, value] of Object.entries(wanted)) {
      const allowed = EXTRA_HEADERS[name]
      if (!allowed) throw bad(path, `http_server_config.headers: ${printable(name)} can not be set`)
      const v = typeof value === 'number' ? String(value) : value
      if (typeof v !== 'string' || /[\r\n]/.test(v))
        throw bad(path, `http_server_config.headers: ${name}: expected one line of text`)
      if (allowed.length && !allowed.includes(v))
        throw bad(
          path,
          `http_server_config.headers: ${name}: expected one of ${allowed.join(', ')}, got '${printable(v)}'`,
        )
      headers[name] = v
    }
  }
  return { path, tls, users, headers, files }
}

async function tlsConfig(
  path: string,
  dir: string,
  c: Record<string, unknown>,
  files: string[],
): Promise<TlsServerConfig | null> {
  const at = 'tls_server_config.'
  checkKeys(path, at, c, [
    'cert_file',
    'key_file',
    'cert',
    'key',
    'client_ca_file',
    'client_ca',
    'client_auth_type',
    'min_version',
    'max_version',
  ])
  const s = (key: string): string | undefined => {
    const v = c[key]
    if (v === undefined || v === null) return undefined
    if (typeof v !== 'string') throw bad(path, `${at}${key}: expected a string`)
    return v
  }
  const certFile = s('cert_file')
  const keyFile = s('key_file')
  const certText = s('cert')
  const keyText = s('key')
  const caFile = s('client_ca_file')
  const caText = s('client_ca')
  const clientAuth = s('client_auth_type')
  // exporter-toolkit's IsEnabled: any TLS field set, even empty ones, means TLS was meant
  const enabled = [certFile, keyFile, certText, keyText, caFile, caText, clientAuth].some(
    (v) => v !== undefined && v !== '',
  )
  if (!enabled) return null
  if (!certFile && !certText) throw bad(path, 'tls_server_config: missing one of cert or cert_file')
  if (!keyFile && !keyText) throw bad(path, 'tls_server_config: missing one of key or key_file')
  const read = async (key: string, file: string): Promise<string> => {
    const full = isAbsolute(file) ? file : join(dir, file)
    files.push(full)
    try {
      return await readFile(full, 'utf8')
    } catch (error) {
      throw bad(
        path,
        `${at}${key}: cannot read ${printable(full)}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      )
    }
  }
  // eslint-disable-next-line @typescript-eslint/no-non-null-assertion -- checked above: a file or the text of each is given
  const cert = certFile ? await read('cert_file', certFile) : certText!
  // eslint-disable-next-line @typescript-eslint/no-non-null-assertion -- as above
  const key = keyFile ? await read('key_file', keyFile) : keyText!
  try {
    createSecureContext({ cert, key })
  } catch (error) {
    throw bad(
      path,
      `${at}cert and key: not a certificate and its private key in PEM (${firstLine((error as Error).message)})`,
    )
  }
  let clientCa: string | undefined
  if (caFile) clientCa = await read('client_ca_file', caFile)
  else if (caText) clientCa = caText
  if (clientCa !== undefined) {
    const blocks = clientCa.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)
    try {
      if (!blocks) throw new Error('no PEM certificate')
      for (const block of blocks) new X509Certificate(block)
    } catch (error) {
      throw bad(
        path,
        `${at}${caFile ? 'client_ca_file' : 'client_ca'}: no usable CA certificate (${firstLine((error as Error).message)})`,
      )
    }
  }
  const auth = (clientAuth || 'NoClientCert') as ClientAuthType
  // "RequireClientCert" is exporter-toolkit's old name for RequireAnyClientCert
  const policy: ClientAuthType =
    (auth as string) === 'RequireClientCert' ? 'RequireAnyClientCert' : auth
  if (!CLIENT_AUTH_TYPES.includes(policy))
    throw bad(
      path,
      `${at}client_auth_type: expected one of ${CLIENT_AUTH_TYPES.join(', ')}, got '${printable(auth)}'`,
    )
  if (clientCa !== undefined && policy === 'NoClientCert')
    throw bad(
      path,
      `${at}client_ca_file: client CAs are configured without a client_auth_type (RequireAndVerifyClientCert, say)`,
    )
  if (
    clientCa === undefined &&
    (policy === 'RequireAndVerifyClientCert' || policy === 'VerifyClientCertIfGiven')
  )
    throw bad(path, `${at}client_auth_type: ${policy} needs client_ca_file to verify against`)
  const version = (key: string, fallback: NodeTlsVersion): NodeTlsVersion => {
    const v = s(key)
    if (v === undefined) return fallback
    const mapped = (TLS_VERSIONS as Record<string, NodeTlsVersion>)[v]
    if (!mapped)
      throw bad(
        path,
        `${at}${key}: expected one of ${Object.keys(TLS_VERSIONS).join(', ')}, got '${printable(v)}'`,
      )
    return mapped
  }
  const minVersion = version('min_version', 'TLSv1.2')
  const maxVersion = version('max_version', 'TLSv1.3')
  if (minVersion > maxVersion) throw bad(path, `${at}min_version is above max_version`)
  return {
    cert,
    key,
    ...(clientCa !== undefined ? { clientCa } : {}),
    clientAuth: policy,
    minVersion,
    maxVersion,
  }
}

function section(path: string, top: Record<string, unknown>, key: string): Record<string, unknown> {
  const v = top[key]
  if (v === undefined || v === null) return {}
  if (!isMap(v)) throw bad(path, `${key}: expected a mapping`)
  return v
}

function checkKeys(
  path: string,
  at: string,
  map: Record<string, unknown>,
  known: readonly string[],
): void {
  for (const key of Object.keys(map)) {
    if (known.includes(key)) continue
    if (NOT_IMPLEMENTED.has(`${at}${key}`))
      throw bad(path, `${at}${key}: not supported by pjctl (remove it)`)
    throw bad(path, `${at}${printable(key)}: unknown key`)
  }
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function firstLine(text: string): string {
  return printable((text.split('\n', 1)[0] ?? '').trim())
}

function bad(path: string, what: string): InputError {
  return new InputError(`web config ${printable(path)}: ${what}`)
}
