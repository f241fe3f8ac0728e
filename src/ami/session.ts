// The only code that talks to asterisk-manager. It gives the commands a small typed
// AmiSession and turns every socket or protocol failure into an AmiError.
//
// asterisk-manager owns the connection, the Login, the writing of actions and the
// dispatch of each answer to its ActionID callback. Its reader is replaced by our
// linear framer (wire.ts) because the library's re-scans a big answer on every chunk;
// the framer hands answers back to the library, and collects list events itself
// (the library does not collect them). Every touch of the library's internals goes
// through ./library.ts.

import { createHash } from 'node:crypto'
import net, { isIP } from 'node:net'
import type { TLSSocket } from 'node:tls'
import createManager, { type Manager, type ManagerItem } from 'asterisk-manager'
import { writetimeoutHint } from '../core/dump.js'
import { dispatchAnswer, handSocket, loginWith, sendBeforeLogin } from './library.js'
import {
  ActionTimeoutError,
  AmiError,
  AuthError,
  IncompleteAnswerError,
  PermissionError,
  UnknownActionError,
  ActionFailedError,
} from '../errors.js'
import { AmiFramer, ChunkDecoder, Message, assertHeaderSafe, release } from './wire.js'
import { printable, sizeText } from '../text.js'
import type {
  AmiMessage,
  AmiSession,
  AmiTarget,
  TlsSettings,
  CommandAnswer,
  ConfigAnswer,
  ConfigCategory,
  DbRow,
  DbTreeAnswer,
  ListAnswer,
} from './types.js'

/** manager.conf write= classes that allow each action (main/manager.c, main/db.c, res/res_pjsip/*.c). */
export const ACTION_PRIVILEGES: Record<string, readonly string[]> = {
  command: ['command'],
  dbget: ['system', 'reporting'],
  getconfig: ['system', 'config'],
  dbgettree: ['system', 'reporting'],
  dbput: ['system'],
  dbdel: ['system'],
  pjsipshowaors: ['system'],
  pjsipshowcontacts: ['system'],
  pjsipshowendpoint: ['system'],
  userevent: ['user'],
}

type Expect = 'none' | 'list' | 'one-event'

const CHALLENGE_REFUSED_HINT =
  'this server does not offer AMI\'s MD5 challenge login: use --auth plain (PJCTL_AUTH=plain, or "auth": "plain" in the server\'s config entry); plain sends the secret as it is, so use it with --tls or on loopback only'

/** Actions that change the server: cut off mid-answer, they may or may not have happened. */
const WRITES = new Set(['dbput', 'dbdel', 'dbdeltree'])

interface Pending {
  action: string
  expect: Expect
  /** performance.now() when sent (--debug timings). */
  sentAt: number
  sentAtBytes: number
  response: Message | null
  /** Item events kept (none when `onItem` takes them as they arrive). */
  events: Message[]
  eventCount: number
  onItem?: (item: Message) => void
  /** DBGetTree: each row's Key and Val as the framer cut them, before (and instead of) a Message. */
  onRow?: (key: string, value: string) => void
  listItems: number | null
  completed: boolean
  resolve(value: Answered): void
  reject(error: Error): void
  sink?: (line: string) => void
  /** The header lines of the answer, taken whole as they arrive (GetConfig's categories). */
  headers?: (line: string) => boolean
}

/** What one action's answer is read with, besides its Response (send()). */
interface SendOptions {
  /** `Output:` lines (Command), as they arrive. */
  sink?: (line: string) => void
  /** Each item of a list, as it arrives. */
  onItem?: (item: Message) => void
  /** The Challenge, which the library would otherwise hold until Login. */
  beforeLogin?: boolean
  /** Each DBGetTree row, before (and instead of) a Message. */
  onRow?: (key: string, value: string) => void
  /** The answer's header lines, taken whole as they arrive (GetConfig's categories). */
  takeHeader?: (line: string) => boolean
}

/** A pending action once its Response arrived: what send() resolves with. */
type Answered = Pending & { response: Message }

const isAnswered = (pending: Pending): pending is Answered => pending.response !== null

let nextId = 0

/** Connects, waits for the banner, logs in. Never leaves a socket open on failure. */
export async function openSession(
  target: AmiTarget,
  debug: (line: string) => void = () => {},
  warn: (message: string) => void = () => {},
): Promise<AmiSession> {
  assertHeaderSafe('user', target.user)
  assertHeaderSafe('secret', target.secret, false)
  if (target.tls?.insecure) {
    warn(
      `--tls-insecure: the TLS certificate of ${target.host}:${target.port} is not verified; anyone on the path can pose as this server and read everything pjctl reads (use --tls-ca FILE instead)`,
    )
  }
  const connection = new Connection(target, debug)
  try {
    await connection.open()
  } catch (error) {
    connection.destroy()
    throw error
  }
  return connection
}

