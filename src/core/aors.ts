// AOR configuration from AMI list events, given as plain records
// (header name → first value), e.g. `{ Event: 'AorList', ObjectName: 'FAP003', MaxContacts: '2', ... }`.

import { InputError } from '../errors.js'
import { intField } from './contact.js'
import type { AorConfig } from './types.js'

type AmiRecord = Readonly<Record<string, string>>

/** A header's value: exact name first, then case-insensitive (AMI header names are case-insensitive). */
function header(item: AmiRecord, name: string): string | undefined {
  if (Object.hasOwn(item, name)) return item[name]
  const lower = name.toLowerCase()
  for (const key of Object.keys(item)) {
    if (key.toLowerCase() === lower) return item[key]
  }
  return undefined
}

/** `true/yes` → true, `false/no` → false (any case); anything else → null. */
export function boolField(value: string | undefined): boolean | null {
  switch (value?.trim().toLowerCase()) {
    case 'true':
    case 'yes':
      return true
    case 'false':
    case 'no':
      return false
    default:
      return null
  }
}

function intHeader(item: AmiRecord, name: string): number | null {
  return intField(header(item, name)?.trim())
}

/** The fields AorList (PJSIPShowAors) and AorDetail (PJSIPShowEndpoint) share. */
function aorConfigFromRecord(item: AmiRecord, event: string): AorConfig {
  const aor = header(item, 'ObjectName')
  if (aor === undefined || aor === '')
    throw new InputError(`an AMI ${event} event has no ObjectName`)
  return {
    aor,
    maxContacts: intHeader(item, 'MaxContacts'),
    removeExisting: boolField(header(item, 'RemoveExisting')),
    removeUnavailable: boolField(header(item, 'RemoveUnavailable')),
    qualifyFrequency: intHeader(item, 'QualifyFrequency'),
    minimumExpiration: intHeader(item, 'MinimumExpiration'),
    maximumExpiration: intHeader(item, 'MaximumExpiration'),
    defaultExpiration: intHeader(item, 'DefaultExpiration'),
    source: 'ami',
  }
}

/** Items whose `Event` is `event`; items without an Event header are taken as such. */
function eventsNamed(items: readonly AmiRecord[], event: string): AmiRecord[] {
  return items.filter((item) => {
    const name = header(item, 'Event')
    return name === undefined || name === event
  })
}

/** PJSIPShowAors `AorList` events → one AorConfig each (other events, e.g. AorListComplete, are skipped). */
export function aorConfigsFromAorList(items: readonly AmiRecord[]): AorConfig[] {
  return eventsNamed(items, 'AorList').map((item) => aorConfigFromRecord(item, 'AorList'))
}

/** PJSIPShowEndpoint's `AorDetail` event → AorConfig. */
export function aorConfigFromAorDetail(item: AmiRecord): AorConfig {
  return aorConfigFromRecord(item, 'AorDetail')
}
