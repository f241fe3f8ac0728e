// pjctl restore FILE [--key KEY]: puts backed-up contacts back, only where the key does not exist now.
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { contactKey } from '../../src/sim/registrar.js'
import { lockoutSeed } from '../../src/sim/seed.js'
import type { SimAsterisk } from '../../src/sim/server.js'
import {
  CONTACT_FAMILY,
  actionLines,
  backupLines,
  header,
  home,
  keysOf,
  serverName,
  snapshot,
  summaryOf,
} from '../helpers/prune.js'
import { runIn } from '../helpers/cli.js'
import { envFor, sim } from '../helpers/sim.js'

const now = (): number => Math.floor(Date.now() / 1000)
const FAP_OLD = contactKey('FAP003', 'sip:FAP003@192.0.2.16:5060')
const ALICE = contactKey('alice', 'sip:alice@192.0.2.21:5060')
const ERIN = contactKey('erin', 'sip:erin@192.0.2.41:5060')

/** A lockout sim from which `pjctl prune --key` deleted FAP_OLD, ALICE and ERIN into FILE. */
async function pruned(): Promise<{
  server: SimAsterisk
  env: Record<string, string>
  file: string
  before: Record<string, string>
}> {
  const server = await sim({ seed: lockoutSeed({ now: now() }) })
  const env = { ...envFor(server), ...home() }
  const before = snapshot(server)
  const file = join(env.HOME!, 'backup.jsonl')
  const r = await runIn(
    ['prune', '--key', [FAP_OLD, ALICE, ERIN].join(','), '--yes', '--backup', file],
    { env },
  )
  expect(r.code).toBe(0)
  expect(Object.keys(snapshot(server)).sort()).toEqual(
    Object.keys(before)
      .filter((k) => ![FAP_OLD, ALICE, ERIN].includes(k))
      .sort(),
  )
  expect(backupLines(file).map((l) => l.key)).toEqual([FAP_OLD, ALICE, ERIN])
  server.received.length = 0
  return { server, env, file, before }
}

