// Qualify state only where a prune decision needs it. PJSIPShowContacts lists every contact of the
// server and is quadratic in Asterisk (res/res_pjsip/pjsip_options.c ami_show_contacts sorts them
// all first, which takes seconds to minutes on a big registrar, and Asterisk keeps computing after
// the client gave up). So prune plans from the contacts and limits first, then asks PJSIPShowEndpoint
// (its ContactStatusDetail events: ID = astdb key, Status) only for the endpoints that own a
// deletion candidate that is qualified (stored qualify_frequency, or its AOR's, above 0), pipelined
// --in-flight at a time.

import type { AmiSession } from '../ami/types.js'
import { tiedToEndpoint, type EndpointKnowledge } from '../core/endpoints.js'
import { withQualifyState } from '../core/classify.js'
import { undecidedDuplicates } from '../core/fix.js'
import type { PruneCriteria, PrunePlan } from '../core/plan.js'
import type { AorReport, ClassifiedContact, QualifyStatus } from '../core/types.js'
import { ActionFailedError, PermissionError } from '../errors.js'
import type { Deps, Settings } from './types.js'

export interface QualifyRead {
  /** The reports with `qualify` filled in for every contact whose state was read. */
  reports: AorReport[]
  /** Qualified candidates whose state could not be read: the plan keeps them. */
  unread: Set<string>
  /** Every state needed was read. */
  known: boolean
  /** The endpoints asked. */
  endpoints: string[]
}

/** The contact may be qualified by Asterisk: its stored qualify_frequency is above 0, or its AOR's is now
 *  (pjsip_options qualifies with the AOR's current setting; the stored one is from the registration). */
function qualified(contact: ClassifiedContact, aor: AorReport): boolean {
  return Number(contact.fields.qualify_frequency ?? '0') > 0 || (aor.qualifyFrequency ?? 0) > 0
}

/** The endpoint whose PJSIPShowEndpoint lists this contact: the one that registered it (stored `endpoint`), else the AOR's namesake. */
function endpointOf(contact: ClassifiedContact): string {
  return contact.endpoint || contact.aor
}

/**
 * Reads the qualify state the plan depends on: the deletion candidates that are qualified (and, with
 * --unreachable, every qualified contact, since that criterion is the state itself). Contacts of an
 * orphaned AOR are not qualified by anyone (their AOR is gone) and are not asked about. When an endpoint
 * cannot be read, `readEndpoints` (the configured endpoints) tells whether its contacts are tied to any
 * endpoint at all: those no endpoint is tied to are qualified by no one either.
 * null when nothing needs reading.
 */
export async function readQualifyFor(
  session: AmiSession,
  reports: readonly AorReport[],
  plan: PrunePlan,
  criteria: PruneCriteria,
  settings: Settings,
  deps: Deps,
  readEndpoints?: () => Promise<EndpointKnowledge>,
): Promise<QualifyRead | null> {
  const orphaned = new Set(reports.filter((r) => r.state === 'orphaned').map((r) => r.aor))
  // the deletion candidates, collected only once a qualified contact is met (none on a server without qualify)
  let collected: Set<string> | null = null
  const candidates = (): Set<string> => {
    if (collected) return collected
    const keys = new Set(plan.items.filter((i) => i.action === 'delete').map((i) => i.key))
    // same-second duplicates of one device: their qualify state may tell which one is stale
    if (criteria.superseded)
      for (const r of reports)
        for (const twin of undecidedDuplicates(r)) {
          keys.add(twin.key)
          for (const c of r.contacts)
            if (c.viaAddr === twin.viaAddr && c.userAgent === twin.userAgent) keys.add(c.key)
        }
    return (collected = keys)
  }
  // indexed loops: this runs cold, once per contact of the server, and each for-of step (or
  // filter callback) is an object there
  const wanted: ClassifiedContact[] = []
  // eslint-disable-next-line @typescript-eslint/prefer-for-of -- runs cold: each for-of step is an object there
  for (let i = 0; i < reports.length; i++) {
    const r = reports[i]
    if (r === undefined || orphaned.has(r.aor)) continue
    const contacts = r.contacts
    // eslint-disable-next-line @typescript-eslint/prefer-for-of -- runs cold: each for-of step is an object there
    for (let j = 0; j < contacts.length; j++) {
      const c = contacts[j]
      if (c === undefined || !qualified(c, r)) continue
      if (criteria.unreachable || candidates().has(c.key)) wanted.push(c)
    }
  }
  if (!wanted.length) return null
  const endpoints = [...new Set(wanted.map(endpointOf))]
  const states = new Map<string, QualifyStatus>()
  const failed = new Set<string>()
  let refused: PermissionError | null = null
  const batch = settings.inFlight
  for (let start = 0; start < endpoints.length; start += batch) {
    await Promise.all(
      endpoints.slice(start, start + batch).map(async (endpoint) => {
        if (refused || /[\r\n\0]/.test(endpoint)) return void failed.add(endpoint)
        try {
          const answer = await session.list('PJSIPShowEndpoint', { Endpoint: endpoint })
          for (const item of answer.items) {
            if (item.get('Event') !== 'ContactStatusDetail') continue
            const key = item.get('ID')
            const status = item.get('Status')?.trim()
            if (key && status) states.set(key, status)
          }
        } catch (error) {
          if (error instanceof PermissionError) refused ??= error
          else if (!(error instanceof ActionFailedError)) throw error // the connection itself failed: the prune stops, nothing deleted
          failed.add(endpoint)
        }
      }),
    )
  }
  // set by the batches above
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
  if (refused)
    deps.log.warn(
      `cannot read qualify state (${(refused as PermissionError).message}); qualified contacts are kept`,
    )
  // An endpoint that could not be read may not exist: a contact that no configured endpoint is tied to is
  // qualified by no one (pjsip_options.c sends OPTIONS only through an endpoint), so it has no state to read
  // refused is set by the batches above
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
  const known = failed.size && !refused && readEndpoints ? await readEndpoints() : null
  const unread = new Set(
    wanted
      .filter((c) => !states.has(c.key))
      .filter((c) => !(known?.complete && !tiedToEndpoint(c, known)))
      .map((c) => c.key),
  )
  const now = deps.now()
  const withState = reports.map((r) =>
    withQualifyState(
      {
        ...r,
        contacts: r.contacts.map((c) => {
          const qualify = states.get(c.key)
          return qualify === undefined ? c : { ...c, qualify }
        }),
      },
      now,
    ),
  )
  return { reports: withState, unread, known: unread.size === 0, endpoints }
}
