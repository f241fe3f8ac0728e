// pjctl demo prints only commands that work after it: its backup folder is gone when it ends, so it
// names no file to restore from, and says where a real prune keeps its backup.
import { describe, expect, it } from 'vitest'
import { runIn as run } from '../helpers/cli.js'

describe('pjctl demo', () => {
  it('names no backup file of its own temporary folder, and says where a real backup goes', async () => {
    const r = await run(['demo'], { env: { COLUMNS: '80' } })
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('$ pjctl prune FAP003 --yes')
    expect(r.stdout).not.toMatch(/pjctl-demo-/)
    expect(r.stdout).not.toMatch(/pjctl restore \//)
    expect(r.stdout).toContain('~/.local/state/pjctl/backups/')
    expect(r.stdout).toContain('deleted=1')
  })
})
