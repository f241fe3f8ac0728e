// Every `pjctl prune …` that check, contacts, doctor and prune print for FAP003 fixes it on real
// Asterisk: for a superseded contact and for same-second duplicates (two contacts of one phone
// with one expiration_time, as the lab's capture has them), set the state up, collect each
// suggested command, run it with --yes, and register the refused phone again: 200.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { contactsOf, deleteKeys, pjctl, putRows, register } from './lab.js'

const AOR = 'FAP003'
const PASS = 'FAP003-pass'
// ports of our own (the lab's mix uses 5071-5099, lockout.test.ts 5171-5173)
const OLD = 5271
const NEW = 5272
const THIRD = 5273

/** Two contacts of the one phone fill FAP003; `sameSecond` gives the older the newer's expiration_time. */
async function fill(sameSecond: boolean): Promise<void> {
  for (const port of [OLD, NEW, THIRD]) await register(AOR, PASS, port, 0)
  await deleteKeys((await contactsOf(AOR)).keys())
  expect((await register(AOR, PASS, OLD, 1800)).code).toBe(0)
  expect((await register(AOR, PASS, NEW, 3600)).code).toBe(0)
  if (sameSecond) {
    const rows = [...(await contactsOf(AOR))].map(([key, value]) => ({
      key,
      value,
      fields: JSON.parse(value) as Record<string, string>,
    }))
    const latest = Math.max(...rows.map((r) => Number(r.fields.expiration_time)))
    await putRows(
      rows.map((r) => [
        r.key,
        r.value.replace(/"expiration_time":"\d+"/, `"expiration_time":"${latest}"`),
      ]),
    )
  }
  // the refused phone: a third REGISTER from a new port
  expect((await register(AOR, PASS, THIRD, 3600)).code).toBe(3)
}

/** `pjctl prune FAP003 …` commands in a text, as argument lists. */
function pruneCommands(text: string): string[][] {
  const found = new Map<string, string[]>()
  for (const m of text.matchAll(/pjctl prune (FAP003(?: --[a-z-]+(?: [0-9a-f,]{6,})?)*)/g)) {
    const args = m[1]!.split(' ')
    found.set(args.join(' '), args)
  }
  return [...found.values()]
}

async function suggestions(): Promise<string[][]> {
  const outputs = await Promise.all([
    pjctl(['check', AOR]),
    pjctl(['contacts', AOR], { COLUMNS: '200' }),
    pjctl(['doctor', AOR]),
    pjctl(['prune', AOR, '--dry-run']),
    pjctl(['prune', AOR, '--keep', '1', '--dry-run']),
  ])
  return pruneCommands(outputs.map((r) => r.stdout + r.stderr).join('\n'))
}

describe('every prune command pjctl suggests frees FAP003 on real Asterisk', () => {
  let saved = new Map<string, string>()

  beforeAll(async () => {
    saved = await contactsOf(AOR)
    await deleteKeys(saved.keys())
  })

  afterAll(async () => {
    for (const port of [OLD, NEW, THIRD]) await register(AOR, PASS, port, 0)
    await deleteKeys((await contactsOf(AOR)).keys())
    await putRows(saved)
    expect(await contactsOf(AOR)).toEqual(saved)
  })

  for (const sameSecond of [false, true])
    it(sameSecond ? 'same-second duplicates' : 'a superseded contact', async () => {
      await fill(sameSecond)
      const commands = await suggestions()
      expect(commands.length).toBeGreaterThan(0)
      if (sameSecond) {
        // not qualified: the exact --key, and a cron --keep 1 does not hide the lockout
        expect(commands.some((c) => c.includes('--key'))).toBe(true)
        const cron = await pjctl(['prune', AOR, '--keep', '1', '--yes'])
        expect(cron.code).toBe(1)
        expect(cron.stdout).toContain('FAP003 is still full')
      }
      for (const args of commands) {
        await fill(sameSecond)
        const r = await pjctl(['prune', ...args, '--yes'])
        expect(r.code, `pjctl prune ${args.join(' ')}:\n${r.stdout}${r.stderr}`).toBe(0)
        const retry = await register(AOR, PASS, THIRD, 3600)
        expect(retry.code, `after pjctl prune ${args.join(' ')}: ${retry.stdout}`).toBe(0)
      }
    })
})
