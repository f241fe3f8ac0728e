// Typed errors and exit codes. Imports only the leaf text.ts: every layer may throw these;
// only src/cli.ts turns them into output and an exit code.

import { printable } from './text.js'

export const EXIT = {
  ok: 0,
  /** check: WARNING. Otherwise: the command ran but something failed (a deletion, the prune lock). */
  failed: 1,
  /** check: CRITICAL. Otherwise: usage or input error. */
  usage: 2,
  /** could not read the server (check: UNKNOWN). */
  unreadable: 3,
  interrupted: 130,
} as const
export type ExitCode = (typeof EXIT)[keyof typeof EXIT]

export abstract class PjctlError extends Error {
  abstract readonly exit: ExitCode
  constructor(
    message: string,
    readonly hint?: string,
    options?: ErrorOptions,
  ) {
    super(message, options)
    this.name = new.target.name
  }
}

/** Bad flag, bad value, refused name; prune without a TTY and without --yes. */
export class UsageError extends PjctlError {
  readonly exit = EXIT.usage
}

/** Unreadable dump or config file; --strict parse failure; gen refusal. */
export class InputError extends PjctlError {
  readonly exit = EXIT.usage
}

/** Why a file could not be read, in words: ENOENT → `no such file`. */
const UNREADABLE: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  ENOTDIR: 'no such file (a part of the path is not a directory)',
  EISDIR: 'is a directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ELOOP: 'too many levels of symbolic links',
}

/** `cannot read FILE: no such file` (exit 2) for an input file pjctl was told to read; control characters in FILE escaped. */
export function cannotRead(path: string, error: unknown): InputError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  const reason =
    (code && UNREADABLE[code]) ?? code ?? (error instanceof Error ? error.message : String(error))
  return new InputError(`cannot read ${printable(path)}: ${reason}`)
}

/** The command ran but could not finish its job (prune lock held, a delete failed). */
export class FailedError extends PjctlError {
  readonly exit = EXIT.failed
}

/** Ctrl-C at a prompt (or before anything was changed): exit 130, nothing done. */
export class InterruptedError extends PjctlError {
  readonly exit = EXIT.interrupted
}

/** Anything that stops pjctl from reading the server: refused, DNS, timeout, auth, privilege, closed. */
export class AmiError extends PjctlError {
  readonly exit = EXIT.unreadable
}

/** Login answered `Authentication failed`. */
export class AuthError extends AmiError {}

/** An action answered `Permission denied`. `needs` names the manager.conf write= classes that would allow it. */
export class PermissionError extends AmiError {
  constructor(
    readonly action: string,
    readonly needs: readonly string[],
    hint?: string,
  ) {
    super(
      `AMI ${action.includes(' and ') ? `actions ${action} were` : `action ${action} was`} refused: permission denied (needs write=${needs.join(' or ')})`,
      hint,
    )
  }
}

/** The server does not know the action (older Asterisk): `Invalid/unknown command`. */
export class UnknownActionError extends AmiError {
  constructor(readonly action: string) {
    super(`the server does not know AMI action ${action}`)
  }
}

/** An action answered `Response: Error` for another reason. */
export class ActionFailedError extends AmiError {
  constructor(
    readonly action: string,
    readonly serverMessage: string,
  ) {
    super(`AMI action ${action} failed: ${serverMessage}`)
  }
}

/** No answer (not a byte) to an action within --timeout. */
export class ActionTimeoutError extends AmiError {
  constructor(
    readonly action: string,
    message: string,
    hint?: string,
  ) {
    super(message, hint)
  }
}

/** Contacts live where pjctl cannot read them (sorcery.conf maps them to memory, an unknown wizard, an unreachable
 *  database): exit 3, never an answer from the wrong place. */
export class ContactStoreError extends PjctlError {
  readonly exit = EXIT.unreadable
}

/** The answer's own count (`N results found.`, `ListItems`) disagrees with what was parsed. */
export class IncompleteAnswerError extends AmiError {}

/** A value that would be written into an AMI header contains CR, LF or NUL (header injection). */
export class HeaderInjectionError extends UsageError {}
