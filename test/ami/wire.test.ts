// The AMI framer over the real Asterisk 22 captures, split at every boundary; and the header guard.
import { StringDecoder } from 'node:string_decoder'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { AmiFramer, Message, assertHeaderSafe } from '../../src/ami/wire.js'
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
