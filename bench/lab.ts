// The real Asterisk lab (lab/ of this repository), for `npm run bench -- --asterisk` and
// `npm run test:asterisk` (test/asterisk/lab.ts re-exports this): raw AMI, astdb rows, the lab's
// scripts, and whether the Asterisk process is computing (/proc/<pid>/stat).
// Environment (lab defaults): LAB_AMI_HOST 127.0.0.1, LAB_AMI_PORT 5038, LAB_AMI_USER pjctl,
// LAB_AMI_SECRET pjctl-secret, LAB_SIP_PORT 5060, LAB_PREFIX ~/.pjctl-lab, LAB_DIR (the lab scripts;
// default lab/ of this repository), LAB_LOCK /tmp/pjctl-lab.lock. The scripts find Asterisk through
// AST_PREFIX (lab/README.md), which they inherit from this process's environment.

import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository root: the first directory above this file with a package.json (src or dist). */
const REPO = (() => {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir)
  return dir
})()

/** The lab's scripts: LAB_DIR, else lab/ of this repository. */
function labDir(): string {
  return process.env.LAB_DIR || join(REPO, 'lab')
}

/** Where the lab is. Mutable: npm run bench -- --asterisk HOST:PORT points it elsewhere. */
export const LAB = {
  host: process.env.LAB_AMI_HOST ?? '127.0.0.1',
  port: Number(process.env.LAB_AMI_PORT ?? 5038),
  user: process.env.LAB_AMI_USER ?? 'pjctl',
  secret: process.env.LAB_AMI_SECRET ?? 'pjctl-secret',
  sipPort: Number(process.env.LAB_SIP_PORT ?? 5060),
  prefix: process.env.LAB_PREFIX ?? join(homedir(), '.pjctl-lab'),
  dir: labDir(),
  lock: process.env.LAB_LOCK ?? '/tmp/pjctl-lab.lock',
  /** PJCTL_* for the built CLI. */
  get env(): Record<string, string> {
    return {
      PJCTL_HOST: this.host,
      PJCTL_PORT: String(this.port),
      PJCTL_USER: this.user,
      PJCTL_SECRET: this.secret,
    }
  },
}

export const CONTACT_FAMILY = 'registrar/contact'

/** The lab's live config directory ($LAB_PREFIX/etc), where start.sh copies etc/. */
export function labEtc(file = ''): string {
  return join(LAB.prefix, 'etc', file)
}

/** The pid of the lab's Asterisk (run/lab.pid), or null. */
export function asteriskPid(): number | null {
  try {
    const pid = Number(readFileSync(join(LAB.prefix, 'run/lab.pid'), 'utf8').trim())
    return pid > 0 && existsSync(`/proc/${pid}`) ? pid : null
  } catch {
    return null
  }
}

export interface Spawned {
  code: number | null
  stdout: string
  stderr: string
}

export function spawnText(
  cmd: string,
  args: string[],
  env: Record<string, string | undefined> = {},
  timeoutMs = 120_000,
): Promise<Spawned> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolvePromise({ code, stdout, stderr })
    })
  })
}

/** One real REGISTER from 127.0.0.1:localPort (register.sh): exit 0 = 200, 3 = 403, 4 = 401, 5 = 423, 1 other. */
export function register(
  user: string,
  password: string,
  localPort: number,
  expires = 3600,
  opts: { ua?: string; params?: string; callId?: string } = {},
): Promise<Spawned> {
  const args = [
    join(LAB.dir, 'register.sh'),
    user,
    password,
    String(localPort),
    String(expires),
    ...(opts.params ? [opts.params] : []),
  ]
  return spawnText(
    'bash',
    args,
    { UA: opts.ua, CALL_ID: opts.callId, LAB_SIP_PORT: String(LAB.sipPort) },
    30_000,
  )
}

