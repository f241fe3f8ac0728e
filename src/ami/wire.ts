// AMI framing in linear time, and the one guard every outgoing header value passes.
//
// Why our own reader: asterisk-manager 0.2.0 re-splits every buffered line of an
// unfinished message on each TCP chunk (quadratic in one big message): on a big registrar's
// answer it fell so far behind that Asterisk's writetimeout fired and lines were lost. This framer looks at each byte a constant
// number of times and can hand the lines of a big answer over as they arrive.

import { AmiError, HeaderInjectionError } from '../errors.js'
import type { AmiMessage } from './types.js'
import { printable } from '../text.js'

const BANNER = 'Asterisk Call Manager/'
const END_COMMAND = '--END COMMAND--'

/** Refuses a header name or value that would let a caller write extra AMI headers or actions.
 *  `show: false` (the secret) keeps the value itself out of the message. */
export function assertHeaderSafe(what: string, value: string, show = true): void {
  const bad = /[\r\n\0]/.exec(value)
  if (bad) {
    throw new HeaderInjectionError(
      `refusing to send ${what}${show ? ` '${printable(value)}'` : ''}: it contains ${printable(bad[0])} (AMI header injection)`,
      'names, keys, users and secrets may not contain CR, LF or NUL',
    )
  }
}

export class Message implements AmiMessage {
  readonly names: string[] = []
  readonly values: string[] = []
  /** Body of an Asterisk ≤ 13 `Response: Follows` answer (when not streamed). */
  body: string[] | null = null

  add(name: string, value: string): void {
    this.names.push(name)
    this.values.push(value)
  }

  get(name: string): string | undefined {
    const i = this.indexOf(name)
    return i < 0 ? undefined : this.values[i]
  }

  toRecord(): Record<string, string> {
    const record: Record<string, string> = {}
    for (const [i, name] of this.names.entries())
      if (!(name in record)) record[name] = this.values[i] ?? ''
    return record
  }

  private indexOf(name: string): number {
    const names = this.names
    for (let i = 0; i < names.length; i++) if (names[i] === name) return i
    // Header names are case-insensitive; compare lengths first so a missing header costs no allocation.
    const lower = name.toLowerCase()
    for (let i = 0; i < names.length; i++) {
      const n = names[i]
      if (n?.length === lower.length && n.toLowerCase() === lower) return i
    }
    return -1
  }
}

export interface FramerHooks {
  /** The banner line (`Asterisk Call Manager/11.0.0`). */
  banner(version: string): void
  /** A whole message. */
  message(message: Message): void
  /** A line sink for the answer with this ActionID: `Output:` values (or a Follows body) go there, not into the message. */
  sinkFor(actionId: string): ((line: string) => void) | undefined
}

type State = 'banner' | 'headers' | 'follows'

export class AmiFramer {
  private pending = ''
  private state: State = 'banner'
  private current = new Message()
  private actionId: string | undefined
  private sink: ((line: string) => void) | undefined
  private followsHeaders = true

  constructor(private readonly hooks: FramerHooks) {}

  /** Feed decoded text as it arrives. Throws AmiError when the peer is not an AMI server. */
  push(chunk: string): void {
    const text = this.pending.length ? this.pending + chunk : chunk
    let start = 0
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl
      this.line(text.slice(start, end))
      start = nl + 1
    }
    this.pending = start < text.length ? text.slice(start) : ''
    if (this.state === 'banner' && this.pending.length > 200) this.line(this.pending)
  }

  private line(line: string): void {
    if (this.state === 'banner') {
      this.bannerLine(line)
      return
    }
    if (this.state === 'follows') {
      this.followsLine(line)
      return
    }
    if (line.length === 0) {
      this.endMessage()
      return
    }
    const colon = line.indexOf(':')
    const name = colon < 0 ? line : line.slice(0, colon)
    const value =
      colon < 0
        ? ''
        : line.charCodeAt(colon + 1) === 32
          ? line.slice(colon + 2)
          : line.slice(colon + 1)
    if (this.sink !== undefined && name === 'Output') {
      this.sink(value)
      return
    }
    this.current.add(name, value)
    if (
      colon === 8 &&
      (name === 'ActionID' || (this.actionId === undefined && name.toLowerCase() === 'actionid'))
    ) {
      this.actionId = value
      this.sink = this.hooks.sinkFor(value)
    }
    if (this.current.names.length === 1 && name === 'Response' && value === 'Follows') {
      this.state = 'follows'
      this.followsHeaders = true
      this.current.body = []
    }
  }

  private bannerLine(line: string): void {
    if (!line.startsWith(BANNER)) {
      throw new AmiError(
        `the peer is not an Asterisk manager interface (it said '${printable(line.slice(0, 60))}')`,
        'check --host/--port: AMI listens on port 5038 by default (manager.conf [general] port=)',
      )
    }
    this.state = 'headers'
    this.hooks.banner(line.slice(BANNER.length))
  }

  // Asterisk ≤ 13: `Response: Follows`, `Privilege: Command`, `ActionID: x`, then the raw
  // CLI output (lines end in LF), then `--END COMMAND--` and a blank line.
  private followsLine(line: string): void {
    if (this.followsHeaders && /^(Privilege|ActionID): /i.test(line)) {
      const colon = line.indexOf(': ')
      this.current.add(line.slice(0, colon), line.slice(colon + 2))
      if (/^ActionID$/i.test(line.slice(0, colon))) {
        this.actionId = line.slice(colon + 2)
        this.sink = this.hooks.sinkFor(this.actionId)
      }
      return
    }
    this.followsHeaders = false
    if (line === END_COMMAND) return void (this.state = 'headers')
    if (line.endsWith(END_COMMAND)) {
      this.bodyLine(line.slice(0, -END_COMMAND.length))
      this.state = 'headers'
      return
    }
    this.bodyLine(line)
  }

  private bodyLine(line: string): void {
    if (this.sink) this.sink(line)
    else (this.current.body ??= []).push(line)
  }

  private endMessage(): void {
    const message = this.current
    this.current = new Message()
    this.actionId = undefined
    this.sink = undefined
    if (message.names.length) this.hooks.message(message)
  }
}
