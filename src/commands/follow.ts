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

import { createHash } from 'node:crypto'
import type { AmiMessage, AmiSession, AmiTarget } from '../ami/types.js'
import { parseAnnouncement } from '../core/announce.js'
import { contactFromRow } from '../core/contact.js'
import { LiveServer, serverStatus, type Drift } from '../core/live.js'
import { CONTACT_FAMILY, type AorConfig, type AorState, type Contact } from '../core/types.js'
import { ActionTimeoutError, AuthError, PermissionError } from '../errors.js'
import {
  aorOfRefusal,
  eventFilter,
  PER_AOR_REASONS,
  REFUSAL_EVENTS,
  refusalFromEvent,
  splitAors,
  type Refusal,
} from '../core/refusals.js'
import { heal, HealLimiter, logHeal, readRefusedAor, securityClassProblem } from './refusal.js'
import { SOURCE_SERIES, type ExporterMetrics } from '../exporter/metrics.js'
import { readContactsAndLimits, readContactsAt, thresholdsFrom } from './read.js'
import { backupFamilyOf, type ContactLocation } from './store.js'
import type { Deps, Settings } from './types.js'

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

export type FollowerState = 'connecting' | 'reading' | 'up' | 'down'

export interface FollowerHooks {
  /** The picture changed: render when convenient. */
  changed(): void
}

/** The astdb key of a contact: `<aor>;@<md5 of the URI>` (res/res_pjsip/location.c). */
function contactKeyOf(aor: string, uri: string): string {
  return `${aor};@${createHash('md5').update(uri).digest('hex')}`
}

export class ServerFollower {
  state: FollowerState = 'connecting'
  /** Why the server is not up (for the log, and /healthz to an authenticated client). */
  reason = 'not read yet'
  /** The same without user names, hosts or ports (for /healthz to anyone): "AMI login failed". */
  summary = 'not read yet'
  /** The last connection failed or was lost (reason and summary say how), and it has not been up since. */
  failed = false
  private readonly live: LiveServer
  private session: AmiSession | null = null
  /** The astdb family of this server's contacts (sorcery.conf's contact mapping), learnt at each read with limits. */
  private family = CONTACT_FAMILY
  /** Contacts in a realtime table: no DBGet of single keys; a contact the exporter does not know brings a full read. */
  private realtime = false
  /** Where this server's contacts live, as the last read with limits found (a resync reads them there). */
  private location: ContactLocation | null = null
  private stopped = false
  private wake: (() => void) | null = null
  /** While a full read runs and is applied: events (and, during the apply, DBGet answers) in the order they came, applied after it. */
  private held: (AmiMessage | (() => void))[] | null = null
  /** Keys events touched while the read ran (not drift); no longer added to once the read is complete. */
  private heldKeys = new Set<string>()
  /** A full read is being applied to `live`: it is half applied, nothing may judge, publish or change it. */
  private applying = false
  /** publish() under way (its slices yield): an apply waits for it, so it never judges a half-applied picture. */
  private publishing: Promise<void> | null = null
  /** Counts the times the server went down: an apply of an older connection stops. */
  private generation = 0
  private readonly fetchQueue = new Set<string>()
  /** Keys whose DBGet is in flight; true when an event about them arrived meanwhile (fetch again). */
  private readonly inFlight = new Map<string, boolean>()
  private readonly pendingQualify = new Map<string, string>()
  private fetching = 0
  private limitsStale = true
  private resyncRequested = false
  private resyncing = false
  private timers: NodeJS.Timeout[] = []
  private loop: Promise<void> | null = null
  private lastActivity = Date.now()
  /** Endpoint → its aors= (PJSIPShowEndpoint, once per endpoint a refusal names; forgotten on Reload). */
  private readonly endpointAors = new Map<string, Promise<string[]>>()
  private warnedSecurity = false
  private readonly healLimiter = new HealLimiter()
  private signalStop: () => void = () => undefined
  private readonly stopSignal = new Promise<string>(
    (resolve) => (this.signalStop = () => resolve('stopped')),
  )

  constructor(
    readonly target: AmiTarget,
    private readonly settings: Settings,
    private readonly deps: Deps,
    private readonly metrics: ExporterMetrics,
    private readonly hooks: FollowerHooks,
    private readonly resyncMs: number,
  ) {
    this.live = new LiveServer({
      thresholds: thresholdsFrom(settings),
      defaultMaxContacts: settings.maxContacts ?? null,
      onContactChange: (aor, change) => metrics.contactChanged(target.name, aor, change),
    })
    metrics.addServer(target.name, settings.perIpLimit)
  }

