// The AMI wire format as main/manager.c reads and writes it.

/** One header line as parsed: the name as sent, the value after the colon with leading blanks skipped. */
export type Header = [name: string, value: string]

/** A header line: `Name: value` (a line without a colon is a name with an empty value). */
export function parseHeader(line: string): Header {
  const colon = line.indexOf(':')
  if (colon < 0) return [line, '']
  // ast_skip_blanks: every character below '!' is skipped
  // eslint-disable-next-line no-control-regex -- the control characters are what it skips
  return [line.slice(0, colon), line.slice(colon + 1).replace(/^[\x00-\x20]+/, '')]
}

/** One message received from a client. */
export class AmiRequest {
  constructor(readonly headers: Header[]) {}

  /** astman_get_header: the first header of that name, case-insensitive; '' when absent. */
  get(name: string): string {
    const wanted = name.toLowerCase()
    return this.headers.find(([header]) => header.toLowerCase() === wanted)?.[1] ?? ''
  }

  /** The action: the first non-empty `Action` header (GET_HEADER_SKIP_EMPTY). */
  get action(): string {
    return (
      this.headers.find(
        ([header, value]) => header.toLowerCase() === 'action' && value !== '',
      )?.[1] ?? ''
    )
  }
}

/** Header lines, then the blank line that ends a message. */
export function block(headers: Header[]): string {
  const lines: string[] = []
  for (const [name, value] of headers) lines.push(`${name}: ${value}\r\n`)
  lines.push('\r\n')
  return lines.join('')
}

/** `ActionID: <id>` when the action had one. */
export function actionIdHeader(actionId: string): Header[] {
  return actionId ? [['ActionID', actionId]] : []
}

/** astman_send_response_full: Response, ActionID, EventList, Message, blank line. */
export function response(
  kind: 'Success' | 'Error' | 'Goodbye',
  actionId: string,
  message?: string,
  listFlag?: string,
): string {
  const headers: Header[] = [['Response', kind], ...actionIdHeader(actionId)]
  if (listFlag) headers.push(['EventList', listFlag])
  if (message !== undefined) headers.push(['Message', message])
  return block(headers)
}

/** astman_send_listack: the `EventList: start` answer of a list action. */
export function listStart(actionId: string, message: string): string {
  return response('Success', actionId, message, 'start')
}

/** ast_sip_create_ami_event and its fields: Event, ActionID, fields, blank line. */
export function event(name: string, actionId: string, fields: Header[]): string {
  return block([['Event', name], ...actionIdHeader(actionId), ...fields])
}

/** astman_send_list_complete_start and _end: two writes, the event and its blank line. */
export function listComplete(name: string, actionId: string, count: number): string[] {
  const start = event(name, actionId, [
    ['EventList', 'Complete'],
    ['ListItems', String(count)],
  ])
  return [start.slice(0, -2), '\r\n']
}
