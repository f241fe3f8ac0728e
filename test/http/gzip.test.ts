// The /metrics gzip: the render's deflate (not final) and a scrape's small part make one gzip member,
// which a reader that stops after the first member (curl --compressed) reads whole.
import { crc32, gunzipSync, inflateRawSync } from 'node:zlib'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { deflateOpen, deflateTail, gzipMember } from '../../src/http/gzip.js'

describe('gzip of a rendered body and a fresh tail', () => {
  it('is one member whose deflate, CRC-32 and length cover both parts', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 3000 }), { maxLength: 20 }),
        fc.uint8Array({ maxLength: 3000 }),
        async (pieces, tailBytes) => {
          const chunks = pieces.map((p) => Buffer.from(p))
          const plain = Buffer.from(tailBytes)
          const whole = Buffer.concat([...chunks, plain])
          const member = Buffer.concat(
            gzipMember(await deflateOpen(chunks), { plain, deflated: deflateTail(plain) }),
          )
          expect(gunzipSync(member).equals(whole)).toBe(true)
          // one deflate stream from the header to the trailer: nothing after its final block
          expect(inflateRawSync(member.subarray(10, -8)).equals(whole)).toBe(true)
          expect(member.readUInt32LE(member.length - 8)).toBe(crc32(whole))
          expect(member.readUInt32LE(member.length - 4)).toBe(whole.length)
        },
      ),
      { numRuns: 100 },
    )
  })
})
