// The AMI actions the sim answers, with the privileges main/manager.c checks (any one of the
// user's write= classes suffices) and the answers of main/manager.c and main/db.c.

import { randomInt } from 'node:crypto'
import { actionIdHeader, block, listComplete, listStart, response } from './ami.js'
import { MANAGER_CLASSES, runCli, type CliOutput } from './cli.js'
import { getConfig } from './config.js'
import { pjsipShowAors, pjsipShowContacts, pjsipShowEndpoint, pjsipShowEndpoints } from './pjsip.js'
import type { ActionContext, SimState, SimUser } from './context.js'
import { parseFilter } from './filter.js'

/** An action: `privileges` empty means anybody, logged in or not. */
interface ActionSpec {
  privileges: readonly string[]
  /** The synopsis ListCommands shows (Asterisk's XML documentation). */
  synopsis: string
  /** The strings Asterisk writes, one send_string() each. */
  run(ctx: ActionContext): string[]
}

const SYSTEM = ['system']
const SYSTEM_OR_REPORTING = ['system', 'reporting']

/** Asterisk's 'yes'/'no' words (ast_true, ast_false). */
const TRUE_WORDS = ['yes', 'true', 'y', 't', '1', 'on']
const FALSE_WORDS = ['no', 'false', 'n', 'f', '0', 'off']

function expandClasses(classes: readonly string[]): readonly string[] {
  return classes.includes('all') ? MANAGER_CLASSES : classes
}

/** set_eventmask: the Login's `Events` header (absent: everything) within the user's read classes. */
function eventClasses(user: SimUser, events: string): Set<string> {
  const readable = expandClasses(user.read ?? user.write)
  const word = events.trim().toLowerCase()
  if (FALSE_WORDS.includes(word)) return new Set()
  if (word === '' || TRUE_WORDS.includes(word)) return new Set(readable)
  const wanted = expandClasses(word.split(',').map((name) => name.trim()))
  return new Set(wanted.filter((name) => readable.includes(name)))
}

function login(ctx: ActionContext): string[] {
  const { session, request, sim, actionId } = ctx
  if (session.user) return [response('Success', actionId, 'Already authenticated')]
  // authenticate(): AuthType MD5 compares Key with md5(challenge + secret); any other AuthType, the Secret
  const user =
    request.get('AuthType').toLowerCase() === 'md5'
      ? sim.authenticateMd5(request.get('Username'), session.challenge, request.get('Key'))
      : sim.authenticate(request.get('Username'), request.get('Secret'))
  if (!user) {
    session.closing = true
    return [response('Error', actionId, 'Authentication failed')]
  }
  session.user = user
  session.eventClasses = eventClasses(user, request.get('Events'))
  const answer = [response('Success', actionId, 'Authentication accepted')]
  if (session.eventClasses.has('system')) {
    const uptime = String(sim.uptime())
    answer.push(
      block([
        ['Event', 'FullyBooted'],
        ['Privilege', 'system,all'],
        ['Uptime', uptime],
        ['LastReload', uptime],
        ['Status', 'Fully Booted'],
      ]),
    )
  }
  return answer
}

/** action_challenge(): AuthType MD5 (any case) gets the connection's challenge, made on first use:
 *  ast_random() printed with %ld into char[10], so at most 9 digits. Anything else: Must specify AuthType. */
function challenge(ctx: ActionContext): string[] {
  const { session, request, actionId } = ctx
  if (request.get('AuthType').toLowerCase() !== 'md5')
    return [response('Error', actionId, 'Must specify AuthType')]
  if (!session.challenge) session.challenge = String(randomInt(0, 2 ** 31)).slice(0, 9)
  // astman_start_ack (Response and ActionID, no Message), then the Challenge line and the blank line
  return [
    block([['Response', 'Success'], ...actionIdHeader(actionId), ['Challenge', session.challenge]]),
  ]
}

function logoff(ctx: ActionContext): string[] {
  ctx.session.closing = true
  return [response('Goodbye', ctx.actionId, 'Thanks for all the fish.')]
}

function ping(ctx: ActionContext): string[] {
  const micros = String((Date.now() % 1000) * 1000).padStart(6, '0')
  return [
    block([
      ['Response', 'Success'],
      ...actionIdHeader(ctx.actionId),
      ['Ping', 'Pong'],
      ['Timestamp', `${ctx.sim.now()}.${micros}`],
    ]),
  ]
}

