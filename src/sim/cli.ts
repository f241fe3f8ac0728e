// The few CLI commands the sim knows, printed as Asterisk prints them (main/cli.c, main/db.c,
// res/res_pjsip/location.c), for the AMI action Command.

import type { SimState } from './context.js'
import type { SimContact } from './registrar.js'

/** A command's output, one entry per printed line (each ends in `\n` on the CLI). */
export interface CliOutput {
  /** False for RESULT_FAILURE (usage shown, no such command): the AMI answer says `Response: Error`. */
  success: boolean
  head: string[]
  /** The listed objects: what a slow reader loses first (`keep` in ActionContext). */
  items: string[]
  tail: string[]
}

function printed(lines: string[], success = true): CliOutput {
  return { success, head: lines, items: [], tail: [] }
}

/** parse_args() of main/cli.c: blanks separate, `"` quotes, `\` escapes the next character. */
function parseCliArgs(line: string): string[] {
  const args: string[] = []
  let quoted = false
  let escaped = false
  let between = true
  for (const char of line.replace(/^\s+/, '')) {
    if (char === '"' && !escaped) {
      quoted = !quoted
      if (quoted && between) {
        args.push('')
        between = false
      }
    } else if ((char === ' ' || char === '\t') && !quoted && !escaped) {
      between = true
    } else if (char === '\\' && !escaped) {
      escaped = true
    } else {
      if (between) {
        args.push('')
        between = false
      }
      args[args.length - 1] = (args[args.length - 1] ?? '') + char
      escaped = false
    }
  }
  return args
}

interface CliCommand {
  words: string[]
  /** Printed when `run` answers CLI_SHOWUSAGE (undefined). */
  usage?: string
  run(args: string[], sim: SimState): CliOutput | undefined
}

// ---------------------------------------------------------------------------------------------
// main/db.c

function databaseShow(args: string[], sim: SimState): CliOutput | undefined {
  if (args.length > 4) return undefined
  const rows = sim.astdb.tree(args[2] ?? '', args[3] ?? '')
  return {
    success: true,
    head: [],
    items: rows.map((row) => `${row.key.padEnd(50)}: ${row.value.padEnd(25)}`),
    tail: [`${rows.length} results found.`],
  }
}

function databaseGet(args: string[], sim: SimState): CliOutput | undefined {
  const [, , family, key] = args
  if (args.length !== 4 || family === undefined || key === undefined) return undefined
  const value = sim.astdb.get(family, key)
  return printed([value === undefined ? 'Database entry not found.' : `Value: ${value}`])
}

function databasePut(args: string[], sim: SimState): CliOutput | undefined {
  const [, , family, key, value] = args
  if (args.length !== 5 || family === undefined || key === undefined || value === undefined)
    return undefined
  sim.astdb.put(family, key, value)
  return printed(['Updated database successfully'])
}

function databaseDel(args: string[], sim: SimState): CliOutput | undefined {
  const [, , family, key] = args
  if (args.length !== 4 || family === undefined || key === undefined) return undefined
  const removed = sim.deleteDbEntry(family, key)
  return printed([removed ? 'Database entry removed.' : 'Database entry could not be removed.'])
}

function databaseDeltree(args: string[], sim: SimState): CliOutput | undefined {
  if (args.length < 3 || args.length > 4) return undefined
  const removed = sim.astdb.delTree(args[2], args[3] ?? '')
  return printed([
    removed === 0 ? 'Database entries do not exist.' : `${removed} database entries removed.`,
  ])
}

// ---------------------------------------------------------------------------------------------
// main/manager.c handle_showmanager: `manager show user <name>` (the secret only as <Set>)

/** manager.c's perms[]: every manager.conf class, in its order (also what `all` stands for). */
export const MANAGER_CLASSES = [
  'system',
  'call',
  'log',
  'verbose',
  'command',
  'agent',
  'user',
  'config',
  'dtmf',
  'reporting',
  'cdr',
  'dialplan',
  'originate',
  'agi',
  'cc',
  'aoc',
  'test',
  'security',
  'message',
]

