import { describe, expect, it } from 'vitest'
import { PHONE_ADVICE, adviceFor, phoneAdviceFor } from '../../src/core/advice.js'
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
    expect(adviceFor(reportOf(reports, 'erin'))).toMatchObject({ removeExisting: null, phone: PHONE_ADVICE.grandstreamDesk })
  })

  it('no advice for ok AORs', () => {
    expect(adviceFor(reportOf(reports, 'carol'))).toBeNull()
    expect(adviceFor(reportOf(reports, 'phone2'))).toBeNull()
  })

  it('near and full AORs with other phones get the generic advice', () => {
    expect(adviceFor(reportOf(reports, 'phone1'))?.phone).toBe('configure the phone to unregister before re-registering')
    expect(adviceFor(reportOf(reports, 'bob'))?.phone).toBe(PHONE_ADVICE.other)
  })

  it('remove_existing=yes and full but nothing superseded: nothing to fix', () => {
    const erin = reportOf(reports, 'erin')
    expect(adviceFor({ ...erin, superseded: 0, contacts: erin.contacts.map((c) => ({ ...c, status: 'active' as const })) })).toBeNull()
  })

  it('max_contacts 0: set max_contacts, not remove_existing', () => {
    const phone2 = reportOf(reports, 'phone2')
    const advice = adviceFor({ ...phone2, maxContacts: 0, state: 'full', severity: 2 })
    expect(advice).toMatchObject({ removeExisting: null, userAgent: null, phone: PHONE_ADVICE.other })
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
    ['Grandstream HT802 1.0.43.11', PHONE_ADVICE.other],
    ['Yealink SIP-T46S 66.86.0.15', PHONE_ADVICE.other],
    ['Zoiper rv2.10.20.4', PHONE_ADVICE.other],
    ['', PHONE_ADVICE.other],
  ])('%j', (ua, advice) => expect(phoneAdviceFor(ua)).toBe(advice))

  it('Wave advice names both settings', () => {
    expect(PHONE_ADVICE.grandstreamWave).toContain('Unregister Before New Registration: Unregister All')
    expect(PHONE_ADVICE.grandstreamWave).toContain('Register Expiration')
  })
})