/** The headers of a Response that asterisk-manager needs (lower-case, as it names them). */
const FORWARDED = ['response', 'actionid', 'message', 'eventlist'] as const

/** Longest stretch the framer works before letting the event loop read the socket again. */
const SLICE_MS = 5
const EMPTY = Buffer.alloc(0)

class Connection implements AmiSession {
  private manager: Manager
  private socket: net.Socket | null = null
  /** The socket is corked until the end of this tick (batchWrites). */
  private corked = false
  private readonly framer: AmiFramer
  private readonly pending = new Map<string, Pending>()
  private failure: AmiError | null = null
  private receivedBytes = 0
  private strayAnswers = 0
  private loggedIn = false
  private idleTimer: NodeJS.Timeout | null = null
  private onBanner: (() => void) | null = null
  private onClosed: ((error: AmiError) => void) | null = null
  private closing = false
  private readonly eventListeners = new Set<(event: AmiMessage) => void>()
  private readonly closeListeners = new Set<(error: AmiError) => void>()

  constructor(
    readonly target: AmiTarget,
    private readonly debug: (line: string) => void,
  ) {
    this.manager = createManager(undefined, target.host, target.user, target.secret, false)
    this.framer = new AmiFramer({
      banner: () => this.onBanner?.(),
      message: (message) => this.route(message),
      // not once its answer has been taken: a repeated answer's lines must not be counted twice
      sinkFor: (actionId) => {
        const pending = this.pending.get(actionId)
        return pending && !pending.response ? pending.sink : undefined
      },
      headersFor: (actionId) => {
        const pending = this.pending.get(actionId)
        return pending && !pending.response ? pending.headers : undefined
      },
      // the same as route() does with a list item, without the Message
      row: (actionId, key, value) => {
        const pending = this.pending.get(actionId)
        if (pending?.onRow === undefined || pending.expect !== 'list') return false
        pending.eventCount++
        pending.onRow(key, value)
        return true
      },
    })
  }

  private get where(): string {
    return `${this.target.host}:${this.target.port}`
  }

  async open(): Promise<void> {
    const timeoutMs = this.target.timeout * 1000
    // A port that accepts but never says `Asterisk Call Manager/…` is not an unreachable host: say which it was.
    let connected = false
    const tls = this.target.tls
    // node:tls only for a TLS session: loading it costs every other run a few milliseconds at start-up
    const connectTls = tls ? tlsConnector(await import('node:tls'), this.target, tls) : null
    // with TLS, nothing AMI happens before the handshake: a failure before it is a TLS failure
    let secure = !tls
    const noBanner = (): [string, string] =>
      !connected
        ? [
            `timed out connecting to ${this.where} after ${this.target.timeout} s`,
            'is the host reachable and AMI listening there? (--timeout raises the limit)',
          ]
        : !secure
          ? [
              `${this.where}: connected, but the TLS handshake did not finish within ${this.target.timeout} s`,
              "is this AMI's TLS port (manager.conf tlsbindaddr, 5039 by convention)? (--timeout raises the limit)",
            ]
          : [
              `${this.where}: connected, but no AMI banner within ${this.target.timeout} s`,
              `is this the AMI port (manager.conf [general] port, usually 5038), and not another service?${tls ? '' : ' If it is AMI over TLS (tlsbindaddr, 5039 by convention), add --tls.'} (--timeout raises the limit)`,
            ]
    await this.withDeadline(timeoutMs, noBanner, undefined, (resolve, reject) => {
      this.onClosed = reject
      this.onBanner = () => resolve()
      this.socket = connectTls
        ? connectTls()
        : net.createConnection(this.target.port, this.target.host)
      this.socket.once('connect', () => (connected = true))
      if (tls)
        this.socket.once('secureConnect', () => {
          secure = true
          const peer = (this.socket as TLSSocket).getPeerCertificate()
          this.debug(
            // an unverified peer may send no certificate: getPeerCertificate() is then {}
            // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition, @typescript-eslint/restrict-template-expressions
            `TLS ${(this.socket as TLSSocket).getProtocol()} with ${this.where}: certificate ${peer.subject?.CN ?? '?'} (SHA-256 ${peer.fingerprint256 ?? '?'})${tls.insecure ? ', NOT verified' : ', verified'}`,
          )
        })
      handSocket(this.manager, this.socket, this.target.port, this.target.host)
      // Buffers, not strings: queued answer text then lives off the JS heap until it is framed
      this.socket.on('data', (chunk: Buffer) => this.enqueue(chunk))
      // After whatever is still queued: an answer that arrived whole before the close is still an answer.
      this.socket.on('error', (error: NodeJS.ErrnoException) =>
        this.afterInbox(() =>
          this.fail(
            this.resetMidAnswer(error) ??
              (secure ? socketError(error, this.target) : tlsError(error, this.target)),
          ),
        ),
      )
      this.socket.on('close', () => this.afterInbox(() => this.fail(this.closedError())))
    })
    this.onBanner = null
    const key = this.target.auth === 'plain' ? null : await this.challengeKey()
    await this.withDeadline(
      timeoutMs,
      `no answer to Login from ${this.where} within ${this.target.timeout} s`,
      undefined,
      (resolve, reject) => {
        this.onClosed = reject
        const done = (error?: ManagerItem): void => {
          if (!error) {
            this.loggedIn = true
            resolve()
            return
          }
          const message = error.message ?? ''
          reject(
            /authentication failed/i.test(message)
              ? new AuthError(
                  `login to ${this.where} as '${this.target.user}' failed: Authentication failed`,
                  'check the user and secret (PJCTL_SECRET, --secret-file or the config file) against manager.conf, and permit= for this address',
                )
              : new AmiError(`login to ${this.where} failed: ${message}`),
          )
        }
        if (key === null) this.manager.login(done)
        else loginWith(this.manager, { authtype: 'MD5', key }, done)
      },
    )
  }

