// A raw node:net AMI client and the captures to compare the sim with.

import { readFileSync } from 'node:fs'
import { connect } from 'node:net'
import { CAPTURED_AT, captureSeed } from '../../src/sim/seed.js'
import { startFaultySim, type FaultySim, type FaultySimOptions } from '../../src/sim/faults.js'
import type { SimAsterisk } from '../../src/sim/server.js'

const TRANSCRIPTS = new URL('../fixtures/ami-transcripts/', import.meta.url)

/** A capture file, byte for byte (latin1: one character per byte). */
export function transcript(name: string): string {
  return readFileSync(new URL(name, TRANSCRIPTS), 'latin1')
}

/** The messages of a `.sent.txt` capture (each with its blank line). */
export function sentMessages(name: string): string[] {
  return transcript(`${name}.sent.txt`).split(/(?<=\r\n\r\n)/)
}

/** What depends on the moment of the capture: FullyBooted's Uptime and LastReload, Ping's Timestamp. */
export function withoutClock(text: string): string {
  return text.replace(/^(Uptime|LastReload|Timestamp): [\d.]+\r$/gm, '$1: N\r')
}

/** The captured lab, with the captured expiration_times and a clock stopped at the capture (faults may be injected). */
export function startLab(options: FaultySimOptions = {}): Promise<FaultySim> {
  return startFaultySim({
    seed: captureSeed({ now: CAPTURED_AT }),
    now: () => CAPTURED_AT,
    ...options,
  })
}

/** An AMI message: header lines and the blank line. */
export function amiMessage(...lines: string[]): string {
  return lines.map((line) => `${line}\r\n`).join('') + '\r\n'
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export interface RawClient {
  send(text: string): void
  /** Everything received so far. */
  readonly received: string
  readonly ended: boolean
  /** Resolves with everything received once it matches. */
  waitFor(pattern: string | RegExp, timeoutMs?: number): Promise<string>
  /** Resolves with everything received once the server closed the connection. */
  closed(timeoutMs?: number): Promise<string>
  pause(): void
  resume(): void
  destroy(): void
}

export function rawClient(port: number): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    // chunks are joined only when asked for: big answers stay linear
    const chunks: string[] = []
    let joined = ''
    let ended = false
    const received = () => {
      if (chunks.length > 1) chunks.splice(0, chunks.length, chunks.join(''))
      joined = chunks[0] ?? ''
      return joined
    }
    const waiters = new Set<(chunk: string) => void>()
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => {
      chunks.push(chunk)
      waiters.forEach((waiter) => waiter(chunk))
    })
    socket.on('close', () => {
      ended = true
      waiters.forEach((waiter) => waiter(''))
    })
    socket.on('error', () => undefined)
    /** Resolves once `done` (called with each new chunk, and once at once with '') is true. */
    const until = (done: (chunk: string) => boolean, what: string, timeoutMs: number) =>
      new Promise<string>((resolveWait, rejectWait) => {
        const cleanup = () => {
          clearTimeout(timer)
          waiters.delete(check)
        }
        const check = (chunk: string) => {
          if (!done(chunk)) return
          cleanup()
          resolveWait(received())
        }
        const timer = setTimeout(() => {
          cleanup()
          rejectWait(
            new Error(
              `timed out waiting for ${what}; received: ${JSON.stringify(received().slice(-300))}`,
            ),
          )
        }, timeoutMs)
        waiters.add(check)
        check('')
      })
    const containing = (text: string) => {
      let tail = received()
      return (chunk: string) => {
        const window = tail + chunk
        tail = window.slice(-text.length)
        return window.includes(text)
      }
    }
    socket.once('connect', () =>
      resolve({
        send: (text) => socket.write(text, 'latin1'),
        get received() {
          return received()
        },
        get ended() {
          return ended
        },
        waitFor: (pattern, timeoutMs = 2000) =>
          until(
            typeof pattern === 'string' ? containing(pattern) : () => pattern.test(received()),
            String(pattern),
            timeoutMs,
          ),
        closed: (timeoutMs = 2000) => until(() => ended, 'the server to close', timeoutMs),
        pause: () => socket.pause(),
        resume: () => socket.resume(),
        destroy: () => socket.destroy(),
      }),
    )
    socket.once('error', reject)
  })
}

/** Sends NAME.sent.txt on a fresh connection and returns everything the sim sent until it closed. */
export async function replay(sim: SimAsterisk, name: string): Promise<string> {
  const client = await rawClient(sim.port)
  client.send(transcript(`${name}.sent.txt`))
  return client.closed()
}

/** A connection logged in as `username` with `Events: off` (no FullyBooted), banner and Login answer consumed. */
export async function loggedIn(
  sim: SimAsterisk,
  username = 'pjctl',
  secret = `${username}-secret`,
): Promise<RawClient> {
  const client = await rawClient(sim.port)
  client.send(
    amiMessage(
      'Action: Login',
      'ActionID: login',
      `Username: ${username}`,
      `Secret: ${secret}`,
      'Events: off',
    ),
  )
  await client.waitFor('Message: Authentication accepted\r\n\r\n')
  return client
}

/** The part of `text` after the Login answer. */
export function afterLogin(text: string): string {
  const marker = 'Message: Authentication accepted\r\n\r\n'
  return text.slice(text.indexOf(marker) + marker.length)
}
