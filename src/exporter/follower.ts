// One server followed by `pjctl exporter`: connect, one full read (contacts and limits, as check
// reads them), then AMI events; a resync every --resync; reconnect with capped exponential backoff.
//
// What keeps the picture true:
// - ContactStatus: Removed forgets the key; any other status for an unknown key is a new contact,
//   fetched with one DBGet; for a known key it is its qualify status.
// - UserEvent: pjctl (prune, restore): deleted keys are forgotten, expired/restored keys fetched again.
// - A phone's refresh and a DBDel nobody announced make no event: each key is read again just before
//   its expiration_time (and once more after the sweep should have removed it), and the whole
//   server again every --resync; what a resync finds that events did not tell is logged and counted.
// - Events that arrive during a full read are held and applied after it, in order (a DBGet after the
//   read is the truth for a new key; Removed is final), and are not counted as drift.
// - A full read is applied in slices of a few ms (LiveServer.loading), the event loop served in between:
//   scrapes get the last complete body meanwhile (nothing is judged or published from a half-applied
//   picture), and what arrives during the apply (events, DBGet answers: newer than the read) is held
//   too and applied after it, in the order it came.
//
// Where the follower is in a connection's life is one value, `phase` (FollowerPhase), changed only by
// `to()`, which logs each transition (--debug). The reads and the heal come through FollowerPorts: the
// command (src/commands/exporter.ts) wires them to the read path every command shares.

import { createHash } from 'node:crypto'
import type { AmiMessage, AmiSession, AmiTarget } from '../ami/types.js'
import { parseAnnouncement } from '../core/announce.js'
import { contactFromRow } from '../core/contact.js'
import { LiveServer, serverStatus, type Drift } from '../core/live.js'
import {
  aorOfRefusal,
  eventFilter,
  PER_AOR_REASONS,
  REFUSAL_EVENTS,
  refusalFromEvent,
  splitAors,
  type Refusal,
} from '../core/refusals.js'
import {
  CONTACT_FAMILY,
  type AorConfig,
  type AorState,
  type Contact,
  type Thresholds,
} from '../core/types.js'
import { ActionTimeoutError, AuthError, PermissionError } from '../errors.js'
import { SOURCE_SERIES, type ExporterMetrics } from './metrics.js'

/** AORs judged per slice of publish() (a few ms each). */
const PUBLISH_SLICE = 500
/** A full read's apply: a slice ends after this long, or after this many of LiveServer.loading's steps (a bound that does not depend on the machine's speed). */
const APPLY_SLICE_MS = 3
const APPLY_SLICE_STEPS = 16

/** Backoff between reconnect attempts: 1 s, doubling, at most 30 s. */
const BACKOFF_FIRST_MS = 1000
const BACKOFF_MAX_MS = 30_000
/** A Ping when the connection has been quiet this long (a dead peer is then noticed within --timeout). */
const PING_EVERY_MS = 15_000
/** DBGets kept in flight for new or re-checked keys. */
const FETCH_IN_FLIGHT = 64
/** More re-checks than this due at once: one full read is cheaper than that many DBGets. */
const RECHECK_AS_RESYNC = 2000
/** Events counted under their own name; the rest as `other`. */
const COUNTED_EVENTS = new Set([
  'ContactStatus',
  'UserEvent',
  'PeerStatus',
  'FullyBooted',
  'Reload',
])

/**
 * What the exporter asks Asterisk for (AMI `Filter`): the events above and the refusals. A user with
 * read=security otherwise also gets ChallengeSent and SuccessfulAuth for every REGISTER a busy
 * registrar accepts (see docs/exporter.md for the rates measured).
 */
const FOLLOWED_EVENTS = [...COUNTED_EVENTS, ...REFUSAL_EVENTS]

/** Where a server's contacts live, as a read with limits found them. */
interface ContactsPlace {
  /** The astdb family (sorcery.conf's contact mapping); res_pjsip's default for a realtime table. */
  family: string
  /**
   * Contacts outside astdb: no DBGet of single keys. A contact the exporter does not know is read from its
   * own row when the place has rows pjctl reads (a realtime SQL table: `ports.readOne`), else it brings a
   * full read.
   */
  realtime: boolean
  /** One contact can be read by its key through `ports.readOne` (a realtime SQL table). */
  oneRow?: boolean
}

/** What a full read found. */
export interface ServerRead {
  contacts: Contact[]
  /** The AORs' limits; null for a read of the contacts only (the last limits stand). */
  configs: AorConfig[] | null
  authoritative: boolean
}

