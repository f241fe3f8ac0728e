// globalSetup of `npm run test:asterisk`: take the lab lock for the whole run, then make sure a real
// Asterisk answers AMI. No lab, no pass: the run fails with a message that says how to start one.

import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync, statSync, writeFileSync, existsSync } from 'node:fs'
import { connect } from 'node:net'
import { LAB } from './lab.js'

function ppid(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
}

/** True when a process above us already holds the flock (`flock /tmp/pjctl-lab.lock npm run test:asterisk`). */
function heldByAncestor(path: string): boolean {
  if (!existsSync(path) || !existsSync('/proc/locks')) return false
  const inode = statSync(path).ino
  const holders = readFileSync('/proc/locks', 'utf8')
    .split('\n')
    .map((line) => /FLOCK\s+\S+\s+WRITE\s+(\d+)\s+[0-9a-f]+:[0-9a-f]+:(\d+)/i.exec(line))
    .filter((m): m is RegExpExecArray => m !== null && Number(m[2]) === inode)
    .map((m) => Number(m[1]))
  for (let pid = process.pid; pid > 1; pid = ppid(pid)) if (holders.includes(pid)) return true
  return false
}

/** Holds `path` (flock) until the returned process's stdin is closed; a test file with a lab of its own takes its own lock. */
export function takeLock(path: string, waitSeconds: number): Promise<ChildProcess> {
  if (!existsSync(path)) writeFileSync(path, '')
  return new Promise((resolve, reject) => {
    // flock(1) holds the lock while `cat` waits for our stdin: it is released when we close it, or die
    const child = spawn(
      'flock',
      ['-w', String(waitSeconds), path, '-c', 'echo locked; exec cat >/dev/null'],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    )
    child.on('error', reject)
    child.stdout.setEncoding('utf8').once('data', () => resolve(child))
    child.on('exit', (code) =>
      reject(
        new Error(
          `could not take the lab lock ${path} within ${waitSeconds} s (flock exit ${code}); another run holds it (npm run test:asterisk, npm run bench -- --asterisk, or a manual flock)`,
        ),
      ),
    )
  })
}

function probeAmi(): Promise<string> {
  const where = `${LAB.host}:${LAB.port}`
  const startHint = `start the lab: ${LAB.dir}/start.sh (see lab/README.md: AST_PREFIX names your Asterisk), or point LAB_AMI_HOST/LAB_AMI_PORT at a running one`
  return new Promise((resolve, reject) => {
    const socket = connect(LAB.port, LAB.host)
    socket.setEncoding('utf8')
    let text = ''
    let sent = false
    const fail = (why: string) => {
      socket.destroy()
      reject(
        new Error(
          `npm run test:asterisk needs a real Asterisk lab, and none answers AMI at ${where}: ${why}. ${startHint}`,
        ),
      )
    }
    const timer = setTimeout(() => fail('no banner within 5 s'), 5000)
    socket.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      fail(e.code === 'ECONNREFUSED' ? 'connection refused' : e.message)
    })
    socket.on('data', (chunk: string) => {
      text += chunk
      if (!text.includes('\r\n')) return
      if (!text.startsWith('Asterisk Call Manager/')) {
        clearTimeout(timer)
        fail(`the peer is not AMI (it said '${text.split('\r\n')[0]}')`)
        return
      }
      if (!sent) {
        sent = true
        socket.write(
          `Action: Login\r\nUsername: ${LAB.user}\r\nSecret: ${LAB.secret}\r\nEvents: off\r\n\r\nAction: Command\r\nCommand: core show version\r\n\r\nAction: Logoff\r\n\r\n`,
        )
      }
      const version = /Output: (Asterisk \S+)/.exec(text)
      if (text.includes('Response: Error')) {
        clearTimeout(timer)
        fail(`login as ${LAB.user} failed (${/Message: (.*)/.exec(text)?.[1]})`)
        return
      }
      if (version) {
        clearTimeout(timer)
        socket.destroy()
        resolve(version[1]!)
      }
    })
  })
}

export default async function setup(): Promise<() => Promise<void>> {
  let lock: ChildProcess | null = null
  if (heldByAncestor(LAB.lock))
    process.stderr.write(
      `test:asterisk: the lab lock ${LAB.lock} is held by a parent process; using it\n`,
    )
  else {
    process.stderr.write(`test:asterisk: waiting for the lab lock ${LAB.lock}\n`)
    lock = await takeLock(LAB.lock, Number(process.env.LAB_LOCK_WAIT ?? 900))
  }
  try {
    const version = await probeAmi()
    process.stderr.write(
      `test:asterisk: ${version} answers AMI at ${LAB.host}:${LAB.port} (lab scripts: ${LAB.dir})\n`,
    )
  } catch (error) {
    lock?.stdin!.end()
    throw error
  }
  return async () => {
    lock?.stdin!.end()
  }
}
