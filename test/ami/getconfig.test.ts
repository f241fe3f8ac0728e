// AMI GetConfig: the sim answers as main/manager.c action_getconfig does, and the adapter reads it into categories.
import { afterEach, describe, expect, it } from 'vitest'
import { openSession } from '../../src/ami/session.js'
import type { AmiSession } from '../../src/ami/types.js'
import { HeaderInjectionError, IncompleteAnswerError, PermissionError } from '../../src/errors.js'
import { amiMessage, rawClient } from '../sim/helpers.js'
import { sim } from '../helpers/sim.js'
import type { SimAsterisk } from '../../src/sim/server.js'

const sessions: AmiSession[] = []
afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.close()))
})

async function session(server: SimAsterisk, user = 'pjctl'): Promise<AmiSession> {
  const s = await openSession({
    name: 'sim',
    host: '127.0.0.1',
    port: server.port,
    user,
    secret: `${user}-secret`,
    timeout: 5,
    maxOutput: 1 << 20,
  })
  sessions.push(s)
  return s
}

describe('GetConfig on the wire (sim)', () => {
  it('answers Category-NNNNNN, Templates-NNNNNN and Line-NNNNNN-MMMMMM lines, only the categories the Filter matches', async () => {
    const server = await sim()
    const raw = await rawClient(server.port)
    raw.send(amiMessage('Action: Login', 'Username: pjctl', 'Secret: pjctl-secret', 'Events: off'))
    await raw.waitFor('Authentication accepted')
    raw.send(
      amiMessage('Action: GetConfig', 'ActionID: g1', 'Filename: pjsip.conf', 'Filter: type=aor'),
    )
    const text = await raw.waitFor(/ActionID: g1\r\n[\s\S]*?\r\n\r\n/)
    const answer = text.slice(text.indexOf('Response: Success\r\nActionID: g1'))
    expect(answer.split('\r\n').slice(0, 6)).toEqual([
      'Response: Success',
      'ActionID: g1',
      'Category-000000: FAP003',
      'Templates-000000: aor-tpl',
      'Line-000000-000000: type=aor',
      'Line-000000-000001: max_contacts=2',
    ])
    expect(answer).not.toMatch(/type=endpoint|Category-\d+: aor-tpl|IsTemplate/)
    raw.destroy()
  })

  it('the adapter: categories in order, wizard AORs from pjsip_wizard.conf, null for a missing file', async () => {
    const server = await sim()
    const s = await session(server)
    const pjsip = await s.getConfig('pjsip.conf', 'type=aor')
    expect(pjsip!.categories.map((c) => c.name)).toEqual([
      'FAP003',
      'alice',
      'bob',
      'carol',
      'dave',
      'erin',
      'phone1',
      'phone2',
    ])
    expect(pjsip!.categories[5]).toEqual({
      name: 'erin',
      template: false,
      templates: ['aor-tpl'],
      lines: [
        { name: 'type', value: 'aor' },
        { name: 'max_contacts', value: '2' },
        { name: 'remove_existing', value: 'yes' },
        { name: 'maximum_expiration', value: '3600' },
      ],
    })
    const wizard = await s.getConfig('pjsip_wizard.conf', 'type=^wizard$')
    expect(
      wizard!.categories.map((c) => [
        c.name,
        c.lines.find((l) => l.name === 'aor/max_contacts')?.value,
      ]),
    ).toEqual([['wizphone', '2']])
    expect(await s.getConfig('sorcery.conf')).toBeNull()
    const templates = await s.getConfig('pjsip.conf', 'TEMPLATES=restrict')
    expect(templates!.categories.map((c) => [c.name, c.template])).toEqual([
      ['endpoint-tpl', true],
      ['aor-tpl', true],
    ])
  })

  it('refused without write=system or config; allowed with config alone', async () => {
    const server = await sim({
      users: [
        { username: 'pjro', secret: 'pjro-secret', write: ['reporting'] },
        { username: 'cfg', secret: 'cfg-secret', write: ['config'] },
      ],
    })
    const ro = await session(server, 'pjro')
    const error = await ro.getConfig('pjsip.conf', 'type=aor').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(PermissionError)
    expect((error as PermissionError).message).toBe(
      'AMI action GetConfig was refused: permission denied (needs write=system or config)',
    )
    const cfg = await session(server, 'cfg')
    expect((await cfg.getConfig('pjsip.conf', 'type=aor'))!.categories).toHaveLength(8)
  })

  it('refuses CR or LF in the file name and the filter before sending anything', async () => {
    const server = await sim()
    const s = await session(server)
    await expect(s.getConfig('pjsip.conf\r\nAction: DBDel')).rejects.toBeInstanceOf(
      HeaderInjectionError,
    )
    await expect(s.getConfig('pjsip.conf', 'type=aor\nFamily: x')).rejects.toBeInstanceOf(
      HeaderInjectionError,
    )
    expect(server.received.filter((r) => r.action === 'GetConfig')).toEqual([])
  })

  it('an answer with another message spliced in (writetimeout cut) is refused, not half-believed', async () => {
    const server = await sim({
      configFiles: {
        'pjsip.conf': [
          {
            name: 'a',
            lines: [
              ['type', 'aor'],
              ['Event', 'x'],
            ],
          },
        ],
      },
    })
    const s = await session(server)
    // `Line-000000-000001: Event=x` is fine; a bare `Event:` header inside the answer is not
    const ok = await s.getConfig('pjsip.conf')
    expect(ok!.categories[0]!.lines).toEqual([
      { name: 'type', value: 'aor' },
      { name: 'Event', value: 'x' },
    ])
    server.setFaults({
      beforeAction: (_action, _headers, sim) =>
        void (sim.configFiles = {
          'pjsip.conf': [{ name: 'a\r\nEvent: DBGetTreeResponse', lines: [] }],
        }),
    })
    await expect(s.getConfig('pjsip.conf')).rejects.toBeInstanceOf(IncompleteAnswerError)
  })
})

