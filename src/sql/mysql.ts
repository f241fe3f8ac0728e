// Contacts in a MySQL/MariaDB realtime table (sorcery.conf contact=realtime,<family>; extconfig.conf
// <family> => mysql,<res_config_mysql.conf section>): the only code that talks to MySQL (mysql2, loaded
// only when a server keeps its contacts there). Every value is read and compared as the server's text,
// as res_config_mysql reads it; the commands see a ContactTable (table.ts), as for PostgreSQL.
//
// - read: one SELECT of the columns needed (every column for prune and --raw), rows as arrays of text.
// - compare-and-set: one statement per contact, `WHERE <every column's text, compared byte for byte
//   (the schema's collation is case-insensitive), <=> the text read>`.
// - insert (restore): a plain INSERT; a duplicate key (the row exists) writes nothing and says so.

import type { Connection, FieldPacket, ResultSetHeader } from 'mysql2/promise'
import { contactFromRealtimeRow, escapeRealtimeId, realtimeColumns } from '../core/sorcery.js'
import type { Contact, ParseProblem } from '../core/types.js'
import { ContactStoreError } from '../errors.js'
import { SqlContactTable, type SqlTarget } from './table.js'

/** `name` quoted for MySQL: `x`, with a backtick doubled. */
function quoteIdentifier(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``
}

type Row = (string | null)[]
type MysqlModule = typeof import('mysql2/promise')

export class MysqlContacts extends SqlContactTable {
  /** The table's columns in table order, known after a read of every column. */
  private columns: string[] | null = null

  private constructor(
    private readonly connection: Connection,
    table: string,
    quotedTable: string,
    target: SqlTarget,
    private readonly timeoutMs: number,
  ) {
    super(table, quotedTable, target, 'MySQL')
  }

  static async open(
    target: SqlTarget,
    table: string,
    timeoutSeconds: number,
  ): Promise<MysqlContacts> {
    // a CommonJS module: bundled, its exports are the default export's
    const loaded = (await import('mysql2/promise')) as MysqlModule & { default?: MysqlModule }
    const { createConnection } = loaded.default ?? loaded
    const timeoutMs = Math.ceil(timeoutSeconds * 1000)
    let connection: Connection
    try {
      connection = await createConnection({
        ...(target.host.startsWith('/')
          ? { socketPath: target.host }
          : { host: target.host, port: target.port }),
        user: target.user,
        database: target.database,
        ...(target.password !== undefined ? { password: target.password } : {}),
        connectTimeout: timeoutMs,
        // every value as the server's text, as res_config_mysql reads it (no number or date parsing)
        typeCast: (field) => field.string(),
        supportBigNumbers: true,
        bigNumberStrings: true,
        dateStrings: true,
        charset: 'utf8mb4',
      })
    } catch (error) {
      throw new ContactStoreError(
        `cannot connect to MySQL ${target.described} for the contacts (table ${table}): ${(error as Error).message}`,
        'pjctl found these settings in res_config_mysql.conf (GetConfig); --contacts-db URL (or PJCTL_CONTACTS_DB, or contactsDb in the config file) overrides them',
      )
    }
    connection.on('error', () => undefined)
    const quoted = table.split('.').map(quoteIdentifier).join('.')
    return new MysqlContacts(connection, table, quoted, target, timeoutMs)
  }

  async close(): Promise<void> {
    await this.connection.end().catch(() => undefined)
  }

  private async rows(
    sql: string,
    values: unknown[] = [],
  ): Promise<{ names: string[]; rows: Row[] }> {
    const [rows, fields] = (await this.connection.query({
      sql,
      values,
      rowsAsArray: true,
      timeout: this.timeoutMs,
    })) as unknown as [Row[], FieldPacket[]]
    return { names: fields.map((f) => f.name), rows }
  }

  protected async change(sql: string, values: unknown[]): Promise<number> {
    const [result] = (await this.connection.query({
      sql,
      values,
      timeout: this.timeoutMs,
    })) as unknown as [ResultSetHeader]
    return result.affectedRows
  }

  async read(
    all: boolean,
    columns: readonly string[],
    keep: (contact: Contact) => Contact = (c) => c,
  ): Promise<{ contacts: Contact[]; problems: ParseProblem[]; rows: number }> {
    const list = all ? '*' : columns.map(quoteIdentifier).join(', ')
    let result
    try {
      result = await this.rows(`SELECT ${list} FROM ${this.quotedTable}`)
    } catch (error) {
      throw this.fail('cannot read table', error)
    }
    if (all) this.columns = result.names
    const contacts: Contact[] = []
    const problems: ParseProblem[] = []
    for (const [i, row] of result.rows.entries()) {
      const contact = contactFromRealtimeRow(result.names, row)
      if (typeof contact === 'string')
        problems.push({ line: i + 1, reason: contact, text: JSON.stringify(row).slice(0, 160) })
      else contacts.push(keep(contact))
    }
    return { contacts, problems, rows: result.rows.length }
  }

  /** The table's columns (read once). */
  protected async tableColumns(): Promise<string[]> {
    if (this.columns) return this.columns
    try {
      this.columns = (await this.rows(`SELECT * FROM ${this.quotedTable} LIMIT 0`)).names
      return this.columns
    } catch (error) {
      throw this.fail('cannot read table', error)
    }
  }

  /** A column's text compared byte for byte with a parameter (the schema's collation ignores case), NULL equal to NULL. */
  protected sameCell(column: string): string {
    return `CAST(CAST(${quoteIdentifier(column)} AS CHAR) AS BINARY) <=> CAST(? AS BINARY)`
  }

  protected placeholder(): string {
    return '?'
  }

  async current(key: string): Promise<string | null> {
    const id = escapeRealtimeId(key)
    try {
      // the schema's collation is case-insensitive: `id = ?` finds the candidates, the exact one is kept here
      const { names, rows } = await this.rows(`SELECT * FROM ${this.quotedTable} WHERE id = ?`, [
        id,
      ])
      const at = names.indexOf('id')
      const row = rows.find((r) => r[at] === id)
      if (!row) return null
      const contact = contactFromRealtimeRow(names, row)
      return typeof contact === 'string' ? null : contact.value
    } catch (error) {
      throw this.fail('cannot read', error)
    }
  }

  async existing(keys: readonly string[]): Promise<Set<string>> {
    if (!keys.length) return new Set()
    const ids = keys.map(escapeRealtimeId)
    try {
      const { rows } = await this.rows(
        `SELECT id FROM ${this.quotedTable} WHERE id IN (${ids.map(() => '?').join(', ')})`,
        ids,
      )
      const found = new Set(rows.map((r) => r[0]))
      return new Set(keys.filter((k) => found.has(escapeRealtimeId(k))))
    } catch (error) {
      throw this.fail('cannot read', error)
    }
  }

  async insert(value: string): Promise<boolean> {
    const stored = realtimeColumns(value)
    if (!stored) throw new ContactStoreError(`not a ${this.table} row: ${value.slice(0, 80)}`)
    const columns = Object.keys(stored)
    try {
      await this.change(
        `INSERT INTO ${this.quotedTable} (${columns.map(quoteIdentifier).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
        columns.map((c) => stored[c]),
      )
      return true
    } catch (error) {
      // a row with this id (or another unique key) exists: nothing written, never overwritten
      if ((error as { code?: string }).code === 'ER_DUP_ENTRY') return false
      throw this.fail('cannot insert into', error)
    }
  }
}
