// ┌──────────────────────────────────────────────────────────────────────────────────────┐
// │ asterisk-manager 0.2.0: EVERY use pjctl makes of the library's internals is here.    │
// │                                                                                      │
// │ The library owns the connection object, the writing of actions (its header format,   │
// │ ActionIDs) and the dispatch of each answer to the callback of its ActionID. pjctl    │
// │ relies on six things it does inside, not through its documented API:                 │
// │   1. connect() creates its socket with net.createConnection(port, host), once,       │
// │      synchronously: so pjctl can hand it a socket of its own (TCP or TLS).           │
// │   2. it reads with one 'data' listener on that socket, which pjctl removes (its      │
// │      reader re-scans a big answer on every chunk: see wire.ts).                      │
// │   3. it dispatches answers from the 'rawevent' event: an item with lower-cased       │
// │      header names; `response` + `actionid` call that action's callback, with the    │
// │      item as the error when `response` is `Error`.                                   │
// │   4. before login() succeeds it holds every action whose `action` property is not    │
// │      exactly 'login'; what it writes comes from the request's enumerable keys.       │
// │   5. login() builds { action: 'login', username, secret, event } and sends it with   │
// │      this.action(); on success it marks the session logged in.                       │
// │   6. connect() decodes the socket as utf-8 with socket.setEncoding, inside connect() │
// │      and nowhere else: pjctl makes that call a no-op for the length of connect(), so │
// │      the socket delivers Buffers (queued off the JS heap; session.ts decodes them).  │
// │                                                                                      │
// │ package.json pins the version exactly; test/ami/library.contract.test.ts checks      │
// │ each of the six against the installed package and names the one that broke.          │
// └──────────────────────────────────────────────────────────────────────────────────────┘

import net from 'node:net'
import type { Manager, ManagerItem } from 'asterisk-manager'

/** The exact asterisk-manager version these internals were read from (lib/ami.js). */
export const LIBRARY_VERSION = '0.2.0'

type Callback = (err: ManagerItem | undefined, answer: ManagerItem) => void

/** (1), (2) and (6): makes `socket` the library's connection, and leaves the reading of it, as Buffers, to the caller. */
export function handSocket(manager: Manager, socket: net.Socket, port: number, host: string): void {
  const original = net.createConnection
  let handed = 0
  net.createConnection = () => {
    handed++
    return socket
  }
  const readers = socket.listeners('data')
  // the library decodes the socket as utf-8 (setEncoding in connect()); we read it ourselves, as
  // Buffers: a big answer queued as strings made long young-generation GC pauses (session.ts)
  socket.setEncoding = () => socket
  try {
    manager.connect(port, host)
  } finally {
    net.createConnection = original
    delete (socket as Partial<net.Socket>).setEncoding
  }
  if (handed !== 1)
    throw new Error(
      `asterisk-manager ${LIBRARY_VERSION} internals changed: connect() called net.createConnection ${handed} times (expected once)`,
    )
  for (const listener of socket.listeners('data')) {
    if (!readers.includes(listener))
      socket.removeListener('data', listener as (chunk: unknown) => void)
  }
}

/** (3): hands the library one answer; it calls back the action with that ActionID. */
export function dispatchAnswer(manager: Manager, item: ManagerItem): void {
  manager.emit('rawevent', item)
}

/** (4): sends an action before login (Challenge): the hold lets through only `action === 'login'`,
 *  so that property says 'login' to the library and is left out of what it writes. */
export function sendBeforeLogin(
  manager: Manager,
  request: Record<string, string>,
  callback: Callback,
): void {
  const passed: Record<string, string> = {}
  Object.defineProperty(passed, 'action', { value: 'login', enumerable: false })
  for (const [name, value] of Object.entries(request))
    passed[name === 'action' ? 'Action' : name] = value
  manager.action(passed, callback)
}

/** (5): the library's own login(), with `secret` replaced by `replace` (AuthType and Key of an MD5
 *  challenge login); the library still sends it, and marks the session logged in on success. */
export function loginWith(
  manager: Manager,
  replace: Record<string, string>,
  callback: (err?: ManagerItem) => void,
): void {
  const send = manager.action.bind(manager)
  let seen = 0
  manager.action = (request, cb) => {
    seen++
    const rewritten: Record<string, string> = {}
    for (const [name, value] of Object.entries(request))
      if (name !== 'secret') rewritten[name] = value
    return send({ ...rewritten, ...replace }, cb)
  }
  try {
    manager.login(callback)
  } finally {
    manager.action = send
  }
  if (seen !== 1)
    throw new Error(
      `asterisk-manager ${LIBRARY_VERSION} internals changed: login() called this.action ${seen} times (expected once)`,
    )
}