  /** `Action: Challenge` / `AuthType: MD5` (main/manager.c action_challenge), then the Login's Key:
   *  md5(challenge + secret) in lower-case hex, as authenticate() computes it. The secret is never sent. */
  private async challengeKey(): Promise<string> {
    let answer: Answered
    try {
      answer = await this.send('Challenge', { AuthType: 'MD5' }, 'none', { beforeLogin: true })
    } catch (error) {
      if (!(
        error instanceof ActionFailedError ||
        error instanceof UnknownActionError ||
        error instanceof PermissionError
      ))
        throw error
      const said =
        error instanceof ActionFailedError
          ? error.serverMessage
          : error instanceof UnknownActionError
            ? 'Invalid/unknown command'
            : 'Permission denied'
      throw new AuthError(
        `${this.where} refused the MD5 challenge login (it answered: ${said})`,
        CHALLENGE_REFUSED_HINT,
      )
    }
    const challenge = answer.response.get('Challenge')
    if (!challenge)
      throw new AuthError(
        `${this.where} answered the MD5 Challenge without a challenge`,
        CHALLENGE_REFUSED_HINT,
      )
    return createHash('md5')
      .update(challenge + this.target.secret)
      .digest('hex')
  }

  async dbGetTree(
    family: string,
    onRow?: (key: string, value: string) => void,
  ): Promise<DbTreeAnswer> {
    const prefix = `/${family}/`
    const rows: DbRow[] = []
    const deliver = onRow ?? ((key: string, value: string) => void rows.push({ key, value }))
    const take = (key: string, value: string): void => {
      deliver(key.startsWith(prefix) ? key.slice(prefix.length) : key, value)
    }
    const answer = await this.list(
      'DBGetTree',
      { Family: family },
      [],
      (event) => take(event.get('Key') ?? '', event.get('Val') ?? ''),
      take,
    )
    return { rows, listItems: answer.listItems }
  }

  async command(line: string, onLine?: (line: string) => void): Promise<CommandAnswer> {
    const lines: string[] = []
    let lineCount = 0
    const sink = (text: string): void => {
      lineCount++
      if (onLine) onLine(text)
      else lines.push(text)
    }
    const done = await this.send('Command', { Command: line }, 'none', { sink })
    const format = done.response.get('Response') === 'Follows' ? 'follows' : 'output'
    return { lines, lineCount, format }
  }

  async dbGet(family: string, key: string): Promise<string | null> {
    try {
      const done = await this.send('DBGet', { Family: family, Key: key }, 'one-event')
      const event = done.events.find((e) => e.get('Event') === 'DBGetResponse')
      if (!event)
        throw new IncompleteAnswerError(`DBGet of ${family}/${key} answered without a value`)
      return event.get('Val') ?? ''
    } catch (error) {
      if (error instanceof ActionFailedError && /not found/i.test(error.serverMessage)) return null
      throw error
    }
  }

  async dbPut(family: string, key: string, value: string): Promise<void> {
    await this.send('DBPut', { Family: family, Key: key, Val: value }, 'none')
  }

  async dbDel(family: string, key: string): Promise<boolean> {
    try {
      await this.send('DBDel', { Family: family, Key: key }, 'none')
      return true
    } catch (error) {
      if (error instanceof ActionFailedError && /could not be deleted/i.test(error.serverMessage))
        return false
      throw error
    }
  }

