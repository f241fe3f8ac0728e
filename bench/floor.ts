// The floors pjctl is measured against on a real Asterisk (issue 10): minimal clients that read the
// same answers to the end and parse nothing. Each runs in its own node process, like pjctl, and
// prints one JSON line.
//
//   node dist-bench/bench/floor.js read  HOST:PORT           DBGetTree registrar/contact ∥ GetConfig pjsip.conf
//                                                      (Filter: type=aor), two sessions in parallel
//   node dist-bench/bench/floor.js prune HOST:PORT KEYFILE   DBGetTree registrar/contact, then a pipelined
//                                                      DBGet and DBDel per key of KEYFILE, 64 in flight
//
// User and secret: PJCTL_USER / PJCTL_SECRET (default the lab's pjctl / pjctl-secret).

import { readFileSync } from 'node:fs'
import net from 'node:net'

const USER = process.env.PJCTL_USER ?? 'pjctl'
const SECRET = process.env.PJCTL_SECRET ?? 'pjctl-secret'
const BLANK = Buffer.from('\r\n\r\n')

/** A logged-in connection that counts answers by finding their ends, without decoding them. */
class Conn {
  private tail = Buffer.alloc(0)
  /** Occurrences of `countMarker` seen (counted per chunk; a marker split across chunks is found via the tail). */
  counted = 0
  countMarker: Buffer | null = null
  private countTail = Buffer.alloc(0)
  private waiters: { marker: Buffer | null; seen: boolean; count: number; resolve: () => void }[] =
    []
  bytes = 0
  private constructor(private readonly socket: net.Socket) {}

  static open(host: string, port: number): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, host)
      socket.setNoDelay(true)
      socket.once('error', reject)
      let text = ''
      let loginSent = false
      const onData = (chunk: Buffer) => {
        text += chunk.toString('latin1')
        const nl = text.indexOf('\r\n')
        if (nl < 0) return
        if (!loginSent) {
          loginSent = true
          socket.write(
            `Action: Login\r\nUsername: ${USER}\r\nSecret: ${SECRET}\r\nEvents: off\r\n\r\n`,
          )
        }
        const end = text.indexOf('\r\n\r\n', nl + 2)
        if (end < 0) return
        if (!text.slice(nl + 2).startsWith('Response: Success')) {
          reject(new Error(`login failed: ${text.slice(nl + 2, end)}`))
          return
        }
        socket.off('data', onData)
        const conn = new Conn(socket)
        socket.on('data', (c: Buffer) => conn.feed(c))
        if (text.length > end + 4) conn.feed(Buffer.from(text.slice(end + 4), 'latin1'))
        resolve(conn)
      }
      socket.on('data', onData)
    })
  }

  send(text: string): void {
    this.socket.write(text)
  }

  /** Resolves after `count` messages have ended (marker null), or after the message containing `marker` has ended. */
  until(marker: string | null, count = 1): Promise<void> {
    return new Promise((resolve) =>
      this.waiters.push({
        marker: marker === null ? null : Buffer.from(marker),
        seen: marker === null,
        count,
        resolve,
      }),
    )
  }

  private feed(chunk: Buffer): void {
    this.bytes += chunk.length
    if (this.countMarker) {
      const window = this.countTail.length ? Buffer.concat([this.countTail, chunk]) : chunk
      for (
        let at = window.indexOf(this.countMarker);
        at >= 0;
        at = window.indexOf(this.countMarker, at + 1)
      )
        this.counted++
      this.countTail = Buffer.from(
        window.subarray(Math.max(0, window.length - this.countMarker.length + 1)),
      )
    }
    let data = this.tail.length ? Buffer.concat([this.tail, chunk]) : chunk
    for (;;) {
      const waiter = this.waiters[0]
      if (!waiter) break
      let from = 0
      if (!waiter.seen) {
        const at = data.indexOf(waiter.marker!)
        if (at < 0) break
        waiter.seen = true
        from = at
      }
      const end = data.indexOf(BLANK, from)
      if (end < 0) {
        // the marker's message continues in the next chunk: keep only its unscanned end
        if (from) data = data.subarray(from)
        break
      }
      data = data.subarray(end + BLANK.length)
      if (waiter.marker || --waiter.count === 0) {
        this.waiters.shift()
        waiter.resolve()
      }
    }
    // keep enough to find a marker or a blank line split across chunks
    this.tail = Buffer.from(data.subarray(Math.max(0, data.length - 64)))
    if (!this.waiters.length) this.tail = Buffer.alloc(0)
  }

  close(): void {
    this.socket.destroy()
  }
}

function target(arg: string): [string, number] {
  const at = arg.lastIndexOf(':')
  return [arg.slice(0, at), Number(arg.slice(at + 1))]
}

async function readFloor(host: string, port: number): Promise<object> {
  const t0 = performance.now()
  const tree = (async () => {
    const c = await Conn.open(host, port)
    c.countMarker = Buffer.from('Event: DBGetTreeResponse\r\n')
    const sent = performance.now()
    c.send('Action: DBGetTree\r\nFamily: registrar/contact\r\nActionID: f1\r\n\r\n')
    await c.until('Event: DBGetTreeComplete\r\n')
    const ms = performance.now() - sent
    c.close()
    return { ms, bytes: c.bytes, items: c.counted }
  })()
  const config = (async () => {
    const c = await Conn.open(host, port)
    const sent = performance.now()
    c.send('Action: GetConfig\r\nFilename: pjsip.conf\r\nFilter: type=aor\r\nActionID: f2\r\n\r\n')
    await c.until(null)
    const ms = performance.now() - sent
    c.close()
    return { ms, bytes: c.bytes }
  })()
  const [t, g] = await Promise.all([tree, config])
  return { totalMs: performance.now() - t0, dbGetTree: t, getConfig: g }
}

async function pruneFloor(host: string, port: number, keyFile: string): Promise<object> {
  const keys = readFileSync(keyFile, 'utf8').split('\n').filter(Boolean)
  const t0 = performance.now()
  const c = await Conn.open(host, port)
  c.send('Action: DBGetTree\r\nFamily: registrar/contact\r\nActionID: t\r\n\r\n')
  await c.until('Event: DBGetTreeComplete\r\n')
  const treeMs = performance.now() - t0
  // each key: DBGet (a list: response, one event, the complete event; one error response for a key
  // that is gone), then DBDel, whose answer (by its ActionID) ends the key's work
  const IN_FLIGHT = 64
  let next = 0
  const worker = async () => {
    while (next < keys.length) {
      const i = next++
      const key = keys[i]
      const done = c.until(`ActionID: d${i}\r\n`)
      c.send(
        `Action: DBGet\r\nFamily: registrar/contact\r\nKey: ${key}\r\n\r\nAction: DBDel\r\nFamily: registrar/contact\r\nKey: ${key}\r\nActionID: d${i}\r\n\r\n`,
      )
      await done
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker))
  c.close()
  return { totalMs: performance.now() - t0, treeMs, deleted: keys.length }
}

async function main(): Promise<void> {
  const [mode, where, keyFile] = process.argv.slice(2)
  const [host, port] = target(where ?? '127.0.0.1:5038')
  const result =
    mode === 'read'
      ? await readFloor(host, port)
      : mode === 'prune'
        ? await pruneFloor(host, port, keyFile!)
        : null
  if (!result) throw new Error(`unknown floor ${mode}`)
  process.stdout.write(`${JSON.stringify(result)}\n`)
}

main().catch((error: unknown) => {
  process.stderr.write(`floor: ${(error as Error).stack ?? String(error)}\n`)
  process.exitCode = 1
})
