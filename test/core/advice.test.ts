import { describe, expect, it } from 'vitest'
import {
  PHONE_ADVICE,
  PHONE_MODELS,
  adviceFor,
  phoneAdviceFor,
  phoneModelOf,
} from '../../src/core/advice.js'
import { capturedReports, reportOf } from '../helpers/captures.js'

describe('adviceFor on the captures', () => {
  const reports = capturedReports()

  it('FAP003 (full, Grandstream GXP2130): remove_existing and Unregister On Reboot', () => {
    expect(adviceFor(reportOf(reports, 'FAP003'))).toEqual({
      aor: 'FAP003',
      removeExisting:
        'set remove_existing=yes on AOR FAP003: Asterisk then drops the soonest-to-expire contact when a new registration would exceed max_contacts',
      maxContacts: null,
      phone: PHONE_ADVICE.grandstreamDesk,
      userAgent: 'Grandstream GXP2130 1.0.11.3',
    })
    expect(PHONE_ADVICE.grandstreamDesk).toContain('Unregister On Reboot: All')
  })

  it('erin (remove_existing already, one superseded): phone advice only', () => {
    expect(adviceFor(reportOf(reports, 'erin'))).toMatchObject({
      removeExisting: null,
      phone: PHONE_ADVICE.grandstreamDesk,
    })
  })

  it('no advice for ok AORs', () => {
    expect(adviceFor(reportOf(reports, 'carol'))).toBeNull()
    expect(adviceFor(reportOf(reports, 'phone2'))).toBeNull()
  })

  it('near and full AORs get the advice of the model that registered them', () => {
    // phone1's first contact with a user agent (key order) is the Linphone one; bob's the Polycom
    expect(adviceFor(reportOf(reports, 'phone1'))).toMatchObject({
      userAgent: 'Linphone/5.2.5 (belle-sip/5.2.0)',
      phone: phoneAdviceFor('Linphone/5.2.5'),
    })
    expect(phoneModelOf(adviceFor(reportOf(reports, 'bob'))!.userAgent!).id).toMatch(
      /^(polycom|ciscoSpa)$/,
    )
  })

  it('remove_existing=yes and full but nothing superseded: nothing to fix', () => {
    const erin = reportOf(reports, 'erin')
    expect(
      adviceFor({
        ...erin,
        superseded: 0,
        contacts: erin.contacts.map((c) => ({ ...c, status: 'active' as const })),
      }),
    ).toBeNull()
  })

  it('max_contacts 0: set max_contacts, not remove_existing', () => {
    const phone2 = reportOf(reports, 'phone2')
    const advice = adviceFor({ ...phone2, maxContacts: 0, state: 'full', severity: 2 })
    expect(advice).toMatchObject({
      removeExisting: null,
      userAgent: null,
      phone: PHONE_ADVICE.other,
    })
    expect(advice?.maxContacts).toContain('set max_contacts on AOR phone2')
  })
})

describe('phoneAdviceFor', () => {
  it.each([
    ['Grandstream GXP2130 1.0.11.3', PHONE_ADVICE.grandstreamDesk],
    ['Grandstream GXP1628 1.0.7.13', PHONE_ADVICE.grandstreamDesk],
    ['Grandstream GRP2612 1.0.5.67', PHONE_ADVICE.grandstreamDesk],
    ['Grandstream GXV3350 1.0.3.30', PHONE_ADVICE.grandstreamDesk],
    ['Grandstream DP750 1.0.3.37', PHONE_ADVICE.grandstreamDesk],
    ['Grandstream WP810 1.0.11.10', PHONE_ADVICE.grandstreamDesk],
    ['Grandstream Wave 1.0.5.12', PHONE_ADVICE.grandstreamWave],
    ['GS Wave 1.0.4.15', PHONE_ADVICE.grandstreamWave],
    ['Snom D785 10.1.141.13', PHONE_ADVICE.other],
    ['', PHONE_ADVICE.other],
  ])('%j', (ua, advice) => expect(phoneAdviceFor(ua)).toBe(advice))

  it.each([
    ['Grandstream HT802 1.0.43.11', 'grandstreamAta', 'Unregister On Reboot: All'],
    ['Yealink SIP-T46S 66.86.0.15', 'yealink', 'Unregister When Reboot: Enabled'],
    ['PolycomVVX-VVX_411-UA/6.4.3.5018', 'polycom', 'SIP ALG'],
    ['Cisco/SPA504G-7.6.2f', 'ciscoSpa', 'NAT Keep Alive Enable: yes'],
    ['Zoiper rv2.10.20.4', 'zoiper', 'rinstance'],
    ['Bria iOS release 6.8.0', 'bria', 'sign out'],
    ['Linphone/5.2.5 (belle-sip/5.2.0)', 'linphone', 'remove_existing=yes'],
    ['MicroSIP/3.21.3', 'microsip', 'Source Port'],
    ['OBIHAI/OBi202-3.2.2.5921EX', 'obihai', 'local SIP port'],
  ])('%j is a %s: %j', (ua, id, words) => {
    expect(phoneModelOf(ua).id).toBe(id)
    expect(phoneAdviceFor(ua)).toContain(words)
  })

  it('one table: every model has its own advice, and the Wave advice names both settings', () => {
    expect(new Set(PHONE_MODELS.map((m) => m.advice)).size).toBe(PHONE_MODELS.length)
    expect(PHONE_ADVICE.grandstreamWave).toContain('Unregister Before New Registration: All')
    expect(PHONE_ADVICE.grandstreamWave).toContain('Register Expiration within the server')
  })
})