/** `asterisk -rx COMMAND` against the lab (cli.sh); resolves with its stdout, rejects on a non-zero exit. */
export async function cli(command: string, timeoutMs = 120_000): Promise<string> {
  const r = await spawnText(
    'bash',
    [join(LAB.dir, 'cli.sh'), ...command.split(' ')],
    { LAB_PREFIX: LAB.prefix },
    timeoutMs,
  )
  if (r.code !== 0) throw new Error(`cli.sh ${command}: exit ${r.code}: ${r.stderr}`)
  return r.stdout
}

/** Runs one of the lab's scripts (bulk_aors.sh, seed_contacts.py, …) with the lab's environment. */
export async function labScript(
  script: string,
  args: string[],
  timeoutMs = 300_000,
): Promise<string> {
  const interpreter = script.endsWith('.py') ? 'python3' : 'bash'
  const r = await spawnText(
    interpreter,
    [join(LAB.dir, script), ...args],
    { LAB_PREFIX: LAB.prefix },
    timeoutMs,
  )
  if (r.code !== 0) throw new Error(`${script} ${args.join(' ')}: exit ${r.code}: ${r.stderr}`)
  return r.stdout
}

export type AmiMessage = Record<string, string>

/** A logged-in raw AMI connection: send actions (pipelined), read every message. */
/** A list action whose Complete event counts more events than arrived (Asterisk dropped some). */
class IncompleteList extends Error {
  constructor(action: string, said: number, got: number) {
    super(`${action}: Asterisk counted ${said} events, ${got} arrived`)
  }
}

export class AmiClient {
  private buffer = ''
  private waiting: ((m: AmiMessage) => void)[] = []
  private queued: AmiMessage[] = []
  private nextId = 1
  private constructor(private readonly socket: Socket) {}

  static async open(user = LAB.user, secret = LAB.secret): Promise<AmiClient> {
    const socket = connect(LAB.port, LAB.host)
    socket.setEncoding('utf8')
    const client = new AmiClient(socket)
    await new Promise<void>((resolvePromise, reject) => {
      socket.once('error', reject)
      let banner = ''
      const onBanner = (chunk: string) => {
        banner += chunk
        const nl = banner.indexOf('\r\n')
        if (nl < 0) return
        socket.off('data', onBanner)
        socket.off('error', reject)
        client.feed(banner.slice(nl + 2))
        socket.on('data', (d: string) => client.feed(d))
        resolvePromise()
      }
      socket.on('data', onBanner)
    })
    const login = await client.action('Login', { Username: user, Secret: secret, Events: 'off' })
    if (login.Response !== 'Success')
      throw new Error(`AMI login as ${user} failed: ${login.Message}`)
    return client
  }

  private feed(text: string): void {
    this.buffer += text
    for (
      let end = this.buffer.indexOf('\r\n\r\n');
      end >= 0;
      end = this.buffer.indexOf('\r\n\r\n')
    ) {
      const block = this.buffer.slice(0, end)
      this.buffer = this.buffer.slice(end + 4)
      const message: AmiMessage = {}
      for (const line of block.split('\r\n')) {
        const colon = line.indexOf(': ')
        if (colon > 0) message[line.slice(0, colon)] = line.slice(colon + 2)
      }
      const waiter = this.waiting.shift()
      if (waiter) waiter(message)
      else this.queued.push(message)
    }
  }

  /** The next message, whatever it is. */
  next(): Promise<AmiMessage> {
    const queued = this.queued.shift()
    return queued ? Promise.resolve(queued) : new Promise((r) => this.waiting.push(r))
  }

  send(action: string, headers: Record<string, string> = {}): string {
    const id = `lab-${this.nextId++}`
    const lines = [
      `Action: ${action}`,
      `ActionID: ${id}`,
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    ]
    this.socket.write(`${lines.join('\r\n')}\r\n\r\n`)
    return id
  }

  /** Sends one action and resolves with its response (a list's events are read with next()). */
  async action(action: string, headers: Record<string, string> = {}): Promise<AmiMessage> {
    const id = this.send(action, headers)
    for (;;) {
      const m = await this.next()
      if (m.ActionID === id && m.Response) return m
    }
  }

