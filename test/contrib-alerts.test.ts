// contrib/prometheus: the lockout alerts, unit-tested with promtool (where it is installed).
import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'

const promtool = spawnSync('promtool', ['--version']).status === 0

describe('contrib/prometheus alerts', () => {
  it.skipIf(!promtool)(
    'promtool test rules: the refusal alert fires on a refusal, the inferred one after 5 minutes',
    () => {
      const r = spawnSync('promtool', ['test', 'rules', 'pjctl-refusal-alerts.test.yml'], {
        cwd: 'contrib/prometheus',
        encoding: 'utf8',
      })
      expect(r.stdout + r.stderr).toContain('SUCCESS')
      expect(r.status).toBe(0)
    },
  )
})
