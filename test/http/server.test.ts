// The exporter's HTTP side: /metrics sent as the render's pieces (plain or gzip), and the count of
// /metrics answers still being written (a render shortens its slices meanwhile).
import { get } from 'node:http'
import { gunzipSync, gzipSync } from 'node:zlib'
import { afterEach, describe, expect, it } from 'vitest'
import { listen, type HttpListener } from '../../src/http/server.js'

const pieces = Array.from({ length: 200 }, (_, i) =>
  Buffer.from(`pjctl_aor_contacts{server="s",aor="a${i}"} 1\n`.repeat(2700)),
)
const whole = Buffer.concat(pieces)
let http: HttpListener | null = null

afterEach(async () => {
  await http?.close()
  http = null
})

function fetch(
  port: number,
  headers: Record<string, string> = {},
  read = true,
): Promise<{ headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/metrics', agent: false, headers }, (response) => {
      const chunks: Buffer[] = []
      if (!read) {
        resolve({ headers: response.headers, body: Buffer.alloc(0) })
        return
      }
      response
        .on('data', (d: Buffer) => chunks.push(d))
        .on('end', () => resolve({ headers: response.headers, body: Buffer.concat(chunks) }))
    }).on('error', reject)
  })
}

describe('exporter HTTP listener', () => {
  it('sends the pieces as one body with its Content-Length, or the gzip when asked; counts answers in flight', async () => {
    http = await listen('127.0.0.1', 0, {
      // the gzip in two members (the per-AOR part and the registry's): one stream to the reader
      metrics: async () => ({
        body: pieces,
        gzipped: [
          gzipSync(Buffer.concat(pieces.slice(0, 1))),
          gzipSync(Buffer.concat(pieces.slice(1))),
        ],
        contentType: 'text/plain',
      }),
      health: () => ({ ok: true, text: 'ok' }),
    })
    expect(http.sending()).toBe(0)
    const plain = await fetch(http.port)
    expect(plain.headers['content-length']).toBe(String(whole.length))
    expect(plain.body.equals(whole)).toBe(true)
    const zipped = await fetch(http.port, { 'Accept-Encoding': 'gzip' })
    expect(zipped.headers['content-encoding']).toBe('gzip')
    expect(gunzipSync(zipped.body).equals(whole)).toBe(true)
    await new Promise((r) => setTimeout(r, 20))
    expect(http.sending()).toBe(0)
    // a scraper that does not read: its 24 MB answer (more than loopback buffers hold) stays in flight
    await fetch(http.port, {}, false)
    await new Promise((r) => setTimeout(r, 200))
    expect(http.sending()).toBe(1)
  })
})
