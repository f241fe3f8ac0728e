// Help as an admin reads it: bare pjctl, each command's --help with examples, options under
// their group's heading, sizes as typed, and each command's own wording (nothing leaks across).
import { describe, expect, it } from 'vitest'
import { COMMANDS } from '../../src/commands/index.js'
import { runIn } from '../helpers/cli.js'

/** The option lines under `heading` in a --help text. */
function section(help: string, heading: string): string {
  const start = help.indexOf(`\n${heading}\n`)
  if (start < 0) return ''
  const end = help.indexOf('\n\n', start + 1)
  return help.slice(start, end < 0 ? undefined : end)
}

describe('help', () => {
  it('bare pjctl prints the help on stdout and exits 2', async () => {
    const r = await runIn([])
    expect(r.code).toBe(2)
    expect(r.stderr).toBe('')
    expect(r.stdout).toMatch(/^Usage: pjctl \[options\] \[command\]\n/)
    for (const command of COMMANDS) expect(r.stdout).toContain(`\n  ${command.name} `)
  })

  it('every command --help ends with two or three examples of that command', async () => {
    for (const command of COMMANDS) {
      const r = await runIn([command.name, '--help'])
      expect(r.code, command.name).toBe(0)
      const examples = r.stdout.split('\nExamples:\n')[1]?.trimEnd().split('\n') ?? []
      expect(examples.length, command.name).toBeGreaterThanOrEqual(2)
      expect(examples.length, command.name).toBeLessThanOrEqual(3)
      for (const example of examples)
        expect(example, command.name).toMatch(new RegExp(`^  (npx )?pjctl ${command.name}( |$)`))
    }
  })

  it('options are grouped: connection, selection, output, safety', async () => {
    const prune = (await runIn(['prune', '--help'])).stdout
    expect(section(prune, 'Connection options:')).toContain('--host <host>')
    expect(section(prune, 'Selection options:')).toContain('--superseded')
    expect(section(prune, 'Output options:')).toContain('--json')
    expect(section(prune, 'Safety options:')).toContain('--dry-run')
    expect(section(prune, 'Safety options:')).toContain('--max-delete <n>')
    expect(section(prune, 'Connection options:')).not.toContain('--dry-run')
    const contacts = (await runIn(['contacts', '--help'])).stdout
    expect(contacts.indexOf('Connection options:')).toBeLessThan(
      contacts.indexOf('Output options:'),
    )
    expect(contacts).not.toContain('Safety options:')
  })

  it('sizes are shown as typed: 256M, not 268435456', async () => {
    const r = await runIn(['contacts', '--help'], { tty: { stdout: true, columns: 200 } })
    expect(r.stdout).toContain('(default: 256M, env: PJCTL_MAX_OUTPUT)')
    expect(r.stdout).not.toContain('268435456')
  })

  it("each command's own wording: nothing about prune under demo, check's paging only under check", async () => {
    const help = async (name: string) =>
      (await runIn([name, '--help'], { tty: { stdout: true, columns: 200 } })).stdout
    const line = (text: string, flag: string) =>
      text.split('\n').find((l) => l.startsWith(`  ${flag}`)) ?? ''
    expect(line(await help('demo'), '--quiet')).toBe(
      '  --quiet     No warnings or progress on stderr.',
    )
    expect(line(await help('prune'), '--quiet')).toContain('Print only the summary line')
    expect(line(await help('gen'), '--force')).toContain('Overwrite the --out file')
    expect(line(await help('restore'), '--force')).toContain('written for another server')
    expect(line(await help('prune'), '--force')).toContain('--max-delete')
    expect(line(await help('check'), '--per-ip-limit')).toContain('CRITICAL above')
    expect(line(await help('contacts'), '--per-ip-limit')).not.toContain('CRITICAL')
    for (const command of COMMANDS) {
      const text = await help(command.name)
      const options = text
        .split('\n')
        .filter((l) => /^ {2}-/.test(l))
        .join('\n')
      for (const other of COMMANDS.filter((c) => c.name !== command.name)) {
        expect(options, `${command.name} --help speaks of ${other.name}`).not.toMatch(
          new RegExp(`\\(${other.name}\\)|(\\s{2}|; )${other.name}: `),
        )
      }
    }
  })
})
