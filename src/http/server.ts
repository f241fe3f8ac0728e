// The exporter's HTTP side (node:http): GET /metrics serves the last rendered body from memory,
// GET /healthz says whether every server is up. No request ever reaches Asterisk.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface HttpHandlers {
  /** The current exposition body (in pieces, sent one after the other), the same gzip-compressed (when there is one), and its Content-Type. */
  metrics(): { body: readonly Buffer[]; gzipped?: Buffer; contentType: string }
  /** true: 200, else 503; `text` says why. */
  health(): { ok: boolean; text: string }
}

export interface HttpListener {
  /** The port actually bound (for --listen HOST:0). */
  port: number
  /** /metrics answers still being written (a plain 23 MB body takes many turns of the event loop). */
  sending(): number
  close(): Promise<void>
}

const INDEX =
  '<html><head><title>pjctl exporter</title></head><body><h1>pjctl exporter</h1><p><a href="/metrics">/metrics</a> <a href="/healthz">/healthz</a></p></body></html>\n'

/** Listens on host:port; rejects with the socket error (EADDRINUSE, EACCES, ...). */
export function listen(host: string, port: number, handlers: HttpHandlers): Promise<HttpListener> {
  let sending = 0
  const server: Server = createServer((request, response) => {
    if (!answer(request, response, handlers)) return
    sending++
    // 'close' comes once, finished or not (a scraper that went away)
    response.once('close', () => sending--)
  })
  // a client that never finishes its request (or never reads) does not hold the exporter
  server.headersTimeout = 10_000
  server.requestTimeout = 30_000
  server.keepAliveTimeout = 65_000
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve({
        port: (server.address() as AddressInfo).port,
        sending: () => sending,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done())
            server.closeAllConnections()
          }),
      })
    })
  })
}

/** Answers one request; true when it is a /metrics body being sent. */
function answer(
  request: IncomingMessage,
  response: ServerResponse,
  handlers: HttpHandlers,
): boolean {
  response.on('error', () => undefined)
  const path = (request.url ?? '/').split('?')[0]
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' })
    response.end('method not allowed\n')
    return false
  }
  if (path === '/metrics') {
    const { body: plain, gzipped, contentType } = handlers.metrics()
    // Prometheus asks for gzip: a 20 MB body is ~1 MB compressed, compressed once per render, not per scrape
    const gzip = gzipped !== undefined && /\bgzip\b/.test(request.headers['accept-encoding'] ?? '')
    const body = gzip ? [gzipped] : plain
    let length = 0
    for (const piece of body) length += piece.length
    response.writeHead(200, {
      'Content-Type': contentType,
      'Content-Length': length,
      'Cache-Control': 'no-store',
      Vary: 'Accept-Encoding',
      ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
    })
    if (request.method === 'HEAD') {
      response.end()
      return false
    }
    // one writev for every piece (they are the render's, immutable: a slow scraper keeps its own body)
    response.cork()
    for (const piece of body) response.write(piece)
    response.end()
    return true
  }
  if (path === '/healthz') {
    const { ok, text } = handlers.health()
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
