// Contacts in a PostgreSQL realtime table (sorcery.conf contact=realtime,<family>; extconfig.conf
// <family> => pgsql,...): the only code that talks to PostgreSQL (node-postgres, loaded only when a
// server keeps its contacts there). Every value is read and compared as text, as res_config_pgsql does.
//
// - read: one COPY … TO STDOUT of the columns needed (every column for prune and --raw), parsed as it
//   streams in (pg-copy-streams hands pjctl the COPY data; CopyTextRows splits it).
// - compare-and-set: one statement per contact, `WHERE id = $1 AND <every column IS NOT DISTINCT FROM
//   the text read>`: a row that changed since the plan (the phone registered again) is left alone.
// - insert (restore): ON CONFLICT DO NOTHING, never over an existing row.

import type { Client, ClientConfig } from 'pg'
import { contactFromRealtimeRow, escapeRealtimeId, realtimeColumns } from '../core/sorcery.js'
import type { Contact, ParseProblem } from '../core/types.js'
import { ContactStoreError } from '../errors.js'
import { CopyTextRows } from './copytext.js'
import { SqlContactTable, type SqlTarget } from './table.js'

export type PgTarget = SqlTarget

/** Every value as PostgreSQL's text, as res_config_pgsql reads it (no number or date parsing). */
const AS_TEXT = { getTypeParser: () => (value: string) => value }

export class PgContacts extends SqlContactTable {
  /** The table's columns in table order, known after a read of every column. */
  private columns: string[] | null = null

  private constructor(
    private readonly client: Client,
    table: string,
    quotedTable: string,
    target: PgTarget,
  ) {
    super(table, quotedTable, target, 'PostgreSQL')
  }

