// The part of asterisk-manager 0.2.0 (lib/ami.js) that src/ami/session.ts uses.
declare module 'asterisk-manager' {
  import type { EventEmitter } from 'node:events'

  /** A parsed message as asterisk-manager passes it around: lower-cased header names. */
  export type ManagerItem = Record<string, unknown> & {
    actionid?: string
    response?: string
    message?: string
  }

  export interface Manager extends Pick<
    EventEmitter,
    'on' | 'once' | 'removeListener' | 'removeAllListeners' | 'listeners' | 'emit'
  > {
    options: { port: number; host: string; username: string; password: string; events: boolean }
    connect(port: number, host: string, callback?: (err: null) => void): void
    login(callback?: (err?: ManagerItem) => void): void
    /** Writes the action (headers sorted, `ActionID` from `actionid`) and calls back with (error item | undefined, answer). */
    action(
      action: Record<string, string>,
      callback?: (err: ManagerItem | undefined, answer: ManagerItem) => void,
    ): string
    disconnect(callback?: () => void): void
    isConnected(): boolean
  }

  function createManager(
    port?: number,
    host?: string,
    username?: string,
    password?: string,
    events?: boolean,
  ): Manager
  export default createManager
}