describe('pjctl restore', () => {
  it('puts every backed-up contact back byte for byte (DBGet, then DBPut) and says so', async () => {
    const { server, env, file, before } = await pruned()
    const r = await runIn(['restore', file], { env })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toBe(
      [
        `restored ${FAP_OLD}`,
        `restored ${ALICE}`,
        `restored ${ERIN}`,
        `pjctl restore: server=${serverName(server)} restored=3 skipped=0 failed=0 file=${file}`,
        '',
      ].join('\n'),
    )
    expect(actionLines(server)).toEqual([
      'GetConfig',
      // what the AORs hold now and their limits (the max_contacts guard)
      'GetConfig',
      'DBGetTree',
      `DBGet ${FAP_OLD}`,
      `DBPut ${FAP_OLD}`,
      `DBGet ${ALICE}`,
      `DBPut ${ALICE}`,
      `DBGet ${ERIN}`,
      `DBPut ${ERIN}`,
      'UserEvent',
      'Logoff',
    ])
    for (const put of server.received.filter((a) => /^dbput$/i.test(a.action))) {
      expect(header(put.headers, 'Family')).toBe(CONTACT_FAMILY)
      expect(header(put.headers, 'Val')).toBe(before[header(put.headers, 'Key')])
    }
    expect(snapshot(server)).toEqual(before)
  })

  it('leaves a key that exists now (the phone registered again) as it is', async () => {
    const { server, env, file, before } = await pruned()
    const reg = server.registrar.register({
      aor: 'alice',
      uri: 'sip:alice@192.0.2.21:5060',
      viaAddr: '192.0.2.21',
      viaPort: 5060,
      userAgent: 'Yealink SIP-T46S 66.86.0.15',
      callId: 'again@192.0.2.21',
    })
    expect(reg).toMatchObject({ code: 200, key: ALICE })
    const now = snapshot(server)[ALICE]
    expect(now).not.toBe(before[ALICE])
    const r = await runIn(['restore', file], { env })
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(
      `skipped  ${ALICE}: present with another value (the phone registered again): left as it is\n`,
    )
    expect(summaryOf(r.stdout)).toBe(
      `pjctl restore: server=${serverName(server)} restored=2 skipped=1 failed=0 file=${file}`,
    )
    expect(
      server.received.filter((a) => /^dbput$/i.test(a.action)).map((a) => header(a.headers, 'Key')),
    ).toEqual([FAP_OLD, ERIN])
    expect(snapshot(server)).toEqual({ ...before, [ALICE]: now })
  })

  it('refuses to put an AOR over max_contacts (exit 2, nothing written), naming it; --force restores anyway', async () => {
    const { server, env, file } = await pruned()
    // the phone came back on a new port: FAP003 is full again (2/2); its old contact would make it 3/2
    server.registrar.register({
      aor: 'FAP003',
      uri: 'sip:FAP003@192.0.2.16:5064',
      viaAddr: '192.0.2.16',
      viaPort: 5064,
      userAgent: 'Grandstream GXP2130 1.0.11.3',
    })
    const refused = await runIn(['restore', file], { env })
    expect(refused.code).toBe(2)
    expect(refused.stderr).toBe(
      'pjctl: restoring would put FAP003 at 3/2, over max_contacts: refusing to restore (Asterisk would refuse every new device of that AOR); nothing restored\n' +
        'hint: restore fewer contacts (--key), or pass --force to restore them anyway\n',
    )
    expect(keysOf(server, 'DBPut')).toEqual([])
    const forced = await runIn(['restore', file, '--force'], { env })
    expect(forced.stderr).toContain(
      'pjctl: warning: restoring would put FAP003 at 3/2, over max_contacts (--force)',
    )
    expect(forced.code).toBe(0)
    expect(keysOf(server, 'DBPut')).toContain(FAP_OLD)
  })

  it('--key restores only that contact', async () => {
    const { server, env, file, before } = await pruned()
    const r = await runIn(['restore', file, '--key', ERIN], { env })
    expect(r.code).toBe(0)
    expect(r.stdout).toBe(
      `restored ${ERIN}\npjctl restore: server=${serverName(server)} restored=1 skipped=0 failed=0 file=${file}\n`,
    )
    expect(actionLines(server)).toEqual([
      'GetConfig',
      // what the AORs hold now and their limits (the max_contacts guard)
      'GetConfig',
      'DBGetTree',
      `DBGet ${ERIN}`,
      `DBPut ${ERIN}`,
      'UserEvent',
      'Logoff',
    ])
    const after = snapshot(server)
    expect(after[ERIN]).toBe(before[ERIN])
    expect(after[ALICE]).toBeUndefined()
    expect(after[FAP_OLD]).toBeUndefined()
  })

  it('--key takes a unique hash prefix too; an ambiguous or unknown one is exit 2', async () => {
    const { server, env, file, before } = await pruned()
    const r = await runIn(['restore', file, '--key', ERIN.split(';@')[1]!.slice(0, 8)], { env })
    expect(r.code).toBe(0)
    expect(r.stdout).toBe(
      `restored ${ERIN}\npjctl restore: server=${serverName(server)} restored=1 skipped=0 failed=0 file=${file}\n`,
    )
    expect(snapshot(server)[ERIN]).toBe(before[ERIN])
    const none = await runIn(['restore', file, '--key', 'erin;@abcdef'], { env })
    expect(none.code).toBe(2)
    expect(none.stderr).toBe(`pjctl: no entry for erin;@abcdef in ${file}\n`)
  })

  it('--key that the file does not hold: exit 2, nothing sent', async () => {
    const { server, env, file } = await pruned()
    const missing = 'bob;@00000000000000000000000000000000'
    const r = await runIn(['restore', file, '--key', missing], { env })
    expect(r.code).toBe(2)
    expect(r.stderr).toBe(`pjctl: no entry for ${missing} in ${file}\n`)
    expect(r.stdout).toBe('')
    expect(server.received).toEqual([])
  })

  it('--dry-run sends no DBPut and counts what it would restore as would-restore', async () => {
    const { server, env, file, before } = await pruned()
    server.astdb.put(
      CONTACT_FAMILY,
      FAP_OLD,
      before[FAP_OLD]!.replace(/"expiration_time":"\d+"/, '"expiration_time":"2"'),
    )
    server.received.length = 0
    const r = await runIn(['restore', file, '--dry-run'], { env })
    expect(r.code).toBe(0)
    expect(r.stdout).toBe(
      [
        `would restore ${ALICE}`,
        `would restore ${ERIN}`,
        `skipped  ${FAP_OLD}: present with another value (the phone registered again): left as it is`,
        `pjctl restore: mode=dry-run server=${serverName(server)} restored=0 would-restore=2 skipped=1 failed=0 file=${file}`,
        '',
      ].join('\n'),
    )
    expect(actionLines(server)).toEqual([
      'GetConfig',
      // what the AORs hold now and their limits (the max_contacts guard)
      'GetConfig',
      'DBGetTree',
      `DBGet ${FAP_OLD}`,
      `DBGet ${ALICE}`,
      `DBGet ${ERIN}`,
      'Logoff',
    ])
    expect(snapshot(server)[ALICE]).toBeUndefined()
    const json = JSON.parse((await runIn(['restore', file, '--dry-run', '--json'], { env })).stdout)
    expect(json).toMatchObject({
      dryRun: true,
      restored: [],
      wouldRestore: [{ key: ALICE }, { key: ERIN }],
    })
  })

  it('a key backed up twice: the newest value is restored', async () => {
    const { server, env, file, before } = await pruned()
    const newer = before[ERIN]!.replace(
      /"expiration_time":"\d+"/,
      `"expiration_time":"${now() + 99}"`,
    )
    appendFileSync(
      file,
      JSON.stringify({
        server: serverName(server),
        family: CONTACT_FAMILY,
        key: ERIN,
        value: newer,
        deletedAt: new Date().toISOString(),
        reason: 'again',
      }) + '\n',
    )
    const r = await runIn(['restore', file, '--key', ERIN], { env })
    expect(r.code).toBe(0)
    expect(snapshot(server)[ERIN]).toBe(newer)
  })

  it('a last line cut before its key: a warning that its contact may have been deleted; the rest is restored', async () => {
    const { server, env, file, before } = await pruned()
    appendFileSync(file, '{"server":"x","family":"registrar/contact","key":"alice;@')
    const r = await runIn(['restore', file], { env })
    expect(r.code).toBe(0)
    expect(r.stderr).toBe(
      `pjctl: warning: ${file}:4: the last line is cut short before its key: its contact may have been deleted\n`,
    )
    expect(r.stderr).not.toContain('never deleted')
    expect(snapshot(server)).toEqual(before)
  })

  it('a last line cut mid-value whose key is gone: named with the value up to the cut, counted failed (exit 1)', async () => {
    const { server, env, file, before } = await pruned()
    // BOB's line cut mid-value (a full disk under an older pjctl): the key is gone from the server
    const bob = contactKey('bob', 'sip:bob@192.0.2.31:5060')
    const line = JSON.stringify({
      server: serverName(server),
      family: CONTACT_FAMILY,
      key: bob,
      value: '{"uri":"sip:bob@192.0.2.31:5060","expiration_time":"1700000000"}',
      deletedAt: '',
      reason: '',
    })
    appendFileSync(file, line.slice(0, line.indexOf('expiration_time') + 3))
    const r = await runIn(['restore', file], { env })
    expect(r.stderr).toBe(
      `pjctl: warning: ${file}:4: the last line is cut short: its contact may have been deleted (key ${bob}; its value up to the cut: {"uri":"sip:bob@192.0.2.31:5060","exp)\n`,
    )
    expect(r.stdout).toContain(
      `FAILED   ${bob}: its backup line (line 4) is cut short and the key is gone: it may have been deleted, and its value cannot be restored whole\n`,
    )
    expect(summaryOf(r.stdout)).toBe(
      `pjctl restore: server=${serverName(server)} restored=3 skipped=0 failed=1 file=${file}`,
    )
    expect(r.code).toBe(1)
    expect(snapshot(server)).toEqual(before)
  })

  it('a skip says whether the key still holds the backed-up value (never deleted) or another one (registered again)', async () => {
    const { server, env, file, before } = await pruned()
    // ALICE's delete never went out (Asterisk stopped mid-prune): the very value is still there
    server.astdb.put(CONTACT_FAMILY, ALICE, before[ALICE]!)
    const changed = before[ERIN]!.replace(/"expiration_time":"\d+"/, '"expiration_time":"7"')
    server.astdb.put(CONTACT_FAMILY, ERIN, changed)
    const r = await runIn(['restore', file], { env })
    expect(r.code).toBe(0)
    expect(r.stdout).toBe(
      [
        `restored ${FAP_OLD}`,
        `skipped  ${ALICE}: still present, unchanged (never deleted): left as it is`,
        `skipped  ${ERIN}: present with another value (the phone registered again): left as it is`,
        `pjctl restore: server=${serverName(server)} restored=1 skipped=2 failed=0 file=${file}`,
        '',
      ].join('\n'),
    )
    expect(snapshot(server)).toEqual({ ...before, [ERIN]: changed })
  })

  it('a broken line in the middle is an input error naming the line (exit 2), nothing restored', async () => {
    const { server, env, file } = await pruned()
    const lines = readFileSync(file, 'utf8').split('\n')
    lines.splice(1, 0, 'not json')
    writeFileSync(file, lines.join('\n'))
    const r = await runIn(['restore', file], { env })
    expect(r.code).toBe(2)
    expect(r.stderr).toBe(`pjctl: ${file}:2: not a backup entry (invalid JSON)\n`)
    expect(server.received).toEqual([])
  })

  it("another server's backup is refused (exit 2, nothing sent) unless --force", async () => {
    const { server, env, file, before } = await pruned()
    const other = readFileSync(file, 'utf8').replaceAll(
      `"server":"${serverName(server)}"`,
      '"server":"pbx-old"',
    )
    writeFileSync(file, other)
    const refused = await runIn(['restore', file], { env })
    expect(refused.code).toBe(2)
    expect(refused.stderr).toBe(
      `pjctl: ${file} holds contacts of pbx-old, not of ${serverName(server)}: refusing to restore them here\n` +
        `hint: name that server (--server), or pass --force to restore onto ${serverName(server)} anyway\n`,
    )
    expect(server.received).toEqual([])
    const r = await runIn(['restore', file, '--force'], { env })
    expect(r.code).toBe(0)
    expect(r.stderr).toBe(
      `pjctl: warning: ${file} holds contacts of pbx-old, not of ${serverName(server)}; restoring onto ${serverName(server)} (--force)\n`,
    )
    expect(snapshot(server)).toEqual(before)
  })

  describe('the backup file is checked whole before anything connects', () => {
    async function withLine(line: string, at = 1) {
      const p = await pruned()
      const lines = readFileSync(p.file, 'utf8').split('\n')
      lines.splice(at, 0, line)
      writeFileSync(p.file, lines.join('\n'))
      return { ...p, r: await runIn(['restore', p.file], { env: p.env }) }
    }
    const entry = (over: Record<string, string>) =>
      JSON.stringify({
        server: 'x',
        family: CONTACT_FAMILY,
        key: ALICE,
        value: '{"uri":"sip:a@b"}',
        deletedAt: '',
        reason: '',
        ...over,
      })

    it('another family (AMPUSER/1001/password) is refused with its line number, exit 2', async () => {
      const { server, file, r } = await withLine(
        entry({ family: 'AMPUSER', key: '1001/password', value: 'hunter2' }),
      )
      expect(r.code).toBe(2)
      expect(r.stderr).toBe(
        `pjctl: ${file}:2: family "AMPUSER" is not a contact store (registrar/contact, <prefix>/contact or realtime:<table>): pjctl restores contacts only\nhint: pjctl restore only puts back what pjctl prune backed up; nothing was restored\n`,
      )
      expect(server.received).toEqual([])
    })

    it('a key not shaped <aor>;@<32 hex> is refused', async () => {
      const { server, file, r } = await withLine(entry({ key: 'alice;@1234' }), 2)
      expect(r.code).toBe(2)
      expect(r.stderr.split('\n')[0]).toBe(
        `pjctl: ${file}:3: key "alice;@1234" does not continue with 32 lowercase hex digits after its first \`;@\` (expected <aor>;@<32 hex digits>)`,
      )
      expect(server.received).toEqual([])
    })

    it('a key with CR/LF is refused without echoing them raw (exit 2, not 1)', async () => {
      const { server, file, r } = await withLine(
        entry({ key: 'alice\r\nAction: Command;@00000000000000000000000000000000' }),
      )
      expect(r.code).toBe(2)
      expect(r.stderr.split('\n')[0]).toBe(
        `pjctl: ${file}:2: key "alice\\r\\nAction: Command;@00000000000000000000000000000000" contains CR, LF or NUL: not a contact key`,
      )
      expect(r.stderr).not.toMatch(/\r/)
      expect(r.stderr.split('\n')).toHaveLength(3)
      expect(server.received).toEqual([])
    })

    it('a value that is not a contact, or holds CR/LF, is refused', async () => {
      const notJson = await withLine(entry({ value: 'hunter2' }))
      expect(notJson.r.code).toBe(2)
      expect(notJson.r.stderr.split('\n')[0]).toBe(
        `pjctl: ${notJson.file}:2: the value of "${ALICE}" is not a contact: value is not a JSON object`,
      )
      const crlf = await withLine(entry({ value: '{"uri":"sip:a@b\r\nAction: Originate"}' }))
      expect(crlf.r.code).toBe(2)
      expect(crlf.r.stderr.split('\n')[0]).toBe(
        `pjctl: ${crlf.file}:2: the value of ${ALICE} contains CR, LF or NUL: not a contact`,
      )
      expect(crlf.server.received).toEqual([])
    })
  })

  it('undoes prune --via expire: a key still holding exactly the expired value pjctl wrote is put back, swept or not', async () => {
    const server = await sim({ seed: lockoutSeed({ now: now() }) })
    const env = { ...envFor(server), ...home() }
    const before = snapshot(server)
    const file = join(env.HOME!, 'expire.jsonl')
    const r = await runIn(
      ['prune', '--key', `${FAP_OLD},${ALICE}`, '--yes', '--via', 'expire', '--backup', file],
      { env },
    )
    expect(r.code).toBe(0)
    expect(JSON.parse(snapshot(server)[FAP_OLD]!).expiration_time).toBe('1')
    // Asterisk's sweep already removed one of them; the other still holds pjctl's expired value
    server.astdb.del(CONTACT_FAMILY, ALICE)
    server.received.length = 0
    const restored = await runIn(['restore', file], { env })
    expect(restored.code).toBe(0)
    expect(restored.stdout).toBe(
      `restored ${FAP_OLD}\nrestored ${ALICE}\npjctl restore: server=${serverName(server)} restored=2 skipped=0 failed=0 file=${file}\n`,
    )
    expect(snapshot(server)).toEqual(before)
  })

  it('--json lists restored, skipped and failed', async () => {
    const { server, env, file } = await pruned()
    server.astdb.put(
      CONTACT_FAMILY,
      FAP_OLD,
      '{"uri":"sip:FAP003@192.0.2.16:5060","expiration_time":"1"}',
    )
    const r = await runIn(['restore', file, '--json'], { env })
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toEqual({
      file,
      server: serverName(server),
      dryRun: false,
      restored: [{ key: ALICE }, { key: ERIN }],
      wouldRestore: [],
      skipped: [
        {
          key: FAP_OLD,
          reason: 'present with another value (the phone registered again): left as it is',
        },
      ],
      failed: [],
    })
  })
})