  /** A list action read to its end: the response and the events. */
  async list(
    action: string,
    headers: Record<string, string> = {},
  ): Promise<{ response: AmiMessage; events: AmiMessage[] }> {
    const response = await this.action(action, headers)
    const events: AmiMessage[] = []
    if (response.EventList !== 'start') return { response, events }
    for (;;) {
      const m = await this.next()
      if (m.EventList === 'Complete') {
        // Asterisk drops what a slow reader does not drain within writetimeout: the list's own
        // count says whether every event arrived
        const said = Number(m.ListItems)
        if (m.ListItems !== undefined && said !== events.length)
          throw new IncompleteList(action, said, events.length)
        return { response, events }
      }
      if (m.Event) events.push(m)
    }
  }

  async close(): Promise<void> {
    this.socket.write('Action: Logoff\r\n\r\n')
    await new Promise<void>((r) => {
      this.socket.once('close', () => r())
      setTimeout(() => {
        this.socket.destroy()
        r()
      }, 2000)
    })
  }
}

/** One AMI action on its own connection (login, the action, logoff): its response. */
export async function ami(
  action: string,
  headers: Record<string, string> = {},
): Promise<AmiMessage> {
  const client = await AmiClient.open()
  try {
    return await client.action(action, headers)
  } finally {
    await client.close()
  }
}

/** Every registrar/contact key and value in the lab's astdb (DBGetTree), keys without the family. */
export async function astdbContacts(): Promise<Map<string, string>> {
  // a read that lost events to writetimeout is read again, never taken as the whole astdb
  for (let attempt = 1; ; attempt++) {
    const client = await AmiClient.open()
    try {
      const { events } = await client.list('DBGetTree', { Family: CONTACT_FAMILY })
      return new Map(events.map((e) => [e.Key!.replace(`/${CONTACT_FAMILY}/`, ''), e.Val!]))
    } catch (err) {
      if (!(err instanceof IncompleteList) || attempt === 5) throw err
    } finally {
      await client.close()
    }
  }
}

/** The contacts of one AOR (keys `<aor>;@…`) with their values. */
export async function contactsOf(aor: string): Promise<Map<string, string>> {
  const all = await astdbContacts()
  return new Map([...all].filter(([key]) => key.startsWith(`${aor};@`)))
}

/** Pipelined DBDel (256 in flight) of these registrar/contact keys; resolves with how many were deleted. */
export async function deleteKeys(keys: Iterable<string>): Promise<number> {
  return pipelined([...keys].map((Key) => ['DBDel', { Family: CONTACT_FAMILY, Key }]))
}

/** Pipelined DBPut of these registrar/contact rows (to put back what a test removed). */
export async function putRows(rows: Iterable<[string, string]>): Promise<number> {
  return pipelined([...rows].map(([Key, Val]) => ['DBPut', { Family: CONTACT_FAMILY, Key, Val }]))
}

async function pipelined(
  actions: [string, Record<string, string>][],
  window = 256,
): Promise<number> {
  const client = await AmiClient.open()
  let ok = 0
  try {
    for (let i = 0; i < actions.length; i += window) {
      const batch = actions.slice(i, i + window)
      for (const [action, headers] of batch) client.send(action, headers)
      for (let got = 0; got < batch.length;) {
        const m = await client.next()
        if (m.Response) {
          got++
          if (m.Response === 'Success') ok++
        }
      }
    }
    return ok
  } finally {
    await client.close()
  }
}

/** CPU jiffies (utime + stime) the lab's Asterisk has used so far, from /proc/<pid>/stat. */
export function asteriskCpuTicks(pid = asteriskPid()): number {
  if (!pid) throw new Error('the lab Asterisk is not running')
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return Number(fields[11]) + Number(fields[12])
}

/** Waits until Asterisk uses (nearly) no CPU: at most `maxTicks` jiffies over `windowMs`; false after `timeoutMs`. */
export async function waitIdle(
  timeoutMs = 60_000,
  windowMs = 1000,
  maxTicks = 5,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const before = asteriskCpuTicks()
    await new Promise((r) => setTimeout(r, windowMs))
    if (asteriskCpuTicks() - before <= maxTicks) return true
  }
  return false
}
