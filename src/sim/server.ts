// SimAsterisk: a simulated Asterisk speaking AMI over TCP (its state as the handlers see it: ./context.ts), byte for byte as Asterisk 22.10.1
// (or, with version '13', as Asterisk 13). It answers as a healthy Asterisk does; tests bend it
// through SimHooks, which only src/sim/faults.ts implements (`pjctl demo` never loads that file).

import { createHash } from 'node:crypto'
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { createServer as createTlsServer } from 'node:tls'
import { CONTACT_FAMILY, type QualifyStatus } from '../core/types.js'
import { answerAction } from './actions.js'
import type {
  ActionContext,
  SessionState,
  SimConfigCategory,
  SimState,
  SimUser,
  SimVersion,
} from './context.js'
import { AmiRequest, parseHeader, type Header } from './ami.js'
import { AstDb } from './astdb.js'
import { actionCost, type ActionCost } from './cost.js'
import { renderPjsipConf, renderWizardConf, type SimConfigFiles } from './config.js'
import { contactCreatedEvents, contactRemovedEvents } from './pjsip.js'
import { shouldSend, type EventFilter } from './filter.js'
import {
  Registrar,
  type RegisterRequest,
  type RegisterResult,
  type SimContactStore,
} from './registrar.js'
import { authEvents, refusalEvents, type SecurityContext, type SimAuth } from './security.js'

/**
 * __ast_sorcery_apply_config for res_pjsip's contact: the first `[res_pjsip]` `contact` line that is not a
 * cache (`contact/cache=...`) is where objects are created. astdb: family `<data>/contact`; null for any
 * other wizard (memory, realtime): the sim keeps those contacts where AMI's DB actions cannot see them.
 * Without a contact line, res_pjsip's default astdb `registrar`.
 */
function contactFamilyOf(sorcery: readonly SimConfigCategory[]): string | null {
  const lines = sorcery
    .filter((c) => c.name === 'res_pjsip' && !c.template)
    .flatMap((c) => c.lines)
    .filter(([name]) => name.trim().split('/')[0] === 'contact')
  if (!lines.length) return CONTACT_FAMILY
  const store = lines.find(([name]) => !(name.split('/')[1] ?? '').includes('cache'))
  if (!store) return null
  const [wizard, data = ''] = store[1].split(',').map((part) => part.trim())
  return wizard === 'astdb' && data ? `${data}/contact` : null
}
import { captureSeed, type SimSeed } from './seed.js'
import { writeSegments } from './writer.js'

/** What an answer may be bent into (SimHooks.bendAnswer); nothing set: the answer as Asterisk writes it. */
export interface AnswerBend {
  /** The ActionID echoed instead of the one sent. */
  actionId?: string
  /** The listed items (output lines, list events) that reach the client. */
  keep?: <T>(items: T[]) => T[]
  /** The answer is written twice. */
  twice?: boolean
  /** Only the first `maxBytes` bytes of the answer are written. */
  maxBytes?: number
  /** After the answer: `silence` writes nothing more on that connection; `close` ends it. */
  then?: 'silence' | 'close'
}

/**
 * The only way into the sim's behaviour from outside: how src/sim/faults.ts injects faults.
 * Every method is optional; a sim without hooks answers as Asterisk does.
 */
export interface SimHooks {
  /** On a new connection: text sent instead of the banner (then the connection is closed), or the banner then silence. */
  greeting?(): { instead: string } | { silenceAfterBanner: true } | undefined
  /** Runs before each action is answered (after it was recorded in `received`); may wait, may change the sim. */
  beforeAction?(action: string, headers: Header[], sim: SimAsterisk): void | Promise<void>
  /** Asked once per action about to be answered (after beforeAction), with the ActionID it was sent with. */
  bendAnswer?(action: string, actionId: string): AnswerBend | undefined
  /** An action this server does not have (it answers `Invalid/unknown command`). */
  lacksAction?(action: string): boolean
  /** A DBDel (or `database del`) of that key fails without deleting. */
  dbDelFails?(family: string, key: string): boolean
}

