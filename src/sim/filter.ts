// AMI event filters as main/manager.c implements them (action_filter, manager_add_filter,
// should_send_event, filter_cmp_fn, match_eventdata).
//
// - `Filter: <regex>` (legacy): a POSIX extended regex over the whole event text; a leading `!` makes it
//   an exclude filter.
// - `MatchCriteria: action(include|exclude),name(<Event>),header(<Name>),method(regex|exact|starts_with|
//   ends_with|contains|none)` (advanced, Asterisk 20.8/21.3 and later): match on the event's name, on one
//   header's value, or on the whole text.
// - No filter: every event. Include filters only: an event must match one. Exclude filters only: an
//   event must match none. Both: it must match an include filter and no exclude filter.

type MatchMethod = 'regex' | 'exact' | 'starts_with' | 'ends_with' | 'contains' | 'none'

export interface EventFilter {
  exclude: boolean
  /** Only events of this name (compared by hash in Asterisk: exact, case-sensitive). */
  eventName?: string
  /** Only this header's value (`Name:`, matched with ast_begins_with on each line). */
  header?: string
  method: MatchMethod
  pattern: string
  regex?: RegExp
}

export type FilterResult = EventFilter | 'format' | 'compile'

/** POSIX bracket classes JavaScript does not know, as JavaScript writes them. */
const POSIX_CLASSES: Record<string, string> = {
  alpha: 'A-Za-z',
  digit: '0-9',
  alnum: 'A-Za-z0-9',
  upper: 'A-Z',
  lower: 'a-z',
  space: ' \\t\\r\\n\\v\\f',
  blank: ' \\t',
  punct: '!-\\/:-@\\[-`{-~',
  xdigit: '0-9A-Fa-f',
}

/** regcomp(REG_EXTENDED | REG_NOSUB) as far as pjctl's and an admin's filters go: ERE with POSIX classes. */
function compile(pattern: string): RegExp | null {
  const source = pattern.replace(
    /\[:([a-z]+):\]/g,
    (whole, name: string) =>
      (Object.hasOwn(POSIX_CLASSES, name) ? POSIX_CLASSES[name] : undefined) ?? whole,
  )
  try {
    return new RegExp(source)
  } catch {
    return null
  }
}

/** manager_add_filter(criteria, filter_pattern). `criteria` is `eventfilter` or `eventfilter(<options>)`. */
export function parseFilter(criteria: string, filterPattern: string): FilterResult {
  let pattern = filterPattern
  let exclude = false
  if (pattern.startsWith('!')) {
    exclude = true
    pattern = pattern.slice(1)
  }
  const filter: EventFilter = { exclude, method: 'regex', pattern }
  const open = criteria.indexOf('(')
  if (open < 0 && pattern === '') return 'format'
  if (open >= 0) {
    filter.method = 'none'
    const options = criteria.slice(open + 1).trim()
    if (!options.endsWith(')')) return 'format'
    let found = { action: false, name: false, header: false, method: false }
    for (const option of options.split(/[ ,)]+/).filter(Boolean)) {
      const arg = option.includes('(') ? option.slice(option.indexOf('(') + 1).trim() : null
      if (option.startsWith('action')) {
        if (!arg) return 'format'
        if (arg === 'include') filter.exclude = false
        else if (arg === 'exclude') filter.exclude = true
        else return 'format'
        found = { ...found, action: true }
      } else if (option.startsWith('name')) {
        if (!arg) return 'format'
        filter.eventName = arg
        found = { ...found, name: true }
      } else if (option.startsWith('header')) {
        if (!arg) return 'format'
        filter.header = arg.endsWith(':') ? arg : `${arg}:`
        found = { ...found, header: true }
      } else if (option.startsWith('method')) {
        if (!arg) return 'format'
        if (!['regex', 'exact', 'starts_with', 'ends_with', 'contains', 'none'].includes(arg))
          return 'format'
        filter.method = arg as MatchMethod
        found = { ...found, method: true }
      } else return 'format'
    }
    if (!found.action && !found.name && !found.header && !found.method) return 'format'
    if (pattern === '' && filter.method !== 'none') return 'format'
    if (pattern !== '' && filter.method === 'none') return 'format'
    if (!found.name && !found.header && filter.method === 'none') return 'format'
  }
  if (pattern !== '' && filter.method === 'regex') {
    const regex = compile(pattern)
    if (!regex) return 'compile'
    filter.regex = regex
  }
  return filter
}

function matchData(filter: EventFilter, data: string): boolean {
  switch (filter.method) {
    case 'regex':
      return filter.regex?.test(data) ?? false
    case 'starts_with':
      return data.startsWith(filter.pattern)
    case 'ends_with':
      return data.endsWith(filter.pattern)
    case 'contains':
      return data.includes(filter.pattern)
    case 'exact':
      return data === filter.pattern
    case 'none':
      return true
  }
}

/** filter_cmp_fn: does one filter match this event (its whole text, `Event: <name>\r\n...`)? */
function matches(filter: EventFilter, event: string): boolean {
  if (filter.eventName !== undefined && eventNameOf(event) !== filter.eventName) return false
  if (filter.header === undefined) return matchData(filter, event)
  for (const line of event.split(/\r?\n/)) {
    if (!line.startsWith(filter.header)) continue
    // eslint-disable-next-line no-control-regex -- ast_skip_blanks: every character below '!' is skipped
    const value = line.slice(filter.header.length).replace(/^[\x00-\x20]+/, '')
    if (value && matchData(filter, value)) return true
  }
  return false
}

function eventNameOf(event: string): string {
  const match = /^Event: ([^\r\n]*)/.exec(event)
  return match?.[1] ?? ''
}

/** should_send_event(). */
export function shouldSend(filters: readonly EventFilter[], event: string): boolean {
  const include = filters.filter((f) => !f.exclude)
  const exclude = filters.filter((f) => f.exclude)
  if (!include.length && !exclude.length) return true
  if (include.length && !include.some((f) => matches(f, event))) return false
  return !exclude.some((f) => matches(f, event))
}
