// Child-process readers the bench runs next to pjctl (each in its own node process, like pjctl,
// so start-up and CPU placement are the same). Prints one JSON line on stdout.
//
//   node dist-bench/bench/probe.js bare  <port> <action>[,<action>...]   raw node:net, finds the end only
//   node dist-bench/bench/probe.js stock <port>                          asterisk-manager 0.2.0's own reader, Command
//   node dist-bench/bench/probe.js ours  <port> command|dbgettree        pjctl's session (asterisk-manager + our framer), no parsing
//
// Actions for `bare`: dbgettree (DBGetTree registrar/contact), command (Command `database show
// registrar/contact`), aors (PJSIPShowAors), contacts (PJSIPShowContacts).

import net from 'node:net'

const USER = 'pjctl'
const SECRET = 'pjctl-secret'
const FAMILY = 'registrar/contact'

interface BareAction {
  request: string
  /** The answer ends at the first blank line after this text (null: after the first message). */
  lastMessage: string | null
}

const BARE: Record<string, BareAction> = {
  dbgettree: {
    request: `Action: DBGetTree\r\nFamily: ${FAMILY}\r\n`,
    lastMessage: 'Event: DBGetTreeComplete\r\n',
  },
  command: {
    request: `Action: Command\r\nCommand: database show ${FAMILY}\r\n`,
    lastMessage: null,
  },
  aors: { request: 'Action: PJSIPShowAors\r\n', lastMessage: 'Event: AorListComplete\r\n' },
  contacts: {
    request: 'Action: PJSIPShowContacts\r\n',
    lastMessage: 'Event: ContactListComplete\r\n',
  },
}

const BLANK = Buffer.from('\r\n\r\n')

/** Finds the end of one answer in a byte stream without decoding or parsing it. */
class EndFinder {
  private tail = Buffer.alloc(0)
  private seenMarker: boolean
  private readonly marker: Buffer | null
  constructor(lastMessage: string | null) {
    this.marker = lastMessage === null ? null : Buffer.from(lastMessage)
    this.seenMarker = this.marker === null
  }

  /** The offset in `chunk` just past the answer, or -1. */
  push(chunk: Buffer): number {
    const window = this.tail.length ? Buffer.concat([this.tail, chunk]) : chunk
    let from = 0
    if (!this.seenMarker) {
      const at = window.indexOf(this.marker!)
      if (at < 0) {
        this.keep(window, this.marker!.length - 1)
        return -1
      }
      this.seenMarker = true
      from = at
    }
    const end = window.indexOf(BLANK, from)
    if (end < 0) {
      this.keep(window, BLANK.length - 1)
      return -1
    }
    return end + BLANK.length - this.tail.length
  }

  private keep(window: Buffer, n: number): void {
    this.tail = Buffer.from(window.subarray(Math.max(0, window.length - n)))
  }
}

async function bare(port: number, actions: string[]): Promise<object> {
  const t0 = performance.now()
  const socket = net.connect(port, '127.0.0.1')
  socket.setNoDelay(true)
  const timings: { action: string; ms: number; bytes: number }[] = []
  let loginMs = 0
  await new Promise<void>((resolve, reject) => {
    socket.on('error', reject)
    let stage: 'banner' | 'login' | 'actions' = 'banner'
    let pendingText = ''
    let index = 0
    let finder: EndFinder | null = null
    let sentAt = 0
    let bytes = 0
    const sendNext = (): void => {
      const spec = BARE[actions[index]!]
      if (!spec) {
        reject(new Error(`unknown bare action ${actions[index]}`))
        return
      }
      finder = new EndFinder(spec.lastMessage)
      sentAt = performance.now()
      bytes = 0
      socket.write(`${spec.request}ActionID: bench-${index}\r\n\r\n`)
    }
    socket.on('data', (chunk: Buffer) => {
      if (stage !== 'actions') {
        pendingText += chunk.toString('latin1')
        if (stage === 'banner') {
          const nl = pendingText.indexOf('\r\n')
          if (nl < 0) return
          pendingText = pendingText.slice(nl + 2)
          stage = 'login'
          socket.write(
            `Action: Login\r\nUsername: ${USER}\r\nSecret: ${SECRET}\r\nEvents: off\r\nActionID: bench-login\r\n\r\n`,
          )
        }
        const end = pendingText.indexOf('\r\n\r\n')
        if (end < 0) return
        if (!pendingText.startsWith('Response: Success')) {
          reject(new Error(`login failed: ${pendingText.slice(0, 200)}`))
          return
        }
        loginMs = performance.now() - t0
        stage = 'actions'
        sendNext()
        return
      }
      let rest = chunk
      while (finder) {
        const end = finder.push(rest)
        if (end < 0) {
          bytes += rest.length
          return
        }
        bytes += end
        timings.push({ action: actions[index]!, ms: performance.now() - sentAt, bytes })
        rest = rest.subarray(end)
        index++
        if (index >= actions.length) {
          finder = null
          resolve()
          return
        }
        sendNext()
        if (rest.length) {
          reject(new Error('data after an answer before the next action was sent'))
          return
        }
        return
      }
    })
  })
  socket.destroy()
  return { loginMs, actions: timings, totalMs: performance.now() - t0 }
}

async function stock(port: number): Promise<object> {
  const { default: createManager } = await import('asterisk-manager')
  const t0 = performance.now()
  const manager = createManager(port, '127.0.0.1', USER, SECRET, false)
  const sentAt = performance.now()
  const lines = await new Promise<number>((resolve, reject) => {
    manager.action({ action: 'Command', command: `database show ${FAMILY}` }, (error, answer) => {
      if (error) {
        reject(new Error(String(error.message)))
        return
      }
      const output = (answer as Record<string, unknown>).output
      resolve(Array.isArray(output) ? output.length : output === undefined ? 0 : 1)
    })
  })
  const ms = performance.now() - sentAt
  manager.disconnect()
  return { ms, lines, totalMs: performance.now() - t0 }
}

async function ours(port: number, source: string): Promise<object> {
  const { openSession } = await import('../src/ami/session.js')
  const t0 = performance.now()
  const session = await openSession({
    name: 'bench',
    host: '127.0.0.1',
    port,
    user: USER,
    secret: SECRET,
    timeout: 60,
    maxOutput: 4 * 1024 ** 3,
  })
  const sentAt = performance.now()
  let items = 0
  if (source === 'command') {
    await session.command(`database show ${FAMILY}`, () => {
      items++
    })
  } else {
    items = (await session.dbGetTree(FAMILY)).rows.length
  }
  const ms = performance.now() - sentAt
  await session.close()
  return { ms, items, totalMs: performance.now() - t0 }
}

async function probeMain(): Promise<void> {
  const [mode, portText, what = ''] = process.argv.slice(2)
  const port = Number(portText)
  const result =
    mode === 'bare'
      ? await bare(port, what.split(','))
      : mode === 'stock'
        ? await stock(port)
        : mode === 'ours'
          ? await ours(port, what)
          : null
  if (!result) throw new Error(`unknown probe mode ${mode}`)
  process.stdout.write(`${JSON.stringify(result)}\n`)
}

probeMain().catch((error: unknown) => {
  process.stderr.write(`probe: ${(error as Error).stack ?? String(error)}\n`)
  process.exitCode = 1
})
