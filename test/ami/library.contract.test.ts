// The contract between pjctl and asterisk-manager's internals (src/ami/library.ts lists them).
// Each test drives the installed package directly; when one fails, its message names the
// internal that changed, so an upgrade is refused here rather than breaking pjctl silently.
import { readFileSync } from 'node:fs'
import net from 'node:net'
import { join } from 'node:path'
import createManager, { type Manager, type ManagerItem } from 'asterisk-manager'
import { afterEach, describe, expect, it } from 'vitest'
import {
  LIBRARY_VERSION,
  dispatchAnswer,
  handSocket,
  loginWith,
  sendBeforeLogin,
} from '../../src/ami/library.js'

const ROOT = join(__dirname, '..', '..')
const CHANGED = `asterisk-manager internals changed (pjctl relies on them in src/ami/library.ts):`

/** A socket that records what the library writes and never touches the network. */
function recordingSocket(): { socket: net.Socket; written: string[] } {
  const socket = new net.Socket()
  const written: string[] = []
  socket.write = (data: string | Uint8Array) => {
    written.push(String(data))
    return true
  }
  sockets.push(socket)
  return { socket, written }
}

const sockets: net.Socket[] = []
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy()
})

function connected(): { manager: Manager; socket: net.Socket; written: string[] } {
  const manager = createManager(undefined, '127.0.0.1', 'pjctl', 'pjctl-secret', false)
  const { socket, written } = recordingSocket()
  handSocket(manager, socket, 5038, '127.0.0.1')
  return { manager, socket, written }
}

/** The library's own connect() on `socket`, without pjctl's handSocket: what the library does left alone. */
function connectLeftAlone(manager: Manager, socket: net.Socket): void {
  const original = net.createConnection
  net.createConnection = () => socket
  try {
    manager.connect(5038, '127.0.0.1')
  } finally {
    net.createConnection = original
  }
}

/** The library calls back on process.nextTick. */
const ticks = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** The ActionID the library wrote into an action. */
function actionIdOf(action: string): string {
  const id = /^ActionID: (.*)$/m.exec(action)?.[1]
  expect(id, `${CHANGED} an action is written without its ActionID header`).toBeDefined()
  return id!.trim()
}

/** `Name: value` lines of one written action, in the order written. */
function lines(action: string): string[] {
  expect(
    action.endsWith('\r\n\r\n'),
    `${CHANGED} an action is no longer written as CRLF lines ending in a blank line`,
  ).toBe(true)
  return action.slice(0, -4).split('\r\n')
}

describe('asterisk-manager: the version pjctl was written against', () => {
  it(`is installed at exactly ${LIBRARY_VERSION}, and package.json pins exactly that`, () => {
    const installed = JSON.parse(
      readFileSync(join(ROOT, 'node_modules/asterisk-manager/package.json'), 'utf8'),
    ).version
    // a devDependency: the build bundles it (scripts/build.mjs), so the pin is what ships
    const pinned = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).devDependencies[
      'asterisk-manager'
    ]
    expect(
      pinned,
      'package.json must pin asterisk-manager exactly (no ^ or ~): pjctl relies on its internals',
    ).toBe(LIBRARY_VERSION)
    expect(
      installed,
      `${CHANGED} installed version ${installed}, read for ${LIBRARY_VERSION}: re-read lib/ami.js, then update src/ami/library.ts`,
    ).toBe(LIBRARY_VERSION)
  })
})

