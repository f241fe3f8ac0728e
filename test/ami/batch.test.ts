// Pipelined actions leave in one write: what is sent in one tick goes out as one system call.
import net from 'node:net'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { openSession } from '../../src/ami/session.js'
import type { AmiSession } from '../../src/ami/types.js'
import { lockoutSeed } from '../../src/sim/seed.js'
import { sim } from '../helpers/sim.js'

const sessions: AmiSession[] = []
afterEach(async () => {
  vi.restoreAllMocks()
  await Promise.all(sessions.splice(0).map((s) => s.close()))
})

describe('AMI writes', () => {
  it('64 DBGets sent together reach the socket as one write, and each is answered', async () => {
    const server = await sim({ seed: lockoutSeed({ now: Math.floor(Date.now() / 1000) }) })
    const session = await openSession({
      name: 'sim',
      host: '127.0.0.1',
      port: server.port,
      user: 'pjctl',
      secret: 'pjctl-secret',
      timeout: 5,
      maxOutput: 1 << 20,
    })
    sessions.push(session)
    const { rows } = await session.dbGetTree('registrar/contact')
    const keys = Array.from({ length: 64 }, (_, i) => rows[i % rows.length]!.key)
    const write = vi.spyOn(net.Socket.prototype, '_write')
    const writev = vi.spyOn(net.Socket.prototype, '_writev')
    const values = await Promise.all(keys.map((key) => session.dbGet('registrar/contact', key)))
    expect(values).toEqual(keys.map((key) => rows.find((r) => r.key === key)!.value))
    // the sim answers in this process too: count the client's writes only (to the sim's port)
    const client = (socket: unknown): boolean => (socket as net.Socket).remotePort === server.port
    expect(
      write.mock.contexts.filter(client).length + writev.mock.contexts.filter(client).length,
    ).toBe(1)
  })
})