export interface SimOptions {
  /** '22' (default) or '13': 13 has no DBGetTree and answers Command with `Response: Follows`. */
  version?: SimVersion
  /** Default: `pjctl`/`pjctl-secret` (write system,command,reporting,user, read also security: the lab's classes) and `pjro`/`pjro-secret` (reporting). */
  users?: SimUser[]
  /** Default: the captured lab, rebased to `now()`. */
  seed?: SimSeed
  /** Unix seconds; default the wall clock. */
  now?: () => number
  /** Bytes per socket.write(); default 64 KiB. */
  chunkSize?: number
  /** manager.conf `writetimeout` (ms): a message whose write waits longer for the client loses its rest. */
  writetimeoutMs?: number
  /** Model what actions cost a real Asterisk (src/sim/cost.ts: PJSIPShowAors and PJSIPShowContacts
   *  quadratic, GetConfig linear), times this factor: 1 = as measured on the lab. 0 (default): free. */
  cost?: number
  /** contact_expiration_check_interval in seconds: 0 (default) runs no background sweep. */
  contactExpirationCheckInterval?: number
  /** AMI over TLS (manager.conf tlsenable, tlscertfile, tlsprivatekey): PEM text. The sim then speaks TLS only, like Asterisk's tlsbindaddr port. */
  tls?: { cert: string; key: string }
  /** Bends the sim (src/sim/faults.ts); none: it answers as Asterisk does. */
  hooks?: SimHooks
  /** Config files GetConfig answers instead of the ones rendered from the AORs (pjsip.conf, pjsip_wizard.conf);
   *  null: the file does not exist. sorcery.conf does not exist unless given here. */
  configFiles?: SimConfigFiles
  /** asterisk.conf `systemname` (a cluster node's name): written into each contact's `reg_server`, answered
   *  by CoreSettings as `SystemName`. Default '' (none set). */
  systemName?: string
}

/** One message as the sim received and parsed it. */
export interface ReceivedAction {
  connection: number
  /** The `Action` header ('' when the message had none). */
  action: string
  headers: Header[]
  /** The connection's MD5 challenge when the message arrived (after a Challenge): lets a test check a Login's Key. */
  challenge?: string
}

const DEFAULT_USERS: readonly SimUser[] = [
  {
    username: 'pjctl',
    secret: 'pjctl-secret',
    write: ['system', 'command', 'reporting', 'user'],
    read: ['system', 'command', 'reporting', 'user', 'security'],
  },
  { username: 'pjro', secret: 'pjro-secret', write: ['reporting'] },
]

/** AMI_VERSION of include/asterisk/manager.h. */
const AMI_VERSION: Record<SimVersion, string> = { '22': '11.0.0', '13': '2.10.6' }

const VERSION_LINE: Record<SimVersion, string> = {
  '22': 'Asterisk 22.10.1 built by root @ vm on a x86_64 running Linux on 2026-11-23 18:14:38 UTC',
  '13': 'Asterisk 13.38.3 built by root @ vm on a x86_64 running Linux on 2026-11-23 18:14:38 UTC',
}

const DEFAULT_CHUNK_SIZE = 64 * 1024

const NO_BEND: AnswerBend = {}

interface WriteConfig {
  chunkSize: number
  writeTimeoutMs?: number
}

/** One AMI connection: reads whole messages, answers them in order, one at a time. */
class Session implements SessionState {
  user: SimUser | undefined
  eventClasses = new Set<string>()
  closing = false
  challenge = ''
  filters: EventFilter[] = []
  /** Silenced by a hook: nothing more is written. */
  private silent = false
  private input = ''
  private headers: Header[] = []
  private queue: Promise<void> = Promise.resolve()

