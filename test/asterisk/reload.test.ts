// The reload command pjctl prints after a snippet (gen, doctor's fixes) is one Asterisk knows:
// run on every lab that is up, it must not answer `No such command` (as `pjsip reload` does).
// Labs: the one test:asterisk runs against, plus every other $HOME/.pjctl-lab* prefix whose
// Asterisk is running (other versions, the realtime lab), each under its own lock.
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs'
import { homedir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { PJSIP_RELOAD, WIZARD_RELOAD } from '../../src/core/genconf.js'
import { LAB, pjctl, spawnText } from './lab.js'

interface Lab {
  prefix: string
  /** The install prefix of the binary it runs (several labs share one build). */
  astPrefix: string
  /** Its lock, unless this run already holds it (the main lab). */
  lock: string | null
}

/** The labs whose Asterisk runs now. */
function labsUp(): Lab[] {
  const prefixes = new Set([LAB.prefix])
  for (const entry of readdirSync(homedir()))
    if (entry.startsWith('.pjctl-lab')) prefixes.add(join(homedir(), entry))
  const labs: Lab[] = []
  for (const prefix of prefixes) {
    const pidFile = join(prefix, 'run/lab.pid')
    if (!existsSync(pidFile)) continue
    const pid = Number(readFileSync(pidFile, 'utf8').trim())
    let exe: string
    try {
      exe = readlinkSync(`/proc/${pid}/exe`)
    } catch {
      continue
    }
    if (basename(exe) !== 'asterisk') continue
    const name = basename(prefix).replace(/^\.pjctl-lab-?/, '')
    labs.push({
      prefix,
      astPrefix: dirname(dirname(exe)),
      lock: prefix === LAB.prefix ? null : `/tmp/pjctl-lab-${name}.lock`,
    })
  }
  return labs
}

/** flock's exit when another lab user holds the lock past our wait. */
const BUSY = 75

/** `asterisk -rx COMMAND` on the lab, under its lock (waited for 10 s at most); null when the lab is busy. */
async function cliOn(lab: Lab, command: string): Promise<string | null> {
  const script = join(LAB.dir, 'cli.sh')
  const argv = lab.lock
    ? ['flock', ['-E', String(BUSY), '-w', '10', lab.lock, 'bash', script, ...command.split(' ')]]
    : ['bash', [script, ...command.split(' ')]]
  const r = await spawnText(argv[0] as string, argv[1] as string[], {
    LAB_PREFIX: lab.prefix,
    AST_PREFIX: lab.astPrefix,
  })
  if (lab.lock && r.code === BUSY) return null
  expect(r.code, `${command} on ${lab.prefix}: ${r.stderr}`).toBe(0)
  return r.stdout + r.stderr
}

/** The `then: …` command at the end of each line that has one. */
function reloadsIn(text: string): string[] {
  return [...text.matchAll(/then: ([a-z_ .]+?)\s*$/gm)].map((m) => m[1]!)
}

describe('the reload command pjctl prints', () => {
  it('is what gen prints, for pjsip and for the wizard', async () => {
    const pjsip = await pjctl(['gen', 'pjsip', 'FAP003', '--append', '--max-contacts', '2'])
    expect(pjsip.code).toBe(0)
    expect(reloadsIn(pjsip.stdout)).toEqual([PJSIP_RELOAD])
    const wizard = await pjctl(['gen', 'wizard', 'wizphone', '--append', '--max-contacts', '2'])
    expect(wizard.code).toBe(0)
    expect(reloadsIn(wizard.stdout)).toEqual([WIZARD_RELOAD])
  })

  const labs = labsUp()
  it('some lab is up', () => expect(labs.length).toBeGreaterThan(0))

  for (const lab of labs)
    it(`is known to the Asterisk of ${lab.prefix}`, async (ctx) => {
      const version = (await cliOn(lab, 'core show version'))?.trim()
      // another lab user holds that lab: not ours to wait for
      if (version === undefined) return ctx.skip(`${lab.lock} is held by another lab user`)
      // the check can fail: Asterisk says so for a command it does not have
      expect(await cliOn(lab, 'pjsip reload')).toMatch(/No such command/)
      for (const command of [PJSIP_RELOAD, WIZARD_RELOAD]) {
        const said = await cliOn(lab, command)
        expect(said, `${version}: ${command}`).not.toMatch(/No such command|not found|Unable/i)
        console.log(
          `${lab.prefix}: ${version.split('\n')[0]}: ${command}: ${said?.trim() || '(no output)'}`,
        )
      }
      // the lab's own AORs are still there after the reload
      if (lab.lock === null)
        expect(await cliOn(lab, 'pjsip show aor FAP003')).toMatch(/max_contacts\s*:\s*2/)
    })
})