  /**
   * GetConfig, its answer read into categories line by line as it arrives. With `after`, the answer is
   * handed over only once `after` settles: what the caller makes of a big answer (33k AORs: 3 MB,
   * 130,000 lines) in one go would otherwise run while another session is still reading the contacts,
   * keeping that session's socket unread for longer than Asterisk's writetimeout, which then drops
   * contacts (and pjctl reads them all again).
   */
  async getConfig(
    filename: string,
    filter?: string,
    after?: Promise<unknown>,
  ): Promise<ConfigAnswer | null> {
    const headers: Record<string, string> = { Filename: filename }
    if (filter !== undefined) headers.Filter = filter
    // the categories are read line by line as they arrive: a big answer (130,000 lines at 33k AORs)
    // is never held as a message of its own
    const reader = new ConfigReader(`GetConfig ${filename} from ${this.where}`)
    try {
      const done = await this.send('GetConfig', headers, 'none', {
        takeHeader: (line) => reader.line(line),
      })
      const categories = reader.finish(done.response)
      if (after) await after.catch(() => undefined)
      return { filename, categories }
    } catch (error) {
      if (
        error instanceof ActionFailedError &&
        /^config file not found$/i.test(error.serverMessage.trim())
      )
        return null
      throw error
    }
  }

  async list(
    action: string,
    headers: Record<string, string> = {},
    emptyMessages: readonly string[] = [],
    onItem?: (item: AmiMessage) => void,
    onRow?: (key: string, value: string) => void,
  ): Promise<ListAnswer> {
    let done: Answered
    try {
      done = await this.send(action, headers, 'list', { onItem, onRow })
    } catch (error) {
      if (
        error instanceof ActionFailedError &&
        emptyMessages.some((m) => m.toLowerCase() === error.serverMessage.toLowerCase())
      ) {
        return { items: [], count: 0, listItems: 0 }
      }
      throw error
    }
    if (done.listItems !== null && done.listItems !== done.eventCount) {
      throw new IncompleteAnswerError(
        `incomplete answer to ${action} from ${this.where}: it announced ${done.listItems} items, ${done.eventCount} arrived`,
        writetimeoutHint(this.target.user),
      )
    }
    return { items: done.events, count: done.eventCount, listItems: done.listItems }
  }

  onEvent(listener: (event: AmiMessage) => void): () => void {
    this.eventListeners.add(listener)
    return () => void this.eventListeners.delete(listener)
  }

  onClose(listener: (error: AmiError) => void): () => void {
    this.closeListeners.add(listener)
    return () => void this.closeListeners.delete(listener)
  }

  async userEvent(name: string, headers: Record<string, string>): Promise<void> {
    await this.send('UserEvent', { UserEvent: name, ...headers }, 'none')
  }

  async ping(): Promise<void> {
    await this.send('Ping', {}, 'none')
  }

  async action(action: string, headers: Record<string, string> = {}): Promise<AmiMessage> {
    const done = await this.send(action, headers, 'none')
    return done.response
  }

  async close(): Promise<void> {
    if (this.closing || !this.socket || this.failure) {
      this.destroy()
      return
    }
    this.closing = true
    try {
      await this.withDeadline(1000, 'logoff timed out', undefined, (resolve) => {
        this.onClosed = () => resolve()
        this.manager.action(
          { action: 'Logoff', actionid: `pjctl-${process.pid}-${++nextId}` },
          () => resolve(),
        )
      })
    } catch {
      // Logoff is a courtesy; the socket is closed below either way.
    }
    this.destroy()
  }

  destroy(): void {
    this.closing = true
    if (this.idleTimer) clearTimeout(this.idleTimer)
    this.idleTimer = null
    this.socket?.destroy()
  }

  // --- sending and receiving ---

  private send(
    action: string,
    headers: Record<string, string>,
    expect: Expect,
    { sink, onItem, beforeLogin = false, onRow, takeHeader }: SendOptions = {},
  ): Promise<Answered> {
    if (this.failure) return Promise.reject(this.failure)
    assertHeaderSafe('action', action)
    const request: Record<string, string> = { action }
    for (const [name, value] of Object.entries(headers)) {
      assertHeaderSafe(`header name`, name)
      assertHeaderSafe(name, value)
      request[name.toLowerCase()] = value
    }
    const id = `pjctl-${process.pid}-${++nextId}`
    request.actionid = id
    return new Promise<Answered>((resolve, reject) => {
      const pending: Pending = {
        action,
        expect,
        sentAt: performance.now(),
        sentAtBytes: this.receivedBytes,
        response: null,
        events: [],
        eventCount: 0,
        onItem,
        onRow,
        listItems: null,
        completed: false,
        resolve,
        reject,
        sink,
        headers: takeHeader,
      }
      this.pending.set(id, pending)
      this.armIdleTimer()
      this.debug(`> ${action} ${id} at ${Math.round(performance.now())} ms`)
      const answered = (error: ManagerItem | undefined): void => this.answered(id, error)
      this.batchWrites()
      if (beforeLogin) sendBeforeLogin(this.manager, request, answered)
      else this.manager.action(request, answered)
    })
  }