  constructor(
    readonly socket: Socket,
    readonly connection: number,
    private readonly sim: SimAsterisk,
    private readonly write: WriteConfig,
  ) {
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => this.receive(chunk))
    // a client that resets the connection is not the sim's error
    socket.on('error', () => undefined)
  }

  greet(): void {
    const greeting = this.sim.hooks?.greeting?.()
    if (greeting && 'instead' in greeting) {
      this.silent = true
      this.socket.end(greeting.instead)
      return
    }
    this.socket.write(`Asterisk Call Manager/${AMI_VERSION[this.sim.version]}\r\n`)
    if (greeting?.silenceAfterBanner) this.silent = true
  }

  /** Unsolicited events of one class (`system` for ContactStatus/PeerStatus, `user` for UserEvent), for a logged-in connection that gets that class. */
  sendEvents(events: string[], eventClass = 'system'): void {
    if (!this.user || !this.eventClasses.has(eventClass)) return
    const sent = this.filters.length ? events.filter((e) => shouldSend(this.filters, e)) : events
    this.sim.eventsSent += sent.length
    if (!sent.length) return
    this.enqueue(async () => {
      if (!this.silent) await writeSegments(this.socket, sent, this.write)
    })
  }

  /** get_input(): lines end in CRLF or a bare LF; an empty line ends the message. */
  private receive(chunk: string): void {
    this.input += chunk
    let start = 0
    for (
      let newline = this.input.indexOf('\n');
      newline >= 0;
      newline = this.input.indexOf('\n', start)
    ) {
      const line = this.input.slice(start, newline).replace(/\r$/, '')
      start = newline + 1
      if (line === '') this.messageComplete()
      else this.headers.push(parseHeader(line))
    }
    this.input = this.input.slice(start)
  }

  private messageComplete(): void {
    const request = new AmiRequest(this.headers)
    this.headers = []
    this.sim.received.push({
      connection: this.connection,
      action: request.action,
      headers: request.headers,
      ...(this.challenge ? { challenge: this.challenge } : {}),
    })
    this.enqueue(() => this.answer(request))
  }

  private enqueue(task: () => Promise<void>): void {
    this.queue = this.queue.then(task).catch((error: unknown) => {
      this.socket.destroy(error instanceof Error ? error : new Error(String(error)))
    })
  }

  private async answer(request: AmiRequest): Promise<void> {
    if (this.silent || this.socket.destroyed) return
    const action = request.action
    await this.sim.hooks?.beforeAction?.(action, request.headers, this.sim)
    // the client may have left, or a fault silenced the session, while this awaited
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    if (this.silent || this.socket.destroyed) return
    const actionId = request.get('ActionID')
    const bend = this.sim.hooks?.bendAnswer?.(action, actionId) ?? NO_BEND
    const ctx: ActionContext = {
      sim: this.sim,
      session: this,
      request,
      actionId: bend.actionId ?? actionId,
      keep: bend.keep ?? ((items) => items),
    }
    const segments = answerAction(ctx)
    // a refused or failed action costs nothing; a costly one first computes (even if the client leaves)
    const cost = segments[0]?.startsWith('Response: Error') ? null : this.sim.occupyCore(action)
    if (cost) {
      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(0, cost.firstByteAt - performance.now())),
      )
      // the client may have left, or a fault silenced the session, while this awaited
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
      if (this.silent || this.socket.destroyed) return
    }
    await writeSegments(this.socket, bend.twice ? [...segments, ...segments] : segments, {
      ...this.write,
      maxBytes: bend.maxBytes,
      paceMs: cost?.writeMs,
    })
    if (bend.then === 'silence') this.silent = true
    if (bend.then === 'close' || this.closing) {
      this.silent = true
      this.socket.end()
    }
  }
}

export class SimAsterisk implements SimState {
  readonly astdb = new AstDb()
  /** Contacts sorcery.conf keeps outside astdb (memory, realtime): AMI's DB actions do not see them. */
  readonly elsewhere = new AstDb()
  readonly registrar: Registrar
  /** Every message received, in order, across connections. */
  readonly received: ReceivedAction[] = []
  /** Events written to clients (after each session's filters): what a client was sent, for measuring filters. */
  eventsSent = 0
  readonly version: SimVersion
  /** The sim's clock in Unix seconds; replace it to move time. */
  now: () => number
  /** How tests bend the sim (src/sim/faults.ts); undefined: as Asterisk. */
  readonly hooks: SimHooks | undefined
  private readonly users: readonly SimUser[]
  private readonly write: WriteConfig
  /** Protected: src/sim/faults.ts limits its connections (net.Server#maxConnections). */
  protected readonly server: Server
  private readonly sessions = new Set<Session>()
  private readonly startedAt = Date.now()
  private readonly expirationCheckInterval: number
  private sweepTimer: NodeJS.Timeout | undefined
  private nextConnection = 1
  /** The cost model's factor (SimOptions.cost). */
  costScale: number
  /** performance.now() when the modelled Asterisk has finished computing every costly action so far. */
  private busyUntil = 0
  /** Files that replace the rendered ones (tests may change it between runs). */
  configFiles: SimConfigFiles
  /** asterisk.conf `systemname` ('' when unset). */
  systemName: string