/** action_coresettings() (main/manager.c): the node's settings, SystemName among them (asterisk.conf
 *  `systemname`, empty when unset). Privilege system or reporting. */
function coreSettings(ctx: ActionContext): string[] {
  return [
    block([
      ['Response', 'Success'],
      ...actionIdHeader(ctx.actionId),
      ['AMIversion', '9.0.0'],
      ['AsteriskVersion', ctx.sim.version === '13' ? '13.38.3' : '22.10.1'],
      ['SystemName', ctx.sim.systemName],
      ['CoreMaxCalls', '0'],
      ['CoreMaxLoadAvg', '0.000000'],
      ['CoreRunUser', ''],
      ['CoreRunGroup', ''],
      ['CoreMaxFilehandles', '0'],
      ['CoreRealTimeEnabled', 'No'],
      ['CoreCDRenabled', 'No'],
      ['CoreHTTPenabled', 'No'],
      ['SoundsSearchCustomDir', 'No'],
    ]),
  ]
}

/** The lines a CLI command printed, its items as `keep` lets them through. */
function cliLines(ctx: ActionContext, output: CliOutput): string[] {
  return [...output.head, ...ctx.keep(output.items), ...output.tail]
}

/** Asterisk ≥ 14: `Message: Command output follows`, then one `Output:` header per line (the last newline trimmed). */
function commandOutput(ctx: ActionContext, output: CliOutput): string[] {
  const lines = cliLines(ctx, output)
  const head = block([
    ['Response', output.success ? 'Success' : 'Error'],
    ...actionIdHeader(ctx.actionId),
  ]).slice(0, -2)
  const outputLines = (lines.length > 0 ? lines : ['']).map((line) => `Output: ${line}\r\n`)
  return [head, 'Message: Command output follows\r\n', ...outputLines, '\r\n']
}

/** Asterisk ≤ 13: `Response: Follows`, the raw CLI text, `--END COMMAND--`. */
function commandFollows(ctx: ActionContext, output: CliOutput): string[] {
  const text = cliLines(ctx, output)
    .map((line) => `${line}\n`)
    .join('')
  const head = ['Response: Follows\r\nPrivilege: Command\r\n']
  if (ctx.actionId) head.push(`ActionID: ${ctx.actionId}\r\n`)
  return [...head, text, '--END COMMAND--\r\n\r\n']
}

function command(ctx: ActionContext): string[] {
  const line = ctx.request.get('Command')
  if (!line) return [response('Error', ctx.actionId, 'No command provided')]
  const output = runCli(line, ctx.sim)
  return ctx.sim.version === '13' ? commandFollows(ctx, output) : commandOutput(ctx, output)
}

/** The Family and Key headers, or the error main/db.c answers when one is missing. */
function familyAndKey(
  ctx: ActionContext,
  period: '.' | '',
): { family: string; key: string } | string[] {
  const family = ctx.request.get('Family')
  const key = ctx.request.get('Key')
  if (!family) return [response('Error', ctx.actionId, `No family specified${period}`)]
  if (!key) return [response('Error', ctx.actionId, `No key specified${period}`)]
  return { family, key }
}

function dbGet(ctx: ActionContext): string[] {
  const target = familyAndKey(ctx, '.')
  if (Array.isArray(target)) return target
  const value = ctx.sim.astdb.get(target.family, target.key)
  if (value === undefined) return [response('Error', ctx.actionId, 'Database entry not found')]
  const item = block([
    ['Event', 'DBGetResponse'],
    ['Family', target.family],
    ['Key', target.key],
    ['Val', value],
    ...actionIdHeader(ctx.actionId),
  ])
  return [
    listStart(ctx.actionId, 'Result will follow'),
    ...ctx.keep([item]),
    ...listComplete('DBGetComplete', ctx.actionId, 1),
  ]
}

function dbGetTree(ctx: ActionContext): string[] {
  const rows = ctx.sim.astdb.tree(ctx.request.get('Family'), ctx.request.get('Key'))
  const items = rows.map((row) =>
    block([
      ['Event', 'DBGetTreeResponse'],
      ['Key', row.key],
      ['Val', row.value],
      ...actionIdHeader(ctx.actionId),
    ]),
  )
  return [
    listStart(ctx.actionId, 'Result will follow'),
    ...ctx.keep(items),
    ...listComplete('DBGetTreeComplete', ctx.actionId, rows.length),
  ]
}

