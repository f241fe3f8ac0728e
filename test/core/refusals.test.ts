import { describe, expect, it } from 'vitest'
import { buildReports } from '../../src/core/classify.js'
import {
  aorOfRefusal,
  conservativeHeal,
  contactFromStatusDetail,
  eventFilter,
  parseRemoteAddress,
  readClassesFromShowUser,
  refusalFromEvent,
  securityReadHint,
} from '../../src/core/refusals.js'

/** The FailedACL the 22.10.1 lab sent for FAP003's third REGISTER (asterisk-facts.md). */
const FAILED_ACL: Record<string, string> = {
  Event: 'FailedACL',
  Privilege: 'security,all',
  Severity: 'Error',
  Service: 'PJSIP',
  AccountID: 'FAP003',
  SessionID: '5d38171c3469c4a5324d2687@127.0.0.1',
  LocalAddress: 'IPV4/UDP/127.0.0.1/5060',
  RemoteAddress: 'IPV4/UDP/127.0.0.1/41303',
  ACLName: 'registrar_attempt_exceeds_maximum_configured_contacts',
}
const getter = (record: Record<string, string>) => (name: string) => record[name]

describe('refusalFromEvent', () => {
  it('the lab capture: max_contacts, endpoint FAP003, the refused address and Call-ID', () => {
    expect(refusalFromEvent(getter(FAILED_ACL))).toEqual({
      event: 'FailedACL',
      reason: 'max_contacts',
      detail: 'registrar_attempt_exceeds_maximum_configured_contacts',
      endpoint: 'FAP003',
      remote: { family: 'IPV4', transport: 'UDP', ip: '127.0.0.1', port: 41303 },
      remoteText: 'IPV4/UDP/127.0.0.1/41303',
      callId: '5d38171c3469c4a5324d2687@127.0.0.1',
    })
  })

  it.each([
    ['FailedACL', 'ACLName', 'registrar_invalid_contacts_provided', 'invalid_contact'],
    ['FailedACL', 'ACLName', 'registrar_attempt_without_configured_aors', 'no_aor'],
    ['RequestNotSupported', 'RequestType', 'registrar_requested_aor_not_found', 'no_aor'],
    ['FailedACL', 'ACLName', 'registrar_invalid_uri_in_to_received', 'other'],
    ['FailedACL', 'ACLName', 'office_acl', 'other'],
    ['ChallengeResponseFailed', 'Challenge', 'x', 'auth'],
    ['InvalidPassword', 'Challenge', 'x', 'auth'],
    ['InvalidAccountID', 'Challenge', 'x', 'auth'],
  ])('%s %s=%s is %s', (event, header, value, reason) => {
    const refusal = refusalFromEvent(
      getter({ ...FAILED_ACL, Event: event, ACLName: '', [header]: value }),
    )
    expect(refusal?.reason).toBe(reason)
  })

  it('not a refusal: SuccessfulAuth, ChallengeSent, a ContactStatus, an AMI login failure', () => {
    expect(refusalFromEvent(getter({ ...FAILED_ACL, Event: 'SuccessfulAuth' }))).toBeNull()
    expect(refusalFromEvent(getter({ ...FAILED_ACL, Event: 'ChallengeSent' }))).toBeNull()
    expect(refusalFromEvent(getter({ Event: 'ContactStatus' }))).toBeNull()
    expect(
      refusalFromEvent(getter({ ...FAILED_ACL, Event: 'ChallengeResponseFailed', Service: 'AMI' })),
    ).toBeNull()
  })

  it('IPv6 and odd addresses', () => {
    expect(parseRemoteAddress('IPV6/TCP/2001:db8::1/5061')).toEqual({
      family: 'IPV6',
      transport: 'TCP',
      ip: '2001:db8::1',
      port: 5061,
    })
    expect(parseRemoteAddress('garbage')).toBeNull()
  })
})

describe('aorOfRefusal', () => {
  it('one AOR; several: the full one, else the endpoint-named one, else the first', () => {
    expect(aorOfRefusal('FAP003', ['FAP003'])).toBe('FAP003')
    expect(aorOfRefusal('e', [])).toBe('')
    expect(aorOfRefusal('e', ['a', 'b'], (aor) => aor === 'b')).toBe('b')
    expect(aorOfRefusal('b', ['a', 'b'])).toBe('b')
    expect(aorOfRefusal('e', ['a', 'b'])).toBe('a')
  })
})

describe('conservativeHeal', () => {
  const detail = (port: number, extra: Record<string, string>) =>
    contactFromStatusDetail(
      getter({
        AOR: 'FAP003',
        ID: `FAP003;@${String(port).padStart(32, '0')}`,
        URI: `sip:FAP003@127.0.0.1:${port}`,
        UserAgent: 'Grandstream GXP2130',
        RegExpire: '2000000000',
        ViaAddress: `127.0.0.1:${port}`,
        CallID: `call-${port}`,
        EndpointName: 'FAP003',
        Status: 'NonQualified',
        ...extra,
      }),
    )!
  const report = (contacts: ReturnType<typeof detail>[]) =>
    buildReports({
      contacts,
      configs: [],
      now: 1_900_000_000,
      qualify: new Map(contacts.map((c) => [c.key, c.qualify])),
    })[0]

  it("takes the contact with the refused REGISTER's Call-ID and an unreachable one; never a reachable one or another device's", () => {
    const refusal = refusalFromEvent(getter({ ...FAILED_ACL, SessionID: 'call-5071' }))!
    const aor = report([
      detail(5071, {}),
      detail(5075, { UserAgent: 'baresip', Status: 'Reachable' }),
      detail(5076, { UserAgent: 'Yealink', Status: 'Unreachable' }),
      detail(5077, { UserAgent: 'Polycom' }),
    ])
    expect(conservativeHeal(refusal, aor!).map((p) => [p.key.slice(-4), p.why])).toEqual([
      ['5071', 'same-call-id'],
      ['5076', 'unreachable'],
    ])
  })

  it('a superseded contact from the refused IP, not one from another IP', () => {
    const refusal = refusalFromEvent(getter(FAILED_ACL))!
    const aor = report([
      detail(5071, { RegExpire: '1999999000' }),
      detail(5072, {}),
      detail(5081, { ViaAddress: '192.0.2.7:5081', RegExpire: '1999999000', UserAgent: 'X' }),
      detail(5082, { ViaAddress: '192.0.2.7:5082', UserAgent: 'X' }),
    ])
    expect(conservativeHeal(refusal, aor!).map((p) => [p.key.slice(-4), p.why])).toEqual([
      ['5071', 'superseded-same-address'],
    ])
  })
})

describe('the rest', () => {
  it('eventFilter anchors on the event name', () => {
    const regex = new RegExp(eventFilter(['FailedACL', 'ContactStatus']))
    expect(regex.test('Event: FailedACL\r\nPrivilege: security,all\r\n')).toBe(true)
    expect(regex.test('Event: FailedACLs\r\n')).toBe(false)
    expect(regex.test('Event: UserEvent\r\nUserEvent: FailedACL\r\n')).toBe(false)
  })

  it('manager show user → read classes, and the manager.conf line to add', () => {
    const lines = [
      '',
      '          username: pjctl',
      '         read perm: system,command,reporting',
      '        write perm: system',
    ]
    const read = readClassesFromShowUser(lines)
    expect(read).toEqual(['system', 'command', 'reporting'])
    expect(securityReadHint('pjctl', read)).toBe(
      'read = system,command,reporting,security   (in [pjctl] of manager.conf, then: manager reload)',
    )
    expect(readClassesFromShowUser(['There is no manager called x'])).toBeNull()
  })
})