function managerShowUser(args: string[], sim: SimState): CliOutput | undefined {
  const name = args[3]
  if (args.length !== 4 || name === undefined) return undefined
  const user = sim.managerUser(name)
  if (!user) return printed([`There is no manager called ${args[3]}`])
  const perms = (classes: readonly string[]): string => {
    const all = classes.includes('all')
    return MANAGER_CLASSES.filter((p) => all || classes.includes(p)).join(',') || '<none>'
  }
  return printed([
    '',
    `          username: ${user.username}`,
    '            secret: <Set>',
    '               ACL: yes',
    `         read perm: ${perms(user.read ?? user.write)}`,
    `        write perm: ${perms(user.write)}`,
    '   displayconnects: yes',
    'allowmultiplelogin: yes',
    '         Variables: ',
  ])
}

// ---------------------------------------------------------------------------------------------
// res/res_pjsip/location.c: `pjsip show contacts`, `pjsip show aors`

const CLI_LAST_TABSTOP = 62
const CLI_MAX_TITLE_NAME = 8
const HEADER_RULE = '='.repeat(90)

/** CLI_INDENT_TO_SPACES: the width of the right-aligned title at an indent level. */
function indentWidth(level: number): number {
  return level * 2 + 1 + CLI_MAX_TITLE_NAME
}

/** printf `%-N.Ns`. */
function fixedWidth(text: string, width: number): string {
  return text.slice(0, Math.max(width, 0)).padEnd(width)
}

const SHORT_STATUS: Record<string, string> = {
  Unreachable: 'Unavail',
  Reachable: 'Avail',
  Unknown: 'Unknown',
  NonQualified: 'NonQual',
  Removed: 'Removed',
}

function contactHeader(level: number): string {
  const indent = indentWidth(level)
  const filler = '.'.repeat(CLI_LAST_TABSTOP - indent - 23)
  return `${'Contact'.padStart(indent)}:  <Aor/ContactUri${filler}> <Hash....> <Status> <RTT(ms)..>`
}

function contactLine(contact: SimContact, level: number, sim: SimState): string {
  const indent = indentWidth(level)
  const uriWidth = CLI_LAST_TABSTOP - indent - 9 - contact.aor.length + 1
  const hash = contact.key.slice(contact.aor.length + 2)
  const qualify = sim.registrar.qualifyOf(contact.key)
  const rtt = qualify.status === 'Reachable' ? (qualify.roundtripUsec / 1000).toFixed(3) : 'nan'
  const status = SHORT_STATUS[qualify.status] ?? qualify.status
  const uri = fixedWidth(contact.fields.uri ?? '', uriWidth)
  return `${'Contact'.padStart(indent)}:  ${contact.aor}/${uri} ${fixedWidth(hash, 10)} ${fixedWidth(status, 7)} ${rtt.padStart(11)}`
}

/** ast_sip_cli_traverse_objects: a blank line, the header, the rule, the objects, the count. */
function objectListing(header: string[], body: string[], count: number): CliOutput {
  if (count === 0) return printed(['No objects found.', ''])
  return {
    success: true,
    head: ['', ...header, HEADER_RULE, ''],
    items: body,
    tail: ['', `Objects found: ${count}`, ''],
  }
}

