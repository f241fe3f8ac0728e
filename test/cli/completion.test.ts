// Completion scripts and the man page are generated from the option table: every flag each
// command's --help lists (what commander really accepts) is in each script and in the man page,
// and the man page npm ships is the one the generator gives for today's table.
import { execFileSync, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { COMMANDS } from '../../src/commands/index.js'
import { manPageText } from '../../src/usage.js'
import { runIn } from '../helpers/cli.js'

const ROOT = join(__dirname, '..', '..')

/** The flags in the option column of `pjctl CMD --help` (not flags quoted in descriptions). */
async function helpFlags(command: string): Promise<string[]> {
  const help = await runIn([command, '--help'])
  expect(help.code).toBe(0)
  const flags = new Set<string>()
  for (const line of help.stdout.split('\n')) {
    const m = /^ {2}(?:(-[A-Za-z]), )?(--[a-z][a-z0-9-]*)/.exec(line)
    if (m) {
      if (m[1]) flags.add(m[1])
      flags.add(m[2]!)
    }
  }
  return [...flags].sort()
}

function hasBash(): boolean {
  return spawnSync('bash', ['-c', 'true']).status === 0
}

/** What bash offers after `pjctl WORDS…` (the last word is being completed). */
/** What bash's completion offers after each `pjctl WORDS...` (the last word being completed), in one bash run. */
function bashComplete(script: string, cases: string[][]): string[][] {
  const END = '--end-of-case--'
  const runs = cases.map((words) => {
    const line = ['pjctl', ...words].map((w) => `'${w}'`).join(' ')
    return `COMP_WORDS=(${line}); COMP_CWORD=${words.length}; COMPREPLY=(); _pjctl; printf '%s\\n' "\${COMPREPLY[@]}" ${END}`
  })
  const out = execFileSync('bash', ['-c', `${script}\n${runs.join('\n')}`], { encoding: 'utf8' })
  const answers = out.split(`${END}\n`)
  expect(answers).toHaveLength(cases.length + 1)
  return answers.slice(0, cases.length).map((answer) => answer.split('\n').filter(Boolean).sort())
}

describe('pjctl completion', () => {
  it.runIf(hasBash())(
    'bash: offers exactly the flags each command takes, choices for a value, the commands first',
    async () => {
      const r = await runIn(['completion', 'bash'])
      expect(r.code).toBe(0)
      expect(r.stderr).toBe('')
      execFileSync('bash', ['-n', '-c', r.stdout])
      const flags = bashComplete(
        r.stdout,
        COMMANDS.map((command) => [command.name, '-']),
      )
      for (const [i, command] of COMMANDS.entries())
        expect(flags[i], command.name).toEqual(await helpFlags(command.name))
      const [commands, via, format, gen, completion] = bashComplete(r.stdout, [
        [''],
        ['prune', '--via', ''],
        ['check', '--format', ''],
        ['gen', ''],
        ['completion', ''],
      ])
      expect(commands).toEqual(
        [...COMMANDS.map((c) => c.name), 'help', '--help', '--version'].sort(),
      )
      expect(via).toEqual(['asterisk', 'delete', 'expire'])
      expect(format).toEqual(['json', 'nagios', 'prometheus'])
      expect(gen).toEqual(['pjsip', 'wizard'])
      expect(completion).toEqual(['bash', 'fish', 'zsh'])
    },
  )

  it('zsh and fish: every flag of every command, under that command', async () => {
    const zsh = (await runIn(['completion', 'zsh'])).stdout
    const fish = (await runIn(['completion', 'fish'])).stdout
    expect(zsh.startsWith('#compdef pjctl\n')).toBe(true)
    for (const command of COMMANDS) {
      const section =
        new RegExp(`\\n    ${command.name}\\)\\n([\\s\\S]*?)\\n      ;;`).exec(zsh)?.[1] ?? ''
      const fishLines = fish
        .split('\n')
        .filter((l) => l.includes(`'__fish_seen_subcommand_from ${command.name}'`))
      for (const flag of await helpFlags(command.name)) {
        if (flag === '--help' || flag === '-h') continue
        // `{-H,--host}`: a long form after its short alias follows a comma
        expect(section, `zsh ${command.name} ${flag}`).toMatch(new RegExp(`[{'(,]${flag}[\\[,}' ]`))
        const fishFlag = flag.startsWith('--') ? `-l ${flag.slice(2)} ` : `-s ${flag.slice(1)} `
        expect(
          fishLines.some((l) => l.includes(fishFlag)),
          `fish ${command.name} ${flag}`,
        ).toBe(true)
      }
    }
    expect(fish).toContain(
      "complete -c pjctl -n '__fish_seen_subcommand_from prune' -l via -x -a 'asterisk delete expire'",
    )
  })

  it('an unknown shell is a usage error', async () => {
    const r = await runIn(['completion', 'tcsh'])
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe(
      'pjctl: completion: unknown shell "tcsh"\nhint: use one of: bash, zsh, fish\n',
    )
  })
})

describe('man page', () => {
  const page = manPageText(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version)

  it('man/pjctl.1 (written by npm run build, shipped through package.json "man") is what the generator gives now', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
    expect(pkg.man).toEqual(['./man/pjctl.1'])
    expect(pkg.files).toContain('man')
    expect(readFileSync(join(ROOT, 'man/pjctl.1'), 'utf8')).toBe(page)
  })

  it('documents every command and, under it, every flag its --help lists', async () => {
    for (const command of COMMANDS) {
      const start = page.indexOf(`.SS "pjctl ${command.name}`)
      expect(start, command.name).toBeGreaterThan(0)
      const next = page.indexOf('\n.S', start + 1)
      const section = page.slice(start, next)
      for (const flag of await helpFlags(command.name)) {
        if (flag === '--help' || flag === '-h') continue
        expect(section, `${command.name} ${flag}`).toContain(`\\fB${flag.replace(/-/g, '\\-')}\\fR`)
      }
    }
    expect(page).toContain('Default: 256M.')
    expect(page).not.toContain('268435456')
  })

  it.runIf(spawnSync('groff', ['-v']).status === 0)(
    'is valid roff: groff renders it without a warning',
    () => {
      const r = spawnSync('groff', ['-man', '-ww', '-z'], { input: page, encoding: 'utf8' })
      expect(r.stderr).toBe('')
      expect(r.status).toBe(0)
    },
  )
})