/** What a follower needs from the rest of pjctl: src/commands/exporter.ts wires them to the read path every command uses. */
export interface FollowerPorts {
  connect(target: AmiTarget): Promise<AmiSession>
  /** Unix seconds. */
  now(): number
  log: { info(message: string): void; warn(message: string): void; debug(message: string): void }
  /** Contacts and limits, and where the contacts live (learnt anew). */
  readAll(session: AmiSession): Promise<ServerRead & { place: ContactsPlace }>
  /** The contacts only, where the last readAll found them. */
  readContacts(session: AmiSession): Promise<Contact[]>
  /**
   * One contact of a realtime table, read from its own row (null: no such row; a string: why the row is
   * not a contact). Only called where the last readAll's place says `oneRow`.
   */
  readOne?(session: AmiSession, key: string): Promise<Contact | string | null>
  /** Releases what readOne keeps open (the exporter stops). */
  close?(): Promise<void>
  /** Why this AMI user may get no security events (said once), or null. */
  securityProblem(session: AmiSession): Promise<string | null>
  /** --heal: frees a slot of the AOR a max_contacts refusal names; what was done, or null when nothing was. */
  heal?(session: AmiSession, refusal: Refusal): Promise<{ aor: string; result: string } | null>
}

/** How the follower judges its server (from the command's settings). */
export interface FollowerJudgement {
  thresholds: Thresholds
  /** --max-contacts: for AORs whose limit is not read. */
  defaultMaxContacts: number | null
  /** --per-ip-limit: served as pjctl_source_contacts_limit. */
  perIpLimit?: number
}

export interface FollowerHooks {
  /** The picture changed: render when convenient. */
  changed(): void
}

/** Why a connection ended: the error's message, and a summary that names no user, host or port. */
interface Lost {
  reason: string
  summary: string
}

/**
 * A full read under way. `reading`: its answer is coming, and the keys events touch meanwhile are
 * not drift; `applying`: it is being applied to the picture in slices, half applied, so nothing may
 * judge, publish or change the picture. Events (and, while applying, DBGet answers) are held in the
 * order they came and applied after it.
 */
interface FullRead {
  why: 'first read' | 'resync'
  /** Contacts and limits, or the contacts only. */
  of: 'limits' | 'contacts'
  stage: 'reading' | 'applying'
  held: (AmiMessage | (() => void))[]
  heldKeys: Set<string>
}

/**
 * Where a follower is. `lost`: why the last connection ended, while the next one is being made
 * (null: none has failed yet). `up.read`: a resync under way; `up.ask`: a resync asked for (after the
 * one under way); `up.limits`: stale after a Reload (or a failed read of them), read with the next resync.
 */
export type FollowerPhase =
  | { name: 'connecting'; lost: Lost | null }
  | { name: 'reading'; session: AmiSession; read: FullRead; lost: Lost | null }
  | {
      name: 'up'
      session: AmiSession
      read: FullRead | null
      ask: 'limits' | 'contacts' | null
      limits: 'current' | 'stale'
    }
  | { name: 'down'; lost: Lost }
  | { name: 'stopped' }

/** A phase in words, for the debug log of transitions: `connecting -> reading (connected)`. */
function phaseLabel(phase: FollowerPhase): string {
  if (phase.name === 'reading')
    return phase.read.stage === 'applying' ? 'applying the first read' : 'reading'
  if (phase.name === 'up' && phase.read)
    return phase.read.stage === 'applying' ? 'up, applying a resync' : 'up, resyncing'
  return phase.name
}

/** The astdb key of a contact: `<aor>;@<md5 of the URI>` (res/res_pjsip/location.c). */
function contactKeyOf(aor: string, uri: string): string {
  return `${aor};@${createHash('md5').update(uri).digest('hex')}`
}

