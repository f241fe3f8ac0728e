import { describe, expect, it } from 'vitest'
import { contactFromRow, findKeyEnd, intField } from '../../src/core/contact.js'
import { readCapture } from '../helpers/captures.js'

/** The alice row of the real single-contact dump. */
function aliceRow(): { key: string; value: string } {
  const line = readCapture('cli_database_show_registrar_single').split('\n')[0]
  const prefix = '/registrar/contact/'
  const sep = line!.indexOf(': ', prefix.length)
  return { key: line!.slice(prefix.length, sep), value: line!.slice(sep + 2) }
}

describe('contactFromRow', () => {
  it('parses a real row, keeping every field and the exact value', () => {
    const { key, value } = aliceRow()
    const contact = contactFromRow(key, value)
    if (typeof contact === 'string') throw new Error(contact)
    expect(contact).toMatchObject({
      key: 'alice;@d5408853c3814cad6c134f9836efc3ff',
      aor: 'alice',
      hash: 'd5408853c3814cad6c134f9836efc3ff',
      uri: 'sip:alice@127.0.0.1:5091',
      viaAddr: '127.0.0.1',
      viaPort: 5091,
      userAgent: 'Yealink SIP-T46S 66.86.0.15',
      endpoint: 'alice',
      expirationTime: 1795462258,
    })
    expect(contact.value).toBe(value)
    expect(Object.keys(contact.fields)).toEqual([
      'via_addr',
      'qualify_timeout',
      'qualify_2xx_only',
      'call_id',
      'reg_server',
      'prune_on_boot',
      'path',
      'endpoint',
      'via_port',
      'authenticate_qualify',
      'uri',
      'qualify_frequency',
      'user_agent',
      'expiration_time',
      'outbound_proxy',
    ])
  })

  it('keeps unknown fields and tolerates missing ones', () => {
    const contact = contactFromRow('x;@' + 'a'.repeat(32), '{"uri":"sip:x@h","x_new":"1"}')
    if (typeof contact === 'string') throw new Error(contact)
    expect(contact.fields.x_new).toBe('1')
    expect(contact.viaPort).toBeNull()
    expect(contact.expirationTime).toBeNull()
    expect(contact.userAgent).toBe('')
  })

  it('numbers: via_port and expiration_time, null when not a number', () => {
    const key = 'x;@' + 'b'.repeat(32)
    const c = contactFromRow(key, '{"via_port":"abc","expiration_time":"1.5"}')
    if (typeof c === 'string') throw new Error(c)
    expect(c.viaPort).toBeNull()
    expect(c.expirationTime).toBeNull()
    expect(intField('-1')).toBe(-1)
    expect(intField(' 1')).toBeNull()
    expect(intField('0x10')).toBeNull()
  })

  it.each([
    ['FAP003', '{}', /no `;@`/],
    [';@' + 'a'.repeat(32), '{}', /empty AOR/],
    ['a;@' + 'A'.repeat(32), '{}', /32 lowercase hex/],
    ['a;@' + 'a'.repeat(31), '{}', /32 lowercase hex/],
    ['a;@' + 'a'.repeat(33), '{}', /text after/],
    ['a;@b;@' + 'a'.repeat(32), '{}', /32 lowercase hex/],
    ['a;@' + 'a'.repeat(32), '{"uri":', /not valid JSON/],
    ['a;@' + 'a'.repeat(32), 'hello', /not a JSON object/],
    ['a;@' + 'a'.repeat(32), '[1]', /not a JSON object/],
    ['a;@' + 'a'.repeat(32), ' [1]', /not an object/],
    ['a;@' + 'a'.repeat(32), '{"via_port":5060}', /field "via_port" is not a string/],
    ['a;@' + 'a'.repeat(32), '{"path":null}', /field "path" is not a string/],
    ['a;@' + 'a'.repeat(32), '', /not a JSON object/],
  ])('refuses %j → %j with a reason', (key, value, reason) => {
    const result = contactFromRow(key, value)
    expect(typeof result).toBe('string')
    expect(result).toMatch(reason)
  })

  it('splits on the first `;@`; AOR names may hold - . + _ @ and non-ASCII letters', () => {
    const { value } = aliceRow()
    for (const aor of [
      'FAP-003',
      'phone.1',
      '+4930123456',
      'front_desk',
      'alice@example.com',
      'Müller',
      'Ñandú',
      '東京',
      'ΑΒΓ',
      'a😀b',
      'x;y',
      'a@@b',
    ]) {
      const key = `${aor};@d5408853c3814cad6c134f9836efc3ff`
      const contact = contactFromRow(key, value)
      if (typeof contact === 'string') throw new Error(`${aor}: ${contact}`)
      expect(contact.aor).toBe(aor)
      expect(contact.hash).toBe('d5408853c3814cad6c134f9836efc3ff')
    }
  })

  it('findKeyEnd finds the end of the key from an offset', () => {
    const text = `/registrar/contact/a;@${'c'.repeat(32)}: {}`
    expect(findKeyEnd(text, 19)).toBe(19 + 1 + 34)
  })
})
