// Which AORs a configured endpoint can retrieve, and so which contacts Asterisk can be made to collect
// through PJSIPShowEndpoint, from the configuration files as Asterisk parses them (GetConfig answers).
// Pure: categories in, the endpoints, the AORs they name, and whether that is the whole truth, out.
//
// - pjsip.conf (`Filter: type=endpoint`, or the files sorcery.conf maps `endpoint` to): a category whose
//   first `type` is `endpoint` is an endpoint; each of its `aors` lines is a comma-separated list of AOR
//   names, each trimmed (res/res_pjsip/location.c ast_sip_for_each_aor). Every line counts, not only the
//   last: a name counted too many only sends a contact the long way round.
// - pjsip_wizard.conf: every wizard creates an endpoint of its own name whose `aors` is that name
//   (res/res_pjsip_config_wizard.c handle_endpoint); its `endpoint/aors` is counted too.
// - sorcery.conf `[res_pjsip]` `endpoint = <wizard>,<data>` lines other than `config` (realtime, astdb...)
//   mean endpoints live elsewhere too: the files are not the whole truth, and nothing is known.

import { firstType, sorceryMapping } from './limits.js'
import type { AorReport, ClassifiedContact, ConfigCategory } from './types.js'

export interface EndpointKnowledge {
  /** The files hold every endpoint of the server; false: nothing below may be relied on. */
  complete: boolean
  /** Why not complete, in words. */
  why: string | null
  /** Every configured endpoint's name. */
  endpoints: ReadonlySet<string>
  /** Every AOR some configured endpoint names in its `aors`. */
  aors: ReadonlySet<string>
}

/** Nothing known (GetConfig refused, the files cannot be the whole truth). */
export function unknownEndpoints(why: string): EndpointKnowledge {
  return { complete: false, why, endpoints: new Set(), aors: new Set() }
}

/** The files GetConfig must read for the endpoints (sorcery.conf's `endpoint` mapping), or why they cannot be the whole truth. */
export function endpointFiles(sorcery: readonly ConfigCategory[] | null): {
  files: string[]
  why: string | null
} {
  const mapping = sorceryMapping(sorcery, 'endpoint')
  if (!mapping.authoritative)
    return {
      files: mapping.files,
      why: `sorcery.conf maps res_pjsip endpoint to ${mapping.others.join(', ')}`,
    }
  return { files: mapping.files, why: null }
}

function namesOf(value: string): string[] {
  return value
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '')
}

/**
 * The endpoints of the GetConfig answers: `files` the categories of each endpoint file (null: the file
 * was not found), `wizard` pjsip_wizard.conf's (null: not found).
 */
export function endpointKnowledge(
  files: readonly (readonly ConfigCategory[] | null)[],
  wizard: readonly ConfigCategory[] | null,
): EndpointKnowledge {
  if (!files.length || files.every((f) => f === null))
    return unknownEndpoints('GetConfig found none of the files endpoints are configured in')
  const endpoints = new Set<string>()
  const aors = new Set<string>()
  for (const category of files.flat()) {
    if (category === null || category.template || firstType(category) !== 'endpoint') continue
    endpoints.add(category.name)
    for (const line of category.lines)
      if (line.name.trim().toLowerCase() === 'aors')
        for (const n of namesOf(line.value)) aors.add(n)
  }
  for (const category of wizard ?? []) {
    if (category.template || firstType(category) !== 'wizard') continue
    endpoints.add(category.name)
    aors.add(category.name)
    for (const line of category.lines)
      if (line.name.trim().toLowerCase() === 'endpoint/aors')
        for (const n of namesOf(line.value)) aors.add(n)
  }
  return { complete: true, why: null, endpoints, aors }
}

/**
 * How prune --via asterisk has Asterisk remove an expired contact:
 * - `endpoint`: PJSIPShowEndpoint of its endpoint retrieves the AOR's contacts (location.c contact_expire
 *   deletes the expired ones through sorcery); what no endpoint collected is then deleted directly.
 * - `aor`: no endpoint names its AOR, but a cache sits in front of the contact store and keeps a copy that
 *   only a change through sorcery updates: `pjsip show aor <name>` retrieves the AOR's contacts (location.c
 *   cli_aor_print_body, the contact formatter, ast_sip_for_each_contact), which deletes the expired ones
 *   the same way.
 * - `direct`: nothing in Asterisk can retrieve it: compare and delete it (DBDel) at once, where the long way
 *   would end too. Nothing in Asterisk qualifies it either, whatever the AOR's qualify_frequency:
 *   pjsip_options.c sip_options_qualify_contact sends OPTIONS only through the endpoint the contact names
 *   or one that names its AOR, and skips the contact when there is none (measured on Asterisk 23.4.1: no
 *   OPTIONS after the AOR's endpoint was removed).
 * A contact of a configured AOR goes anywhere but `endpoint` only with complete knowledge of the endpoints.
 */
export type Collection = 'endpoint' | 'aor' | 'direct'

/**
 * Some configured endpoint is tied to the contact: it names the contact's AOR in `aors`, or the contact's
 * `endpoint` field names it. Only such an endpoint can retrieve the contact (PJSIPShowEndpoint) or qualify
 * it (pjsip_options.c sip_options_qualify_contact: the contact's endpoint_name, else the first endpoint
 * whose state the AOR feeds; with neither it sends nothing). Meaningful only when `known` is complete.
 */
export function tiedToEndpoint(contact: ClassifiedContact, known: EndpointKnowledge): boolean {
  return (
    known.aors.has(contact.aor) ||
    (contact.endpoint !== '' && known.endpoints.has(contact.endpoint))
  )
}

export function collectionOf(
  contact: ClassifiedContact,
  report: AorReport,
  known: EndpointKnowledge,
  cached: boolean,
): Collection {
  // an AOR that is not configured (orphaned): no endpoint can retrieve it (ast_sip_for_each_aor skips an AOR
  // it cannot find), no one qualifies it, and `pjsip show aor` cannot find it
  if (report.state === 'orphaned') return cached ? 'endpoint' : 'direct'
  if (!known.complete || tiedToEndpoint(contact, known)) return 'endpoint'
  return cached ? 'aor' : 'direct'
}
