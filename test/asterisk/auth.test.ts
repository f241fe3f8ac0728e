// pjctl's login against the real Asterisk 22 lab, seen on the wire: a relay between pjctl and AMI
// records both directions, so the test checks what a real main/manager.c accepted and that the secret
// never crossed the network with the default MD5 challenge login.
import { createHash } from 'node:crypto'
import { connect, createServer, type AddressInfo, type Server } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LAB, pjctl } from './lab.js'

interface Relay {
  port: number
  /** Everything pjctl sent, and everything Asterisk answered, per connection. */
  sent: string[]
  answered: string[]
}

function relay(): Promise<Relay & { server: Server }> {
  const sent: string[] = []
  const answered: string[] = []
  const server = createServer((client) => {
    const i = sent.push('') - 1
    answered.push('')
    const upstream = connect(LAB.port, LAB.host)
    client.on('data', (chunk) => {
      sent[i] = sent[i]! + chunk.toString('latin1')
      upstream.write(chunk)
    })
    upstream.on('data', (chunk) => {
      answered[i] = answered[i]! + chunk.toString('latin1')
      client.write(chunk)
    })
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
    client.on('error', () => upstream.destroy())
    upstream.on('error', () => client.destroy())
  })
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, port: (server.address() as AddressInfo).port, sent, answered }),
    ),
  )
}

let via: Relay & { server: Server }
beforeAll(async () => {
  via = await relay()
})
afterAll(() => new Promise<void>((resolve) => via.server.close(() => resolve())))

const env = () => ({ PJCTL_HOST: '127.0.0.1', PJCTL_PORT: String(via.port) })
const md5 = (text: string) => createHash('md5').update(text).digest('hex')

describe('login to a real Asterisk 22', () => {
  it('default: Challenge, then Login with Key = md5(challenge + secret); Asterisk accepts it, and the secret is not on the wire', async () => {
    const before = via.sent.length
    const r = await pjctl(['check', '--format', 'json'], env())
    expect(r.stderr).toBe('')
    expect([0, 1, 2]).toContain(r.code)
    const sent = via.sent[before]
    const answered = via.answered[before]
    const challenge = /^Challenge: (\d+)\r$/m.exec(answered!)?.[1] ?? ''
    expect(challenge, answered!.slice(0, 300)).toMatch(/^\d{1,9}$/)
    expect(sent).toMatch(/^Action: Challenge\r\nActionID: [^\r]+\r\nAuthtype: MD5\r\n\r\n/)
    expect(sent).toContain(`Key: ${md5(challenge + LAB.secret)}\r\n`)
    expect(answered).toContain('Message: Authentication accepted\r\n')
    expect(sent).not.toContain(LAB.secret)
    expect(sent).not.toMatch(/^Secret:/im)
  })

  it('--auth plain: Login with the Secret (what the default avoids)', async () => {
    const before = via.sent.length
    const r = await pjctl(['contacts', '--json', '--auth', 'plain'], env())
    expect([r.code, r.stderr]).toEqual([0, ''])
    expect(via.sent[before]).toContain(`Secret: ${LAB.secret}\r\n`)
    expect(via.sent[before]).not.toContain('Action: Challenge')
  })

  it('a wrong secret: Asterisk refuses the MD5 key; exit 3, Authentication failed, the secret shown nowhere', async () => {
    const wrong = 'not-the-lab-secret-93'
    const r = await pjctl(['contacts'], { ...env(), PJCTL_SECRET: wrong })
    expect(r.code).toBe(3)
    expect(r.stderr.split('\n')[0]).toBe(
      `pjctl: login to 127.0.0.1:${via.port} as '${LAB.user}' failed: Authentication failed`,
    )
    expect(r.stderr + r.stdout).not.toContain(wrong)
    expect(via.sent.at(-1)).not.toContain(wrong)
  })
})
