// The README is the front door: every option pjctl has is documented there, and nothing it documents is gone.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { OPTIONS } from '../src/options.js'
import { COMMANDS } from '../src/commands/index.js'

const README = readFileSync(join(__dirname, '..', 'README.md'), 'utf8')

describe('README', () => {
  it('documents every flag and environment variable in src/options.ts', () => {
    const missing: string[] = []
    for (const spec of Object.values(OPTIONS) as { flag?: string; env?: string }[]) {
      const flag = spec.flag?.split(' ')[0]
      if (flag && !README.includes(`\`${flag}`)) missing.push(flag)
      if (spec.env && !README.includes(spec.env)) missing.push(spec.env)
    }
    expect(missing).toEqual([])
  })

  it('documents every command', () => {
    for (const command of COMMANDS) expect(README).toContain(`pjctl ${command.name}`)
  })

  it('mentions no flag that does not exist', () => {
    const known = new Set(Object.values(OPTIONS).flatMap((s) => ((s as { flag?: string }).flag ? [(s as { flag: string }).flag.split(' ')[0]] : [])))
    for (const extra of ['--help', '--version', '--secret', '--remove-existing']) known.add(extra)
    const mentioned = [...README.matchAll(/`(--[a-z][a-z-]*)/g)].map((m) => m[1])
    expect(mentioned.filter((flag) => !known.has(flag))).toEqual([])
  })
})