  /** Actions sent in one tick (a pipelined batch: prune's DBGets, a read's GetConfigs) leave in one
   *  write, not a system call each: the socket is corked until the tick ends. */
  private batchWrites(): void {
    const socket = this.socket
    if (socket === null || this.corked) return
    this.corked = true
    socket.cork()
    process.nextTick(() => {
      this.corked = false
      socket.uncork()
    })
  }

  /** asterisk-manager dispatched the Response for this ActionID. */
  private answered(id: string, error: ManagerItem | undefined): void {
    const pending = this.pending.get(id)
    if (!pending) return
    const response = pending.response
    if (error || !response) {
      this.settle(id, actionError(pending.action, response, this.target.user))
      return
    }
    const isList = response.get('EventList')?.toLowerCase() === 'start'
    if (
      pending.expect === 'none' ||
      (pending.expect === 'list' && !isList && pending.eventCount === 0) ||
      pending.completed
    ) {
      this.settle(id)
      return
    }
  }

  // Reading the socket never waits behind parsing. Asterisk drops what a client leaves
  // unread for the manager user's writetimeout (100 ms by default), and parsing a big answer
  // (a JSON.parse per contact) is slower than Asterisk writes it: on a loaded 2-core machine
  // the 15,013 items of a 15,000-contact DBGetTree arrived as 15,006 when the framer ran
  // inside the 'data' handler. So 'data' only queues the chunk; the framer works through the
  // queue in slices of at most SLICE_MS, yielding to the event loop (which reads the socket)
  // between slices. The queue holds at most one answer's raw text, as the socket's Buffers: kept
  // as strings (a big DBGetTree on a real Asterisk arrives faster than it is framed) they were
  // copied by every young-generation GC, long pauses while the answer arrived; decoded (utf-8, a character split across chunks kept whole) as they are framed.
  private readonly inbox: Buffer[] = []
  private readonly decoder = new ChunkDecoder()
  private inboxHead = 0
  private draining = false
  private afterDrain: (() => void)[] = []

  private enqueue(chunk: Buffer): void {
    this.receivedBytes += chunk.length
    this.idleTimer?.refresh()
    this.inbox.push(chunk)
    if (!this.draining) {
      this.draining = true
      setImmediate(() => this.drain())
    }
  }

  private drain(): void {
    const until = performance.now() + SLICE_MS
    while (this.inboxHead < this.inbox.length && this.failure === null) {
      const chunk = this.inbox[this.inboxHead] ?? EMPTY
      this.inbox[this.inboxHead++] = EMPTY
      const text = this.decoder.write(chunk)
      release(chunk)
      this.receive(text)
      if (performance.now() >= until) break
    }
    if (this.inboxHead < this.inbox.length && this.failure === null)
      return void setImmediate(() => this.drain())
    this.inbox.length = 0
    this.inboxHead = 0
    this.draining = false
    const then = this.afterDrain
    this.afterDrain = []
    for (const run of then) run()
  }

  /** Runs `what` once every chunk received so far has been through the framer. */
  private afterInbox(what: () => void): void {
    if (this.draining) this.afterDrain.push(what)
    else what()
  }

  private receive(chunk: string): void {
    // Measured before the framer sees the chunk: an answer that arrives whole in one chunk
    // settles inside push() and would otherwise never be measured.
    const oldest = this.pending.values().next().value
    if (oldest && this.receivedBytes - oldest.sentAtBytes > this.target.maxOutput) {
      this.fail(
        new AmiError(
          `the answer to ${oldest.action} from ${this.where} exceeded --max-output (${sizeText(this.target.maxOutput)}); stopped reading`,
          'raise --max-output if this server really holds that much',
        ),
      )
      return
    }
    try {
      this.framer.push(chunk)
    } catch (error) {
      this.fail(
        error instanceof AmiError
          ? error
          : new AmiError(`unreadable answer from ${this.where}: ${(error as Error).message}`),
      )
      return
    }
  }