function dbPut(ctx: ActionContext): string[] {
  const target = familyAndKey(ctx, '')
  if (Array.isArray(target)) return target
  ctx.sim.astdb.put(target.family, target.key, ctx.request.get('Val'))
  return [response('Success', ctx.actionId, 'Updated database successfully')]
}

function dbDel(ctx: ActionContext): string[] {
  const target = familyAndKey(ctx, '.')
  if (Array.isArray(target)) return target
  return ctx.sim.deleteDbEntry(target.family, target.key)
    ? [response('Success', ctx.actionId, 'Key deleted successfully')]
    : [response('Error', ctx.actionId, 'Database entry could not be deleted')]
}

function dbDelTree(ctx: ActionContext): string[] {
  const family = ctx.request.get('Family')
  if (!family) return [response('Error', ctx.actionId, 'No family specified.')]
  const deleted = ctx.sim.astdb.delTree(family, ctx.request.get('Key'))
  return deleted === 0
    ? [response('Error', ctx.actionId, 'Database entry not found')]
    : [response('Success', ctx.actionId, 'Key tree deleted successfully')]
}

/**
 * action_userevent(): acknowledged with `Event Sent`, then manager_event(EVENT_FLAG_USER) to every session
 * with read=user: `Event: UserEvent`, `Privilege: user,all`, `UserEvent: <name>`, then every header of the
 * action as sent except `Action` and `UserEvent` (the ActionID too).
 */
function userEvent(ctx: ActionContext): string[] {
  const body = ctx.request.headers.filter(([name]) => !/^(action|userevent)$/i.test(name))
  const event = block([
    ['Event', 'UserEvent'],
    ['Privilege', 'user,all'],
    ['UserEvent', ctx.request.get('UserEvent')],
    ...body,
  ])
  queueMicrotask(() => ctx.sim.broadcast([event], 'user'))
  return [response('Success', ctx.actionId, 'Event Sent')]
}

/**
 * action_filter(): `Operation: Add` (any case) adds `Filter` (legacy regex, `!` = exclude) or, with
 * `MatchCriteria`, an advanced filter to this session; the answer is `Response: Success`,
 * `Message: Success`, or the error main/manager.c words for each failure.
 */
function filter(ctx: ActionContext): string[] {
  const { request, actionId, session } = ctx
  if (request.get('Operation').toLowerCase() !== 'add')
    return [response('Error', actionId, 'Unknown operation')]
  const criteria = request.get('MatchCriteria')
  const added = parseFilter(
    criteria ? `eventfilter(${criteria})` : 'eventfilter',
    request.get('Filter'),
  )
  if (added === 'format')
    return [
      response(
        'Error',
        actionId,
        'Filter was formatted incorrectly.  Check the syntax of the filter given.',
      ),
    ]
  if (added === 'compile')
    return [
      response('Error', actionId, 'Filter did not compile.  Check the syntax of the filter given.'),
    ]
  session.filters.push(added)
  return [response('Success', actionId, 'Success')]
}

/**
 * ListCommands (main/manager.c action_listcommands): `Response: Success`, then one
 * `<Action>: <synopsis>  (Priv: <classes>,all)` header per action the user's write= classes
 * allow (`(Priv: <none>)` for those that need none), then a blank line. Seen on Asterisk 22.10.1:
 * `Command: Execute Asterisk CLI Command.  (Priv: command,all)`.
 */
function listCommands(ctx: ActionContext): string[] {
  const head = block([['Response', 'Success'], ...actionIdHeader(ctx.actionId)]).slice(0, -2)
  const lines = Object.values(ACTIONS)
    .filter(
      (spec) =>
        mayRun(ctx.session.user, spec) &&
        !(ctx.sim.version === '13' && NOT_IN_13.has(spec.name.toLowerCase())),
    )
    .map(
      (spec) =>
        `${spec.name}: ${spec.synopsis}  (Priv: ${spec.privileges.length ? `${spec.privileges.join(',')},all` : '<none>'})\r\n`,
    )
  return [head, ...lines, '\r\n']
}

type NamedSpec = ActionSpec & { name: string }

