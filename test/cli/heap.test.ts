// The young generation (src/heap.ts): a command that runs until stopped leaves V8 to size it, and
// V8's flags are then its defaults again; a run that reads, writes and exits sets nothing here (the
// launcher keeps it small, test/bundle.test.ts).
import { setFlagsFromString } from 'node:v8'
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { YOUNG_GENERATION_SIZED } from '../../src/heap.js'

vi.mock('node:v8', async (original) => ({
  ...(await original<typeof import('node:v8')>()),
  setFlagsFromString: vi.fn(),
}))

let runIn: typeof import('../helpers/cli.js').runIn

describe('the young generation', () => {
  // test files share their workers' modules: the command line is loaded afresh, with node:v8 mocked
  beforeAll(async () => {
    vi.resetModules()
    ;({ runIn } = await import('../helpers/cli.js'))
  })
  beforeEach(() => vi.mocked(setFlagsFromString).mockClear())

  it("the exporter leaves it to V8: its growth factor is V8's own before the command runs", async () => {
    // an address it cannot listen on (TEST-NET-1): the run stops right after it began
    const r = await runIn(
      ['exporter', '--host', '127.0.0.1', '--port', '1', '--listen', '192.0.2.1:9814'],
      {
        env: { PJCTL_USER: 'pjctl', PJCTL_SECRET: 'secret' },
      },
    )
    expect(r.stderr).toContain('cannot listen on 192.0.2.1:9814')
    // on V8 11 (Node 20) only: a later V8 keeps the factor at 2 or more itself
    expect(vi.mocked(setFlagsFromString).mock.calls).toEqual(
      YOUNG_GENERATION_SIZED ? [['--semi-space-growth-factor=2']] : [],
    )
  })

  it('a run that exits (check) changes no V8 flag in the command line', async () => {
    const r = await runIn(['check', '--host', '127.0.0.1', '--port', '1', '--timeout', '1s'])
    expect(r.code).toBe(3)
    expect(setFlagsFromString).not.toHaveBeenCalled()
  })
})
