// The exporter's HTTP side (node:http, node:https): GET /metrics serves the last rendered body from
// memory, GET /healthz says whether every server is up. No request ever reaches Asterisk.
//
// With a --web-config file (exporter-toolkit's format, ./webconfig.ts): TLS on the same port, and
// nothing in plain HTTP there (a plain request is answered 400, as Go's server does); basic auth with
// bcrypt hashes, each user/password/hash outcome cached as exporter-toolkit caches it (bcrypt is slow
// by design, a scrape must not be); /healthz and / behind the same rules. The file is read again
// on every change of it or of the files it names, and on SIGHUP; whether TLS is on is decided at start
// (as exporter-toolkit decides it): a reload that would switch it is refused until a restart.

import { createHash } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https'
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import bcrypt from 'bcryptjs'
import type { TlsServerConfig, WebConfig } from './webconfig.js'

export interface HttpHandlers {
  /** The current exposition body (in pieces, sent one after the other), the same gzip-compressed (when there is one), and its Content-Type. */
  metrics(): Promise<{ body: readonly Buffer[]; gzipped?: readonly Buffer[]; contentType: string }>
  /** true: 200, else 503; `text` says why, in detail only to an `authenticated` client (basic auth or a verified client certificate). */
  health(authenticated: boolean): { ok: boolean; text: string }
}

/** The web config in force (it may change between two requests); null: plain HTTP, no authentication; an Error: it no longer loads, every request is answered 500. */
export type CurrentWebConfig = () => WebConfig | Error | null

export interface HttpListener {
  /** The port actually bound (for --listen HOST:0). */
  port: number
  /** "https" or "http". */
  scheme: 'https' | 'http'
  /** /metrics answers still being written (a big plain body takes many turns of the event loop). */
  sending: () => number
  /** The web config changed: new certificates and client-auth policy for the next connections. */
  reconfigure(config: WebConfig | null): void
  close(): Promise<void>
}

const INDEX =
  '<html><head><title>pjctl exporter</title></head><body><h1>pjctl exporter</h1><p><a href="/metrics">/metrics</a> <a href="/healthz">/healthz</a></p></body></html>\n'

/** What Go's net/http answers a plain HTTP request on a TLS port. */
const PLAIN_ON_TLS =
  'HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\nClient sent an HTTP request to an HTTPS server.\n'

/** exporter-toolkit's answer for an unknown user, so that timing does not tell users apart: a bcrypt hash of "fakepassword". */
const FAKE_HASH = '$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi'
/** Outcomes kept (exporter-toolkit: 100, random eviction of a tenth when full). */
const AUTH_CACHE_SIZE = 100