  private route(message: Message): void {
    const id = message.get('ActionID')
    const pending = id === undefined ? undefined : this.pending.get(id)
    // An event starts with `Event:`; some carry a `Response` header of their own (the security event
    // ChallengeResponseFailed: the digest the phone sent), which does not make them an answer.
    const isEvent = message.names[0]?.toLowerCase() === 'event'
    if (!isEvent && message.get('Response') !== undefined) {
      if (!pending) {
        // Not the Login's own answer (asterisk-manager picks that ActionID), not a late or repeated answer to an action of ours.
        if (id !== undefined && this.loggedIn && !issuedId(id)) this.strayAnswers++
        this.forward(message)
        return
      }
      if (pending.response) return // a duplicated answer: the first one counts
      pending.response = message
      this.forward(message)
      return
    }
    if (message.get('Event') === undefined) return
    if (!pending || id === undefined) {
      // unsolicited (ContactStatus, UserEvent, ...): for whoever subscribed
      for (const listener of this.eventListeners) listener(message)
      return
    }
    const event = message.get('Event') ?? ''
    if (
      message.get('EventList')?.toLowerCase() === 'complete' ||
      (event.endsWith('Complete') && pending.expect !== 'none')
    ) {
      const items = message.get('ListItems')
      pending.listItems = items === undefined ? null : Number(items)
      pending.completed = true
      if (pending.response) this.settle(id)
      return
    }
    pending.eventCount++
    if (pending.onItem) pending.onItem(message)
    else pending.events.push(message)
    if (
      pending.expect === 'one-event' &&
      pending.response &&
      pending.response.get('EventList')?.toLowerCase() !== 'start'
    ) {
      pending.completed = true
      this.settle(id)
    }
  }

  /** Hands a Response to asterisk-manager for its ActionID's callback. Only the headers it dispatches
   *  on and pjctl reads back from its callback (login's `message`) are copied: a GetConfig answer has
   *  one header per config line, and copying them all costs CPU in proportion to the AORs. */
  private forward(message: Message): void {
    const item: ManagerItem = {}
    for (const name of FORWARDED) {
      const value = message.get(name)
      if (value !== undefined) item[name] = value
    }
    dispatchAnswer(this.manager, item)
  }

  private settle(id: string, error?: Error): void {
    const pending = this.pending.get(id)
    if (!pending) return
    this.pending.delete(id)
    if (this.pending.size === 0 && this.idleTimer) {
      clearTimeout(this.idleTimer)
      this.idleTimer = null
    }
    // --debug: where the time goes (npm run bench -- --asterisk sums these per action)
    this.debug(
      `< ${pending.action} ${id} ${error ? 'failed' : 'done'} after ${Math.round(performance.now() - pending.sentAt)} ms at ${Math.round(performance.now())} ms`,
    )
    if (error) pending.reject(error)
    else if (isAnswered(pending)) pending.resolve(pending)
    else pending.reject(new Error(`${pending.action} settled before its Response`))
  }

  private armIdleTimer(): void {
    if (this.idleTimer) return void this.idleTimer.refresh()
    this.idleTimer = setTimeout(() => {
      const oldest = this.pending.values().next().value
      if (!oldest) return
      const stray = this.strayAnswers
        ? ` (it sent ${this.strayAnswers} answer(s) with an ActionID pjctl never used)`
        : ''
      this.fail(
        new ActionTimeoutError(
          oldest.action,
          `no answer to ${oldest.action} from ${this.where} within ${this.target.timeout} s${stray}`,
          'the server stalled; --timeout raises the limit',
        ),
      )
    }, this.target.timeout * 1000)
  }

  private fail(error: AmiError): void {
    if (this.failure) return
    if (this.closing && this.pending.size === 0) {
      this.onClosed?.(error)
      return
    }
    this.failure = error
    this.onClosed?.(error)
    for (const id of [...this.pending.keys()]) this.settle(id, error)
    this.destroy()
    for (const listener of this.closeListeners) listener(error)
  }

  private closedError(how = ''): AmiError {
    const oldest = this.pending.values().next().value
    if (oldest) {
      const hint = WRITES.has(oldest.action.toLowerCase())
        ? 'the answer is incomplete; the action may or may not have been carried out'
        : 'the answer is incomplete; nothing was changed by this action'
      return new AmiError(
        `${this.where} closed the connection${how} in the middle of the answer to ${oldest.action}`,
        hint,
      )
    }
    return new AmiError(`${this.where} closed the connection${how}`)
  }

  /** A reset (RST) while an answer is awaited is the same news as a close: say which answer was cut. */
  private resetMidAnswer(error: NodeJS.ErrnoException): AmiError | null {
    if ((error.code !== 'ECONNRESET' && error.code !== 'EPIPE') || this.pending.size === 0)
      return null
    return this.closedError(' with a reset')
  }

  /** `message` may be a function giving the message and hint at the deadline (what happened by then). */
  private withDeadline(
    ms: number,
    message: string | (() => [string, string]),
    hint: string | undefined,
    body: (resolve: () => void, reject: (error: AmiError) => void) => void,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            typeof message === 'string' ? new AmiError(message, hint) : new AmiError(...message()),
          ),
        ms,
      )
      const finish = (fn: () => void) => {
        clearTimeout(timer)
        fn()
      }
      body(
        () => finish(resolve),
        (error) => finish(() => reject(error)),
      )
    })
  }
}

/** Where the digits read by numberAt ended. */
let numberEnd = 0

