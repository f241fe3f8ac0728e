// A fleet member that could not be read, as every fleet view shows it (contacts, sources, doctor, check, prune).

import type { ServerFailure } from '../commands/views.js'
import { printable } from '../text.js'
import type { paint } from './style.js'

/** A fleet member that could not be read, in a table: one red line, its text sanitised (contacts, sources, doctor). */
export function failureLine(failure: ServerFailure, c: ReturnType<typeof paint>): string {
  return c.red(`${printable(failure.server)}: could not read: ${printable(failure.message)}`)
}

export function failureJson(failure: ServerFailure): object {
  return {
    server: failure.server,
    error: failure.message,
    hint: failure.hint ?? null,
    exitCode: failure.exit,
  }
}
