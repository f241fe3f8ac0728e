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

/**
 * The phone-side fix per device model, chosen by User-Agent: ONE table, shared by `contacts`'
 * and `prune`'s advice and by `doctor`'s findings. First match wins (Wave before the
 * Grandstream desk phones). Setting names as the vendors' own menus spell them.
 */
export interface PhoneModel {
  /** Key for tests and JSON (`grandstreamDesk`, `yealink`, …). */
  id: string
  /** What the model is called in a finding. */
  model: string
  match: RegExp
  advice: string
}

export const PHONE_MODELS: readonly PhoneModel[] = [
  {
    id: 'grandstreamWave',
    model: 'Grandstream Wave',
    match: /^(?:Grandstream|GS) Wave\b/i,
    advice:
      "in Grandstream Wave set Unregister Before New Registration: All, and a Register Expiration within the server's window (600-3600 s is safe with most registrars)",
  },
  {
    id: 'grandstreamDesk',
    model: 'Grandstream desk phone',
    match: /^Grandstream (?:GXP|GRP|GXV|DP|WP)\d/i,
    advice: "on the phone set Unregister On Reboot: All (in the account's SIP settings)",
  },
  {
    id: 'grandstreamAta',
    model: 'Grandstream ATA',
    match: /^Grandstream (?:HT|GXW)\d/i,
    advice: "on the ATA set Unregister On Reboot: All (in the FXS port's SIP settings)",
  },
  {
    id: 'yealink',
    model: 'Yealink',
    match: /^Yealink\b/i,
    advice:
      'on the phone set Account > Advanced > Unregister When Reboot: Enabled (account.X.unregister_on_reboot = 1)',
  },
  {
    id: 'polycom',
    model: 'Polycom',
    match: /^Polycom/i,
    advice:
      "a Polycom refreshes the same contact after a reboot unless a NAT gives it a new port: turn off the router's SIP ALG, keep the NAT binding alive (keep-alives shorter than its UDP timeout), and rely on remove_existing=yes",
  },
  {
    id: 'ciscoSpa',
    model: 'Cisco SPA',
    match: /^Cisco\/SPA|^Cisco SPA|^Linksys\/SPA/i,
    advice:
      "on the Cisco SPA (Ext N) keep a fixed SIP Port and NAT Keep Alive Enable: yes, and Register Expires within the server's window, so a reboot or NAT rebinding refreshes the same contact",
  },
  {
    id: 'zoiper',
    model: 'Zoiper',
    match: /^Zoiper\b/i,
    advice:
      'Zoiper registers a new contact (new port and ;rinstance=) after every restart or network change and leaves the old one: quit it from its menu (it unregisters on exit) and rely on remove_existing=yes for network changes',
  },
  {
    id: 'bria',
    model: 'Bria',
    match: /^Bria\b|^CounterPath/i,
    advice:
      'Bria registers a new contact (new ;rinstance=) after a restart or network change: sign out before quitting, and rely on remove_existing=yes for network changes',
  },
  {
    id: 'linphone',
    model: 'Linphone',
    match: /^Linphone/i,
    advice:
      "Linphone registers from a new port after a network change: keep its registration expiry within the server's window and rely on remove_existing=yes",
  },
  {
    id: 'microsip',
    model: 'MicroSIP',
    match: /^MicroSIP\b/i,
    advice:
      'in MicroSIP set a fixed Source Port (Settings) so a restart refreshes the same contact',
  },
  {
    id: 'obihai',
    model: 'OBihai',
    match: /^OBIHAI\b/i,
    advice:
      "on the OBi keep the SP service's registration period within the server's window and a fixed local SIP port, so a reboot refreshes the same contact",
  },
]

const OTHER: PhoneModel = {
  id: 'other',
  model: 'other',
  match: /$^/,
  advice: 'configure the phone to unregister before re-registering',
}

function adviceOf(id: string): string {
  return PHONE_MODELS.find((m) => m.id === id)?.advice ?? OTHER.advice
}

/** The advice texts by model id (the ones tests and older callers name). */
export const PHONE_ADVICE = {
  grandstreamDesk: adviceOf('grandstreamDesk'),
  grandstreamWave: adviceOf('grandstreamWave'),
  other: OTHER.advice,
} as const

/** The model rows of the user agents seen (a server has a few dozen; a plan asks once per AOR). */
const MODEL_OF = new Map<string, PhoneModel>()

/** The model row for a user agent ('other' when none matches). */
export function phoneModelOf(userAgent: string): PhoneModel {
  let model = MODEL_OF.get(userAgent)
  if (model === undefined) {
    model = PHONE_MODELS.find((m) => m.match.test(userAgent)) ?? OTHER
    if (MODEL_OF.size < 4096) MODEL_OF.set(userAgent, model)
  }
  return model
}

/** The phone-side setting for a user agent. */
export function phoneAdviceFor(userAgent: string): string {
  return phoneModelOf(userAgent).advice
}

function removeExistingAdvice(aor: string): string {
  return (
    `set remove_existing=yes on AOR ${aor}: Asterisk then drops the soonest-to-expire contact ` +
    'when a new registration would exceed max_contacts'
  )
}

function maxContactsAdvice(aor: string): string {
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
 * (nothing left to fix), and null for an orphaned AOR (it does not exist). max_contacts 0 gets `maxContacts`
 * advice instead of remove_existing.
 */
export function adviceFor(report: AorReport): Advice | null {
  // no configuration to fix for an AOR that does not exist: its contacts are for pjctl prune
  if (report.state === 'orphaned') return null
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