export class ServerFollower {
  private phase: FollowerPhase = { name: 'connecting', lost: null }
  private readonly live: LiveServer
  private place: ContactsPlace = { family: CONTACT_FAMILY, realtime: false }
  private wake: (() => void) | null = null
  /** publish() under way (its slices yield): an apply waits for it, so it never judges a half-applied picture. */
  private publishing: Promise<void> | null = null
  private readonly fetchQueue = new Set<string>()
  /** Keys whose DBGet is in flight; true when an event about them arrived meanwhile (fetch again). */
  private readonly inFlight = new Map<string, boolean>()
  private readonly pendingQualify = new Map<string, string>()
  private fetching = 0
  private timers: NodeJS.Timeout[] = []
  private loop: Promise<void> | null = null
  private lastActivity = Date.now()
  /** Endpoint → its aors= (PJSIPShowEndpoint, once per endpoint a refusal names; forgotten on Reload). */
  private readonly endpointAors = new Map<string, Promise<string[]>>()
  /** The AMI user's security class is checked at the first connection only. */
  private securityChecked = false
  /** Event sessions to the peers that are connected (by name). */
  private readonly peerSessions = new Map<string, AmiSession>()
  private signalStop: () => void = () => undefined
  private readonly stopSignal = new Promise<string>(
    (resolve) => (this.signalStop = () => resolve('stopped')),
  )

  constructor(
    readonly target: AmiTarget,
    judgement: FollowerJudgement,
    private readonly ports: FollowerPorts,
    private readonly metrics: ExporterMetrics,
    private readonly hooks: FollowerHooks,
    private readonly resyncMs: number,
    /** The other nodes of a cluster sharing this server's contact store: read through this one, their events followed too. */
    private readonly peers: readonly AmiTarget[] = [],
  ) {
    this.live = new LiveServer({
      thresholds: judgement.thresholds,
      defaultMaxContacts: judgement.defaultMaxContacts,
      onContactChange: (aor, change) => metrics.contactChanged(target.name, aor, change),
    })
    metrics.addServer(target.name, judgement.perIpLimit)
  }

  get name(): string {
    return this.target.name
  }

  get contacts(): number {
    return this.live.size
  }

  /** What /healthz says of it: connecting, reading, up or down (stopped counts as down). */
  get state(): 'connecting' | 'reading' | 'up' | 'down' {
    return this.phase.name === 'stopped' ? 'down' : this.phase.name
  }

  /** Why the last connection failed or was lost, while it has not been up since; null otherwise. */
  get lost(): Lost | null {
    const p = this.phase
    return p.name === 'down' || p.name === 'connecting' || p.name === 'reading' ? p.lost : null
  }

  start(): void {
    this.loop ??= this.run()
  }

  async stop(): Promise<void> {
    const session = this.sessionOf()
    this.to({ name: 'stopped' }, 'stop')
    this.signalStop()
    this.wake?.()
    this.clearTimers()
    this.closePeers()
    await session?.close()
    await this.loop
    await this.ports.close?.()
  }

  /**
   * Applies the dirty AORs to the metrics (called before a render), PUBLISH_SLICE AORs at a time with
   * the event loop served in between: after a full read all 50,000 AORs of a big PBX are dirty, and
   * judging them in one block would hold scrapes and events for seconds.
   */
  async publish(): Promise<void> {
    // while a full read is applied, the metrics keep what the last publish gave: a whole picture
    if (!this.isUp() || this.applying() || this.publishing) return
    const run = this.judgeAndPublish()
    this.publishing = run
    try {
      await run
    } finally {
      this.publishing = null
    }
  }

  private async judgeAndPublish(): Promise<void> {
    const now = this.ports.now()
    while (this.live.hasDirty) {
      for (const [aor, summary] of this.live.judge(now, PUBLISH_SLICE))
        this.metrics.setAor(this.name, aor, summary)
      // judge() took a slice: more may be left
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
      if (this.live.hasDirty) await new Promise<void>((resolve) => setImmediate(resolve))
      // the server may have gone down meanwhile: its series are dropped, not published
      if (!this.isUp()) return
    }
    const aorsByState = new Map<AorState, number>()
    let contacts = 0
    let superseded = 0
    let expired = 0
    const summaries = [...this.live.allSummaries()]
    for (const s of summaries) {
      aorsByState.set(s.state, (aorsByState.get(s.state) ?? 0) + 1)
      contacts += s.count
      superseded += s.superseded
      expired += s.expired
    }
    this.metrics.setSources(this.name, this.live.sources(SOURCE_SERIES))
    this.metrics.setTotals(this.name, {
      status: serverStatus(summaries),
      aorsByState,
      contacts,
      superseded,
      expired,
      qualify: this.live.qualifyCounts(),
    })
  }

  // --- the phase ---

  /** The one way the phase changes; nothing leaves `stopped`. */
  private to(next: FollowerPhase, why: string): void {
    const from = this.phase
    if (from.name === 'stopped') return
    this.phase = next
    this.ports.log.debug(`${this.name}: ${phaseLabel(from)} -> ${phaseLabel(next)} (${why})`)
  }