describe('asterisk-manager internals pjctl relies on', () => {
  it('(1) connect() takes its socket from net.createConnection, once: pjctl hands it a TCP or TLS socket', () => {
    const manager = createManager(undefined, '127.0.0.1', 'u', 's', false)
    const { socket } = recordingSocket()
    expect(
      () => handSocket(manager, socket, 5038, '127.0.0.1'),
      `${CHANGED} (1) connect() no longer calls net.createConnection exactly once`,
    ).not.toThrow()
  })

  it("(2) the library reads with one 'data' listener, which pjctl removes", () => {
    const manager = createManager(undefined, '127.0.0.1', 'u', 's', false)
    const { socket } = recordingSocket()
    connectLeftAlone(manager, socket)
    expect(
      socket.listeners('data').length,
      `${CHANGED} (2) connect() no longer adds exactly one 'data' listener to its socket`,
    ).toBe(1)

    const { manager: handed, socket: ours } = connected()
    let raw = 0
    handed.on('rawevent', () => raw++)
    expect(
      ours.listeners('data').length,
      `${CHANGED} (2) the library's reader could not be removed`,
    ).toBe(0)
    ours.emit('data', 'Asterisk Call Manager/11.0.0\r\nResponse: Success\r\nActionID: 1\r\n\r\n')
    expect(
      raw,
      `${CHANGED} (2) the library still parses incoming data after its reader was removed`,
    ).toBe(0)
  })

  it("(6) connect() sets the socket's encoding with setEncoding, during connect() only: after handSocket it delivers Buffers", () => {
    const manager = createManager(undefined, '127.0.0.1', 'u', 's', false)
    const { socket } = recordingSocket()
    connectLeftAlone(manager, socket)
    // what pjctl neutralises is really there: left alone, the library decodes the socket itself
    expect(
      socket.readableEncoding,
      `${CHANGED} (6) connect() no longer decodes its socket with setEncoding (pjctl's no-op is then useless, but harmless)`,
    ).toBe('utf8')

    const { socket: ours } = connected()
    expect(
      ours.readableEncoding,
      `${CHANGED} (6) the socket still has an encoding after handSocket: the library sets it outside connect()`,
    ).toBeNull()
    expect(
      Object.prototype.hasOwnProperty.call(ours, 'setEncoding'),
      '(6) handSocket left its no-op setEncoding on the socket',
    ).toBe(false)
    const chunks: unknown[] = []
    ours.on('data', (chunk) => chunks.push(chunk))
    ours.push(Buffer.from('Asterisk Call Manager/11.0.0\r\n'))
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        expect(chunks.length).toBe(1)
        expect(
          Buffer.isBuffer(chunks[0]),
          `${CHANGED} (6) the socket delivers strings after handSocket`,
        ).toBe(true)
        resolve()
      }),
    )
  })

  it("(3) a 'rawevent' item (lower-cased names) calls back the action with that ActionID; Response: Error is the error", async () => {
    const { manager, written } = connected()
    const calls: [ManagerItem | undefined, ManagerItem][] = []
    loginWith(manager, {}, () => {})
    dispatchAnswer(manager, {
      response: 'Success',
      actionid: actionIdOf(written[0]!),
      message: 'Authentication accepted',
    })
    await ticks()
    manager.action({ action: 'DBGet', family: 'f', key: 'k', actionid: 'pjctl-1' }, (err, answer) =>
      calls.push([err, answer]),
    )
    manager.action({ action: 'DBGet', family: 'f', key: 'x', actionid: 'pjctl-2' }, (err, answer) =>
      calls.push([err, answer]),
    )
    dispatchAnswer(manager, {
      response: 'Success',
      actionid: 'pjctl-1',
      message: 'Result will follow',
    })
    dispatchAnswer(manager, {
      response: 'Error',
      actionid: 'pjctl-2',
      message: 'Database entry not found',
    })
    await ticks()
    expect(
      calls.length,
      `${CHANGED} (3) answers emitted as 'rawevent' no longer reach the action callbacks`,
    ).toBe(2)
    expect(calls[0]![0], `${CHANGED} (3) a Success answer is reported as an error`).toBeUndefined()
    expect(calls[0]![1].message).toBe('Result will follow')
    expect(
      calls[1]![0]?.message,
      `${CHANGED} (3) a Response: Error answer is not passed as the callback's error`,
    ).toBe('Database entry not found')
  })

  it("(4) before login, actions wait, except one whose `action` is 'login'; what is written comes from the enumerable keys", async () => {
    const { manager, written } = connected()
    manager.action({ action: 'DBGet', family: 'f', key: 'k', actionid: 'held-1' }, () => {})
    expect(
      written,
      `${CHANGED} (4) an action sent before login is no longer held until login succeeds`,
    ).toEqual([])

    const answers: (ManagerItem | undefined)[] = []
    sendBeforeLogin(
      manager,
      { action: 'Challenge', authtype: 'MD5', actionid: 'pjctl-c' },
      (err, answer) => answers.push(err ?? answer),
    )
    expect(
      written.length,
      `${CHANGED} (4) an action whose \`action\` property is 'login' is no longer sent before login`,
    ).toBe(1)
    expect(
      lines(written[0]!),
      `${CHANGED} (4) the written action no longer comes from the request's enumerable keys`,
    ).toEqual(['Action: Challenge', 'ActionID: pjctl-c', 'Authtype: MD5'])
    dispatchAnswer(manager, { response: 'Success', actionid: 'pjctl-c', challenge: '840312755' })
    await ticks()
    expect(
      answers.map((a) => a?.challenge),
      `${CHANGED} (4)/(3) the Challenge answer did not reach its callback`,
    ).toEqual(['840312755'])
  })

  it('(5) login() sends { action, username, secret, event } through this.action, and releases the held actions on success', async () => {
    const { manager, written } = connected()
    manager.action({ action: 'DBGet', family: 'f', key: 'k', actionid: 'held-1' }, () => {})
    let loggedIn: ManagerItem | undefined | 'no' = 'no'
    expect(
      () => loginWith(manager, { authtype: 'MD5', key: '0123abcd' }, (err) => (loggedIn = err)),
      `${CHANGED} (5) login() no longer calls this.action exactly once`,
    ).not.toThrow()
    expect(written.length).toBe(1)
    const login = lines(written[0]!)
    expect(
      login.filter((l) => !l.startsWith('ActionID: ')),
      `${CHANGED} (5) login() builds a different request: pjctl replaces its secret with AuthType and Key`,
    ).toEqual(['Action: login', 'Authtype: MD5', 'Event: off', 'Key: 0123abcd', 'Username: pjctl'])
    dispatchAnswer(manager, {
      response: 'Success',
      actionid: actionIdOf(written[0]!),
      message: 'Authentication accepted',
    })
    await ticks()
    expect(loggedIn, `${CHANGED} (5) login()'s callback is not called on success`).toBeUndefined()
    expect(
      written.length,
      `${CHANGED} (5) a successful login() no longer sends the held actions`,
    ).toBe(2)
    expect(lines(written[1]!)).toEqual(['Action: DBGet', 'ActionID: held-1', 'Family: f', 'Key: k'])
  })

  it("(5) a login() answered with Response: Error calls back with the server's message, and nothing held is sent", async () => {
    const { manager, written } = connected()
    manager.action({ action: 'DBGet', family: 'f', key: 'k', actionid: 'held-1' }, () => {})
    let failed: ManagerItem | undefined
    manager.login((err) => (failed = err))
    expect(lines(written[0]!), 'the plain login sends the secret').toContain('Secret: pjctl-secret')
    dispatchAnswer(manager, {
      response: 'Error',
      actionid: actionIdOf(written[0]!),
      message: 'Authentication failed',
    })
    await ticks()
    expect(
      failed?.message,
      `${CHANGED} (5) a failed login() no longer passes the answer as its error`,
    ).toBe('Authentication failed')
    expect(written.length).toBe(1)
  })
})
