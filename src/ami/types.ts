// The typed face of AMI that commands use. Only src/ami/session.ts implements it,
// and only src/ami/ touches asterisk-manager or sockets.

import type { ConfigCategory } from '../core/types.js'

export type { ConfigCategory }

/** One AMI message (response or event): its header lines in order, names as received. */
export interface AmiMessage {
  readonly names: readonly string[]
  readonly values: readonly string[]
  /** First value of a header (case-insensitive name); undefined when absent. */
  get(name: string): string | undefined
  /** Header name → first value, for handing to the pure core. */
  toRecord(): Record<string, string>
}

/** Where and as whom to connect. The secret never comes from argv. */
export interface AmiTarget {
  /** Display name: the config server name, else host:port. */
  name: string
  host: string
  port: number
  user: string
  secret: string
  /** md5 (default): Challenge, then Login with Key = md5(challenge + secret); plain: Login with the Secret itself. */
  auth?: 'md5' | 'plain'
  /** AMI over TLS; absent: plain TCP. */
  tls?: TlsSettings
  /** Seconds: bounds the connect, the login and every action. */
  timeout: number
  /** Bytes: an answer larger than this is refused (runaway output). */
  maxOutput: number
  /** --contacts-db: the realtime contacts database URL, overriding what res_pgsql.conf says. */
  contactsDb?: string
}

export interface TlsSettings {
  /** PEM CA certificate(s) to verify the server against instead of the system store. */
  ca?: string
  /** Where `ca` came from (for messages). */
  caFile?: string
  /** --tls-insecure: no certificate check at all. */
  insecure: boolean
}

export interface DbRow {
  /** Key within the family (the `/family/` prefix already removed). */
  key: string
  value: string
}

export interface DbTreeAnswer {
  rows: DbRow[]
  /** The list's own `ListItems`, null when the server sent none. */
  listItems: number | null
}

export interface CommandAnswer {
  /** Output lines, normalised (Output: headers of Asterisk 14+, or the raw body of 13's `Response: Follows`). */
  lines: string[]
  /** How many lines the answer carried (streamed or kept). */
  lineCount: number
  /** 'output' (Asterisk ≥ 14) or 'follows' (Asterisk ≤ 13). */
  format: 'output' | 'follows'
}

export interface ListAnswer {
  /** The list's item events (the `...Complete` event not included); empty when they went to `onItem`. */
  items: AmiMessage[]
  /** How many item events arrived. */
  count: number
  listItems: number | null
}

export interface ConfigAnswer {
  filename: string
  categories: ConfigCategory[]
}

export interface AmiSession {
  readonly target: AmiTarget
  /** DBGetTree: rows of a family; throws UnknownActionError on servers older than 16.28/18.14/19.6.
   *  With `onRow`, each row is handed over as it arrives and not kept (`rows` is then empty). */
  /** `onRow` takes each row as it arrives (key within the family, value), instead of `rows`. */
  dbGetTree(family: string, onRow?: (key: string, value: string) => void): Promise<DbTreeAnswer>
  /** Command: a CLI command's output lines. With `onLine`, each line is handed over as it
   *  arrives and not kept (a big answer is never held whole); `lines` is then empty. */
  command(line: string, onLine?: (line: string) => void): Promise<CommandAnswer>
  /** DBGet: the value, or null when the key does not exist. */
  dbGet(family: string, key: string): Promise<string | null>
  /** DBPut. */
  dbPut(family: string, key: string, value: string): Promise<void>
  /** DBDel: true when deleted, false when the key did not exist (`Database entry could not be deleted`). */
  dbDel(family: string, key: string): Promise<boolean>
  /** A list action (PJSIPShowAors, PJSIPShowContacts, PJSIPShowEndpoint): collects its events by ActionID.
   *  An `Error` answer whose message is one of `emptyMessages` (e.g. `No AORs found`) is an empty list. */
  list(
    action: string,
    headers?: Record<string, string>,
    emptyMessages?: readonly string[],
    onItem?: (item: AmiMessage) => void,
  ): Promise<ListAnswer>
  /** Unsolicited events (no ActionID of a pending action: ContactStatus, PeerStatus, UserEvent, ...) as they arrive.
   *  Asterisk sends a logged-in user every event of its read= classes. Returns the unsubscribe function. */
  onEvent(listener: (event: AmiMessage) => void): () => void
  /** Called once when the connection is lost (closed, reset, timed out): not after close(). Returns the unsubscribe function. */
  onClose(listener: (error: Error) => void): () => void
  /** UserEvent (write=user): Asterisk sends `Event: UserEvent`, `UserEvent: <name>` and these headers to every session with read=user. */
  userEvent(name: string, headers: Record<string, string>): Promise<void>
  /** Ping: proves the connection still answers. */
  ping(): Promise<void>
  /** Any action answered by one message (e.g. ListCommands): that message. ActionFailedError on `Response: Error`. */
  action(action: string, headers?: Record<string, string>): Promise<AmiMessage>
  /** GetConfig: the categories of a config file as Asterisk parses it from disk now (not necessarily what is
   *  loaded), optionally only those matching `filter` (`name=regex[,name=regex]`, e.g. `type=aor`).
   *  null when Asterisk answers `Config file not found`; PermissionError without write=system or config. */
  /** `after`: the answer is parsed only once it settles (see AmiSession.getConfig in session.ts). */
  getConfig(
    filename: string,
    filter?: string,
    after?: Promise<unknown>,
  ): Promise<ConfigAnswer | null>
  /** Logoff and close; never throws. */
  close(): Promise<void>
  /** Close at once, without Logoff (the run is failing anyway); actions in flight fail. */
  destroy(): void
}