/** The number written in `text` from `from` on, at least 6 ASCII digits (`\d{6,}`); -1 when there is none. */
function numberAt(text: string, from: number): number {
  let value = 0
  let i = from
  for (; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 48 || code > 57) break
    value = value * 10 + (code - 48)
  }
  numberEnd = i
  return i - from >= 6 ? value : -1
}

/** The number of a `Prefix-NNNNNN` header name, from `from` to its end; -1 when it is not one. */
function numberToEnd(name: string, from: number): number {
  const n = numberAt(name, from)
  return numberEnd === name.length ? n : -1
}

/**
 * The categories of a GetConfig answer (main/manager.c action_getconfig): `Category-NNNNNN: name`, maybe
 * `IsTemplate-NNNNNN: 1` and `Templates-NNNNNN: a,b`, then `Line-NNNNNN-MMMMMM: name=value`, numbered from 0.
 * Numbers out of sequence or a header no GetConfig answer has (another message's lines spliced in when
 * Asterisk's writetimeout cut it) make the answer unreadable rather than half-believed.
 * Headers are told apart by their first characters and their numbers read digit by digit: a big
 * pjsip.conf is tens of thousands of headers, and a regular expression match each cost more than the rest.
 * It takes the header lines whole as the framer meets them (line(); one `Line-` header costs two
 * strings), and any header left in the message (finish()). The first problem found is what finish()
 * throws.
 */
class ConfigReader {
  private readonly categories: ConfigCategory[] = []
  private problem: string | null = null

  constructor(private readonly what: string) {}

  /** A whole header line (`Name: value`): true when it is one of the categories' headers. */
  line(line: string): boolean {
    const colon = line.indexOf(':')
    if (colon < 0) return false
    // the value as the framer cuts it: after the colon and one space
    const at = line.charCodeAt(colon + 1) === 32 ? colon + 2 : colon + 1
    if (line.startsWith('Line-')) {
      const c = numberAt(line, 5)
      const dash = numberEnd
      const l = c >= 0 && line.charCodeAt(dash) === 45 ? numberAt(line, dash + 1) : -1
      if (l < 0 || numberEnd !== colon) return false
      const category = this.current(c, line, 5, dash)
      if (category === null) return true
      if (l !== category.lines.length)
        return this.bad(
          `line number ${line.slice(dash + 1, colon)} of category ${line.slice(5, dash)} out of sequence`,
        )
      const eq = line.indexOf('=', at)
      category.lines.push(
        eq < 0
          ? { name: line.slice(at), value: '' }
          : { name: line.slice(at, eq), value: line.slice(eq + 1) },
      )
      return true
    }
    if (
      !line.startsWith('Category-') &&
      !line.startsWith('IsTemplate-') &&
      !line.startsWith('Templates-')
    )
      return false
    return this.header(line.slice(0, colon), line.slice(at))
  }

  /** The categories, once the answer is whole; `response` holds the headers line() did not take. */
  finish(response: Message): ConfigCategory[] {
    const { names, values } = response
    for (let i = 0; i < names.length && this.problem === null; i++) {
      const name = names[i] ?? ''
      if (
        !this.header(name, values[i] ?? '') &&
        !/^(Response|ActionID|Message|Privilege|No categories found)$/i.test(name)
      )
        this.bad(`unexpected header '${printable(name.slice(0, 40))}'`)
    }
    if (this.problem !== null) {
      throw new IncompleteAnswerError(
        `unreadable answer to ${this.what}: ${this.problem}`,
        "the answer may have been cut by the manager user's writetimeout; try again",
      )
    }
    return this.categories
  }

  /** One header by name and value: true when it is one of the categories' headers. */
  private header(name: string, value: string): boolean {
    // a Line- header left in the message (before its ActionID): read as the framer would have offered it
    if (name.startsWith('Line-')) return this.line(`${name}: ${value}`)
    if (name.startsWith('Category-')) {
      const c = numberToEnd(name, 9)
      if (c < 0) return false
      if (c !== this.categories.length)
        return this.bad(`category number ${name.slice(9)} out of sequence`)
      this.categories.push({ name: value, template: false, templates: [], lines: [] })
      return true
    }
    if (name.startsWith('IsTemplate-')) {
      const c = numberToEnd(name, 11)
      if (c < 0) return false
      const category = this.current(c, name, 11, name.length)
      if (category) category.template = value.trim() === '1'
      return true
    }
    if (name.startsWith('Templates-')) {
      const c = numberToEnd(name, 10)
      if (c < 0) return false
      const category = this.current(c, name, 10, name.length)
      if (category === null) return true
      // one template, the usual case, without the split
      const one = value.includes(',') ? null : value.trim()
      category.templates =
        one === null
          ? value
              .split(',')
              .map((t) => t.trim())
              .filter(Boolean)
          : one
            ? [one]
            : []
      return true
    }
    return false
  }