  /** A method, not a field read: the phase changes across every await. */
  private isStopped(): boolean {
    return this.phase.name === 'stopped'
  }

  private isUp(): boolean {
    return this.phase.name === 'up'
  }

  /** The session of the connection being read or followed. */
  private sessionOf(): AmiSession | null {
    const p = this.phase
    return p.name === 'reading' || p.name === 'up' ? p.session : null
  }

  /** The full read under way, if any. */
  private currentRead(): FullRead | null {
    const p = this.phase
    return p.name === 'reading' || p.name === 'up' ? p.read : null
  }

  /** A full read is being applied: the picture is half applied. */
  private applying(): boolean {
    return this.currentRead()?.stage === 'applying'
  }

  // --- the connection's life ---

  private async run(): Promise<void> {
    let backoff = BACKOFF_FIRST_MS
    while (!this.isStopped()) {
      const wasUp = await this.connectAndFollow()
      if (this.isStopped()) break
      if (wasUp) backoff = BACKOFF_FIRST_MS
      const wait = Math.round(backoff * (0.8 + 0.4 * Math.random()))
      this.ports.log.info(
        `pjctl exporter: ${this.name}: reconnecting in ${(wait / 1000).toFixed(1)} s`,
      )
      await this.sleep(wait)
      backoff = Math.min(backoff * 2, BACKOFF_MAX_MS)
    }
  }

  /** One connection: connecting → first read → up, then down (or stopped). Resolves with whether it was up. */
  private async connectAndFollow(): Promise<boolean> {
    const lost = this.lost
    if (this.phase.name !== 'connecting') this.to({ name: 'connecting', lost }, 'reconnect')
    let session: AmiSession
    try {
      session = await this.ports.connect(this.target)
    } catch (error) {
      this.goDown(lostWith(error))
      return false
    }
    if (this.isStopped()) {
      await session.close()
      return false
    }
    this.ports.log.info(
      `pjctl exporter: ${this.name}: connected to ${this.target.host}:${this.target.port} as ${this.target.user}`,
    )
    const closed = new Promise<Lost>((resolve) => {
      session.onClose((error) => resolve(lostWith(error)))
    })
    const read = newRead('first read', 'limits')
    this.to({ name: 'reading', session, read, lost }, 'connected')
    session.onEvent((event) => this.onEvent(event))
    try {
      await this.askForWhatIsUsed(session)
      await this.fullRead(session, read)
    } catch (error) {
      this.goDown(lostWith(error))
      await session.close()
      return false
    }
    this.metrics.setUp(this.name, true)
    this.hooks.changed()
    this.startTimers(session)
    void this.followPeers()
    this.drainFetches()
    const ended = await Promise.race([
      closed,
      this.stopSignal.then((reason) => ({ reason, summary: reason })),
    ])
    this.clearTimers()
    this.goDown(ended)
    await session.close()
    return true
  }

  /**
   * A cluster: the events of every peer node too (each node sends ContactStatus only for the contacts it
   * registered), on a session of its own; a peer that is down is tried again at each resync, and the
   * resync reads its contacts meanwhile (they are in the shared store).
   */
  private async followPeers(): Promise<void> {
    for (const peer of this.peers) {
      if (this.peerSessions.has(peer.name) || !this.isUp()) continue
      let session: AmiSession
      try {
        session = await this.ports.connect(peer)
      } catch (error) {
        this.ports.log.warn(
          `pjctl exporter: ${this.name}: cannot follow the events of node ${peer.name}: ${(error as Error).message}; its contacts are read at each resync`,
        )
        continue
      }
      if (!this.isUp()) {
        await session.close()
        return
      }
      this.peerSessions.set(peer.name, session)
      session.onClose(() => {
        if (this.peerSessions.get(peer.name) !== session) return
        this.peerSessions.delete(peer.name)
        if (this.isUp())
          this.ports.log.warn(
            `pjctl exporter: ${this.name}: lost the events of node ${peer.name}; following again at the next resync`,
          )
      })
      session.onEvent((event) => this.onEvent(event))
      try {
        await session.action('Filter', { Operation: 'Add', Filter: eventFilter(FOLLOWED_EVENTS) })
      } catch (error) {
        this.ports.log.debug(`${peer.name}: Filter refused (${(error as Error).message})`)
      }
      this.ports.log.info(`pjctl exporter: ${this.name}: following the events of node ${peer.name}`)
    }
  }

