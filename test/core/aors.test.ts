import { describe, expect, it } from 'vitest'
import { InputError } from '../../src/errors.js'
import { aorConfigFromAorDetail, aorConfigsFromAorList, boolField } from '../../src/core/aors.js'
import { listEvents, readCapture } from '../helpers/captures.js'

describe('aorConfigsFromAorList (PJSIPShowAors)', () => {
  const configs = aorConfigsFromAorList(listEvents(readCapture('pjsipshowaors'), 'AorList'))

  it('reads every AOR of the capture', () => {
    expect(configs.map((c) => c.aor)).toEqual([
      'FAP003',
      'alice',
      'bob',
      'carol',
      'dave',
      'erin',
      'phone1',
      'phone2',
      'wizphone',
    ])
  })

  it('reads limits and flags', () => {
    const byName = new Map(configs.map((c) => [c.aor, c]))
    expect(byName.get('FAP003')).toEqual({
      aor: 'FAP003',
      maxContacts: 2,
      removeExisting: false,
      removeUnavailable: false,
      qualifyFrequency: 0,
      minimumExpiration: 60,
      maximumExpiration: 3600,
      defaultExpiration: 3600,
      source: 'ami',
    })
    expect(byName.get('erin')).toMatchObject({ maxContacts: 2, removeExisting: true })
    expect(byName.get('phone2')).toMatchObject({ maxContacts: 1, removeExisting: true })
    expect(byName.get('carol')).toMatchObject({ maxContacts: 3, qualifyFrequency: 10 })
  })

  it('skips other events and refuses an AorList without ObjectName', () => {
    expect(aorConfigsFromAorList([{ Event: 'AorListComplete', ListItems: '0' }])).toEqual([])
    expect(() => aorConfigsFromAorList([{ Event: 'AorList', MaxContacts: '1' }])).toThrow(
      InputError,
    )
  })

  it('is the same without contacts (pjsipshowaors_no_contacts)', () => {
    expect(
      aorConfigsFromAorList(listEvents(readCapture('pjsipshowaors_no_contacts'), 'AorList')),
    ).toEqual(configs)
  })
})

describe('aorConfigFromAorDetail (PJSIPShowEndpoint)', () => {
  it('reads FAP003', () => {
    const [detail] = listEvents(readCapture('pjsipshowendpoint_FAP003'), 'AorDetail')
    expect(aorConfigFromAorDetail(detail!)).toMatchObject({
      aor: 'FAP003',
      maxContacts: 2,
      removeExisting: false,
      source: 'ami',
    })
  })

  it('reads header names case-insensitively and unknown values as null', () => {
    expect(
      aorConfigFromAorDetail({ objectname: 'x', maxcontacts: 'many', REMOVEEXISTING: 'YES' }),
    ).toMatchObject({
      aor: 'x',
      maxContacts: null,
      removeExisting: true,
      removeUnavailable: null,
    })
  })
})

describe('boolField', () => {
  it.each([
    ['true', true],
    ['yes', true],
    ['False', false],
    ['no', false],
    ['', null],
    ['maybe', null],
    [undefined, null],
  ])('%j → %j', (text, expected) => expect(boolField(text)).toBe(expected))
})
