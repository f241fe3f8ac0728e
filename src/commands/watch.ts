// pjctl watch: registration trouble as it happens, from Asterisk's own refusals (AMI security events).
// One session per server asks (Filter) for the refusal events only; each refusal is one record: time,
// server, endpoint/AOR, refused address, reason; for max_contacts also the AOR's contacts at that moment
// (one PJSIPShowEndpoint: the only action a refusal costs), which are stale and why, and the pjctl prune
// command that frees the slot. --heal runs that prune. Reconnects with backoff like the exporter; SIGINT
// and SIGTERM end it cleanly (exit 0).

import type { AmiMessage, AmiSession, AmiTarget } from '../ami/types.js'
import {
  addressText,
  eventFilter,
  REFUSAL_EVENTS,
  refusalFromEvent,
  type Refusal,
} from '../core/refusals.js'
import { HEAL_OPTION_HELP, HEAL_OPTIONS, SERVER_OPTIONS } from '../options.js'
import {
  EndpointReads,
  heal,
  HealLimiter,
  logHeal,
  readRefusedAor,
  securityClassProblem,
} from './refusal.js'
import type { CommandSpec, Deps, Settings } from './types.js'
import type { WatchRecord } from './views.js'

const BACKOFF_FIRST_MS = 1000
const BACKOFF_MAX_MS = 30_000
const PING_EVERY_MS = 15_000

export const watch: CommandSpec<'watch'> = {
  name: 'watch',
  summary:
    'Show registrations Asterisk refuses as they happen (max_contacts, bad contact, no AOR, bad password), with the stale contact and the prune that frees the slot; --heal prunes it.',
  examples: ['pjctl watch --all', 'pjctl watch --server pbx1 --json', 'pjctl watch --heal'],
  options: [...SERVER_OPTIONS, 'maxContacts', ...HEAL_OPTIONS],
  optionHelp: HEAL_OPTION_HELP,
  formats: ['table', 'json'],
  handlesInterrupt: true,
  untilStopped: true,
  async run({ settings, deps }) {
    const targets = await deps.targets()
    const limiter = new HealLimiter()
    const watchers = targets.map((target) => new Watcher(target, settings, deps, limiter))
    deps.log.info(
      `pjctl watch: watching ${targets.map((t) => t.name).join(', ')} for refused registrations${settings.heal ? ' (healing max_contacts refusals)' : ''}; Ctrl-C to stop`,
    )
    await Promise.all(watchers.map((w) => w.run()))
    return { view: 'watch', data: {}, exitCode: 0 }
  },
}

class Watcher {
  private warnedSecurity = false
  /** Refusals being handled, in arrival order: their records are emitted in that order. */
  private chain: Promise<void> = Promise.resolve()

  constructor(
    private readonly target: AmiTarget,
    private readonly settings: Settings,
    private readonly deps: Deps,
    private readonly limiter: HealLimiter,
  ) {}

  private get stopped(): boolean {
    return this.deps.signal.aborted
  }

  async run(): Promise<void> {
    let backoff = BACKOFF_FIRST_MS
    while (!this.stopped) {
      const { reason, wasUp } = await this.follow()
      // stop() may have run meanwhile
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
      if (this.stopped) break
      if (wasUp) backoff = BACKOFF_FIRST_MS
      const wait = Math.round(backoff * (0.8 + 0.4 * Math.random()))
      this.deps.log.warn(
        `pjctl watch: ${this.target.name}: ${wasUp ? 'disconnected' : 'cannot connect'}: ${reason}; reconnecting in ${(wait / 1000).toFixed(1)} s`,
      )
      await this.sleep(wait)
      backoff = Math.min(backoff * 2, BACKOFF_MAX_MS)
    }
    await this.chain
  }

  /** One connection: resolves with why it ended. */
  private async follow(): Promise<{ reason: string; wasUp: boolean }> {
    let session: AmiSession
    try {
      session = await this.deps.connect(this.target)
    } catch (error) {
      return { reason: (error as Error).message, wasUp: false }
    }
    let lost: (reason: string) => void = () => undefined
    const ended = new Promise<string>((resolve) => (lost = resolve))
    session.onClose((error) => lost(error.message))
    const onAbort = (): void => lost('stopped')
    this.deps.signal.addEventListener('abort', onAbort, { once: true })
    const reads = new EndpointReads(session)
    session.onEvent((event) => this.onEvent(reads, event))
    try {
      await this.prepare(session)
      this.deps.log.info(`pjctl watch: ${this.target.name}: connected`)
      const ping = setInterval(() => void session.ping().catch(() => undefined), PING_EVERY_MS)
      const reason = await ended
      clearInterval(ping)
      return { reason, wasUp: true }
    } catch (error) {
      return { reason: (error as Error).message, wasUp: false }
    } finally {
      this.deps.signal.removeEventListener('abort', onAbort)
      await this.chain
      await session.close()
    }
  }

  /** Ask for the refusal events only; say once if the user cannot get them. */
  private async prepare(session: AmiSession): Promise<void> {
    try {
      await session.action('Filter', { Operation: 'Add', Filter: eventFilter(REFUSAL_EVENTS) })
    } catch (error) {
      this.deps.log.debug(
        `${this.target.name}: Filter refused (${(error as Error).message}): every event is read and the refusals picked out`,
      )
    }
    if (this.warnedSecurity) return
    const problem = await securityClassProblem(session, this.target)
    if (problem) {
      this.warnedSecurity = true
      this.deps.log.warn(`pjctl watch: ${this.target.name}: ${problem.text}`)
    }
  }

  /** Each refusal is read at once (reads of one endpoint shared, EndpointReads); records are written in arrival order. */
  private onEvent(reads: EndpointReads, event: AmiMessage): void {
    const refusal = refusalFromEvent((h) => event.get(h))
    if (!refusal) return
    const time = new Date(this.deps.now() * 1000).toISOString()
    const record = this.handle(reads, refusal, time)
    this.chain = this.chain
      .then(() => record)
      .then((done) => this.deps.emit?.('refusal', done))
      .catch((error: unknown) =>
        this.deps.log.warn(`pjctl watch: ${this.target.name}: ${(error as Error).message}`),
      )
  }

  private async handle(reads: EndpointReads, refusal: Refusal, time: string): Promise<WatchRecord> {
    const record: WatchRecord = {
      time,
      server: this.target.name,
      event: refusal.event,
      reason: refusal.reason,
      detail: refusal.detail,
      endpoint: refusal.endpoint,
      aor: '',
      address: refusal.remote ? addressText(refusal.remote) : refusal.remoteText,
      callId: refusal.callId,
    }
    if (refusal.reason === 'max_contacts') {
      try {
        const refused = await readRefusedAor(
          reads.session,
          refusal,
          this.target,
          this.settings,
          this.deps,
          (endpoint) => reads.read(endpoint),
        )
        if (refused) {
          record.aor = refused.aor
          record.refused = refused
          if (this.settings.heal) {
            record.heal = await heal(refused, this.target, this.settings, this.deps, this.limiter)
            if (record.heal.result === 'healed') reads.forget(refusal.endpoint)
            logHeal(this.deps, this.target.name, refused, record.heal)
          }
        }
      } catch (error) {
        record.readError = (error as Error).message
      }
    }
    return record
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      const signal = this.deps.signal
      function done(): void {
        clearTimeout(timer)
        signal.removeEventListener('abort', done)
        resolve()
      }
      signal.addEventListener('abort', done, { once: true })
    })
  }
}
