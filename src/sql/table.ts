// What every realtime contacts table offers the commands, whatever the database: PostgreSQL (pg.ts) and
// MySQL/MariaDB (mysql.ts) implement it, and only those two files talk to a database. The commands
// (read, prune, restore) see a ContactTable and nothing of the driver.

import { realtimeColumns } from '../core/sorcery.js'
import type { Contact, ParseProblem } from '../core/types.js'
import { ContactStoreError } from '../errors.js'

/** Where a table is and as whom; `password` is never printed (`described` has none). */
export interface SqlTarget {
  host: string
  port: number
  database: string
  user: string
  password?: string
  /** `asterisk@127.0.0.1:5432/asterisk`, for messages. */
  described: string
}

/** What a compare-and-set did: done; the row is not as read (changed); there is no such row (vanished). */
export type RowOutcome = 'done' | 'changed' | 'vanished'

export interface ContactTable {
  /** The table's name as extconfig.conf gives it. */
  readonly table: string
  readonly target: SqlTarget
  /** Every row as a contact (or a problem), each cut down by `keep`; `all`: every column, else `columns`. */
  read(
    all: boolean,
    columns: readonly string[],
    keep?: (contact: Contact) => Contact,
  ): Promise<{ contacts: Contact[]; problems: ParseProblem[]; rows: number }>
  /** The row of this contact now, as `read(true)` gives its value; null when there is none. */
  current(key: string): Promise<string | null>
  /** Sets expiration_time where the row is still exactly `value` (one statement). */
  expire(key: string, value: string, expirationTime?: string): Promise<RowOutcome>
  /** Deletes the row where it is still exactly `value` (one statement). */
  remove(key: string, value: string): Promise<RowOutcome>
  /** Which of these contacts still have a row. */
  existing(keys: readonly string[]): Promise<Set<string>>
  /** Inserts the stored row; false (nothing written) when a row with that id (or any unique key) exists. */
  insert(value: string): Promise<boolean>
  close(): Promise<void>
}

/**
 * The compare of compare-and-set: for every column of the table, `cell(column, i)` (the database's "this
 * column's text equals parameter i, NULL equal to NULL"), joined with AND; the parameters are the text
 * read (NULL where the row had none). null when `value` is not a row of this table as pjctl keeps it.
 */
function sameRowAs(
  value: string,
  columns: readonly string[],
  cell: (column: string, index: number) => string,
): { where: string; params: (string | null)[] } | null {
  const stored = realtimeColumns(value)
  if (!stored) return null
  if (Object.keys(stored).some((name) => !columns.includes(name))) return null
  return {
    where: columns.map((c, i) => cell(c, i)).join(' AND '),
    params: columns.map((c) => stored[c] ?? null),
  }
}

/**
 * What PostgreSQL and MySQL share: the compare-and-set statements (expire, remove) and what a failure
 * says. A driver gives its SQL for "this column's text equals parameter n", its placeholders and how
 * many rows a statement changed; a row the statement did not change is then looked up to tell
 * "changed since the plan" from "gone".
 */
export abstract class SqlContactTable implements ContactTable {
  protected constructor(
    readonly table: string,
    protected readonly quotedTable: string,
    readonly target: SqlTarget,
    /** 'PostgreSQL', 'MySQL': for messages. */
    private readonly database: string,
  ) {}

  abstract read(
    all: boolean,
    columns: readonly string[],
    keep?: (contact: Contact) => Contact,
  ): Promise<{ contacts: Contact[]; problems: ParseProblem[]; rows: number }>
  abstract current(key: string): Promise<string | null>
  abstract existing(keys: readonly string[]): Promise<Set<string>>
  abstract insert(value: string): Promise<boolean>
  abstract close(): Promise<void>

  /** The table's columns in table order (read once). */
  protected abstract tableColumns(): Promise<string[]>
  /** SQL for "this column's text equals parameter n (from 1), NULL equal to NULL". */
  protected abstract sameCell(column: string, n: number): string
  /** The placeholder of parameter n (from 1). */
  protected abstract placeholder(n: number): string
  /** Runs one statement; how many rows it changed. */
  protected abstract change(sql: string, params: unknown[]): Promise<number>

  protected fail(what: string, error: unknown): ContactStoreError {
    return new ContactStoreError(
      `${this.database} ${this.target.described}: ${what} ${this.table}: ${(error as Error).message}`,
    )
  }

  expire(key: string, value: string, expirationTime = '1'): Promise<RowOutcome> {
    return this.compareAndSet(
      key,
      value,
      `UPDATE ${this.quotedTable} SET expiration_time = ${this.placeholder(1)} WHERE`,
      [expirationTime],
      'cannot update',
    )
  }

  remove(key: string, value: string): Promise<RowOutcome> {
    return this.compareAndSet(
      key,
      value,
      `DELETE FROM ${this.quotedTable} WHERE`,
      [],
      'cannot delete from',
    )
  }

  /** `head` + "every column still as in `value`", after the `lead` parameters: one statement. */
  private async compareAndSet(
    key: string,
    value: string,
    head: string,
    lead: unknown[],
    what: string,
  ): Promise<RowOutcome> {
    const columns = await this.tableColumns()
    const same = sameRowAs(value, columns, (c, i) => this.sameCell(c, lead.length + i + 1))
    if (!same) return 'changed'
    let changed: number
    try {
      changed = await this.change(`${head} ${same.where}`, [...lead, ...same.params])
    } catch (error) {
      throw this.fail(what, error)
    }
    if (changed) return 'done'
    return (await this.current(key)) === null ? 'vanished' : 'changed'
  }
}
