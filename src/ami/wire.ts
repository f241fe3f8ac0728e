// AMI framing in linear time, and the one guard every outgoing header value passes.
//
// Why our own reader: asterisk-manager 0.2.0 re-splits every buffered line of an
// unfinished message on each TCP chunk (quadratic in one big message): on a big registrar's
// answer it fell so far behind that Asterisk's writetimeout fired and lines were lost. This framer looks at each byte a constant
// number of times and can hand the lines of a big answer over as they arrive.

import { isAscii } from 'node:buffer'
import { StringDecoder } from 'node:string_decoder'
import { AmiError, HeaderInjectionError } from '../errors.js'
import type { AmiMessage } from './types.js'
import { printable } from '../text.js'

const BANNER = 'Asterisk Call Manager/'
const END_COMMAND = '--END COMMAND--'
/** How every row of a DBGetTree answer starts (main/db.c manager_dbgettree); the lines after it are
 *  `Key`, `Val` and `ActionID`, and a blank line ends it. */
const ROW_EVENT = 'Event: DBGetTreeResponse\r\n'
const END_OF_MESSAGE = '\r\n\r\n'

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

/**
 * Gives a socket chunk's memory back once its text has been taken (the decoder copies it): the
 * chunk's ArrayBuffer is moved into a throwaway clone, which the next young-generation GC frees.
 * Without this, a chunk that waited in the queue long enough to be promoted kept its 64 KB until
 * a full GC: at 100,000 contacts that was 45 MB of answer already read, at the run's peak. Only a
 * chunk that is its whole ArrayBuffer is released (a TLS or pooled chunk may share one).
 */
export function release(chunk: Buffer): void {
  const memory = chunk.buffer
  if (
    memory instanceof ArrayBuffer &&
    chunk.byteOffset === 0 &&
    chunk.byteLength === memory.byteLength &&
    memory.byteLength > 0
  )
    structuredClone(memory, { transfer: [memory] })
}

/**
 * The socket's Buffers as text, as a UTF-8 StringDecoder gives them (a character split across chunks
 * kept whole, bad bytes as U+FFFD). A chunk of ASCII only (almost every one: keys, JSON, headers) is
 * copied as it is, without decoding.
 */
export class ChunkDecoder {
  private readonly decoder = new StringDecoder('utf8')
  /** The decoder holds no byte of a split character: the last chunk it took ended in ASCII. */
  private empty = true

  write(chunk: Buffer): string {
    if (chunk.length === 0) return ''
    if (this.empty && isAscii(chunk)) return chunk.toString('latin1')
    const text = this.decoder.write(chunk)
    this.empty = (chunk[chunk.length - 1] ?? 0x80) < 0x80
    return text
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
  /** A taker of the header lines that follow this ActionID in its answer (GetConfig's categories),
   *  offered each whole line before a name or a value is cut from it: true when it took the line,
   *  which then is not in the message. */
  headersFor?(actionId: string): ((line: string) => boolean) | undefined
  /** One astdb row of a DBGetTree answer (`Event: DBGetTreeResponse` with exactly `Key`, `Val` and
   *  `ActionID`), offered before any message is built for it: true when it was taken. When it was not
   *  (nobody reads rows for that ActionID), the same lines go through `message` as usual. */
  row?(actionId: string, key: string, value: string): boolean
}

type State = 'banner' | 'headers' | 'follows'

export class AmiFramer {
  private pending = ''
  private state: State = 'banner'
  private current = new Message()
  private actionId: string | undefined
  private sink: ((line: string) => void) | undefined
  private taker: ((line: string) => boolean) | undefined
  private followsHeaders = true

  constructor(private readonly hooks: FramerHooks) {}

  /** Feed decoded text as it arrives. Throws AmiError when the peer is not an AMI server. */
  push(chunk: string): void {
    if (this.pending.length === 0) {
      this.scan(chunk)
      return
    }
    // What is left of the last chunk is finished with as little of this one as it takes (to the end
    // of its first message, else of its first line; an end split across the two is in that part),
    // and the rest of this one is scanned as it is: `pending + chunk` whole would copy every chunk
    // of a big answer once more.
    let cut = chunk.indexOf(END_OF_MESSAGE)
    if (cut >= 0) cut += END_OF_MESSAGE.length
    else {
      cut = chunk.indexOf('\n')
      if (cut >= 0) cut++
    }
    if (cut < 0 || cut === chunk.length) {
      this.scan(this.pending + chunk)
      return
    }
    this.scan(this.pending + chunk.slice(0, cut))
    const rest = chunk.slice(cut)
    this.scan(this.pending.length ? this.pending + rest : rest)
  }

  private scan(text: string): void {
    const rows = this.hooks.row !== undefined
    let start = 0
    for (;;) {
      // A big answer is almost all DBGetTree rows: each is taken whole, without a Message or a string per line.
      if (
        rows &&
        this.state === 'headers' &&
        this.current.names.length === 0 &&
        text.startsWith(ROW_EVENT, start)
      ) {
        const end = text.indexOf(END_OF_MESSAGE, start)
        if (end < 0) break
        if (this.row(text, start + ROW_EVENT.length, end)) {
          start = end + END_OF_MESSAGE.length
          continue
        }
      }
      const nl = text.indexOf('\n', start)
      if (nl < 0) break
      const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl
      this.line(text.slice(start, end))
      start = nl + 1
    }
    this.pending = start < text.length ? text.slice(start) : ''
    if (this.state === 'banner' && this.pending.length > 200) this.line(this.pending)
  }

  /** The header lines of one DBGetTree row in text[from, end): handed to the row hook when they are
   *  exactly Key, Val and ActionID, once each, CRLF-terminated; false (nothing taken) otherwise. */
  private row(text: string, from: number, end: number): boolean {
    let key: string | undefined
    let value: string | undefined
    let actionId: string | undefined
    let start = from
    while (start < end) {
      let eol = text.indexOf('\r\n', start)
      if (eol < 0 || eol > end) eol = end
      // a bare LF inside is a line break of its own to the line-by-line reader: leave it to that one
      if (text.indexOf('\n', start) !== eol + 1) return false
      const colon = text.indexOf(': ', start)
      if (colon < 0 || colon > eol) return false
      const content = text.slice(colon + 2, eol)
      const length = colon - start
      if (length === 3 && key === undefined && text.startsWith('Key', start)) key = content
      else if (length === 3 && value === undefined && text.startsWith('Val', start)) value = content
      else if (length === 8 && actionId === undefined && text.startsWith('ActionID', start))
        actionId = content
      else return false
      start = eol + 2
    }
    if (key === undefined || value === undefined || actionId === undefined) return false
    return this.hooks.row?.(actionId, key, value) ?? false
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
    if (this.taker?.(line)) return
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
      this.taker = this.hooks.headersFor?.(value)
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
    this.taker = undefined
    if (message.names.length) this.hooks.message(message)
  }
}
