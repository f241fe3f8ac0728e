// The registrar of res_pjsip_registrar.c over the astdb family registrar/contact:
// expired contacts are deleted first, a known URI is refreshed, a new URI counts against
// max_contacts (remove_unavailable, then remove_existing, else 403).

import { createHash } from 'node:crypto'
import { AOR_DEFAULTS, CONTACT_FAMILY, type QualifyStatus } from '../core/types.js'
import type { AstDb } from './astdb.js'

/** Where the registrar keeps contacts: an astdb and a family (sorcery.conf's contact mapping; memory and
 *  realtime are modelled by an astdb AMI cannot see). */
export interface SimContactStore {
  db: AstDb
  family: string
}

/** An AOR as pjsip.conf configures it. The sim has one endpoint per AOR, of the same name. */
export interface SimAor {
  name: string
  maxContacts: number
  removeExisting: boolean
  removeUnavailable: boolean
  minimumExpiration: number
  maximumExpiration: number
  defaultExpiration: number
  qualifyFrequency: number
  /** Seconds, printed `%f` (`3.000000`). */
  qualifyTimeout: number
  qualify2xxOnly: boolean
  authenticateQualify: boolean
  supportPath: boolean
  mailboxes: string
  voicemailExtension: string
  outboundProxy: string
  /** The auth section of the endpoint of the same name (pjsip_wizard.conf names it `<name>-iauth`). */
  auth: string
  /** Where it is configured: pjsip.conf (default), pjsip_wizard.conf, or elsewhere (e.g. `realtime`: in no file GetConfig reads). */
  definedIn?: string
  /** false: an AOR no endpoint names (a bare `type=aor` section, as the lab's bulk AORs); default: an endpoint of its name has it. */
  endpoint?: boolean
}

/** An AOR with Asterisk's defaults (max_contacts 0 refuses every REGISTER) and the given settings. */
export function defineAor(name: string, settings: Partial<Omit<SimAor, 'name'>> = {}): SimAor {
  return {
    name,
    ...AOR_DEFAULTS,
    qualifyTimeout: 3,
    qualify2xxOnly: false,
    authenticateQualify: false,
    supportPath: false,
    mailboxes: '',
    voicemailExtension: '',
    outboundProxy: '',
    auth: name,
    ...settings,
  }
}

/** The fields of a stored contact, in the order Asterisk writes them into the astdb JSON. */
export const CONTACT_FIELDS = [
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
] as const

export type ContactFields = Record<(typeof CONTACT_FIELDS)[number], string>

/** The astdb value of a contact: compact JSON, every value a string, fields in Asterisk's order. */
export function contactValue(fields: ContactFields): string {
  const ordered: Record<string, string> = {}
  for (const name of CONTACT_FIELDS) ordered[name] = fields[name]
  return JSON.stringify(ordered)
}

/** The astdb key of a contact within registrar/contact: `<aor>;@<md5 of the uri>`. */
export function contactKey(aor: string, uri: string): string {
  return `${aor};@${createHash('md5').update(uri).digest('hex')}`
}

/** A stored contact, as sorcery loads it from its astdb row. */
export interface SimContact {
  /** The key within registrar/contact. */
  key: string
  aor: string
  /** Every field of the stored JSON, in stored order. */
  fields: Record<string, string>
  expirationTime: number
}

/** A stored row as sorcery reads it; undefined for a row sorcery would reject (bad JSON or expiration_time). */
function parseContact(key: string, value: string): SimContact | undefined {
  const separator = key.lastIndexOf(';@')
  if (separator < 0) return undefined
  let fields: unknown
  try {
    fields = JSON.parse(value)
  } catch {
    return undefined
  }
  if (typeof fields !== 'object' || fields === null) return undefined
  const record = fields as Record<string, string>
  const expirationTime = Number(record.expiration_time)
  if (!Number.isFinite(expirationTime)) return undefined
  return { key, aor: key.slice(0, separator), fields: record, expirationTime }
}

export interface QualifyState {
  /** PJSIPShowContacts `Status`: NonQualified, Reachable, Unreachable, Unknown. */
  status: QualifyStatus
  /** RTT of the last qualify, shown only when Reachable. */
  roundtripUsec: number
}