/** Listens on host:port; rejects with the socket error (EADDRINUSE, EACCES, ...). */
export function listen(
  host: string,
  port: number,
  handlers: HttpHandlers,
  webConfig: CurrentWebConfig = () => null,
): Promise<HttpListener> {
  let sending = 0
  const auth = new BasicAuth()
  const onRequest = (request: IncomingMessage, response: ServerResponse): void => {
    const config = webConfig()
    if (config instanceof Error) {
      response.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' })
      response.end('Internal Server Error: the web config does not load (see the log)\n')
      return
    }
    if (config)
      for (const [name, value] of Object.entries(config.headers)) response.setHeader(name, value)
    const verifiedCert = verifiedClient(request)
    const send = (authenticated: boolean): void => {
      if (!answer(request, response, handlers, authenticated)) return
      sending++
      // 'close' comes once, finished or not (a scraper that went away)
      response.once('close', () => sending--)
    }
    if (!config || config.users.size === 0) {
      send(verifiedCert)
      return
    }
    const outcome = auth.check(config.users, request.headers.authorization)
    if (outcome === true) {
      send(true)
      return
    }
    if (outcome === false) {
      unauthorized(response)
      return
    }
    outcome.then(
      (ok) => (ok ? send(true) : unauthorized(response)),
      () => unauthorized(response),
    )
  }
  const initial = webConfig()
  const tls = (initial instanceof Error ? null : initial?.tls) ?? null
  let http: Server | HttpsServer
  let outer: Server | ReturnType<typeof createNetServer>
  if (!tls) {
    http = outer = createServer(onRequest)
  } else {
    const https = createHttpsServer(tlsOptions(tls), onRequest)
    applyClientAuth(https, tls)
    https.on('secureConnection', (socket: TLSSocket) => {
      // crypto/tls's RequireAnyClientCert and VerifyClientCertIfGiven, which OpenSSL's flags alone do not give
      const now = webConfig()
      const policy = ((now instanceof Error ? null : now?.tls) ?? tls).clientAuth
      const cert = socket.getPeerCertificate()
      // null once the socket is gone, whatever the type says
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
      const given = cert !== null && Object.keys(cert).length > 0
      if (policy === 'RequireAnyClientCert' && !given) socket.destroy()
      else if (policy === 'VerifyClientCertIfGiven' && given && !socket.authorized) socket.destroy()
    })
    https.on('tlsClientError', (_error, socket) => socket.destroy())
    http = https
    // one port: a TLS handshake goes to the HTTPS server, anything else gets Go's 400 and is closed
    outer = createNetServer((socket: Socket) => {
      socket.setTimeout(10_000, () => socket.destroy())
      socket.on('error', () => undefined)
      socket.once('data', (first: Buffer) => {
        socket.pause()
        socket.setTimeout(0)
        socket.unshift(first)
        if (first[0] === 0x16) https.emit('connection', socket)
        else socket.end(PLAIN_ON_TLS)
        process.nextTick(() => socket.resume())
      })
    })
  }
  // a client that never finishes its request (or never reads) does not hold the exporter
  http.headersTimeout = 10_000
  http.requestTimeout = 30_000
  http.keepAliveTimeout = 65_000
  return new Promise((resolve, reject) => {
    outer.once('error', reject)
    outer.listen(port, host, () => {
      outer.off('error', reject)
      resolve({
        port: (outer.address() as AddressInfo).port,
        scheme: tls ? 'https' : 'http',
        sending: () => sending,
        reconfigure: (config) => {
          auth.clear()
          if (tls && config?.tls) {
            ;(http as HttpsServer).setSecureContext(tlsOptions(config.tls))
            applyClientAuth(http as HttpsServer, config.tls)
          }
        },
        close: () =>
          new Promise<void>((done) => {
            outer.close(() => done())
            http.closeAllConnections()
            if (outer !== http) http.close()
          }),
      })
    })
  })
}

function tlsOptions(tls: TlsServerConfig): {
  cert: string
  key: string
  ca?: string
  minVersion: TlsServerConfig['minVersion']
  maxVersion: TlsServerConfig['maxVersion']
} {
  return {
    cert: tls.cert,
    key: tls.key,
    ...(tls.clientCa !== undefined ? { ca: tls.clientCa } : {}),
    minVersion: tls.minVersion,
    maxVersion: tls.maxVersion,
  }
}

/** crypto/tls ClientAuthType onto OpenSSL's request/verify flags (read by node:tls for each new connection). */
function applyClientAuth(server: HttpsServer, tls: TlsServerConfig): void {
  const s = server as HttpsServer & { requestCert: boolean; rejectUnauthorized: boolean }
  s.requestCert = tls.clientAuth !== 'NoClientCert'
  s.rejectUnauthorized = tls.clientAuth === 'RequireAndVerifyClientCert'
}

/** A request over TLS with a client certificate that verified against client_ca_file. */
function verifiedClient(request: IncomingMessage): boolean {
  const socket = request.socket as Partial<TLSSocket>
  return socket.encrypted === true && socket.authorized === true
}

function unauthorized(response: ServerResponse): void {
  response.writeHead(401, {
    'WWW-Authenticate': 'Basic realm="pjctl exporter", charset="UTF-8"',
    'Content-Type': 'text/plain; charset=utf-8',
    'Cache-Control': 'no-store',
  })
  response.end('Unauthorized\n')
}