describe('GetConfig headers read exactly as their Prefix-NNNNNN patterns say', () => {
  // a category name carrying CR/LF splices a header of our choosing into the answer, after `Category-000000: a`
  async function read(spliced: string): Promise<unknown> {
    const server = await sim({
      configFiles: { 'pjsip.conf': [{ name: `a\r\n${spliced}`, lines: [] }] },
    })
    const s = await session(server)
    return s.getConfig('pjsip.conf').then(
      (answer) => answer!.categories,
      (error: unknown) => error,
    )
  }

  it.each([
    ['Line-00000-000000: x=y', "unexpected header 'Line-00000-000000'"],
    ['Line-000000-000000x: x=y', "unexpected header 'Line-000000-000000x'"],
    ['Line-000000000000: x=y', "unexpected header 'Line-000000000000'"],
    ['line-000000-000000: x=y', "unexpected header 'line-000000-000000'"],
    ['Line-000001-000000: x=y', 'category number 000001 out of sequence'],
    ['Line-000000-000001: x=y', 'line number 000001 of category 000000 out of sequence'],
    ['Category-000000: b', 'category number 000000 out of sequence'],
    ['Category-00001: b', "unexpected header 'Category-00001'"],
    ['IsTemplate-000001: 1', 'category number 000001 out of sequence'],
    ['IsTemplate-000000 : 1', "unexpected header 'IsTemplate-000000 '"],
    ['Templates-00000: t', "unexpected header 'Templates-00000'"],
    ['Templates-0000001: t', 'category number 0000001 out of sequence'],
  ])('%s: the answer is unreadable (%s)', async (spliced, detail) => {
    const error = await read(spliced)
    expect(error).toBeInstanceOf(IncompleteAnswerError)
    expect((error as Error).message).toMatch(
      new RegExp(
        `^unreadable answer to GetConfig pjsip\\.conf from .*: ${detail.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`,
      ),
    )
  })

  it('takes more than six digits, and a line, a template flag and templates of the last category', async () => {
    expect(await read('Line-0000000-0000000: x=y')).toEqual([
      { name: 'a', template: false, templates: [], lines: [{ name: 'x', value: 'y' }] },
    ])
    expect(await read('Category-0000001: b')).toEqual([
      { name: 'a', template: false, templates: [], lines: [] },
      { name: 'b', template: false, templates: [], lines: [] },
    ])
    expect(await read('IsTemplate-000000: 1')).toEqual([
      { name: 'a', template: true, templates: [], lines: [] },
    ])
    expect(await read('Templates-000000: t1, ,t2')).toEqual([
      { name: 'a', template: false, templates: ['t1', 't2'], lines: [] },
    ])
  })
})

describe('GetConfig handed over after another read (after)', () => {
  it('an answer that arrived is handed over only once `after` settles, and then whole', async () => {
    const server = await sim()
    const s = await session(server)
    let release = (): void => undefined
    const after = new Promise<void>((resolve) => (release = resolve))
    let parsed = false
    const answer = s.getConfig('pjsip.conf', 'type=aor', after).then((a) => {
      parsed = true
      return a
    })
    // the answer arrives (a Ping behind it on the same session is answered after it) but is not handed over
    await s.ping()
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(parsed).toBe(false)
    release()
    const done = await answer
    expect(done?.categories.map((c) => c.name)).toContain('FAP003')
  })
})