export interface RegisterRequest {
  aor: string
  uri: string
  viaAddr: string
  viaPort: number
  userAgent: string
  /** The registering endpoint; default: the AOR's name. */
  endpoint?: string
  /** Requested expiry in seconds (Contact `expires` or the Expires header); default: default_expiration; 0 unregisters. */
  expires?: number
  callId?: string
  /** The Path header, stored only when the AOR has support_path. */
  path?: string
}

export interface RegisterResult {
  /** 200 accepted, 403 refused (max_contacts), 404 no such AOR. */
  code: 200 | 403 | 404
  /** The warning Asterisk logs with a refusal. */
  reason?: string
  /** The contact's key within registrar/contact. */
  key: string
  /** Keys deleted by this REGISTER: expired contacts of the AOR, then any made room for. */
  removed: string[]
}

/** What Asterisk announces (ContactStatus, PeerStatus) when a REGISTER creates a contact. */
export interface ContactCreated {
  aor: string
  uri: string
  endpoint: string
  status: QualifyStatus
  /** The AOR had no contact before: its endpoint becomes reachable. */
  firstOfAor: boolean
}

/** What Asterisk announces (ContactStatus Removed, PeerStatus) when the registrar deletes a contact the qualify side knows. */
export interface ContactRemoved {
  aor: string
  uri: string
  endpoint: string
  /** The qualify side knows no other contact of the AOR now: its endpoint becomes unreachable. */
  lastOfAor: boolean
}

const UNREACHABLE: QualifyStatus = 'Unreachable'

/** The AOR of a key (Asterisk splits on the first `;@`). */
function aorOfKey(key: string): string {
  const separator = key.indexOf(';@')
  return separator < 0 ? key : key.slice(0, separator)
}

export class Registrar {
  readonly aors = new Map<string, SimAor>()
  /** Called after a REGISTER stored a new contact. */
  onContactCreated: ((created: ContactCreated) => void) | undefined
  /** Called after the registrar deleted a contact the qualify side knew (not after a plain astdb delete). */
  onContactRemoved: ((removed: ContactRemoved) => void) | undefined
  private readonly qualify = new Map<string, QualifyState>()
  /** Per AOR, how many contacts the qualify side knows. */
  private readonly qualifiedPerAor = new Map<string, number>()

  private readonly store: () => SimContactStore
  /** The `reg_server` of a new contact: the node's asterisk.conf `systemname` ('' when unset). */
  regServer: () => string = () => ''

  constructor(
    store: AstDb | (() => SimContactStore),
    private readonly now: () => number,
    aors: Iterable<SimAor> = [],
  ) {
    // an astdb alone: contacts in res_pjsip's default family
    this.store = typeof store === 'function' ? store : () => ({ db: store, family: CONTACT_FAMILY })
    for (const aor of aors) this.setAor(aor)
  }

  setAor(aor: SimAor): void {
    this.aors.set(aor.name, aor)
  }

