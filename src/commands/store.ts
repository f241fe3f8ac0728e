// Where this server keeps its contacts (sorcery.conf's `contact` mapping, read over AMI GetConfig), and
// the one refusal every command gives when pjctl cannot read that place: exit 3 naming sorcery.conf and
// the mapping, never 0 contacts read from the wrong place.

import type { AmiSession } from '../ami/types.js'
import {
  contactMapping,
  describePlace,
  realtimeFamily,
  type ContactMapping,
  type ContactPlace,
} from '../core/sorcery.js'
import { CONTACT_FAMILY } from '../core/types.js'
import { ContactStoreError, PermissionError, UnknownActionError } from '../errors.js'
import type { Deps } from './types.js'

export interface ContactLocation {
  mapping: ContactMapping
  place: ContactPlace
  /** sorcery.conf could not be read (GetConfig refused): res_pjsip's default is assumed, and why. */
  assumed: string | null
}

/** res_pjsip's default place, as if sorcery.conf said nothing. */
export const DEFAULT_LOCATION: ContactLocation = {
  mapping: contactMapping(null),
  place: { kind: 'astdb', family: CONTACT_FAMILY },
  assumed: null,
}

/** The places pjctl reads itself; any other realtime driver is refused with exit 3. */
export const READABLE_DRIVERS: readonly string[] = []

/**
 * GetConfig sorcery.conf (and extconfig.conf for a realtime mapping) on `session`, and where contacts
 * live. Throws ContactStoreError (exit 3) when pjctl cannot read that place.
 */
export async function locateContacts(
  session: AmiSession,
  _deps: Deps,
  drivers: readonly string[] = READABLE_DRIVERS,
): Promise<ContactLocation> {
  let sorcery
  try {
    sorcery = await session.getConfig('sorcery.conf')
  } catch (error) {
    if (!(error instanceof PermissionError || error instanceof UnknownActionError)) throw error
    const mapping = contactMapping(null)
    return {
      mapping,
      place: mapping.place!,
      assumed: `cannot read sorcery.conf to learn where contacts live (${error.message})`,
    }
  }
  const family = realtimeFamily(sorcery?.categories ?? null)
  const extconfig = family === null ? null : await session.getConfig('extconfig.conf')
  const mapping = contactMapping(sorcery?.categories ?? null, extconfig?.categories ?? null)
  if (!mapping.place) throw cannotReadPlace(mapping)
  if (mapping.place.kind === 'realtime' && !drivers.includes(mapping.place.driver))
    throw cannotReadPlace({
      ...mapping,
      why: `pjctl reads realtime contacts from ${drivers.join(', ')} only, not ${mapping.place.driver}`,
    })
  return { mapping, place: mapping.place, assumed: null }
}

/** The one line: `sorcery.conf [res_pjsip] contact=memory: contacts live only in Asterisk's memory; pjctl cannot read them`. */
export function cannotReadPlace(mapping: ContactMapping): ContactStoreError {
  return new ContactStoreError(
    `sorcery.conf [res_pjsip] ${mapping.described}: ${mapping.why}; pjctl cannot read these contacts`,
    'pjctl reads contacts from astdb (any family) and PostgreSQL realtime (ps_contacts); nothing was read or changed',
  )
}

/**
 * sorcery.conf could not be read and the default place holds no contact: that may be an empty PBX, or
 * contacts kept elsewhere; pjctl does not guess.
 */
export function assumedPlaceEmpty(location: ContactLocation, user: string): ContactStoreError {
  return new ContactStoreError(
    `${location.assumed}, and astdb ${CONTACT_FAMILY} (res_pjsip's default) holds no contact: they may live elsewhere`,
    `give [${user}] write=config (or system) in manager.conf so pjctl can read sorcery.conf`,
  )
}

/** The `family` a backup entry of this place carries: the astdb family, or `realtime:<table>`. */
export function backupFamilyOf(place: ContactPlace): string {
  return place.kind === 'astdb' ? place.family : `realtime:${place.table}`
}

/** `astdb registrar/contact (sorcery.conf: contact=astdb,registrar, res_pjsip's default)` for doctor and --debug. */
export function whereContactsLive(location: ContactLocation): string {
  const where = describePlace(location.place)
  if (location.assumed) return `${where} (assumed: ${location.assumed})`
  return `${where} (sorcery.conf: ${location.mapping.described})`
}