/**
 * Basic auth against bcrypt hashes, as exporter-toolkit's handler does it: an unknown user is compared
 * with a fixed hash (the same time as a known one), and each (user, hash, password) outcome is cached,
 * so a scrape every 15 s pays bcrypt once, not every time. bcryptjs compares in slices on the event
 * loop; concurrent requests with the same credentials share one comparison.
 */
class BasicAuth {
  private readonly cache = new Map<string, boolean>()
  private readonly pending = new Map<string, Promise<boolean>>()

  clear(): void {
    this.cache.clear()
  }

  /** true/false when known now, else the comparison under way. */
  check(
    users: ReadonlyMap<string, string>,
    header: string | undefined,
  ): boolean | Promise<boolean> {
    const m = /^basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '')
    if (!m) return false
    const decoded = Buffer.from(m[1] ?? '', 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon < 0) return false
    const user = decoded.slice(0, colon)
    const password = decoded.slice(colon + 1)
    const known = users.get(user)
    const hash = known ?? FAKE_HASH
    const key = createHash('sha256')
      .update(user)
      .update('\0')
      .update(hash)
      .update('\0')
      .update(password)
      .digest('hex')
    const cached = this.cache.get(key)
    if (cached !== undefined) return cached
    let comparing = this.pending.get(key)
    if (!comparing) {
      comparing = bcrypt
        .compare(password, hash)
        .then((same) => {
          const ok = same && known !== undefined
          this.remember(key, ok)
          return ok
        })
        .finally(() => this.pending.delete(key))
      this.pending.set(key, comparing)
    }
    return comparing
  }

  private remember(key: string, ok: boolean): void {
    if (this.cache.size >= AUTH_CACHE_SIZE) {
      const keys = [...this.cache.keys()]
      for (let i = 0; i <= Math.floor(keys.length / 10); i++)
        this.cache.delete(keys[Math.floor(Math.random() * keys.length)] ?? '')
    }
    this.cache.set(key, ok)
  }
}

/** Answers one request; true when it is a /metrics body being sent. */
function answer(
  request: IncomingMessage,
  response: ServerResponse,
  handlers: HttpHandlers,
  authenticated: boolean,
): boolean {
  response.on('error', () => undefined)
  const path = (request.url ?? '/').split('?')[0]
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' })
    response.end('method not allowed\n')
    return false
  }
  if (path === '/metrics') {
    handlers.metrics().then(
      ({ body: plain, gzipped, contentType }) => {
        // Prometheus asks for gzip: a fraction of the body's size, compressed once per render, not per scrape
        const gzip =
          gzipped !== undefined && /\bgzip\b/.test(request.headers['accept-encoding'] ?? '')
        const body = gzip ? gzipped : plain
        let length = 0
        for (const piece of body) length += piece.length
        response.writeHead(200, {
          'Content-Type': contentType,
          'Content-Length': length,
          'Cache-Control': 'no-store',
          Vary: 'Accept-Encoding',
          ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
        })
        if (request.method === 'HEAD') return void response.end()
        // one writev for every piece (they are the render's, immutable: a slow scraper keeps its own body)
        response.cork()
        for (const piece of body) response.write(piece)
        response.end()
      },
      () => {
        response.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' })
        response.end('metrics could not be rendered\n')
      },
    )
    return request.method !== 'HEAD'
  }
  if (path === '/healthz') {
    const { ok, text } = handlers.health(authenticated)
    response.writeHead(ok ? 200 : 503, {
      'Content-Type': 'text/plain; charset=utf-8',
      'Cache-Control': 'no-store',
    })
    response.end(request.method === 'HEAD' ? undefined : `${text}\n`)
    return false
  }
  if (path === '/') {
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' })
    response.end(request.method === 'HEAD' ? undefined : INDEX)
    return false
  }
  response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' })
  response.end('not found: try /metrics or /healthz\n')
  return false
}