  /** The category numbered `n` (written in `text` from `from` to `to`): the last one, else the
   *  answer is unreadable (null). */
  private current(n: number, text: string, from: number, to: number): ConfigCategory | null {
    const category = this.categories[this.categories.length - 1]
    if (n === this.categories.length - 1 && category) return category
    this.bad(`category number ${text.slice(from, to)} out of sequence`)
    return null
  }

  /** The first problem is the one said; the header counts as read. */
  private bad(detail: string): true {
    this.problem ??= detail
    return true
  }
}

/** True for an ActionID this process has sent (`pjctl-<pid>-<n>`). */
function issuedId(id: string): boolean {
  const prefix = `pjctl-${process.pid}-`
  if (!id.startsWith(prefix)) return false
  const n = id.slice(prefix.length)
  return /^\d+$/.test(n) && Number(n) <= nextId
}

/** The TLS socket handed to asterisk-manager in place of a TCP one: verified against the system store or
 *  --tls-ca, unless --tls-insecure. There is no plaintext fallback: a failed handshake is an error. */
function tlsConnector(
  module: typeof import('node:tls'),
  target: AmiTarget,
  tls: TlsSettings,
): () => TLSSocket {
  return () =>
    module.connect({
      host: target.host,
      port: target.port,
      // SNI takes a host name, never an address; the certificate is checked against target.host either way
      servername: isIP(target.host) ? undefined : target.host,
      ca: tls.ca,
      rejectUnauthorized: !tls.insecure,
      minVersion: 'TLSv1.2',
    })
}

/** A certificate the client would not trust (OpenSSL's verify codes, as Node reports them). */
const UNTRUSTED = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_REJECTED',
  'INVALID_CA',
  'CERT_CHAIN_TOO_LONG',
])

/** An error before the TLS handshake finished: say it was TLS, and what to do; never retry in plain TCP. */
function tlsError(error: NodeJS.ErrnoException, target: AmiTarget): AmiError {
  const where = `${target.host}:${target.port}`
  const code = error.code ?? ''
  const trust = target.tls?.caFile
    ? `the CA in --tls-ca ${target.tls.caFile}`
    : 'the system CA store'
  const reason = printable(error.message)
  if (UNTRUSTED.has(code)) {
    return new AmiError(
      `TLS: the certificate of ${where} is not trusted by ${trust} (${reason})`,
      'pass --tls-ca FILE with the CA certificate that signed it (for a self-signed certificate, the certificate itself); --tls-insecure skips the check and is not recommended',
      { cause: error },
    )
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new AmiError(
      `TLS: the certificate of ${where} is not for '${target.host}' (${reason})`,
      'connect with a name the certificate holds (--host), or reissue it with this name or address in subjectAltName',
      { cause: error },
    )
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return new AmiError(
      `TLS: the certificate of ${where} is not valid now (${reason})`,
      "renew manager.conf's tlscertfile, or check this machine's clock",
      { cause: error },
    )
  }
  if (code.startsWith('ERR_SSL_') || code === 'ECONNRESET' || code === 'EPIPE') {
    return new AmiError(
      `TLS handshake with ${where} failed (${code || reason})`,
      "is this AMI's TLS port (manager.conf tlsenable=yes, tlsbindaddr, 5039 by convention)? Plain AMI (5038) does not speak TLS, and pjctl does not fall back to it",
      { cause: error },
    )
  }
  return socketError(error, target)
}

function socketError(error: NodeJS.ErrnoException, target: AmiTarget): AmiError {
  const where = `${target.host}:${target.port}`
  switch (error.code) {
    case 'ECONNREFUSED':
      return new AmiError(
        `connection refused by ${where}`,
        'is Asterisk running, with manager.conf [general] enabled = yes and this port?',
        { cause: error },
      )
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new AmiError(
        `cannot resolve host '${target.host}'`,
        'check --host or the server entry in the config file',
        { cause: error },
      )
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new AmiError(`cannot reach ${where} (${error.code})`, undefined, { cause: error })
    case 'ECONNRESET':
    case 'EPIPE':
      return new AmiError(`the connection to ${where} was reset`, undefined, { cause: error })
    default:
      return new AmiError(
        `connection to ${where} failed: ${error.code ?? error.message}`,
        undefined,
        { cause: error },
      )
  }
}

function actionError(action: string, response: Message | null, user: string): AmiError {
  const text = response?.get('Message') ?? 'no answer'
  if (/permission denied/i.test(text)) {
    const needs = ACTION_PRIVILEGES[action.toLowerCase()] ?? ['?']
    return new PermissionError(
      action,
      needs,
      `add ${needs[0]} to write= (and read=) for [${user}] in manager.conf, then 'manager reload'`,
    )
  }
  if (/invalid\/unknown command/i.test(text)) return new UnknownActionError(action)
  return new ActionFailedError(action, text)
}
