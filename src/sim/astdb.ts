// An in-memory astdb with the semantics of main/db.c over its SQLite table
// `astdb(key TEXT PRIMARY KEY, value TEXT)`, where a key is the full path `/family/key`.

/** One astdb row: `key` is the full path `/family/key`, as `database show` and DBGetTree print it. */
export interface AstDbEntry {
  key: string
  value: string
}

/** The full astdb path of a key: `/family/key`. */
function dbPath(family: string, key: string): string {
  return `/${family}/${key}`
}

/** create_prefix() of main/db.c: `/family`, `/family/keytree`, or '' for the whole database. */
function treePrefix(family: string, keytree = ''): string {
  if (!family) return ''
  return keytree ? `/${family}/${keytree}` : `/${family}`
}

/**
 * SQLite's `LIKE` (no ESCAPE clause) as a RegExp: `%` any run, `_` any one character,
 * ASCII letters case-insensitive, everything else literal.
 */
function likePattern(pattern: string): RegExp {
  let source = ''
  for (const char of pattern) {
    if (char === '%') source += '[\\s\\S]*'
    else if (char === '_') source += '[\\s\\S]'
    else if (/[a-z]/i.test(char)) source += `[${char.toLowerCase()}${char.toUpperCase()}]`
    else source += char.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')
  }
  return new RegExp(`^${source}$`)
}

/** The index of the first key at or after `key` in ascending `keys` (where it is or would go). */
function firstAtOrAfter(keys: readonly string[], key: string): number {
  let low = 0
  let high = keys.length
  while (low < high) {
    const middle = (low + high) >>> 1
    if ((keys[middle] ?? '') < key) low = middle + 1
    else high = middle
  }
  return low
}

export class AstDb {
  private readonly rows = new Map<string, string>()
  /** Every key in SQLite's `ORDER BY key` order: sorted when first read (again after a deleted tree),
   *  then kept in order as keys are put and deleted. */
  private sortedKeys: string[] | null = null

  get size(): number {
    return this.rows.size
  }

  /** ast_db_get: the value, or undefined when the key does not exist. */
  get(family: string, key: string): string | undefined {
    return this.rows.get(dbPath(family, key))
  }

  /** ast_db_put: `INSERT OR REPLACE`. */
  put(family: string, key: string, value: string): void {
    const path = dbPath(family, key)
    // a new key takes its place in the order (SQLite's index), as it keeps it: no sort per change
    if (!this.rows.has(path) && this.sortedKeys !== null)
      this.sortedKeys.splice(firstAtOrAfter(this.sortedKeys, path), 0, path)
    this.rows.set(path, value)
  }

  /** ast_db_del2: false when the key did not exist. */
  del(family: string, key: string): boolean {
    const path = dbPath(family, key)
    const deleted = this.rows.delete(path)
    if (deleted && this.sortedKeys !== null)
      this.sortedKeys.splice(firstAtOrAfter(this.sortedKeys, path), 1)
    return deleted
  }

  /**
   * ast_db_gettree_by_prefix (what sorcery's astdb retrieve_prefix reads, e.g. an AOR's contacts,
   * `<aor>;@`): the rows of `family` whose key starts with `keyPrefix`, in key order. Asterisk reads
   * them as a range of its index (`key > ?1 AND key <= ?1 || X'ffff'`): exact case, not LIKE.
   */
  treeByPrefix(family: string, keyPrefix: string): AstDbEntry[] {
    const keys = this.orderedKeys()
    const prefix = dbPath(family, keyPrefix)
    const entries: AstDbEntry[] = []
    for (let i = firstAtOrAfter(keys, prefix); i < keys.length; i++) {
      const key = keys[i]
      if (!key?.startsWith(prefix)) break
      const value = this.rows.get(key)
      if (value !== undefined) entries.push({ key, value })
    }
    return entries
  }

  /**
   * ast_db_gettree / `database show` / DBGetTree: every row whose key lies under `/family[/keytree]`
   * (`key || '/' LIKE prefix || '/%'`), in key order. An empty family is the whole database.
   */
  tree(family = '', keytree = ''): AstDbEntry[] {
    const entries: AstDbEntry[] = []
    for (const key of this.keysUnder(treePrefix(family, keytree))) {
      const value = this.rows.get(key)
      if (value !== undefined) entries.push({ key, value })
    }
    return entries
  }

  /** ast_db_deltree: deletes every row under `/family[/keytree]` and says how many. */
  delTree(family = '', keytree = ''): number {
    const keys = this.keysUnder(treePrefix(family, keytree))
    for (const key of keys) this.rows.delete(key)
    if (keys.length > 0) this.sortedKeys = null
    return keys.length
  }

  private keysUnder(prefix: string): string[] {
    const keys = this.orderedKeys()
    if (!prefix) return keys.slice()
    const like = likePattern(`${prefix}/%`)
    return keys.filter((key) => like.test(`${key}/`))
  }

  /** SQLite compares keys with the BINARY collation; UTF-16 order equals it for every key without astral characters. */
  private orderedKeys(): string[] {
    this.sortedKeys ??= [...this.rows.keys()].sort()
    return this.sortedKeys
  }
}
