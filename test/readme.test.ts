// The README is the front door: every option pjctl has is documented there, and nothing it documents is gone.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { OPTIONS } from '../src/options.js'
import { COMMANDS } from '../src/commands/index.js'

/** `-H, --host <host>` → `--host`. */
function longFlag(flag: string | undefined): string | undefined {
  return flag ? /--[a-z][a-z-]*/.exec(flag)?.[0] : undefined
}

const README = readFileSync(join(__dirname, '..', 'README.md'), 'utf8')

describe('README', () => {
  it('documents every flag and environment variable in src/options.ts', () => {
    const missing: string[] = []
    for (const spec of Object.values(OPTIONS) as { flag?: string; env?: string }[]) {
      const flag = longFlag(spec.flag)
      if (flag && !README.includes(`\`${flag}`)) missing.push(flag)
      if (spec.env && !README.includes(spec.env)) missing.push(spec.env)
    }
    expect(missing).toEqual([])
  })

  it('documents every short alias (-H, -p, -t, -w, -c, -v)', () => {
    const shorts = Object.values(OPTIONS).flatMap((s) => {
      const m = /^(-[a-zA-Z]),/.exec((s as { flag?: string }).flag ?? '')
      return m ? [m[1]] : []
    })
    expect(shorts.sort()).toEqual(['-H', '-c', '-p', '-t', '-v', '-w'])
    for (const short of shorts) expect(README).toContain(`\`${short}\``)
  })

  it('documents every command', () => {
    for (const command of COMMANDS) expect(README).toContain(`pjctl ${command.name}`)
  })

  it('mentions no flag that does not exist', () => {
    const known = new Set(
      Object.values(OPTIONS).flatMap((s) =>
        (s as { flag?: string }).flag ? [longFlag((s as { flag: string }).flag)!] : [],
      ),
    )
    for (const extra of ['--help', '--version', '--secret', '--remove-existing']) known.add(extra)
    const mentioned = [...README.matchAll(/`(--[a-z][a-z-]*)/g)].map((m) => m[1])
    expect(mentioned.filter((flag) => !known.has(flag))).toEqual([])
  })
})
