// --key as admins type it: a whole key, or a unique hash prefix (>= 6 hex), alone or after AOR;@.
import { describe, expect, it } from 'vitest'
import { parseKeyPattern, resolveKeys } from '../../src/core/keys.js'
import { UsageError } from '../../src/errors.js'

const H1 = '093effad00000000000000000000000a'
const H2 = '093effbe00000000000000000000000b'
const KEYS = [`erin;@${H1}`, `erin;@${H2}`, `alice;@${H1}`, 'bob;@fc939de3ba1a42f3a8e4c7f1a2b3c4d5']

function resolve(...raw: string[]) {
  return resolveKeys(
    raw.map((r) => parseKeyPattern(r, '--key')),
    KEYS,
    '--key',
  )
}

describe('--key patterns', () => {
  it('a unique prefix of 6+ hex digits alone picks its one key (any case)', () => {
    expect(resolve('fc939d').keys).toEqual(['bob;@fc939de3ba1a42f3a8e4c7f1a2b3c4d5'])
    expect(resolve('FC939DE3').keys).toEqual(['bob;@fc939de3ba1a42f3a8e4c7f1a2b3c4d5'])
  })

  it('AOR;@prefix narrows to that AOR', () => {
    expect(resolve('erin;@093effad').keys).toEqual([`erin;@${H1}`])
    expect(resolve('alice;@093eff').keys).toEqual([`alice;@${H1}`])
  })

  it('the whole key still works', () => {
    expect(resolve(`erin;@${H2}`).keys).toEqual([`erin;@${H2}`])
  })

  it('an ambiguous prefix is an error listing every candidate', () => {
    expect(() => resolve('093eff')).toThrow(UsageError)
    expect(() => resolve('093eff')).toThrow(
      `--key '093eff' is ambiguous: it matches 3 contacts: alice;@${H1}, erin;@${H1}, erin;@${H2}`,
    )
    expect(() => resolve('093effad')).toThrow(`it matches 2 contacts: alice;@${H1}, erin;@${H1}`)
  })

  it('a prefix that matches nothing is reported as unmatched, not guessed', () => {
    const r = resolve('erin;@fc939d', 'abcdef')
    expect(r.keys).toEqual([])
    expect(r.unmatched.map((p) => p.raw)).toEqual(['erin;@fc939d', 'abcdef'])
  })

  it('refuses what can never be a key before anything connects', () => {
    expect(() => parseKeyPattern('093ef', '--key')).toThrow(
      "--key '093ef': give at least 6 hex digits of the hash (the KEY column shows 8)",
    )
    expect(() => parseKeyPattern('erin;@093ef', '--key')).toThrow('give at least 6 hex digits')
    expect(() => parseKeyPattern('erin', '--key')).toThrow("--key 'erin' is not a contact key")
    expect(() => parseKeyPattern(';@093effad', '--key')).toThrow("no AOR name before ';@'")
    expect(() => parseKeyPattern('erin;@09\r\n', '--key')).toThrow(UsageError)
  })
})
