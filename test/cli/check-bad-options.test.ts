// check is read by a monitoring system from stdout: every bad option gives a Nagios status line
// there (UNKNOWN, exit 3), not only a message on stderr, whether commander or pjctl refused it.
import { describe, expect, it } from 'vitest'
import { runIn } from '../helpers/cli.js'

const CASES: [string[], string][] = [
  [
    ['-t', '0'],
    "PJCTL UNKNOWN - option '--timeout <seconds>': expected seconds (a number > 0), got '0'",
  ],
  [['--bogus'], "PJCTL UNKNOWN - unknown option '--bogus'"],
  [
    ['-p', '70000'],
    "PJCTL UNKNOWN - option '--port <port>': expected a number from 1 to 65535, got 70000",
  ],
  [
    ['-w', 'abc'],
    'PJCTL UNKNOWN - invalid threshold "abc": give free slots left (1), percent used (80%), or both (1,80%)',
  ],
  [
    ['--secret', 'x'],
    'PJCTL UNKNOWN - the secret is never a flag: use PJCTL_SECRET, --secret-file or the config file',
  ],
  // a mistyped flag may carry a secret: never echoed, on either stream
  [['--bogus=hunter2'], "PJCTL UNKNOWN - unknown option '--bogus=…'"],
]

describe.concurrent('check with a bad option', () => {
  for (const [args, line] of CASES)
    it(`check ${args.join(' ')}: ${line}`, async () => {
      const r = await runIn(['check', ...args])
      expect(r.stdout.split('\n')[0]).toBe(line)
      expect(r.stdout + r.stderr).not.toContain('hunter2')
      expect(r.stderr).toMatch(/^pjctl: /)
      expect(r.code).toBe(3)
    })

  it('--json: the failure as JSON on stdout', async () => {
    const r = await runIn(['check', '--json', '--bogus'])
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 3, statusText: 'UNKNOWN' })
    expect(r.code).toBe(3)
  })

  it('another command says it on stderr only, as before', async () => {
    const r = await runIn(['contacts', '--bogus'])
    expect([r.stdout, r.code]).toEqual(['', 2])
  })
})
