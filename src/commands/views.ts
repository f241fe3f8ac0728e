// The data each command hands to src/output. Plain data: no methods, no formatting.

import type { HealPick, RefusalReason } from '../core/refusals.js'
import type { ExitCode } from '../errors.js'
import type { Format, OptionGroup, OptionKey } from '../options.js'
import type { ServerReport, Thresholds } from '../core/types.js'
import type { Advice } from '../core/advice.js'
import type { PrunePlan } from '../core/plan.js'
import type { PerIpLimit, SourceRow } from '../core/sources.js'
import type { Finding } from '../core/doctor.js'

/** A server that could not be read: shown in fleet output instead of its report. */
export interface ServerFailure {
  kind: 'failure'
  server: string
  message: string
  hint?: string
  exit: ExitCode
}

/** The failure of a server that could not be read, from the error that said why. */
export function failureOf(
  server: string,
  error: { message: string; hint?: string | undefined; exit: ExitCode },
): ServerFailure {
  return { kind: 'failure', server, message: error.message, hint: error.hint, exit: error.exit }
}

/** A server that could not be read, told apart from whatever a fleet list holds beside it (a report, a target). */
export function isFailure(item: object): item is ServerFailure {
  return 'kind' in item && item.kind === 'failure'
}

export interface ContactsData {
  generatedAt: number
  /** One per target, in the order given. */
  servers: (ServerReport | ServerFailure)[]
  /** Lasting-fix advice per AOR that is near, full, over or has superseded contacts (keyed by server then AOR). */
  advice: { server: string; advice: Advice }[]
  /** True when the run named servers (--server a,b / --all): output carries a server column. */
  fleet: boolean
  /** --per-ip-limit / --per; null without. */
  limit?: PerIpLimit | null
  /** With --per-ip-limit: per server, the source addresses at or above it. */
  sources?: { server: string; rows: SourceRow[] }[]
}

export type CheckStatus = 0 | 1 | 2 | 3

/**
 * Something other than an AOR's own state that raises a server's check status: lines of the
 * answer that did not parse (kind 'parse'), an address at a per-IP limit (kind 'per-ip-limit',
 * added by `--per-ip-limit`). Each is named in the status line under its `group` and gets a
 * line of the long output; the server's status is the worst of its AORs and its findings.
 */
export interface CheckFinding {
  kind: string
  severity: 1 | 2
  /** Status-line phrase after the count, e.g. 'parse problem(s) in the answer'. */
  group: string
  /** This one, for the status line list (and the long output), e.g. 'line 3: value is not valid JSON'. */
  subject: string
  /** Its long-output line when it says more than the subject. */
  line?: string
}

export interface CheckServer {
  server: string
  status: CheckStatus
  report?: ServerReport
  failure?: ServerFailure
  /** Every source address of the report, busiest first (limitState set with --per-ip-limit). */
  sources?: SourceRow[]
  findings: CheckFinding[]
}

export interface CheckData {
  generatedAt: number
  status: CheckStatus
  thresholds: Thresholds
  servers: CheckServer[]
  fleet: boolean
  /** --per-ip-limit / --per; null without. */
  limit?: PerIpLimit | null
  /** -v: the long output lists every AOR that is not OK instead of the first 20. */
  verbose: boolean
}

export type DeleteOutcome = 'deleted' | 'expired' | 'changed' | 'vanished' | 'failed' | 'not-sent'

export interface PruneServerResult {
  server: string
  plan: PrunePlan | null
  mode: 'dry-run' | 'refused' | 'declined' | 'executed' | 'interrupted'
  /** Per planned key, what happened (executed runs only). */
  outcomes: { key: string; aor: string; outcome: DeleteOutcome; detail?: string }[]
  backupFile: string | null
  advice: Advice[]
  failure?: ServerFailure
  /** Why nothing was deleted (refused/declined). */
  reason?: string
  via: 'asterisk' | 'delete' | 'expire'
}

export interface PruneData {
  generatedAt: number
  servers: PruneServerResult[]
  /** deleted: gone from the store; expired: left for Asterisk's sweep (`--via expire`). */
  summary: { deleted: number; expired: number; skipped: number; failed: number; planned: number }
  quiet: boolean
  fleet: boolean
}

export interface RestoreData {
  file: string
  server: string
  dryRun: boolean
  restored: { key: string }[]
  /** --dry-run: what a real run would put back (the key is absent now, or holds pjctl's expired value). */
  wouldRestore: { key: string }[]
  skipped: { key: string; reason: string }[]
  failed: { key: string; reason: string }[]
}

export interface DemoStep {
  /** What the step shows, in a sentence. */
  title: string
  /** The pjctl command line this step ran (as the user would type it), or null for a simulated phone/Asterisk event. */
  command: string | null
  /** A rendered pjctl result, or plain lines (a REGISTER and Asterisk's log line). */
  result?: ViewResult & { format: Format; exitCode: number }
  lines?: string[]
}

export interface DemoData {
  server: string
  steps: DemoStep[]
  fix: string[]
}

