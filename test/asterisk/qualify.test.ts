// A qualified contact pruned on a real Asterisk 22 (carol, qualify_frequency 10): the "phone" is a UDP
// socket on loopback that never answers, so every OPTIONS Asterisk starts reaches it and is counted by
// its Via branch (a retransmission keeps its branch; a new transaction has a new one). With the default
// (--via asterisk) no new transaction starts in the 25 s after prune exits and AMI sends
// `ContactStatus: Removed` within 3 s; with --via delete (DBDel) new ones go on and no Removed comes.
import { createHash } from 'node:crypto'
import { createSocket, type Socket as UdpSocket } from 'node:dgram'
import { connect } from 'node:net'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ami as amiAction, CONTACT_FAMILY, LAB, pjctl, register } from './lab.js'

const QUIET_MS = 25_000

/** A phone that never answers: the OPTIONS Asterisk sends to it, by Via branch, with arrival times. */
async function deadPhone(port: number): Promise<{
  branches: Map<string, number>
  close(): void
}> {
  const socket: UdpSocket = createSocket('udp4')
  const branches = new Map<string, number>()
  socket.on('message', (msg, from) => {
    // only this lab's Asterisk: another one on the machine may qualify a contact at the same port
    if (from.port !== LAB.sipPort) return
    const text = msg.toString('utf8')
    if (!text.startsWith('OPTIONS ')) return
    const branch = /^Via:.*;branch=([^;\s]+)/im.exec(text)?.[1]
    if (branch && !branches.has(branch)) branches.set(branch, Date.now())
  })
  await new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', resolve))
  return { branches, close: () => socket.close() }
}

/** AMI events of class system (ContactStatus) as they arrive, with their arrival times. */
async function systemEvents(): Promise<{
  events: { at: number; headers: Record<string, string> }[]
  close(): void
}> {
  const socket = connect(LAB.port, LAB.host)
  socket.setEncoding('utf8')
  const events: { at: number; headers: Record<string, string> }[] = []
  let buffer = ''
  socket.on('data', (chunk: string) => {
    buffer += chunk
    for (let end = buffer.indexOf('\r\n\r\n'); end >= 0; end = buffer.indexOf('\r\n\r\n')) {
      const headers: Record<string, string> = {}
      for (const line of buffer.slice(0, end).split('\r\n')) {
        const colon = line.indexOf(': ')
        if (colon > 0) headers[line.slice(0, colon)] = line.slice(colon + 2)
      }
      buffer = buffer.slice(end + 4)
      if (headers.Event) events.push({ at: Date.now(), headers })
    }
  })
  socket.write(
    `Action: Login\r\nUsername: ${LAB.user}\r\nSecret: ${LAB.secret}\r\nEvents: system\r\n\r\n`,
  )
  await new Promise((r) => setTimeout(r, 500))
  return { events, close: () => socket.destroy() }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** carol registered from `port` (her own new contact), the dead phone bound there, qualified at least once. */
async function qualifiedCarol(port: number) {
  expect((await register('carol', 'carol-pass', port, 3600)).code).toBe(0)
  const uri = `sip:carol@127.0.0.1:${port}`
  const key = `carol;@${createHash('md5').update(uri).digest('hex')}`
  const phone = await deadPhone(port)
  for (let waited = 0; !phone.branches.size && waited < 15_000; waited += 250) await sleep(250)
  expect(phone.branches.size).toBeGreaterThan(0)
  return { uri, key, phone }
}

describe('prune of a qualified contact (carol, qualify_frequency 10) on real Asterisk', () => {
  const env = { XDG_STATE_HOME: mkdtempSync(join(tmpdir(), 'pjctl-qualify-')) }

  it('default (--via asterisk): ContactStatus Removed within 3 s, and no new OPTIONS transaction in the 25 s after prune exits', async () => {
    const { uri, key, phone } = await qualifiedCarol(46201)
    const ami = await systemEvents()
    try {
      const r = await pjctl(['prune', '--key', key, '--yes', '--force', '--json'], env)
      const exited = Date.now()
      expect(r.code).toBe(0)
      expect(JSON.parse(r.stdout).servers[0].outcomes[0]).toMatchObject({
        key,
        outcome: 'deleted',
      })
      const before = new Set(phone.branches.keys())
      await sleep(QUIET_MS)
      const removed = ami.events.find(
        (e) =>
          e.headers.Event === 'ContactStatus' &&
          e.headers.ContactStatus === 'Removed' &&
          e.headers.URI === uri,
      )
      expect(removed).toBeDefined()
      const fresh = [...phone.branches].filter(([b, at]) => !before.has(b) && at > exited)
      process.stderr.write(
        `qualify (--via asterisk): Removed ${removed!.at - exited} ms after prune exited; ${before.size} OPTIONS transaction(s) before, ${fresh.length} new in the ${QUIET_MS / 1000} s after${fresh.length ? ` (at ${fresh.map(([, at]) => ((at - exited) / 1000).toFixed(1)).join(', ')} s)` : ''}\n`,
      )
      expect(removed!.at - exited).toBeLessThan(3000)
      expect(fresh).toEqual([])
    } finally {
      ami.close()
      phone.close()
    }
  })

  it('--via delete (DBDel): Asterisk goes on starting new OPTIONS transactions and sends no Removed (then cleaned up through Asterisk)', async () => {
    const { uri, key, phone } = await qualifiedCarol(46202)
    const ami = await systemEvents()
    const backup = join(env.XDG_STATE_HOME, 'delete.jsonl')
    try {
      const r = await pjctl(
        ['prune', '--via', 'delete', '--key', key, '--yes', '--force', '--backup', backup],
        env,
      )
      const exited = Date.now()
      expect(r.code).toBe(0)
      const before = new Set(phone.branches.keys())
      await sleep(QUIET_MS)
      const fresh = [...phone.branches].filter(([b, at]) => !before.has(b) && at > exited)
      process.stderr.write(
        `qualify (--via delete): new OPTIONS transactions at ${fresh.map(([, at]) => ((at - exited) / 1000).toFixed(1)).join(', ')} s after prune exited\n`,
      )
      expect(fresh.length).toBeGreaterThan(0)
      expect(
        ami.events.filter((e) => e.headers.ContactStatus === 'Removed' && e.headers.URI === uri),
      ).toEqual([])
    } finally {
      ami.close()
      phone.close()
      // leave the lab as found: put the key back, then have Asterisk delete it (qualify stops)
      const saved = JSON.parse(readFileSync(backup, 'utf8').split('\n')[0]!)
      await amiAction('DBPut', { Family: CONTACT_FAMILY, Key: key, Val: saved.value })
      await pjctl(['prune', '--key', key, '--yes', '--force'], env)
    }
  })
})
