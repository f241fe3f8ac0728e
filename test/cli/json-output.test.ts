// --json output: compact when piped, indented on a terminal (as gh does); `fields` only with --raw.
import { spawn } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { runIn as run } from '../helpers/cli.js'
import { BIN, isolatedHome } from '../helpers/run.js'
import { envFor, sim } from '../helpers/sim.js'

interface Doc {
  aors: { aor: string; contacts: Record<string, unknown>[] }[]
}
const contactsOf = (doc: Doc) => doc.aors.flatMap((a) => a.contacts)

describe('--json and --raw', () => {
  it('contacts --json piped: one compact line, no raw fields', async () => {
    const server = await sim()
    const r = await run(['contacts', '--json'], { env: envFor(server) })
    expect(r.code).toBe(0)
    expect(r.stdout.trimEnd()).not.toContain('\n')
    expect(r.stdout.endsWith('\n')).toBe(true)
    const doc = JSON.parse(r.stdout) as Doc
    expect(r.stdout).toBe(`${JSON.stringify(doc)}\n`)
    expect(contactsOf(doc)).toHaveLength(13)
    for (const contact of contactsOf(doc)) expect(contact).not.toHaveProperty('fields')
    expect(contactsOf(doc)[0]).toHaveProperty('userAgent')
  })

  it('contacts --json --raw: every stored field of each contact, as stored', async () => {
    const server = await sim()
    const r = await run(['contacts', '--json', '--raw'], { env: envFor(server) })
    expect(r.code).toBe(0)
    const doc = JSON.parse(r.stdout) as Doc
    const stored = new Map(
      server.astdb
        .tree('registrar/contact')
        .map((e) => [e.key.replace('/registrar/contact/', ''), JSON.parse(e.value)]),
    )
    expect(contactsOf(doc)).toHaveLength(13)
    for (const contact of contactsOf(doc))
      expect(contact.fields).toEqual(stored.get(contact.key as string))
    const plain = await run(['contacts', '--json'], { env: envFor(server) })
    expect(plain.stdout.length).toBeLessThan(r.stdout.length / 1.5)
  })

  it('check --format json: fields only with --raw; compact when piped', async () => {
    const server = await sim()
    const plain = await run(['check', '--json'], { env: envFor(server) })
    const raw = await run(['check', '--json', '--raw'], { env: envFor(server) })
    expect([plain.code, raw.code]).toEqual([2, 2])
    expect(plain.stdout.trimEnd()).not.toContain('\n')
    const contacts = (out: string) =>
      (JSON.parse(out) as { servers: Doc[] }).servers.flatMap(contactsOf)
    expect(contacts(plain.stdout).some((c) => 'fields' in c)).toBe(false)
    expect(
      contacts(raw.stdout).every((c) => typeof (c.fields as { uri?: string }).uri === 'string'),
    ).toBe(true)
  })

  it('on a terminal (a pty from script(1)) --json is indented', async () => {
    const server = await sim()
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      ...isolatedHome(),
      ...envFor(server),
      NO_COLOR: '1',
    }
    const shell = `'${process.execPath}' '${BIN}' contacts --json alice`
    // async: the sim answers from this process's event loop
    const r = await new Promise<{ status: number | null; stdout: string }>((resolve) => {
      const child = spawn('script', ['-qec', shell, '/dev/null'], {
        env,
        stdio: ['ignore', 'pipe', 'inherit'],
      })
      let stdout = ''
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
      child.on('close', (status) => resolve({ status, stdout }))
    })
    expect(r.status).toBe(0)
    const text = r.stdout.replace(/\r\n/g, '\n')
    expect(text).toContain('\n  "aors": [\n    {\n      "aor": "alice",')
    const doc = JSON.parse(text.slice(text.indexOf('{'))) as Doc
    expect(text.slice(text.indexOf('{')).trimEnd()).toBe(JSON.stringify(doc, null, 2))
  })
})
