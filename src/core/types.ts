// The domain, in Asterisk's own words (res/res_pjsip/location.c, res_pjsip_registrar.c).
// Pure data: no I/O here or anywhere under src/core.

/** Where contacts are stored: astdb, or a realtime table (src/core/sorcery.ts reads sorcery.conf for it). */
export type ContactPlace =
  | { kind: 'astdb'; family: string }
  | {
      kind: 'realtime'
      /** extconfig.conf driver: pgsql, mysql, odbc, ... */
      driver: string
      /** extconfig.conf's database argument (pgsql: ignored; mysql: res_config_mysql.conf section; odbc: res_odbc.conf connection). */
      database: string
      table: string
      /** The extconfig family (sorcery.conf's data). */
      family: string
    }
  | {
      /** A store pjctl has no client for (memory, realtime over odbc, ...): read through AMI (PJSIPShowContacts),
       *  written only by Asterisk itself. */
      kind: 'ami'
      /** Where Asterisk keeps them, in words: `memory`, `realtime odbc,asterisk`. */
      store: string
    }

/** The astdb family that holds dynamic contacts. */
export const CONTACT_FAMILY = 'registrar/contact'

/** Asterisk's defaults for the aor object (res/res_pjsip/location.c): the one place pjctl states them. */
export const AOR_DEFAULTS = {
  maxContacts: 0,
  removeExisting: false,
  removeUnavailable: false,
  qualifyFrequency: 0,
  minimumExpiration: 60,
  maximumExpiration: 7200,
  defaultExpiration: 3600,
} as const

/** One astdb row of the family registrar/contact: key `<aor>;@<md5>` and the exact stored value. */
export interface ContactRow {
  key: string
  value: string
}

/** One registered contact, as parsed from its astdb row. */
export interface Contact {
  /** astdb key within registrar/contact, e.g. `FAP003;@2512e2a83aa83c6e73da53588ebb2d0e`. */
  key: string
  /** The key's part before `;@`. */
  aor: string
  /** The key's part after `;@` (MD5 of the URI). */
  hash: string
  uri: string
  viaAddr: string
  /** via_port as a number, null when absent or not a number. */
  viaPort: number | null
  userAgent: string
  endpoint: string
  /** reg_server: the `systemname` of the cluster node that registered it (it alone qualifies it); '' when
   *  that node has no systemname (a single node). */
  regServer: string
  /** expiration_time, Unix seconds; null when absent or not a number. */
  expirationTime: number | null
  /** Every field of the stored JSON, unknown ones included, as stored (all strings). */
  fields: Record<string, string>
  /** The exact stored value, byte for byte: what compare-before-delete compares. */
  value: string
}

/** A line (or row) that did not parse; never silently dropped. */
export interface ParseProblem {
  /** 1-based line number in the dump/answer (or item number for list sources). */
  line: number
  reason: string
  /** The offending text, shortened for display. */
  text: string
  /** True when the row is still a contact (only a field is wrong, e.g. a non-numeric expiration_time): it is not counted twice. */
  kept?: boolean
}

export interface ParsedContacts {
  contacts: Contact[]
  problems: ParseProblem[]
  /** What the answer said it holds (`N results found.` / `ListItems`); null if it said nothing. */
  declaredCount: number | null
}

/** Where an AOR's max_contacts came from: `getconfig` the config files over AMI GetConfig, `ami` the running
 *  Asterisk (PJSIPShowAors / PJSIPShowEndpoint), `pjsip-conf` a local --pjsip-conf file, `flag` --max-contacts. */
export type LimitSource = 'getconfig' | 'ami' | 'pjsip-conf' | 'flag' | 'none'

/** One category of a config file as Asterisk parses it (AMI GetConfig): template variables copied in,
 *  `(+)` additions merged, templates themselves left out unless asked for. */
export interface ConfigCategory {
  name: string
  /** A template (`[name](!)`). */
  template: boolean
  /** The categories it inherited from, in order. */
  templates: string[]
  /** Its variables in Asterisk's order: inherited ones first, then its own. */
  lines: { name: string; value: string }[]
}

