// The AMI framer over the real Asterisk 22 captures, split at every boundary; and the header guard.
import { StringDecoder } from 'node:string_decoder'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { AmiFramer, ChunkDecoder, Message, assertHeaderSafe, release } from '../../src/ami/wire.js'
import { AmiError, HeaderInjectionError } from '../../src/errors.js'
import { readCapture } from '../helpers/captures.js'

interface Framed {
  banner: string | null
  messages: [string, string][][]
  bodies: (string[] | null)[]
  sunk: string[]
}

function frame(chunks: string[], sinkIds: string[] = []): Framed {
  const out: Framed = { banner: null, messages: [], bodies: [], sunk: [] }
  const framer = new AmiFramer({
    banner: (v) => (out.banner = v),
    message: (m: Message) => {
      out.messages.push(m.names.map((n, i) => [n, m.values[i]!]))
      out.bodies.push(m.body)
    },
    sinkFor: (id) => (sinkIds.includes(id) ? (line) => out.sunk.push(line) : undefined),
  })
  for (const chunk of chunks) framer.push(chunk)
  return out
}

/**
 * Socket chunks as the session hands them to the framer: the Buffers decoded as UTF-8 by one
 * StringDecoder (a character split across chunks kept whole, bad bytes as U+FFFD). Arbitrary bytes
 * through it are every text the framer can be given, and fast-check makes bytes far faster than strings.
 */
function decoded(chunks: Uint8Array[]): string[] {
  const decoder = new StringDecoder('utf8')
  return chunks.map((chunk) => decoder.write(Buffer.from(chunk)))
}

const CAPTURES = [
  'banner_login_success',
  'cmd_database_show_registrar_contact',
  'dbgettree_registrar_contact',
  'pjsipshowcontacts_empty',
  'pjsipshowendpoint_missing',
  'pjsipshowaors',
  'events_during_registrations',
  'login_failure',
]

describe('AmiFramer on real captures', () => {
  it('frames the Command answer: 13 contact lines and the count line, with their ActionID', () => {
    const out = frame([readCapture('cmd_database_show_registrar_contact')])
    expect(out.banner).toBe('11.0.0')
    const answer = out.messages.find((m) =>
      m.some(([n, v]) => n === 'ActionID' && v === 'pjctl-lab-cmd_database_show_registrar_contact'),
    )!
    const output = answer.filter(([n]) => n === 'Output').map(([, v]) => v)
    expect(output).toHaveLength(14)
    expect(output[13]).toBe('13 results found.')
    expect(output[0]).toMatch(
      /^\/registrar\/contact\/FAP003;@2512e2a83aa83c6e73da53588ebb2d0e: \{"via_addr"/,
    )
  })

  it('streams Output lines to the sink of their ActionID instead of keeping them', () => {
    const out = frame(
      [readCapture('cmd_database_show_registrar_contact')],
      ['pjctl-lab-cmd_database_show_registrar_contact'],
    )
    expect(out.sunk).toHaveLength(14)
    const answer = out.messages.find((m) =>
      m.some(([, v]) => v === 'pjctl-lab-cmd_database_show_registrar_contact'),
    )!
    expect(answer.map(([n]) => n)).toEqual(['Response', 'ActionID', 'Message'])
  })

  it('accepts the bare-LF message endings Asterisk really sends', () => {
    const out = frame([readCapture('pjsipshowcontacts_empty')])
    const error = out.messages.find((m) => m.some(([n, v]) => n === 'Response' && v === 'Error'))!
    expect(error).toContainEqual(['Message', 'No Contacts found'])
    expect(out.messages.at(-1)).toContainEqual(['Response', 'Goodbye'])
  })

  it('keeps a header value that contains ": " whole', () => {
    const out = frame([readCapture('dbgettree_registrar_contact')])
    const dave = out.messages.find((m) => m.some(([n, v]) => n === 'Key' && v.includes('dave;@')))!
    const val = dave.find(([n]) => n === 'Val')![1]
    expect(JSON.parse(val).path).toContain('received=sip:127.0.0.1:61234')
  })

  it('frames Asterisk 13 `Response: Follows` bodies up to --END COMMAND--', () => {
    const text =
      'Asterisk Call Manager/2.10.6\r\nResponse: Follows\r\nPrivilege: Command\r\nActionID: a1\r\n/registrar/contact/x;@0123456789abcdef0123456789abcdef: {"a":"b: c"}\n1 results found.\n--END COMMAND--\r\n\r\n'
    const out = frame([text])
    expect(out.messages[0]).toEqual([
      ['Response', 'Follows'],
      ['Privilege', 'Command'],
      ['ActionID', 'a1'],
    ])
    expect(out.bodies[0]).toEqual([
      '/registrar/contact/x;@0123456789abcdef0123456789abcdef: {"a":"b: c"}',
      '1 results found.',
    ])
  })

  it('refuses a peer that is not AMI (an HTTP server)', () => {
    expect(() => frame(['HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'])).toThrow(AmiError)
    expect(() => frame(['HTTP/1.1 400 Bad Request\r\n'])).toThrow(
      /not an Asterisk manager interface/,
    )
  })

  it('property: any split of a real capture into chunks frames to the same messages', () => {
    for (const name of CAPTURES) {
      const text = readCapture(name)
      const whole = frame([text])
      fc.assert(
        fc.property(
          fc.uniqueArray(fc.integer({ min: 1, max: text.length - 1 }), { maxLength: 40 }),
          (cuts) => {
            const sorted = [...cuts].sort((a, b) => a - b)
            const chunks = [0, ...sorted].map((start, i) =>
              text.slice(start, sorted[i] ?? text.length),
            )
            expect(frame(chunks)).toEqual(whole)
          },
        ),
        { numRuns: 150 },
      )
    }
  })

  it('property: arbitrary bytes after a banner never crash or hang the framer', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }), (chunks) => {
        const out = frame(['Asterisk Call Manager/11.0.0\r\n', ...decoded(chunks)])
        for (const message of out.messages) expect(message.length).toBeGreaterThan(0)
      }),
      { numRuns: 500 },
    )
  })

  it('property: arbitrary bytes instead of a banner give an AmiError or wait for more, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        try {
          frame(decoded([bytes]))
        } catch (error) {
          expect(error).toBeInstanceOf(AmiError)
        }
      }),
      { numRuns: 500 },
    )
  })
})

