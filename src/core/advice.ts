// The lasting fix for an AOR that fills up with stale contacts, as data.

import type { AorReport, ClassifiedContact } from './types.js'

export interface Advice {
  aor: string
  /** The AOR-side fix; null when remove_existing is already yes or max_contacts is 0. */
  removeExisting: string | null
  /** Set when max_contacts is 0 (or less): Asterisk refuses every registration to this AOR. */
  maxContacts: string | null
  /** The phone-side setting, chosen by user agent. */
  phone: string
  /** The user agent the phone advice was chosen for; null when no contact sent one. */
  userAgent: string | null
}

/** Grandstream Wave softphone (`Grandstream Wave …`, `GS Wave …`). */
const GRANDSTREAM_WAVE = /^(?:Grandstream|GS) Wave\b/i
/** Grandstream desk/DECT/Wi-Fi phones: GXP, GRP, GXV, DP, WP models. */
const GRANDSTREAM_DESK = /^Grandstream (?:GXP|GRP|GXV|DP|WP)\d/i

export const PHONE_ADVICE = {
  grandstreamDesk: "on the phone set Unregister On Reboot: All (in the account's SIP settings)",
  grandstreamWave:
    'in Grandstream Wave set Unregister Before New Registration: Unregister All, and a shorter Register Expiration',
  other: 'configure the phone to unregister before re-registering',
} as const

/** The phone-side setting for a user agent. */
export function phoneAdviceFor(userAgent: string): string {
  if (GRANDSTREAM_WAVE.test(userAgent)) return PHONE_ADVICE.grandstreamWave
  if (GRANDSTREAM_DESK.test(userAgent)) return PHONE_ADVICE.grandstreamDesk
  return PHONE_ADVICE.other
}

export function removeExistingAdvice(aor: string): string {
  return (
    `set remove_existing=yes on AOR ${aor}: Asterisk then drops the soonest-to-expire contact ` +
    'when a new registration would exceed max_contacts'
  )
}

export function maxContactsAdvice(aor: string): string {
  return (
    `set max_contacts on AOR ${aor} to the number of devices that register to it: ` +
    'with max_contacts=0 Asterisk refuses every registration'
  )
}

/** The user agent to advise for: the device leaving stale (superseded) contacts first, else any contact's. */
function adviceUserAgent(contacts: readonly ClassifiedContact[]): string | null {
  const superseded = contacts.find((c) => c.status === 'superseded' && c.userAgent !== '')
  return (superseded ?? contacts.find((c) => c.userAgent !== ''))?.userAgent ?? null
}

const CROWDED = new Set(['near', 'full', 'over'])

/**
 * Advice for an AOR with superseded contacts or in state near/full/over; null otherwise,
 * and null when remove_existing is already yes, max_contacts is set and nothing is superseded
 * (nothing left to fix). max_contacts 0 gets `maxContacts` advice instead of remove_existing.
 */
export function adviceFor(report: AorReport): Advice | null {
  if (report.superseded === 0 && !CROWDED.has(report.state)) return null
  const noLimit = report.maxContacts !== null && report.maxContacts <= 0
  const hasRemoveExisting = report.removeExisting === true
  if (hasRemoveExisting && report.superseded === 0 && !noLimit) return null
  const userAgent = adviceUserAgent(report.contacts)
  return {
    aor: report.aor,
    removeExisting: hasRemoveExisting || noLimit ? null : removeExistingAdvice(report.aor),
    maxContacts: noLimit ? maxContactsAdvice(report.aor) : null,
    phone: userAgent === null ? PHONE_ADVICE.other : phoneAdviceFor(userAgent),
    userAgent,
  }
}