  private closePeers(): void {
    const sessions = [...this.peerSessions.values()]
    this.peerSessions.clear()
    for (const session of sessions) void session.close()
  }

  /** The connection ended (or never came up): forget the picture, drop the series. */
  private goDown(lost: Lost): void {
    this.closePeers()
    if (this.isStopped()) return
    this.ports.log.warn(
      this.isUp()
        ? `pjctl exporter: ${this.name}: disconnected: ${lost.reason}`
        : `pjctl exporter: ${this.name}: cannot follow: ${lost.reason}`,
    )
    this.to({ name: 'down', lost }, lost.reason)
    this.live.clear()
    this.fetchQueue.clear()
    this.inFlight.clear()
    this.pendingQualify.clear()
    this.metrics.serverDown(this.name)
    this.hooks.changed()
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = null
        resolve()
      }, ms)
      this.wake = () => {
        clearTimeout(timer)
        this.wake = null
        resolve()
      }
    })
  }

  private startTimers(session: AmiSession): void {
    this.timers.push(setInterval(() => this.tick(), 1000))
    this.timers.push(
      setInterval(() => {
        this.askResync('contacts')
        void this.followPeers()
      }, this.resyncMs),
    )
    this.timers.push(
      setInterval(() => {
        if (Date.now() - this.lastActivity >= PING_EVERY_MS)
          void session.ping().catch(() => undefined)
      }, PING_EVERY_MS),
    )
  }

  private clearTimers(): void {
    for (const timer of this.timers) clearInterval(timer)
    this.timers = []
  }

  // --- full reads ---

  /**
   * One full read, applied; then the phase is up with no read under way, and the events held meanwhile
   * are applied. Throws when the read failed (the held events are then applied to the last whole
   * picture) or the connection went down meanwhile.
   */
  private async fullRead(session: AmiSession, read: FullRead): Promise<void> {
    const started = Date.now()
    let drift: Drift
    try {
      const { contacts, configs, authoritative } =
        read.of === 'limits' ? await this.readAll(session) : await this.readContacts(session)
      this.ports.log.debug(`${this.name}: ${read.why}: ${contacts.length} contacts read, applying`)
      drift = await this.apply(read, contacts, configs, authoritative)
    } catch (error) {
      if (this.currentRead() === read && read.why === 'resync') {
        this.endRead(read, 'resync failed')
        this.replay(read)
      }
      throw error
    }
    this.endRead(read, `${read.why} applied`)
    this.replay(read)
    const seconds = (Date.now() - started) / 1000
    const first = read.why === 'first read'
    this.metrics.resynced(this.name, {
      seconds,
      added: first ? 0 : drift.added,
      removed: first ? 0 : drift.removed,
      at: this.ports.now(),
    })
    this.ports.log.info(
      `pjctl exporter: ${this.name}: ${first ? 'up' : 'resync'}: ${this.live.size} contacts read in ${seconds.toFixed(2)} s`,
    )
    if (!first && (drift.added || drift.removed)) {
      this.ports.log.warn(
        `pjctl exporter: ${this.name}: drift: ${drift.added} contact(s) unknown to the exporter, ${drift.removed} gone from Asterisk without an event`,
      )
    }
    this.hooks.changed()
  }

  /** A full read ends: the phase is up with no read under way (limits current after a whole read of them, stale after a failed one). */
  private endRead(read: FullRead, why: string): void {
    const p = this.phase
    if ((p.name !== 'reading' && p.name !== 'up') || p.read !== read) return
    const whole = why !== 'resync failed'
    const limits =
      read.of === 'limits' ? (whole ? 'current' : 'stale') : p.name === 'up' ? p.limits : 'stale'
    const ask = p.name === 'up' ? p.ask : null
    this.to({ name: 'up', session: p.session, read: null, ask, limits }, why)
  }

  /** The events (and DBGet answers) held during a read, in the order they came. */
  private replay(read: FullRead): void {
    for (const item of read.held.splice(0)) {
      if (typeof item === 'function') item()
      else this.onEvent(item)
    }
  }

  /** The read's answer is whole: from here on its picture is half applied. */
  private startApplying(read: FullRead): void {
    if (this.currentRead() !== read) return
    const before = phaseLabel(this.phase)
    read.stage = 'applying'
    this.ports.log.debug(`${this.name}: ${before} -> ${phaseLabel(this.phase)} (read whole)`)
  }

  /**
   * Applies a complete read to `live` in slices (LiveServer.loading), serving the event loop between
   * them. From here on events are newer than the read: held (their keys are not spared from drift) and,
   * like DBGet answers that come meanwhile, applied after it. Throws when the connection went down or
   * the exporter stopped meanwhile (the half-applied picture is then cleared by goDown).
   */
  private async apply(
    read: FullRead,
    contacts: readonly Contact[],
    configs: readonly AorConfig[] | null,
    authoritative: boolean,
  ): Promise<Drift> {
    this.startApplying(read)
    const gone = (): boolean => this.currentRead() !== read
    // a publish under way finishes on the whole picture first
    while (this.publishing) await this.publishing
    if (gone()) throw new Error('stopped while a full read was being applied')
    const steps = this.live.loading(
      contacts,
      configs,
      this.ports.now(),
      read.heldKeys,
      authoritative,
    )
    let sliceStart = performance.now()
    let stepsInSlice = 0
    for (;;) {
      const step = steps.next()
      if (step.done) return step.value
      if (++stepsInSlice >= APPLY_SLICE_STEPS || performance.now() - sliceStart >= APPLY_SLICE_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve))
        if (gone()) throw new Error('stopped while a full read was being applied')
        sliceStart = performance.now()
        stepsInSlice = 0
      }
    }
  }

  /** Contacts and limits, through the read path check uses; each contact cut down as it is parsed (LiveServer.slim). */
  private async readAll(session: AmiSession): Promise<ServerRead> {
    const read = await this.ports.readAll(session)
    this.place = read.place
    return read
  }

  /** Contacts only, where the last read with limits found them (limits are kept from it). */
  private async readContacts(session: AmiSession): Promise<ServerRead> {
    return { contacts: await this.ports.readContacts(session), configs: null, authoritative: false }
  }

  /**
   * Asks for a resync (`limits`: of the limits too); it starts now unless one is under way. The ask is
   * noted on the up phase (a request, not a transition: an event storm may ask thousands of times).
   */
  private askResync(of: 'limits' | 'contacts'): void {
    const p = this.phase
    if (p.name !== 'up') return
    if (p.ask !== 'limits') p.ask = of
    void this.resyncIfAsked()
  }

  private async resyncIfAsked(): Promise<void> {
    const p = this.phase
    if (p.name !== 'up' || p.read || !p.ask) return
    const read = newRead(
      'resync',
      p.ask === 'limits' || p.limits === 'stale' ? 'limits' : 'contacts',
    )
    this.to({ ...p, read, ask: null }, `resync of the ${read.of}`)
    try {
      await this.fullRead(p.session, read)
    } catch (error) {
      // the connection may have gone down while the read ran: then it is not the resync that failed
      if (this.sessionOf() === p.session)
        this.ports.log.warn(
          `pjctl exporter: ${this.name}: resync failed: ${(error as Error).message}`,
        )
    }
    // an event may have asked for another resync while this one ran
    void this.resyncIfAsked()
  }

  // --- refusals ---

  /** Filter to the events used; say once when the user gets no security events. */
  private async askForWhatIsUsed(session: AmiSession): Promise<void> {
    try {
      await session.action('Filter', { Operation: 'Add', Filter: eventFilter(FOLLOWED_EVENTS) })
    } catch (error) {
      this.ports.log.debug(`${this.name}: Filter refused (${(error as Error).message})`)
    }
    if (this.securityChecked) return
    this.securityChecked = true
    const problem = await this.ports.securityProblem(session)
    if (problem) this.ports.log.warn(`pjctl exporter: ${this.name}: ${problem}`)
  }

  private onRefusal(refusal: Refusal): void {
    const at = this.ports.now()
    const session = this.sessionOf()
    if (!PER_AOR_REASONS.has(refusal.reason) || !session) {
      this.metrics.refused(this.name, '', '', refusal.reason, at)
      this.hooks.changed()
      return
    }
    void this.aorsOf(session, refusal.endpoint)
      .then((aors) => aorOfRefusal(refusal.endpoint, aors, (aor) => this.live.isFull(aor)))
      .catch(() => '')
      .then((aor) => {
        this.metrics.refused(this.name, refusal.endpoint, aor, refusal.reason, at)
        this.hooks.changed()
        if (refusal.reason === 'max_contacts' && aor) return this.heal(session, refusal)
      })
  }

  private aorsOf(session: AmiSession, endpoint: string): Promise<string[]> {
    let aors = this.endpointAors.get(endpoint)
    if (!aors) {
      aors = session
        .list('PJSIPShowEndpoint', { Endpoint: endpoint }, [
          `Unable to retrieve endpoint ${endpoint}`,
        ])
        .then((answer) =>
          splitAors(answer.items.find((i) => i.get('Event') === 'EndpointDetail')?.get('Aors')),
        )
      // a failed read is not kept
      aors.catch(() => this.endpointAors.delete(endpoint))
      this.endpointAors.set(endpoint, aors)
    }
    return aors
  }

  private async heal(session: AmiSession, refusal: Refusal): Promise<void> {
    if (!this.ports.heal) return
    try {
      const healed = await this.ports.heal(session, refusal)
      if (!healed) return
      this.metrics.healed(this.name, healed.aor, healed.result)
      this.hooks.changed()
    } catch (error) {
      this.ports.log.warn(`pjctl exporter: ${this.name}: heal: ${(error as Error).message}`)
    }
  }

  // --- events ---

  private onEvent(event: AmiMessage): void {
    this.lastActivity = Date.now()
    const name = event.get('Event') ?? ''
    this.metrics.countEvent(this.name, COUNTED_EVENTS.has(name) ? name : 'other')
    const refusal = refusalFromEvent((h) => event.get(h))
    if (refusal) {
      this.onRefusal(refusal)
      return
    }
    if (name !== 'ContactStatus' && name !== 'UserEvent' && name !== 'Reload') return
    const read = this.currentRead()
    if (read) {
      read.held.push(event)
      if (read.stage === 'reading') for (const key of keysOf(event)) read.heldKeys.add(key)
      return
    }
    if (!this.isUp()) return
    if (name === 'ContactStatus') this.contactStatus(event)
    else if (name === 'UserEvent') this.announcement(event)
    else {
      // a module reload may have changed pjsip.conf: limits are read again at once
      this.endpointAors.clear()
      this.askResync('limits')
    }
  }

  private contactStatus(event: AmiMessage): void {
    const aor = event.get('AOR')
    const uri = event.get('URI')
    const status = event.get('ContactStatus') ?? ''
    if (!aor || uri === undefined) return
    const key = contactKeyOf(aor, uri)
    if (status === 'Removed') {
      this.pendingQualify.delete(key)
      if (this.inFlight.has(key)) this.inFlight.set(key, true)
      this.fetchQueue.delete(key)
      if (this.live.remove(key)) this.hooks.changed()
      return
    }
    if (this.live.has(key)) {
      if (this.live.setQualify(key, status)) this.hooks.changed()
      return
    }
    this.pendingQualify.set(key, status)
    this.fetch(key)
  }

  private announcement(event: AmiMessage): void {
    const announced = parseAnnouncement((name) => event.get(name))
    if (announced?.family !== this.place.family) return
    this.ports.log.debug(
      `${this.name}: UserEvent pjctl: ${announced.keys.length} key(s) ${announced.change}`,
    )
    for (const key of announced.keys) {
      if (announced.change === 'deleted') {
        if (this.inFlight.has(key)) this.inFlight.set(key, true)
        this.fetchQueue.delete(key)
        this.live.remove(key)
      } else {
        this.fetch(key)
      }
    }
    if (!announced.complete) this.askResync('contacts')
    this.hooks.changed()
  }

  // --- DBGets of single keys ---

  private fetch(key: string): void {
    if (this.place.realtime && !(this.place.oneRow && this.ports.readOne)) {
      this.askResync('contacts')
      return
    }
    if (this.inFlight.has(key)) this.inFlight.set(key, true)
    else this.fetchQueue.add(key)
    this.drainFetches()
  }

  private drainFetches(): void {
    const session = this.sessionOf()
    if (!session || !this.isUp()) return
    for (const key of this.fetchQueue) {
      if (this.fetching >= FETCH_IN_FLIGHT) break
      this.fetchQueue.delete(key)
      this.fetching++
      this.inFlight.set(key, false)
      this.lookUp(session, key)
        .then(
          (value) => this.fetched(session, key, value),
          (error: unknown) =>
            this.ports.log.debug(
              `${this.name}: ${this.place.realtime ? 'row of' : 'DBGet'} ${key}: ${(error as Error).message}`,
            ),
        )
        .finally(() => {
          this.fetching--
          const again = this.inFlight.get(key)
          this.inFlight.delete(key)
          if (again && this.sessionOf() === session) this.fetchQueue.add(key)
          this.drainFetches()
        })
    }
  }

  /** One contact by its key: DBGet in astdb, its own row in a realtime table; null when there is none. */
  private async lookUp(session: AmiSession, key: string): Promise<Contact | string | null> {
    if (this.place.realtime && this.ports.readOne) {
      const contact = await this.ports.readOne(session, key)
      this.ports.log.debug(`${this.name}: row of ${key}: ${contact === null ? 'none' : 'read'}`)
      return contact
    }
    const value = await session.dbGet(this.place.family, key)
    return value === null ? null : contactFromRow(key, value)
  }

  private fetched(session: AmiSession, key: string, value: Contact | string | null): void {
    if (this.sessionOf() !== session || !this.isUp() || this.inFlight.get(key)) return
    // newer than the read being applied: after it, in its place among the held events
    const read = this.currentRead()
    if (read?.stage === 'applying') {
      read.held.push(() => {
        if (this.sessionOf() === session && this.isUp()) this.store(key, value)
      })
      return
    }
    this.store(key, value)
  }

  /** A DBGet's (or a row's) answer into the picture. */
  private store(key: string, contact: Contact | string | null): void {
    const now = this.ports.now()
    if (contact === null) {
      this.pendingQualify.delete(key)
      if (this.live.remove(key)) this.hooks.changed()
      return
    }
    if (typeof contact === 'string') {
      this.ports.log.warn(`${this.name}: ${key} did not parse (${contact})`)
      return
    }
    let changed = this.live.put(contact, now) !== 'same'
    const status = this.pendingQualify.get(key)
    if (status !== undefined) {
      this.pendingQualify.delete(key)
      changed = this.live.setQualify(key, status) || changed
    }
    if (changed) this.hooks.changed()
  }

  // --- time ---

  private tick(): void {
    // during an apply the clock waits (the next tick catches up: every due time up to now is taken then)
    if (!this.isUp() || this.applying()) return
    const recheck = this.live.tick(this.ports.now())
    if (recheck.length > RECHECK_AS_RESYNC) this.askResync('contacts')
    else for (const key of recheck) this.fetch(key)
    // render only when an AOR's judgement may have moved (nothing changes with the clock otherwise)
    if (this.live.hasDirty) this.hooks.changed()
  }
}