  constructor(opts: SimOptions = {}) {
    this.configFiles = opts.configFiles ?? {}
    this.systemName = opts.systemName ?? ''
    this.hooks = opts.hooks
    this.version = opts.version ?? '22'
    this.now = opts.now ?? (() => Math.floor(Date.now() / 1000))
    this.users = opts.users ?? DEFAULT_USERS
    this.write = {
      chunkSize: opts.chunkSize ?? DEFAULT_CHUNK_SIZE,
      writeTimeoutMs: opts.writetimeoutMs,
    }
    this.expirationCheckInterval = opts.contactExpirationCheckInterval ?? 0
    this.costScale = opts.cost ?? 0
    this.registrar = new Registrar(
      () => this.contactStore(),
      () => this.now(),
    )
    this.registrar.regServer = () => this.systemName
    this.registrar.onContactCreated = (created) => this.broadcast(contactCreatedEvents(created))
    this.registrar.onContactRemoved = (removed) => this.broadcast(contactRemovedEvents(removed))
    this.load(opts.seed ?? captureSeed({ now: this.now() }))
    // TLS: the banner goes out once the handshake is done ('secureConnection'), as Asterisk's tcptls does
    this.server = opts.tls
      ? createTlsServer({ cert: opts.tls.cert, key: opts.tls.key }, (socket) => this.accept(socket))
      : createServer((socket) => this.accept(socket))
  }

  /** Adds a seed: its AORs and its rows (into registrar/contact), each known to the qualify side (NonQualified unless the seed says otherwise). */
  load(seed: SimSeed): void {
    for (const aor of seed.aors) this.registrar.setAor(aor)
    const { db, family } = this.contactStore()
    for (const row of seed.rows) {
      db.put(family, row.key, row.value)
      this.registrar.setQualify(row.key, seed.qualify?.[row.key] ?? 'NonQualified')
    }
  }

