// The pjctl(1) man page in roff (man(7) macros), drawn from the command docs (src/usage.ts).
// Pure and without a date, so the same table always gives the same page.

import type { CommandDoc, FlagDoc } from '../commands/views.js'

export interface ManData {
  version: string
  commands: CommandDoc[]
  environment: { env: string; flag?: string; help: string; default?: string }[]
}

/** Text for roff: backslashes escaped, a line never starting with a control character. */
function roff(text: string): string {
  return (
    text
      .replace(/\\/g, '\\e')
      .replace(/-/g, '\\-')
      // plain ASCII for groff: anything else as its Unicode escape (…, →)
      .replace(
        // eslint-disable-next-line no-control-regex -- every character outside ASCII
        /[^\x00-\x7f]/gu,
        (c) => `\\[u${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}]`,
      )
      .split('\n')
      .map((line) => (/^[.']/.test(line) ? `\\&${line}` : line))
      .join('\n')
  )
}

function bold(text: string): string {
  return `\\fB${roff(text)}\\fR`
}

function italic(text: string): string {
  return `\\fI${roff(text)}\\fR`
}

function flagLine(flag: FlagDoc): string {
  const names = [flag.short, flag.long]
    .filter((n): n is string => Boolean(n))
    .map(bold)
    .join(', ')
  return flag.value === undefined ? names : `${names} ${italic(flag.value.toUpperCase())}`
}

function flagText(flag: FlagDoc): string {
  const extra: string[] = []
  if (flag.choices?.length) extra.push(`One of: ${flag.choices.join(', ')}.`)
  if (flag.default !== undefined) extra.push(`Default: ${flag.default}.`)
  if (flag.env) extra.push(`Environment: ${flag.env}.`)
  return roff([flag.help, ...extra].join(' '))
}

function synopsis(command: CommandDoc): string {
  const args = command.args ? ` ${italic(command.args.toUpperCase())}` : ''
  return `${bold('pjctl')} ${bold(command.name)} [${italic('OPTIONS')}]${args}`
}

export function manPage(data: ManData): string {
  const out: string[] = [
    '.\\" Generated from src/options.ts and src/commands by `npm run build`; do not edit.',
    `.TH PJCTL 1 "" "pjctl ${roff(data.version)}" "User Commands"`,
    '.SH NAME',
    'pjctl \\- find and safely prune stale Asterisk chan_pjsip contacts over AMI',
    '.SH SYNOPSIS',
  ]
  for (const command of data.commands) out.push('.br', synopsis(command))
  out.push(
    '.SH DESCRIPTION',
    roff(
      'pjctl reads the registrar (astdb registrar/contact) of one Asterisk or a fleet over AMI and finds the contacts that lock phones out of ' +
        'an AOR at max_contacts: expired ones and those superseded by a newer registration from the same device. ' +
        'It shows them, pages on them the Nagios or Prometheus way, deletes them safely (dry run, one confirmation, a backup of every deleted value, ' +
        'compare-before-delete) and generates the AOR configuration (remove_existing=yes, max_contacts) that keeps them from coming back.',
    ),
    '.PP',
    roff('The AMI secret is never a flag: use PJCTL_SECRET, --secret-file or the config file.'),
    '.SH COMMANDS',
  )
  for (const command of data.commands) {
    out.push(
      `.SS "${roff(`pjctl ${command.name}${command.args ? ` ${command.args}` : ''}`)}"`,
      roff(command.summary),
    )
    if (command.help && command.help !== command.summary) {
      for (const paragraph of command.help.split(/\n\s*\n/))
        out.push('.PP', roff(paragraph.replace(/\n/g, ' ')))
    }
    if (command.flags.length) {
      let heading = ''
      for (const flag of command.flags) {
        if (flag.heading !== heading) out.push('.PP', roff((heading = flag.heading)))
        out.push('.TP', flagLine(flag), flagText(flag))
      }
    }
    if (command.examples.length) {
      out.push('.PP', 'Examples:', '.PP', '.RS', '.nf')
      for (const example of command.examples) out.push(roff(example))
      out.push('.fi', '.RE')
    }
  }
  out.push('.SH ENVIRONMENT')
  for (const variable of data.environment) {
    const extra = [
      variable.flag ? `As ${variable.flag}.` : '',
      variable.default !== undefined ? `Default: ${variable.default}.` : '',
    ]
      .filter(Boolean)
      .join(' ')
    out.push('.TP', bold(variable.env), roff(`${variable.help}${extra ? ` ${extra}` : ''}`))
  }
  out.push(
    '.TP',
    bold('NO_COLOR'),
    roff('Set: no colour.'),
    '.TP',
    bold('XDG_CONFIG_HOME'),
    roff('Where the per-user config file is (default ~/.config).'),
    '.TP',
    bold('PJCTL_SYSTEM_CONFIG'),
    roff('Where the system-wide config file is (default /etc/pjctl/config.json).'),
    '.TP',
    bold('XDG_STATE_HOME'),
    roff('Where prune keeps its backups (default ~/.local/state).'),
    '.SH FILES',
    '.TP',
    italic('$XDG_CONFIG_HOME/pjctl/config.json'),
    roff(
      'Per-user config file (else ~/.config/pjctl/config.json): servers with host, port, user, secret or secretFile. Read first.',
    ),
    '.TP',
    italic('/etc/pjctl/config.json'),
    roff(
      'System-wide config file, read when there is no per-user one (for the nagios or cron user). The first file found is used; they are not merged.',
    ),
    '.PP',
    roff(
      '--config FILE (or PJCTL_CONFIG) names the one file to read instead. pjctl warns when a file holding secrets is readable by group or others.',
    ),
    '.TP',
    italic('$XDG_STATE_HOME/pjctl/backups/SERVER\\-DATE.jsonl'),
    roff('What prune deleted, one JSON line per contact, for pjctl restore.'),
    '.SH EXIT STATUS',
    '.TP',
    '0',
    'OK.',
    '.TP',
    '1',
    roff('check: WARNING. Otherwise something failed (a deletion, a write).'),
    '.TP',
    '2',
    roff('check: CRITICAL. Otherwise a usage or input error.'),
    '.TP',
    '3',
    roff('The server could not be read (check: UNKNOWN).'),
    '.TP',
    '130',
    'Interrupted.',
    '.SH SEE ALSO',
    roff(
      'asterisk(8); pjctl completion bash|zsh|fish for shell completion; docs/ami-privileges.md in the pjctl repository for the AMI privileges pjctl needs.',
    ),
    '',
  )
  return out.join('\n')
}