/** One server's source addresses (sources), or the flagged ones (contacts, check). */
export interface SourcesServer {
  server: string
  /** The configured servers sharing this contact store (a cluster), read once; absent for one server. */
  nodes?: readonly string[]
  generatedAt: number
  source: string
  rows: SourceRow[]
}

export interface SourcesData {
  generatedAt: number
  /** One row per source address (the default), or per cluster node (reg_server). */
  by?: 'address' | 'node'
  /** --per-ip-limit / --per; null without. */
  limit: PerIpLimit | null
  servers: (SourcesServer | ServerFailure)[]
  fleet: boolean
}

export interface DoctorServer {
  server: string
  generatedAt: number
  source: string
  aors: number
  contacts: number
  /** Where the contacts live (sorcery.conf's contact mapping), in words; absent for a dump. */
  contactsAt?: string
  /** asterisk.conf `systemname` (AMI CoreSettings SystemName), when it has one: the name its contacts carry in reg_server. */
  node?: string
  /** The configured servers sharing this contact store (a cluster), read once; `node` then lists their systemnames. */
  nodes?: readonly string[]
  /** Most severe first. */
  findings: Finding[]
}

export interface DoctorData {
  generatedAt: number
  servers: (DoctorServer | ServerFailure)[]
  fleet: boolean
  limit: PerIpLimit | null
}

// pjctl watch and --heal: a refused registration (src/commands/refusal.ts, watch.ts)

interface RefusedContact {
  key: string
  uri: string
  source: string
  userAgent: string
  expiresIn: number | null
  status: string
  qualify: string | null
  /** Why the conservative policy would remove it; absent: it stays. */
  stale?: string
}

/** The refused AOR as read when the refusal arrived. */
export interface RefusedAor {
  aor: string
  count: number
  maxContacts: number | null
  contacts: RefusedContact[]
  /** The keys a prune should remove to free the slot, and why the command takes them. */
  free: HealPick[]
  /** Said when no contact is stale: `free` then holds the soonest-expiring contact that is not reachable. */
  fallback: boolean
  /** The exact command that frees the slot ('' when no contact can be removed). */
  pruneCommand: string
}

type HealResult = 'healed' | 'nothing' | 'rate_limited' | 'failed'

export interface HealOutcome {
  result: HealResult
  /** Keys removed (deleted or expired). */
  removed: string[]
  backupFile: string | null
  detail: string
}

/** One refusal as watch prints it (one line of --json). */
export interface WatchRecord {
  time: string
  server: string
  event: string
  reason: RefusalReason
  /** ACLName / RequestType as Asterisk sent it. */
  detail: string
  endpoint: string
  /** The AOR (max_contacts: read from the endpoint's aors=); '' when not read. */
  aor: string
  /** The refused device, ip:port. */
  address: string
  callId: string
  /** max_contacts: the AOR when the refusal arrived. */
  refused?: RefusedAor
  /** max_contacts: why the AOR could not be read. */
  readError?: string
  heal?: HealOutcome
}

// What each command accepts, as help, completion and the man page show it (src/usage.ts builds these).

export interface FlagDoc {
  key: OptionKey
  /** `--host` */
  long: string
  /** `-H`, when the option has one. */
  short?: string
  /** The value's name without brackets (`host`, `file`), absent for a switch. */
  value?: string
  help: string
  choices?: readonly string[]
  env?: string
  /** The default as a user would type it (`256M`, not 268435456). */
  default?: string
  /** The value is a path: complete file names. */
  file: boolean
  group: OptionGroup
  /** `Connection options:` */
  heading: string
}

export interface CommandDoc {
  name: string
  /** `[names...]`, `<file>` */
  args?: string
  summary: string
  help?: string
  examples: readonly string[]
  /** Words the first argument may be (gen: pjsip, wizard; completion: bash, zsh, fish). */
  argChoices?: readonly string[]
  flags: FlagDoc[]
}

/** pjctl completion: the script for `shell`, for every command. */
export interface CompletionData {
  shell: 'bash' | 'zsh' | 'fish'
  commands: CommandDoc[]
}

/** The snippet gen prints (empty when it was written to --out), and what it warned about. */
interface GenOutput {
  text: string
  warnings: string[]
  /** The file written with --out. */
  out?: string
}

/** Every view a command hands to src/output, and the data its renderers draw. */
export interface ViewData {
  contacts: ContactsData
  check: CheckData
  sources: SourcesData
  doctor: DoctorData
  prune: PruneData
  /** prune's plan, shown before the prompt. */
  'prune-plan': { servers: PruneServerResult[] }
  restore: RestoreData
  gen: GenOutput
  demo: DemoData
  completion: CompletionData
  /** The exporter serves its metrics over HTTP and prints nothing when it stops. */
  exporter: Record<string, never>
  /** One refusal, as pjctl watch writes it when it comes. */
  refusal: WatchRecord
  /** pjctl watch prints nothing when it stops. */
  watch: Record<string, never>
}

export type View = keyof ViewData

/** A view and its data, told apart by `view` (one member per view). */
export type ViewResult<V extends View = View> = { [K in V]: { view: K; data: ViewData[K] } }[V]