  /** The AORs in sorcery's id order (strcmp), as `pjsip show aors` and PJSIPShowAors list them. */
  sortedAors(): SimAor[] {
    return [...this.aors.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }

  setQualify(key: string, status: QualifyStatus, roundtripUsec = 0): void {
    if (!this.qualify.has(key))
      this.qualifiedPerAor.set(aorOfKey(key), (this.qualifiedPerAor.get(aorOfKey(key)) ?? 0) + 1)
    this.qualify.set(key, { status, roundtripUsec })
  }

  qualifyOf(key: string): QualifyState {
    return this.qualify.get(key) ?? { status: 'NonQualified', roundtripUsec: 0 }
  }

  /** Every stored contact, expired ones included, in key order: what PJSIPShowContacts lists. */
  allContacts(): SimContact[] {
    return this.storedContacts('')
  }

  /** ast_sip_location_retrieve_aor_contacts for every AOR at once: expired contacts are deleted on the way. */
  contactsByAor(): Map<string, SimContact[]> {
    const byAor = new Map<string, SimContact[]>()
    for (const aor of this.aors.keys()) byAor.set(aor, [])
    const now = this.now()
    for (const contact of this.allContacts()) {
      const contacts = byAor.get(contact.aor)
      if (!contacts) continue
      if (contact.expirationTime <= now) this.deleteContact(contact.key)
      else contacts.push(contact)
    }
    return byAor
  }

  /** The AOR's unexpired contacts in key order; the expired ones are deleted (and their keys pushed to `expired`). */
  contactsOf(aor: string, expired: string[] = []): SimContact[] {
    const now = this.now()
    const contacts: SimContact[] = []
    for (const contact of this.storedContacts(`${aor};@`)) {
      if (contact.aor !== aor) continue
      if (contact.expirationTime > now) contacts.push(contact)
      else if (this.deleteContact(contact.key)) expired.push(contact.key)
    }
    return contacts
  }

  /** The background sweep (contact_expiration_check_interval): deletes every expired contact. */
  sweepExpired(): string[] {
    const now = this.now()
    const expired = this.allContacts().filter((contact) => contact.expirationTime <= now)
    for (const contact of expired) this.deleteContact(contact.key)
    return expired.map((contact) => contact.key)
  }

  /** A REGISTER of one Contact URI, with res_pjsip_registrar.c's rules. */
  register(request: RegisterRequest): RegisterResult {
    const key = contactKey(request.aor, request.uri)
    const aor = this.aors.get(request.aor)
    const endpoint = request.endpoint ?? request.aor
    const source = `${request.viaAddr}:${request.viaPort}`
    if (!aor) return { code: 404, reason: `AOR '${request.aor}' not found`, key, removed: [] }
    if (aor.maxContacts === 0) {
      const reason = `AOR '${aor.name}' has no configured max_contacts. Endpoint '${endpoint}' (${source}) unable to register`
      return { code: 403, reason, key, removed: [] }
    }

    const removed: string[] = []
    const contacts = this.contactsOf(aor.name, removed)
    const expires = registrationExpiry(aor, request.expires)
    const existing = contacts.find((contact) => contact.key === key)
    if (expires === 0) {
      if (existing && this.deleteContact(key)) removed.push(key)
      return { code: 200, key, removed }
    }
    if (existing) {
      const { db, family } = this.store()
      db.put(family, key, contactValue(this.refreshedFields(aor, existing, request, expires)))
      return { code: 200, key, removed }
    }

    const excess = contacts.length + 1 - aor.maxContacts
    const displaced =
      excess > 0
        ? contactsToRemove(aor, contacts, excess, (contact) => this.isUnreachable(contact))
        : []
    if (!displaced) {
      const reason =
        `Registration attempt from endpoint '${endpoint}' (${source}) to AOR '${aor.name}' ` +
        `will exceed max contacts of ${aor.maxContacts}`
      return { code: 403, reason, key, removed }
    }
    for (const contact of displaced) {
      this.deleteContact(contact.key)
      removed.push(contact.key)
    }

    const { db, family } = this.store()
    db.put(family, key, contactValue(this.newFields(aor, endpoint, request, expires)))
    // the qualify side announces only contacts it does not know yet (not one whose astdb row was deleted behind its back)
    if (!this.qualify.has(key)) {
      const status: QualifyStatus = aor.qualifyFrequency > 0 ? 'Unknown' : 'NonQualified'
      this.setQualify(key, status)
      const firstOfAor = contacts.length === displaced.length
      this.onContactCreated?.({ aor: aor.name, uri: request.uri, endpoint, status, firstOfAor })
    }
    return { code: 200, key, removed }
  }

  /** A REGISTER with `expires=0` for one URI: false when the AOR had no such contact. */
  unregister(aor: string, uri: string): boolean {
    return this.deleteContact(contactKey(aor, uri))
  }

  /**
   * Deletes a contact the way sorcery does, telling the qualify side (which then forgets it).
   * A plain astdb delete (DBDel) does not: Asterisk keeps the contact's status in memory.
   */
  private deleteContact(key: string): boolean {
    const { db, family } = this.store()
    const stored = db.get(family, key)
    const known = this.qualify.delete(key)
    const deleted = db.del(family, key)
    if (known) {
      const aor = aorOfKey(key)
      const left = (this.qualifiedPerAor.get(aor) ?? 1) - 1
      if (left > 0) this.qualifiedPerAor.set(aor, left)
      else this.qualifiedPerAor.delete(aor)
      if (deleted && stored !== undefined) {
        const fields = parseContact(key, stored)?.fields
        if (fields)
          this.onContactRemoved?.({
            aor,
            uri: fields.uri ?? '',
            endpoint: fields.endpoint || aor,
            lastOfAor: left <= 0,
          })
      }
    }
    return deleted
  }

  /** The rows of registrar/contact whose key starts with `keyPrefix`, as sorcery loads them. */
  private storedContacts(keyPrefix: string): SimContact[] {
    const contacts: SimContact[] = []
    const { db, family } = this.store()
    const familyPrefix = `/${family}/`
    // an AOR's contacts as sorcery retrieves them by prefix (an index range), the rest as DBGetTree
    for (const entry of keyPrefix ? db.treeByPrefix(family, keyPrefix) : db.tree(family)) {
      const key = entry.key.slice(familyPrefix.length)
      const contact = parseContact(key, entry.value)
      if (contact) contacts.push(contact)
    }
    return contacts
  }

  private isUnreachable(contact: SimContact): boolean {
    return this.qualifyOf(contact.key).status === UNREACHABLE
  }

  /** ast_sip_location_create_contact: the AOR's qualify settings, the request's addresses. */
  private newFields(
    aor: SimAor,
    endpoint: string,
    request: RegisterRequest,
    expires: number,
  ): ContactFields {
    const now = this.now()
    return {
      via_addr: request.viaAddr,
      qualify_timeout: aor.qualifyTimeout.toFixed(6),
      qualify_2xx_only: String(aor.qualify2xxOnly),
      call_id: request.callId ?? generatedCallId(request, now),
      reg_server: this.regServer(),
      prune_on_boot: 'no',
      path: aor.supportPath ? (request.path ?? '') : '',
      endpoint,
      via_port: String(request.viaPort),
      authenticate_qualify: aor.authenticateQualify ? 'yes' : 'no',
      uri: request.uri,
      qualify_frequency: String(aor.qualifyFrequency),
      user_agent: request.userAgent,
      expiration_time: String(now + expires),
      outbound_proxy: aor.outboundProxy,
    }
  }

  /** A refresh keeps the contact and updates its expiration, qualify settings, Path and User-Agent. */
  private refreshedFields(
    aor: SimAor,
    existing: SimContact,
    request: RegisterRequest,
    expires: number,
  ): ContactFields {
    const fields = existing.fields as ContactFields
    return {
      ...fields,
      qualify_2xx_only: String(aor.qualify2xxOnly),
      path: aor.supportPath && request.path !== undefined ? request.path : fields.path,
      authenticate_qualify: aor.authenticateQualify ? 'yes' : 'no',
      qualify_frequency: String(aor.qualifyFrequency),
      user_agent: request.userAgent || fields.user_agent,
      expiration_time: String(this.now() + expires),
    }
  }
}

/** registrar_get_expiration: the requested expiry (default_expiration if none) clamped into [minimum, maximum]; 0 stays 0. */
function registrationExpiry(aor: SimAor, requested: number | undefined): number {
  const expires = requested ?? aor.defaultExpiration
  if (expires === 0) return 0
  return Math.min(Math.max(expires, aor.minimumExpiration), aor.maximumExpiration)
}

/**
 * The contacts a new one may displace, or undefined when the REGISTER must be refused:
 * with remove_unavailable the Unreachable ones first (when removing them is enough),
 * with remove_existing the soonest to expire (Unreachable first when remove_unavailable).
 */
function contactsToRemove(
  aor: SimAor,
  contacts: SimContact[],
  excess: number,
  isUnreachable: (contact: SimContact) => boolean,
): SimContact[] | undefined {
  const byExpiry = (list: SimContact[]) =>
    [...list].sort((a, b) => a.expirationTime - b.expirationTime)
  if (aor.removeUnavailable) {
    const unreachable = contacts.filter(isUnreachable)
    if (unreachable.length >= excess) return byExpiry(unreachable).slice(0, excess)
  }
  if (!aor.removeExisting) return undefined
  const ordered = byExpiry(contacts)
  if (aor.removeUnavailable)
    ordered.sort((a, b) => Number(isUnreachable(b)) - Number(isUnreachable(a)))
  return ordered.slice(0, excess)
}

function generatedCallId(request: RegisterRequest, now: number): string {
  const hash = createHash('md5')
    .update(`${request.uri}|${request.viaAddr}:${request.viaPort}|${now}`)
    .digest('hex')
  return `${hash.slice(0, 24)}@${request.viaAddr}`
}