  /** Listens; resolves with the port. */
  start(port = 0, host = '127.0.0.1'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(port, host, () => {
        this.server.off('error', reject)
        if (this.expirationCheckInterval > 0) {
          this.sweepTimer = setInterval(
            () => this.registrar.sweepExpired(),
            this.expirationCheckInterval * 1000,
          )
          this.sweepTimer.unref()
        }
        resolve(this.port)
      })
    })
  }

  /** Stops listening and destroys every connection. */
  stop(): Promise<void> {
    clearInterval(this.sweepTimer)
    this.restart()
    return new Promise((resolve) => {
      if (!this.server.listening) resolve()
      else this.server.close(() => resolve())
    })
  }

  /** "The server restarting": every open connection is destroyed; the sim keeps listening and keeps its astdb. */
  restart(): void {
    for (const session of this.sessions) session.socket.destroy()
  }

  get port(): number {
    const address = this.server.address() as AddressInfo | null
    return address?.port ?? 0
  }

  /** manager_event(): the events to every logged-in connection whose read= classes (and Login `Events`) include `eventClass`. */
  broadcast(events: string[], eventClass = 'system'): void {
    for (const session of this.sessions) session.sendEvents(events, eventClass)
  }

  /** Open connections. */
  get connections(): number {
    return this.sessions.size
  }

  /** ms the modelled Asterisk still computes for costly actions, whether or not a client still waits (0: idle). */
  computingMs(): number {
    return Math.max(0, this.busyUntil - performance.now())
  }

  /** Books the modelled core for a costly action: it starts when earlier ones are done. Null when free. */
  occupyCore(action: string): { firstByteAt: number; writeMs: number } | null {
    if (!(this.costScale > 0)) return null
    const cost: ActionCost | null = actionCost(action, {
      aors: this.registrar.aors.size,
      contacts: this.astdb.size,
    })
    if (!cost) return null
    const firstByteAt =
      Math.max(performance.now(), this.busyUntil) + cost.firstByteMs * this.costScale
    const writeMs = cost.writeMs * this.costScale
    this.busyUntil = firstByteAt + writeMs
    return { firstByteAt, writeMs }
  }

  /**
   * A digest-authenticated REGISTER as a phone sends it (challenge, answer): the registrar's answer, or
   * 401 for a wrong password; the security events it causes go to sessions with read=security.
   */
  register(request: RegisterRequest, auth: SimAuth = 'ok'): RegisterResult | { code: 401 } {
    const ctx: SecurityContext = {
      request,
      local: 'IPV4/UDP/127.0.0.1/5060',
      nowUs: Date.now() * 1000,
      callId: request.callId ?? `${request.viaPort}-${request.aor}@${request.viaAddr}`,
    }
    this.broadcast(authEvents(ctx, auth), 'security')
    if (auth === 'wrong-password') return { code: 401 }
    const result = this.registrar.register({ ...request, callId: ctx.callId })
    this.broadcast(refusalEvents(ctx, result), 'security')
    return result
  }

  /** The qualify state PJSIPShowContacts reports for a contact (astdb key within registrar/contact). */
  setQualify(key: string, status: QualifyStatus, roundtripUsec?: number): void {
    this.registrar.setQualify(key, status, roundtripUsec)
  }

  /** A config file's categories as GetConfig reads it from disk; null when it does not exist. */
  configFile(filename: string): SimConfigCategory[] | null {
    if (Object.hasOwn(this.configFiles, filename)) return this.configFiles[filename] ?? null
    const aors = this.registrar.sortedAors()
    if (filename === 'pjsip.conf') return renderPjsipConf(aors)
    if (filename === 'pjsip_wizard.conf') return renderWizardConf(aors)
    return null
  }

  /** Where the registrar keeps contacts: sorcery.conf's contact mapping (configFiles), res_pjsip's default without one. */
  contactStore(): SimContactStore {
    const sorcery = this.configFile('sorcery.conf')
    if (sorcery === null) return { db: this.astdb, family: CONTACT_FAMILY }
    const family = contactFamilyOf(sorcery)
    return family === null ? { db: this.elsewhere, family: 'contact' } : { db: this.astdb, family }
  }

  /** The first line of `core show version`. */
  get versionLine(): string {
    return VERSION_LINE[this.version]
  }

  /** Seconds since the sim started (FullyBooted's Uptime and LastReload). */
  uptime(): number {
    return Math.floor((Date.now() - this.startedAt) / 1000)
  }

  /** The manager.conf user of that name (get_manager_by_name_locked: case-insensitive). */
  managerUser(username: string): SimUser | undefined {
    const name = username.toLowerCase()
    return this.users.find((user) => user.username.toLowerCase() === name)
  }

  /** The manager user with that name (case-insensitive) and secret. */
  authenticate(username: string, secret: string): SimUser | undefined {
    const name = username.toLowerCase()
    return this.users.find((user) => user.username.toLowerCase() === name && user.secret === secret)
  }

  /** authenticate() with AuthType MD5: Key must be md5(challenge + secret) in lower-case hex (strcmp), after a Challenge. */
  authenticateMd5(username: string, challenge: string, key: string): SimUser | undefined {
    if (!key || !challenge) return undefined
    const name = username.toLowerCase()
    return this.users.find(
      (user) =>
        user.username.toLowerCase() === name &&
        createHash('md5')
          .update(challenge + user.secret)
          .digest('hex') === key,
    )
  }

  /** ast_db_del2 (a hook may make it fail). */
  deleteDbEntry(family: string, key: string): boolean {
    if (this.hooks?.dbDelFails?.(family, key)) return false
    return this.astdb.del(family, key)
  }

  private accept(socket: Socket): void {
    // main/manager.c session_do(): TCP_NODELAY, "as we write to the socket in bits and pieces"
    socket.setNoDelay(true)
    const session = new Session(socket, this.nextConnection++, this, this.write)
    this.sessions.add(session)
    socket.on('close', () => this.sessions.delete(session))
    session.greet()
  }
}

/** Constructs a sim and starts it on 127.0.0.1 (port 0: any free port). */
export async function startSim(opts: SimOptions = {}, port = 0): Promise<SimAsterisk> {
  const sim = new SimAsterisk(opts)
  await sim.start(port)
  return sim
}

export type { SimUser, SimVersion }