  get name(): string {
    return this.target.name
  }

  get contacts(): number {
    return this.live.size
  }

  start(): void {
    this.loop ??= this.run()
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.signalStop()
    this.wake?.()
    this.clearTimers()
    const session = this.session
    this.session = null
    await session?.close()
    await this.loop
  }

  /**
   * Applies the dirty AORs to the metrics (called before a render), PUBLISH_SLICE AORs at a time with
   * the event loop served in between: after a full read all 50,000 AORs of a big PBX are dirty, and
   * judging them in one block would hold scrapes and events for seconds.
   */
  async publish(): Promise<void> {
    // while a full read is applied, the metrics keep what the last publish gave: a whole picture
    if (this.state !== 'up' || this.applying || this.publishing) return
    const run = this.judgeAndPublish()
    this.publishing = run
    try {
      await run
    } finally {
      this.publishing = null
    }
  }

  private async judgeAndPublish(): Promise<void> {
    const now = this.deps.now()
    while (this.live.hasDirty) {
      for (const [aor, summary] of this.live.judge(now, PUBLISH_SLICE))
        this.metrics.setAor(this.name, aor, summary)
      // judge() took a slice: more may be left
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
      if (this.live.hasDirty) await new Promise<void>((resolve) => setImmediate(resolve))
      // the server may have gone down meanwhile: its series are dropped, not published
      if (this.state !== 'up') return
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

  // --- the connection's life ---

  private async run(): Promise<void> {
    let backoff = BACKOFF_FIRST_MS
    while (!this.stopped) {
      const lost = await this.connectAndFollow()
      // stop() may have run while connected
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
      if (this.stopped) break
      const wasUp = this.state === 'up'
      this.goDown(lost)
      if (wasUp) backoff = BACKOFF_FIRST_MS
      const wait = Math.round(backoff * (0.8 + 0.4 * Math.random()))
      this.deps.log.info(
        `pjctl exporter: ${this.name}: reconnecting in ${(wait / 1000).toFixed(1)} s`,
      )
      await this.sleep(wait)
      backoff = Math.min(backoff * 2, BACKOFF_MAX_MS)
    }
  }

  /** Resolves with the reason the connection ended. */
  private async connectAndFollow(): Promise<Lost> {
    this.state = 'connecting'
    let session: AmiSession
    try {
      session = await this.deps.connect(this.target)
    } catch (error) {
      return lostWith(error)
    }
    if (this.stopped) {
      await session.close()
      return { reason: 'stopped', summary: 'stopped' }
    }
    this.session = session
    this.deps.log.info(
      `pjctl exporter: ${this.name}: connected to ${this.target.host}:${this.target.port} as ${this.target.user}`,
    )
    const lost = new Promise<Lost>((resolve) => {
      session.onClose((error) => resolve(lostWith(error)))
    })
    session.onEvent((event) => this.onEvent(event))
    this.limitsStale = true
    try {
      await this.askForWhatIsUsed(session)
      this.state = 'reading'
      await this.fullRead(session, 'first read')
    } catch (error) {
      await session.close()
      this.session = null
      return lostWith(error)
    }
    this.state = 'up'
    this.reason = ''
    this.failed = false
    this.metrics.setUp(this.name, true)
    this.hooks.changed()
    this.startTimers(session)
    this.drainFetches()
    const reason = await Promise.race([
      lost,
      this.stoppedPromise().then((reason) => ({ reason, summary: reason })),
    ])
    this.clearTimers()
    if (this.session === session) this.session = null
    await session.close()
    return reason
  }

  private goDown({ reason, summary }: Lost): void {
    if (this.state === 'up')
      this.deps.log.warn(`pjctl exporter: ${this.name}: disconnected: ${reason}`)
    else this.deps.log.warn(`pjctl exporter: ${this.name}: cannot follow: ${reason}`)
    this.state = 'down'
    this.reason = reason
    this.summary = summary
    this.failed = true
    this.generation++
    this.live.clear()
    this.fetchQueue.clear()
    this.inFlight.clear()
    this.pendingQualify.clear()
    this.held = null
    this.metrics.serverDown(this.name)
    this.hooks.changed()
  }

  private stoppedPromise(): Promise<string> {
    return this.stopSignal
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
    this.timers.push(setInterval(() => this.requestResync(), this.resyncMs))
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

  /** One full read; events meanwhile are held and applied after it. */
  private async fullRead(session: AmiSession, why: string): Promise<void> {
    const started = Date.now()
    this.held = []
    this.heldKeys = new Set()
    let drift: Drift
    try {
      const withLimits = this.limitsStale
      const read = withLimits ? await this.readAll(session) : await this.readContacts(session)
      this.deps.log.debug(`${this.name}: ${why}: ${read.contacts.length} contacts read, applying`)
      drift = await this.apply(read.contacts, read.configs, read.authoritative)
      if (withLimits) this.limitsStale = false
    } catch (error) {
      this.held = null
      throw error
    } finally {
      this.applying = false
    }
    const held = this.held
    this.held = null
    for (const item of held) {
      if (typeof item === 'function') item()
      else this.onEvent(item)
    }
    const seconds = (Date.now() - started) / 1000
    this.metrics.resynced(this.name, {
      seconds,
      added: why === 'first read' ? 0 : drift.added,
      removed: why === 'first read' ? 0 : drift.removed,
      at: this.deps.now(),
    })
    if (why === 'first read') {
      this.deps.log.info(
        `pjctl exporter: ${this.name}: up: ${this.live.size} contacts read in ${seconds.toFixed(2)} s`,
      )
    } else {
      this.deps.log.info(
        `pjctl exporter: ${this.name}: resync: ${this.live.size} contacts read in ${seconds.toFixed(2)} s`,
      )
      if (drift.added || drift.removed) {
        this.deps.log.warn(
          `pjctl exporter: ${this.name}: drift: ${drift.added} contact(s) unknown to the exporter, ${drift.removed} gone from Asterisk without an event`,
        )
      }
    }
    this.hooks.changed()
  }

  /**
   * Applies a complete read to `live` in slices (LiveServer.loading), serving the event loop between
   * them. From here on events are newer than the read: held (their keys are not spared from drift) and,
   * like DBGet answers that come meanwhile, applied after it. Throws when the server went down or the
   * exporter stopped meanwhile (the half-applied picture is then cleared by goDown).
   */
  private async apply(
    contacts: readonly Contact[],
    configs: readonly AorConfig[] | null,
    authoritative = false,
  ): Promise<Drift> {
    this.applying = true
    const generation = this.generation
    const gone = (): boolean => this.stopped || this.generation !== generation
    // a publish under way finishes on the whole picture first
    while (this.publishing) await this.publishing
    if (gone()) throw new Error('stopped while a full read was being applied')
    const steps = this.live.loading(
      contacts,
      configs,
      this.deps.now(),
      this.heldKeys,
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

  /**
   * Contacts and limits, through the read path check uses, but not judged into a report: each contact
   * is cut down to what the exporter keeps as it is parsed (LiveServer.slim), so a first read of 100,000
   * contacts never holds their stored values, parsed fields and report rows all at once.
   */
  private async readAll(
    session: AmiSession,
  ): Promise<{ contacts: Contact[]; configs: AorConfig[]; authoritative: boolean }> {
    const { parsed, limits, location } = await readContactsAndLimits(
      session,
      this.settings,
      this.deps,
      { keep: LiveServer.slim },
    )
    this.location = location
    this.realtime = location.place.kind === 'realtime'
    this.family = backupFamilyOf(location.place)
    return {
      contacts: parsed.contacts,
      configs: limits.configs,
      authoritative: limits.info.authoritative,
    }
  }

  /** Contacts only, through the read path every command uses (limits are kept from the last read that had them). */
  private async readContacts(
    session: AmiSession,
  ): Promise<{ contacts: Contact[]; configs: AorConfig[] | null; authoritative?: boolean }> {
    if (!this.location) return this.readAll(session)
    const parsed = await readContactsAt(
      session,
      this.location,
      this.settings,
      this.deps,
      LiveServer.slim,
    )
    return { contacts: parsed.contacts, configs: null }
  }

  private requestResync(): void {
    this.resyncRequested = true
    void this.resyncIfRequested()
  }

  private async resyncIfRequested(): Promise<void> {
    const session = this.session
    if (!this.resyncRequested || this.resyncing || this.state !== 'up' || !session) return
    this.resyncRequested = false
    this.resyncing = true
    try {
      await this.fullRead(session, 'resync')
    } catch (error) {
      // the session may have gone down while the read ran
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
      if (this.session === session && this.state === 'up')
        this.deps.log.warn(
          `pjctl exporter: ${this.name}: resync failed: ${(error as Error).message}`,
        )
    } finally {
      this.resyncing = false
    }
    // an event may have asked for another resync while this one ran
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    if (this.resyncRequested) void this.resyncIfRequested()
  }

  // --- refusals ---

  /** Filter to the events used; say once when the user gets no security events. */
  private async askForWhatIsUsed(session: AmiSession): Promise<void> {
    try {
      await session.action('Filter', { Operation: 'Add', Filter: eventFilter(FOLLOWED_EVENTS) })
    } catch (error) {
      this.deps.log.debug(`${this.name}: Filter refused (${(error as Error).message})`)
    }
    if (this.warnedSecurity) return
    this.warnedSecurity = true
    const problem = await securityClassProblem(session, this.target)
    if (problem) this.deps.log.warn(`pjctl exporter: ${this.name}: ${problem.text}`)
  }

  private onRefusal(refusal: Refusal): void {
    const at = this.deps.now()
    const session = this.session
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
        if (this.settings.heal && refusal.reason === 'max_contacts' && aor)
          return this.heal(session, refusal)
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
    try {
      const refused = await readRefusedAor(session, refusal, this.target, this.settings, this.deps)
      if (!refused) return
      const outcome = await heal(refused, this.target, this.settings, this.deps, this.healLimiter)
      logHeal(this.deps, this.name, refused, outcome)
      this.metrics.healed(this.name, refused.aor, outcome.result)
      this.hooks.changed()
    } catch (error) {
      this.deps.log.warn(`pjctl exporter: ${this.name}: heal: ${(error as Error).message}`)
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
    if (this.held) {
      this.held.push(event)
      if (!this.applying) for (const key of keysOf(event)) this.heldKeys.add(key)
      return
    }
    if (this.state !== 'up' && this.state !== 'reading') return
    if (name === 'ContactStatus') this.contactStatus(event)
    else if (name === 'UserEvent') this.announcement(event)
    else {
      // a module reload may have changed pjsip.conf: limits are read again at the next full read, soon
      this.endpointAors.clear()
      this.limitsStale = true
      this.requestResync()
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
    if (announced?.family !== this.family) return
    this.deps.log.debug(
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
    if (!announced.complete) this.requestResync()
    this.hooks.changed()
  }

  // --- DBGets of single keys ---

  private fetch(key: string): void {
    if (this.realtime) {
      this.requestResync()
      return
    }
    if (this.inFlight.has(key)) this.inFlight.set(key, true)
    else this.fetchQueue.add(key)
    this.drainFetches()
  }

  private drainFetches(): void {
    const session = this.session
    if (!session || this.state !== 'up') return
    for (const key of this.fetchQueue) {
      if (this.fetching >= FETCH_IN_FLIGHT) break
      this.fetchQueue.delete(key)
      this.fetching++
      this.inFlight.set(key, false)
      session
        .dbGet(this.family, key)
        .then(
          (value) => this.fetched(session, key, value),
          (error: unknown) =>
            this.deps.log.debug(`${this.name}: DBGet ${key}: ${(error as Error).message}`),
        )
        .finally(() => {
          this.fetching--
          const again = this.inFlight.get(key)
          this.inFlight.delete(key)
          if (again && this.session === session) this.fetchQueue.add(key)
          this.drainFetches()
        })
    }
  }

  private fetched(session: AmiSession, key: string, value: string | null): void {
    if (this.session !== session || this.state !== 'up' || this.inFlight.get(key)) return
    // newer than the read being applied: after it, in its place among the held events
    if (this.applying && this.held) {
      this.held.push(() => {
        if (this.session === session && this.state === 'up') this.store(key, value)
      })
      return
    }
    this.store(key, value)
  }

  /** A DBGet's answer into the picture. */
  private store(key: string, value: string | null): void {
    const now = this.deps.now()
    if (value === null) {
      this.pendingQualify.delete(key)
      if (this.live.remove(key)) this.hooks.changed()
      return
    }
    const contact = contactFromRow(key, value)
    if (typeof contact === 'string') {
      this.deps.log.warn(`${this.name}: ${key} did not parse (${contact})`)
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
    if (this.state !== 'up' || this.applying) return
    const recheck = this.live.tick(this.deps.now())
    if (recheck.length > RECHECK_AS_RESYNC) this.requestResync()
    else for (const key of recheck) this.fetch(key)
    // render only when an AOR's judgement may have moved (nothing changes with the clock otherwise)
    if (this.live.hasDirty) this.hooks.changed()
  }
}

/** Why a connection ended: the error's message, and a summary that names no user, host or port. */
interface Lost {
  reason: string
  summary: string
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
