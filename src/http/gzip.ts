// The /metrics body gzip-compressed once per render, and a small part (the process's own metrics)
// appended for each scrape, as ONE gzip member: the big part is raw deflate ending on a byte boundary
// without a final block (Z_SYNC_FLUSH), the small part an independent final deflate stream after it,
// and the trailer's CRC-32 is the big part's carried on over the small one. Several gzip members
// would be valid (RFC 1952) and Prometheus reads them all, but curl --compressed stops after the first.

import * as zlib from 'node:zlib'

/** The big part: raw deflate, not final; its CRC-32 and length. */
export interface OpenDeflate {
  deflated: Buffer
  crc: number
  size: number
}

const HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff])

/** Compresses the pieces in libuv's thread pool (level 1: the repetitive exposition text shrinks many times over), and their CRC-32 between turns of the event loop. */
export async function deflateOpen(chunks: readonly Buffer[]): Promise<OpenDeflate> {
  const deflated = new Promise<Buffer>((resolve, reject) => {
    const out: Buffer[] = []
    const stream = zlib.createDeflateRaw({ level: 1, finishFlush: zlib.constants.Z_SYNC_FLUSH })
    stream.on('data', (data: Buffer) => out.push(data))
    stream.on('end', () => resolve(Buffer.concat(out)))
    stream.on('error', reject)
    for (const chunk of chunks) stream.write(chunk)
    stream.end()
  })
  let crc = 0
  let size = 0
  for (const [i, chunk] of chunks.entries()) {
    crc = crc32(chunk, crc)
    size += chunk.length
    if ((i & 63) === 63) await new Promise<void>((resolve) => setImmediate(resolve))
  }
  return { deflated: await deflated, crc, size }
}

/** The small part compressed on its own (final), to follow an OpenDeflate. */
export function deflateTail(plain: Buffer): Buffer {
  return zlib.deflateRawSync(plain, { level: 1 })
}

/** One gzip member: header, the big part, the small part, the trailer. */
export function gzipMember(open: OpenDeflate, tail: { plain: Buffer; deflated: Buffer }): Buffer[] {
  const trailer = Buffer.alloc(8)
  trailer.writeUInt32LE(crc32(tail.plain, open.crc) >>> 0, 0)
  trailer.writeUInt32LE((open.size + tail.plain.length) % 2 ** 32, 4)
  return [HEADER, open.deflated, tail.deflated, trailer]
}

/** zlib's CRC-32 (Node 20.15 and later), else a table in JS. */
function crc32(data: Buffer, value: number): number {
  // zlib's crc32() with no buffer returns its initial value, 0: Node passes none for an empty Buffer
  // whose memory was never allocated, so the CRC carried so far would be lost
  if (data.length === 0) return value
  const native = (zlib as { crc32?: (data: Buffer, value?: number) => number }).crc32
  if (native) return native(data, value)
  let c = ~value >>> 0
  // eslint-disable-next-line @typescript-eslint/no-non-null-assertion -- a byte indexes the 256 entries
  for (const byte of data) c = TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8)
  return ~c >>> 0
}

const TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})