function pjsipShowContacts(_args: string[], sim: SimState): CliOutput {
  const contacts = sim.registrar
    .allContacts()
    .map((contact) => ({ contact, id: `${contact.aor}/${contact.fields.uri ?? ''}` }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  const body = contacts.map(({ contact }) => contactLine(contact, 0, sim))
  return objectListing([contactHeader(0)], body, contacts.length)
}

function pjsipShowAors(_args: string[], sim: SimState): CliOutput {
  const aors = sim.registrar.sortedAors()
  const contactsByAor = sim.registrar.contactsByAor()
  const aorIndent = indentWidth(0)
  const header = `${'Aor'.padStart(aorIndent)}:  <Aor${'.'.repeat(CLI_LAST_TABSTOP - aorIndent - 7)}>  <MaxContact>`
  const body: string[] = []
  for (const aor of aors) {
    const name = fixedWidth(aor.name, CLI_LAST_TABSTOP - aorIndent - 12)
    body.push(`${'Aor'.padStart(aorIndent)}:  ${name} ${String(aor.maxContacts).padStart(12)}`)
    for (const contact of contactsByAor.get(aor.name) ?? []) body.push(contactLine(contact, 1, sim))
    body.push('')
  }
  return objectListing([header, contactHeader(1)], body, aors.length)
}

/** `pjsip show aor NAME`: the AOR, its contacts (retrieved, so expired ones are deleted: location.c contact_expire), its details. */
function pjsipShowAor(args: string[], sim: SimState): CliOutput | undefined {
  const name = args[3]
  if (name === undefined || args.length > 4) return undefined
  const aor = sim.registrar.aors.get(name)
  if (!aor) return printed([`Unable to find object ${name}.`, ''], false)
  const aorIndent = indentWidth(0)
  const header = `${'Aor'.padStart(aorIndent)}:  <Aor${'.'.repeat(CLI_LAST_TABSTOP - aorIndent - 7)}>  <MaxContact>`
  const body = [
    `${'Aor'.padStart(aorIndent)}:  ${fixedWidth(aor.name, CLI_LAST_TABSTOP - aorIndent - 12)} ${String(aor.maxContacts).padStart(12)}`,
    ...sim.registrar.contactsOf(aor.name).map((contact) => contactLine(contact, 1, sim)),
    '',
    '',
    ` max_contacts         : ${aor.maxContacts}`,
    ` qualify_frequency    : ${aor.qualifyFrequency}`,
  ]
  return {
    success: true,
    head: ['', header, contactHeader(1), HEADER_RULE, ''],
    items: body,
    tail: [''],
  }
}

// ---------------------------------------------------------------------------------------------

const COMMANDS: readonly CliCommand[] = [
  {
    words: ['database', 'show'],
    usage:
      'Usage: database show [family [keytree]]\n' +
      '   OR: database show [family[/keytree]]\n' +
      '       Shows Asterisk database contents, optionally restricted\n' +
      '       to a given family, or family and keytree. The two arguments\n' +
      '       may be separated either by a space or by a slash.\n',
    run: databaseShow,
  },
  {
    words: ['database', 'get'],
    usage:
      'Usage: database get <family> <key>\n' +
      '       Retrieves an entry in the Asterisk database for a given\n' +
      '       family and key.\n',
    run: databaseGet,
  },
  {
    words: ['database', 'put'],
    usage:
      'Usage: database put <family> <key> <value>\n' +
      '       Adds or updates an entry in the Asterisk database for\n' +
      '       a given family, key, and value.\n',
    run: databasePut,
  },
  {
    words: ['database', 'del'],
    usage:
      'Usage: database del <family> <key>\n' +
      '       Deletes an entry in the Asterisk database for a given\n' +
      '       family and key.\n',
    run: databaseDel,
  },
  {
    words: ['database', 'deltree'],
    usage:
      'Usage: database deltree <family> [keytree]\n' +
      '   OR: database deltree <family>[/keytree]\n' +
      '       Deletes a family or specific keytree within a family\n' +
      '       in the Asterisk database.  The two arguments may be\n' +
      '       separated by either a space or a slash.\n',
    run: databaseDeltree,
  },
  { words: ['pjsip', 'show', 'contacts'], run: pjsipShowContacts },
  { words: ['pjsip', 'show', 'aors'], run: pjsipShowAors },
  { words: ['pjsip', 'show', 'aor'], run: pjsipShowAor },
  { words: ['core', 'show', 'version'], run: (_args, sim) => printed([sim.versionLine]) },
  { words: ['manager', 'show', 'user'], run: managerShowUser },
]

function startsWithWords(args: string[], words: string[]): boolean {
  return words.every((word, i) => args[i]?.toLowerCase() === word)
}

/** find_best(): the words as far as some command starts with them, plus the first that matches none. */
function bestMatch(args: string[]): string {
  let length = 0
  while (length < args.length) {
    length++
    const prefix = args.slice(0, length).map((word) => word.toLowerCase())
    if (!COMMANDS.some((command) => prefix.every((word, i) => command.words[i] === word))) break
  }
  return args.slice(0, length).join(' ')
}

/** ast_cli_command(): runs one command line as the CLI would. */
export function runCli(line: string, sim: SimState): CliOutput {
  const args = parseCliArgs(line)
  if (args.length === 0) return printed([], false)
  const command = COMMANDS.find((candidate) => startsWithWords(args, candidate.words))
  if (!command) {
    return printed(
      [
        `No such command '${line}' (type 'core show help ${bestMatch(args)}' for other possible commands)`,
      ],
      false,
    )
  }
  return (
    command.run(args, sim) ?? printed((command.usage ?? '').replace(/\n$/, '').split('\n'), false)
  )
}