  static async open(target: PgTarget, table: string, timeoutSeconds: number): Promise<PgContacts> {
    const { default: pg } = await import('pg')
    const config: ClientConfig = {
      host: target.host,
      port: target.port,
      database: target.database,
      user: target.user,
      connectionTimeoutMillis: Math.ceil(timeoutSeconds * 1000),
      query_timeout: Math.ceil(timeoutSeconds * 1000),
      application_name: 'pjctl',
      types: AS_TEXT,
    }
    if (target.password !== undefined) config.password = target.password
    const client = new pg.Client(config)
    client.on('error', () => undefined)
    try {
      await client.connect()
    } catch (error) {
      await client.end().catch(() => undefined)
      throw new ContactStoreError(
        `cannot connect to PostgreSQL ${target.described} for the contacts (table ${table}): ${(error as Error).message}`,
        'pjctl found these settings in res_pgsql.conf (GetConfig); --contacts-db URL (or PJCTL_CONTACTS_DB, or contactsDb in the config file) overrides them',
      )
    }
    const quoted = table
      .split('.')
      .map((part) => client.escapeIdentifier(part))
      .join('.')
    return new PgContacts(client, table, quoted, target)
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined)
  }

  /**
   * Every row as a contact (or a problem), each cut down by `keep` as it arrives. `all`: every column
   * (the stored value is whole, for compare and backups); otherwise only the columns pjctl judges by.
   *
   * One `COPY … TO STDOUT` (text format): PostgreSQL streams the rows as tab-separated text, which is
   * split and turned into contacts chunk by chunk while the rest is still arriving. No result set is
   * materialised, and no row object or per-column string is made for a column pjctl does not use.
   */
  async read(
    all: boolean,
    columns: readonly string[],
    keep: (contact: Contact) => Contact = (c) => c,
  ): Promise<{ contacts: Contact[]; problems: ParseProblem[]; rows: number }> {
    const names = all ? await this.tableColumns() : [...columns]
    const list = names.map((c) => this.client.escapeIdentifier(c)).join(', ')
    const contacts: Contact[] = []
    const problems: ParseProblem[] = []
    let count = 0
    const rows = new CopyTextRows((row) => {
      count++
      if (row.length !== names.length) {
        problems.push({
          line: count,
          reason: `${row.length} columns, not ${names.length}`,
          text: JSON.stringify(row).slice(0, 160),
        })
        return
      }
      const contact = contactFromRealtimeRow(names, row, all)
      if (typeof contact === 'string')
        problems.push({ line: count, reason: contact, text: JSON.stringify(row).slice(0, 160) })
      else contacts.push(keep(contact))
    })
    try {
      const { default: copy } = await import('pg-copy-streams')
      const stream = this.client.query(copy.to(`COPY ${this.quotedTable} (${list}) TO STDOUT`))
      try {
        for await (const chunk of stream) rows.push(chunk as Buffer)
      } finally {
        // node-postgres arms its query_timeout timer around a streaming query's callback, which a
        // COPY stream never calls: call it, or the armed timer keeps pjctl running until it fires
        ;(stream as { callback?: (error: null) => void }).callback?.(null)
      }
      rows.finish()
    } catch (error) {
      throw this.fail('cannot read table', error)
    }
    return { contacts, problems, rows: count }
  }

  /** The table's columns (read once). */
  protected async tableColumns(): Promise<string[]> {
    if (this.columns) return this.columns
    try {
      const result = await this.client.query({
        text: `SELECT * FROM ${this.quotedTable} LIMIT 0`,
        rowMode: 'array',
      })
      this.columns = result.fields.map((f) => f.name)
      return this.columns
    } catch (error) {
      throw this.fail('cannot read table', error)
    }
  }

  protected sameCell(column: string, n: number): string {
    return `${this.client.escapeIdentifier(column)}::text IS NOT DISTINCT FROM $${n}`
  }

  protected placeholder(n: number): string {
    return `$${n}`
  }

  protected async change(sql: string, params: unknown[]): Promise<number> {
    return (await this.client.query(sql, params)).rowCount ?? 0
  }

  /** The row of this contact now, as `read(true)` would give its value; null when there is none. */
  async current(key: string): Promise<string | null> {
    try {
      const result = await this.client.query({
        text: `SELECT * FROM ${this.quotedTable} WHERE id = $1`,
        values: [escapeRealtimeId(key)],
        rowMode: 'array',
      })
      if (!result.rows.length) return null
      const contact = contactFromRealtimeRow(
        result.fields.map((f) => f.name),
        result.rows[0] as (string | null)[],
      )
      return typeof contact === 'string' ? null : contact.value
    } catch (error) {
      throw this.fail('cannot read', error)
    }
  }

  /** Which of these contacts still have a row. */
  async existing(keys: readonly string[]): Promise<Set<string>> {
    if (!keys.length) return new Set()
    try {
      const result = await this.client.query({
        text: `SELECT id FROM ${this.quotedTable} WHERE id = ANY($1::text[])`,
        values: [keys.map(escapeRealtimeId)],
        rowMode: 'array',
      })
      const found = new Set((result.rows as string[][]).map((r) => r[0]))
      return new Set(keys.filter((k) => found.has(escapeRealtimeId(k))))
    } catch (error) {
      throw this.fail('cannot read', error)
    }
  }

  /** Inserts the stored row; false (nothing written) when a row with that id (or any unique key) exists. */
  async insert(value: string): Promise<boolean> {
    const stored = realtimeColumns(value)
    if (!stored) throw new ContactStoreError(`not a ${this.table} row: ${value.slice(0, 80)}`)
    const columns = Object.keys(stored)
    try {
      const result = await this.client.query(
        `INSERT INTO ${this.quotedTable} (${columns.map((c) => this.client.escapeIdentifier(c)).join(', ')}) ` +
          `VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')}) ON CONFLICT DO NOTHING`,
        columns.map((c) => stored[c]),
      )
      return result.rowCount === 1
    } catch (error) {
      throw this.fail('cannot insert into', error)
    }
  }
}