function newRead(why: FullRead['why'], of: FullRead['of']): FullRead {
  return { why, of, stage: 'reading', held: [], heldKeys: new Set() }
}

function lostWith(error: unknown): Lost {
  const reason = error instanceof Error ? error.message : String(error)
  const code = ((error as Error | undefined)?.cause as NodeJS.ErrnoException | undefined)?.code
  const summary =
    error instanceof AuthError
      ? 'AMI login failed'
      : error instanceof PermissionError
        ? 'AMI permission denied'
        : error instanceof ActionTimeoutError
          ? 'no answer from AMI in time'
          : reason.startsWith('TLS')
            ? 'TLS to AMI failed'
            : code === 'ECONNREFUSED'
              ? 'connection refused'
              : / closed the connection| was reset/.test(reason)
                ? 'connection lost'
                : 'cannot read the server'
  return { reason, summary }
}

/** The keys an event is about (for not counting them as drift). */
function keysOf(event: AmiMessage): string[] {
  const name = event.get('Event')
  if (name === 'ContactStatus') {
    const aor = event.get('AOR')
    const uri = event.get('URI')
    return aor && uri !== undefined ? [contactKeyOf(aor, uri)] : []
  }
  if (name === 'UserEvent') return parseAnnouncement((h) => event.get(h))?.keys ?? []
  return []
}

/** /healthz: ok when every server is up; else each server that is not, and why (the reason only to an authenticated client). */
export function health(
  followers: readonly ServerFollower[],
  authenticated: boolean,
): { ok: boolean; text: string } {
  const notUp = followers.filter((f) => f.state !== 'up')
  if (!notUp.length)
    return {
      ok: true,
      text: `ok: ${followers.map((f) => `${f.name} up (${f.contacts} contacts)`).join(', ')}`,
    }
  return {
    ok: false,
    text: notUp
      .map((f) => {
        // while it reconnects after a failure, the failure is what is worth telling
        const lost = f.state === 'down' || f.state === 'connecting' ? f.lost : null
        return `${f.name}: ${lost ? `down: ${authenticated ? lost.reason : lost.summary}` : f.state}`
      })
      .join('\n'),
  }
}
