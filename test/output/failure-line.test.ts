// A fleet member that could not be read is one sanitised line in every table that lists servers.
import { describe, expect, it } from 'vitest'
import { contactsTable } from '../../src/output/contacts.js'
import { doctorTable } from '../../src/output/doctor.js'
import { sourcesTable } from '../../src/output/sources.js'
import type { ServerFailure } from '../../src/commands/views.js'

const failure: ServerFailure = {
  kind: 'failure',
  server: 'pbx\u001b[2J',
  message: 'login failed: \u001b]0;owned\u0007Authentication failed\r\nx',
  exit: 3,
}
const style = { color: false, indent: 0, raw: false, columns: 80, tty: true } as never
const expected =
  'pbx\\u001b[2J: could not read: login failed: \\u001b]0;owned\\u0007Authentication failed\\r\\nx'

describe('a server that could not be read, in a table', () => {
  it.each([
    [
      'contacts',
      () => contactsTable({ generatedAt: 0, servers: [failure], advice: [], fleet: true }, style),
    ],
    [
      'sources',
      () => sourcesTable({ generatedAt: 0, limit: null, servers: [failure], fleet: true }, style),
    ],
    [
      'doctor',
      () => doctorTable({ generatedAt: 0, limit: null, servers: [failure], fleet: true }, style),
    ],
  ])(
    '%s: one line, control characters shown escaped, never sent to the terminal',
    (_name, draw) => {
      // eslint-disable-next-line @typescript-eslint/no-base-to-string -- each case draws a string
      const text = String(draw())
      expect(text.split('\n')).toContain(expected)
      expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/)
    },
  )
})