/** Frames with a row hook that takes every row: the rows it took, and the messages that were left. */
function frameRows(
  chunks: string[],
  take: (actionId: string) => boolean = () => true,
): { rows: [string, string, string][]; messages: [string, string][][] } {
  const out = { rows: [] as [string, string, string][], messages: [] as [string, string][][] }
  const framer = new AmiFramer({
    banner: () => undefined,
    message: (m: Message) => out.messages.push(m.names.map((n, i) => [n, m.values[i]!])),
    sinkFor: () => undefined,
    row: (actionId, key, value) => {
      if (!take(actionId)) return false
      out.rows.push([actionId, key, value])
      return true
    },
  })
  for (const chunk of chunks) framer.push(chunk)
  return out
}

/** The rows a DBGetTree answer holds, read from whole messages: its DBGetTreeResponse events. */
function rowsOf(messages: [string, string][][]): [string, string, string][] {
  return messages
    .filter((m) => m[0]?.[0] === 'Event' && m[0][1] === 'DBGetTreeResponse')
    .map((m) => {
      const get = (name: string): string => m.find(([n]) => n === name)?.[1] ?? '?'
      return [get('ActionID'), get('Key'), get('Val')]
    })
}

describe('AmiFramer: DBGetTree rows handed over without a message', () => {
  const capture = readCapture('dbgettree_registrar_contact')
  const whole = frame([capture]).messages

  it('any split of the real capture gives the same rows, and every other message unchanged', () => {
    const rows = rowsOf(whole)
    expect(rows.length).toBe(13)
    const others = whole.filter((m) => m[0]?.[1] !== 'DBGetTreeResponse')
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: capture.length - 1 }), { maxLength: 40 }),
        (cuts) => {
          const sorted = [...cuts].sort((a, b) => a - b)
          const chunks = [0, ...sorted].map((start, i) =>
            capture.slice(start, sorted[i] ?? capture.length),
          )
          expect(frameRows(chunks)).toEqual({ rows, messages: others })
        },
      ),
      { numRuns: 300 },
    )
  })

  it('a row nobody takes (another ActionID) arrives as a message, as before', () => {
    expect(frameRows([capture], () => false)).toEqual({ rows: [], messages: whole })
  })

  it.each([
    [
      'an extra header',
      'Event: DBGetTreeResponse\r\nPrivilege: x\r\nKey: k\r\nVal: v\r\nActionID: a\r\n\r\n',
    ],
    ['a lower-case header', 'Event: DBGetTreeResponse\r\nkey: k\r\nVal: v\r\nActionID: a\r\n\r\n'],
    ['no ActionID', 'Event: DBGetTreeResponse\r\nKey: k\r\nVal: v\r\n\r\n'],
    [
      'a repeated Val',
      'Event: DBGetTreeResponse\r\nKey: k\r\nVal: v\r\nVal: w\r\nActionID: a\r\n\r\n',
    ],
    ['a bare LF inside', 'Event: DBGetTreeResponse\r\nKey: k\nVal: v\r\nActionID: a\r\n\r\n'],
    [
      'a header without a space',
      'Event: DBGetTreeResponse\r\nKey:k\r\nVal: v\r\nActionID: a\r\n\r\n',
    ],
  ])('a row with %s is framed line by line, exactly as without the hook', (_, text) => {
    const banner = 'Asterisk Call Manager/11.0.0\r\n'
    expect(frameRows([banner, text])).toEqual({
      rows: [],
      messages: frame([banner, text]).messages,
    })
  })
})