/** What is known of an AOR's configuration. */
export interface AorConfig {
  aor: string
  maxContacts: number | null
  removeExisting: boolean | null
  removeUnavailable: boolean | null
  qualifyFrequency: number | null
  minimumExpiration: number | null
  maximumExpiration: number | null
  defaultExpiration: number | null
  source: LimitSource
  /** The config file that defines it, when read from the files (`pjsip.conf`, `pjsip_wizard.conf`). */
  definedIn?: string
}

/** Qualify state of a contact from PJSIPShowContacts `Status` (Reachable, Unreachable, NonQualified, Unknown, ...). */
export type QualifyStatus = string

export type ContactStatus = 'active' | 'expired' | 'superseded'
/** `orphaned`: the AOR holds contacts but is not configured (deleted extension); said only when the AOR list
 *  is authoritative. `unknown`: its limit could not be learnt. */
export type AorState = 'ok' | 'near' | 'full' | 'over' | 'orphaned' | 'unknown'

export interface ClassifiedContact extends Contact {
  status: ContactStatus
  /** Seconds until expiration_time (negative when expired); null when unknown. */
  expiresIn: number | null
  /** For superseded: the key of the newer contact from the same device. */
  supersededBy: string | null
  /** Qualify status when known (PJSIPShowContacts), else null. */
  qualify: QualifyStatus | null
}

/** Thresholds for near/full: `free` slots left or `percent` used; either triggers. */
export interface Threshold {
  free: number | null
  percent: number | null
}

/** --warn / --crit; null = not given: the default policy alone decides (see core/classify.ts). */
export interface Thresholds {
  warn: Threshold | null
  crit: Threshold | null
}

export interface AorReport {
  aor: string
  /** Distinct endpoint fields of its contacts (sorted). */
  endpoints: string[]
  maxContacts: number | null
  maxContactsSource: LimitSource
  removeExisting: boolean | null
  /** The AOR's qualify_frequency (seconds; 0 = not qualified); null when unknown. */
  qualifyFrequency?: number | null
  count: number
  state: AorState
  /** Severity for monitoring: 0 ok, 1 warning, 2 critical (policy in core/classify.ts). */
  severity: 0 | 1 | 2
  superseded: number
  expired: number
  /** Expired contacts plus unexpired ones a device left behind (superseded, and same-second twins of one device). */
  stale: number
  contacts: ClassifiedContact[]
}

export interface ServerReport {
  server: string
  generatedAt: number
  aors: AorReport[]
  problems: ParseProblem[]
  /** Where contacts and limits were read from, for the record. */
  source: string
  /** True when qualify status was read (PJSIPShowContacts) and can be trusted for `superseded` decisions. */
  qualifyKnown: boolean
  /** The AOR configurations this read knew (AMI, --pjsip-conf), for doctor's settings checks; absent when none were kept. */
  configs?: readonly AorConfig[]
  /** Where the AOR limits came from, and whether that list holds every AOR of the server. */
  limits?: LimitsInfo
  /** Where the contacts were read (sorcery.conf's contact mapping); absent for a dump. */
  contactsAt?: ContactsAt
  /** The configured servers that share this contact store (a cluster's nodes), read once through the first;
   *  absent for a server with a store of its own. `server` then names them all, comma-separated. */
  nodes?: readonly string[]
}

/** Where a server keeps its contacts, as read from sorcery.conf. */
interface ContactsAt {
  place: ContactPlace
  /** In words, with the sorcery.conf line it comes from (or why the default was assumed). */
  described: string
  /** sorcery.conf's contact lines as written (`contact=memory`), for a refusal that names them. */
  mapping?: string
}

export interface LimitsInfo {
  /** getconfig: pjsip.conf/pjsip_wizard.conf over AMI GetConfig; pjsipshowaors / pjsipshowendpoint: the running Asterisk;
   *  files: --pjsip-conf; none: nothing readable. */
  from: 'getconfig' | 'pjsipshowaors' | 'pjsipshowendpoint' | 'files' | 'none'
  /** The AOR list holds every AOR the server has: a contact of another AOR is orphaned. */
  authoritative: boolean
  /** Why it is not authoritative (or why the fallback was taken), in words for the user. */
  note?: string
}