const ACTIONS: Record<string, NamedSpec> = {
  login: { name: 'Login', synopsis: 'Login Manager.', privileges: [], run: login },
  challenge: {
    name: 'Challenge',
    synopsis: 'Generate Challenge for MD5 Auth.',
    privileges: [],
    run: challenge,
  },
  logoff: { name: 'Logoff', synopsis: 'Logoff Manager.', privileges: [], run: logoff },
  ping: { name: 'Ping', synopsis: 'Keepalive command.', privileges: [], run: ping },
  coresettings: {
    name: 'CoreSettings',
    synopsis: 'Show PBX core settings (version etc).',
    privileges: SYSTEM_OR_REPORTING,
    run: coreSettings,
  },
  listcommands: {
    name: 'ListCommands',
    synopsis: 'List available manager commands.',
    privileges: [],
    run: listCommands,
  },
  command: {
    name: 'Command',
    synopsis: 'Execute Asterisk CLI Command.',
    privileges: ['command'],
    run: command,
  },
  dbget: { name: 'DBGet', synopsis: 'Get DB Entry.', privileges: SYSTEM_OR_REPORTING, run: dbGet },
  getconfig: {
    name: 'GetConfig',
    synopsis: 'Retrieve configuration.',
    privileges: ['system', 'config'],
    run: getConfig,
  },
  dbgettree: {
    name: 'DBGetTree',
    synopsis: 'Get DB entries, optionally at a particular family/key',
    privileges: SYSTEM_OR_REPORTING,
    run: dbGetTree,
  },
  dbput: { name: 'DBPut', synopsis: 'Put DB entry.', privileges: SYSTEM, run: dbPut },
  dbdel: { name: 'DBDel', synopsis: 'Delete DB entry.', privileges: SYSTEM, run: dbDel },
  dbdeltree: { name: 'DBDelTree', synopsis: 'Delete DB Tree.', privileges: SYSTEM, run: dbDelTree },
  pjsipshowaors: {
    name: 'PJSIPShowAors',
    synopsis: 'Lists PJSIP AORs.',
    privileges: SYSTEM,
    run: pjsipShowAors,
  },
  pjsipshowcontacts: {
    name: 'PJSIPShowContacts',
    synopsis: 'Lists PJSIP Contacts.',
    privileges: SYSTEM,
    run: pjsipShowContacts,
  },
  pjsipshowendpoint: {
    name: 'PJSIPShowEndpoint',
    synopsis: 'Detail listing of an endpoint and its objects.',
    privileges: SYSTEM,
    run: pjsipShowEndpoint,
  },
  pjsipshowendpoints: {
    name: 'PJSIPShowEndpoints',
    synopsis: 'Lists PJSIP endpoints.',
    privileges: SYSTEM,
    run: pjsipShowEndpoints,
  },
  filter: {
    name: 'Filter',
    synopsis: 'Dynamically add filters for the current manager session.',
    privileges: SYSTEM,
    run: filter,
  },
  userevent: {
    name: 'UserEvent',
    synopsis: 'Send an arbitrary event.',
    privileges: ['user'],
    run: userEvent,
  },
}

/** Actions Asterisk 13 does not have (DBGetTree came with 16.28, 18.14, 19.6). */
const NOT_IN_13 = new Set(['dbgettree'])

/** Actions that work before Login (process_message lets these through). */
const BEFORE_LOGIN = new Set(['login', 'logoff', 'challenge'])

function findAction(name: string, sim: SimState): ActionSpec | undefined {
  const key = name.toLowerCase()
  if (sim.version === '13' && NOT_IN_13.has(key)) return undefined
  if (sim.hooks?.lacksAction?.(key)) return undefined
  return Object.hasOwn(ACTIONS, key) ? ACTIONS[key] : undefined
}

function mayRun(user: SimUser | undefined, spec: ActionSpec): boolean {
  if (spec.privileges.length === 0) return true
  const classes = expandClasses(user?.write ?? [])
  return spec.privileges.some((privilege) => classes.includes(privilege))
}

/** process_message(): the answer to one message, as the strings Asterisk writes. */
export function answerAction(ctx: ActionContext): string[] {
  const action = ctx.request.action
  if (!action) return [response('Error', ctx.actionId, 'Missing action in request')]
  if (!ctx.session.user && !BEFORE_LOGIN.has(action.toLowerCase())) {
    return [response('Error', ctx.actionId, 'Permission denied')]
  }
  const spec = findAction(action, ctx.sim)
  if (!spec) {
    const message = `Invalid/unknown command: ${action}. Use Action: ListCommands to show available commands.`
    return [response('Error', ctx.actionId, message)]
  }
  if (!mayRun(ctx.session.user, spec)) return [response('Error', ctx.actionId, 'Permission denied')]
  return spec.run(ctx)
}