describe('ChunkDecoder', () => {
  it('property: any bytes in any chunks decode as one UTF-8 StringDecoder decodes them, chunk by chunk', () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 40 }),
      fc
        .constantFrom('Jürgen', '電話', '😀', 'plain ascii')
        .map((t) => new TextEncoder().encode(t)),
    )
    fc.assert(
      fc.property(fc.array(bytes, { maxLength: 12 }), (chunks) => {
        const ours = new ChunkDecoder()
        expect(chunks.map((c) => ours.write(Buffer.from(c)))).toEqual(decoded(chunks))
      }),
      { numRuns: 1000 },
    )
  })

  it('a character cut before an ASCII chunk is still reported as U+FFFD', () => {
    const ours = new ChunkDecoder()
    expect([ours.write(Buffer.from([0x61, 0xc3])), ours.write(Buffer.from('bc'))]).toEqual([
      'a',
      '\ufffdbc',
    ])
  })
})

describe('release', () => {
  it('empties a chunk that is its whole ArrayBuffer, after its text was taken (a half character kept)', () => {
    const decoder = new ChunkDecoder()
    const chunk = Buffer.alloc(65536, 0x61)
    chunk[65535] = 0xc3
    const text = decoder.write(chunk)
    release(chunk)
    expect(chunk.length).toBe(0)
    expect(chunk.buffer.byteLength).toBe(0)
    expect(text).toBe('a'.repeat(65535))
    expect(decoder.write(Buffer.from([0xbc]))).toBe('ü')
  })

  it('leaves a chunk that shares its ArrayBuffer (a pooled or TLS slice) alone', () => {
    const pooled = Buffer.from('Response: Success\r\n')
    const shared = Buffer.alloc(64).subarray(0, 32)
    release(pooled)
    release(shared)
    expect(pooled.toString()).toBe('Response: Success\r\n')
    expect(shared.length).toBe(32)
  })
})

describe('assertHeaderSafe', () => {
  it.each([['FAP003\r\nAction: DBDelTree'], ['a\nb'], ['nul\0byte'], ['\r']])(
    'refuses %j',
    (value) => {
      expect(() => assertHeaderSafe('Key', value)).toThrow(HeaderInjectionError)
      expect(() => assertHeaderSafe('Key', value)).toThrow(/AMI header injection/)
    },
  )

  it('shows the bad character escaped, never raw', () => {
    try {
      assertHeaderSafe('Key', 'x\r\ny')
    } catch (error) {
      expect((error as Error).message).toContain('x\\r\\ny')
      expect((error as Error).message).not.toMatch(/[\r\n]/)
    }
  })

  it('passes ordinary values, odd AOR names included', () => {
    for (const value of [
      'FAP003;@2512e2a83aa83c6e73da53588ebb2d0e',
      'sales-1.desk+x_y@corp',
      'Müller',
      '{"a":"b: c"}',
    ]) {
      expect(() => assertHeaderSafe('Key', value)).not.toThrow()
    }
  })
})
