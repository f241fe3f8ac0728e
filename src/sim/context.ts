// The simulated Asterisk as its action and CLI handlers see it: its state, a connection's state and an
// action's context. Types only: src/sim/server.ts holds the sockets and dispatches to the handlers
// (actions.ts, pjsip.ts, config.ts, cli.ts), which know the state through these types and never the server.

import type { AmiRequest } from './ami.js'
import type { AstDb } from './astdb.js'
import type { EventFilter } from './filter.js'
import type { Registrar } from './registrar.js'

export type SimVersion = '22' | '13'

/** One category as ast_config_load2 leaves it: template variables already copied in, `(+)` merged. */
export interface SimConfigCategory {
  name: string
  /** `[name](!)`: listed only with Filter TEMPLATES=include|restrict. */
  template?: boolean
  /** `[name](a,b)`: printed as Templates-NNNNNN. */
  templates?: string[]
  lines: [name: string, value: string][]
}

/** A manager.conf user: `write` classes decide which actions it may run; `read` (default: write) which events it gets. */
export interface SimUser {
  username: string
  secret: string
  write: string[]
  read?: string[]
}

/** What the handlers read and change of the sim (SimAsterisk implements it). */
export interface SimState {
  readonly astdb: AstDb
  readonly registrar: Registrar
  readonly version: SimVersion
  /** The first line of `core show version`. */
  readonly versionLine: string
  /** The sim's clock in Unix seconds. */
  now(): number
  /** asterisk.conf `systemname` ('' when unset). */
  systemName: string
  /** How tests bend the sim: here, only which actions it lacks. */
  readonly hooks: { lacksAction?(action: string): boolean } | undefined
  broadcast(events: string[], eventClass?: string): void
  configFile(filename: string): SimConfigCategory[] | null
  deleteDbEntry(family: string, key: string): boolean
  uptime(): number
  managerUser(username: string): SimUser | undefined
  authenticate(username: string, secret: string): SimUser | undefined
  authenticateMd5(username: string, challenge: string, key: string): SimUser | undefined
}

/** What an action changes on its connection. */
export interface SessionState {
  readonly connection: number
  /** The logged-in user; undefined before a successful Login. */
  user: SimUser | undefined
  /** Event classes sent to this connection (the Login's `Events` within the user's read classes). */
  eventClasses: Set<string>
  /** Set by Logoff and by a failed Login: the connection closes after the answer. */
  closing: boolean
  /** mansession.challenge: set by the first `Challenge` (AuthType MD5), kept for the connection; '' before. */
  challenge: string
  /** The session's event filters (the `Filter` action), in the order they were added. */
  filters: EventFilter[]
}

export interface ActionContext {
  sim: SimState
  session: SessionState
  request: AmiRequest
  /** The ActionID to echo (a hook may change it). */
  actionId: string
  /** The listed items (output lines, list events) that reach the client (a hook may omit some). */
  keep<T>(items: T[]): T[]
}
