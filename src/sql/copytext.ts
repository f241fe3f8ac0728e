// PostgreSQL's COPY text format (COPY … TO STDOUT without FORMAT): one row a line, columns separated
// by a tab, NULL written `\N`, and a backslash escaping the characters that would break that
// (`\\`, `\t`, `\n`, `\r`, `\b`, `\f`, `\v`; on input also `\NNN` octal and `\xHH`). The data arrives
// in chunks that end anywhere, even inside a UTF-8 character: only whole lines are decoded (a
// newline byte never occurs inside a multibyte character), and the rest waits for the next chunk.

const LF = 0x0a

export type CopyRow = (string | null)[]

export class CopyTextRows {
  private carry: Buffer | null = null

  constructor(private readonly onRow: (row: CopyRow) => void) {}

  push(chunk: Buffer): void {
    const data = this.carry ? Buffer.concat([this.carry, chunk]) : chunk
    this.carry = null
    let start = 0
    for (let end = data.indexOf(LF, start); end >= 0; end = data.indexOf(LF, start)) {
      // one string per line: its fields are slices of it, so a kept field holds one line, never a chunk
      this.onRow(copyTextLine(data.toString('utf8', start, end)))
      start = end + 1
    }
    // a copy of the unfinished line, not a view that would keep the whole chunk alive
    if (start < data.length) this.carry = Buffer.from(data.subarray(start))
  }

  /** The data ended: an unfinished line means it was cut short. */
  finish(): void {
    if (this.carry) throw new Error('the COPY data ended inside a row')
  }
}

const ESCAPED: Record<string, string> = {
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
}

/** One line of COPY text (without its newline) → its columns, NULL as null. */
export function copyTextLine(line: string): CopyRow {
  const fields: CopyRow = line.split('\t')
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]
    if (field === '\\N') fields[i] = null
    else if (field?.includes('\\')) fields[i] = unescapeCopy(field)
  }
  return fields
}

function unescapeCopy(field: string): string {
  return field.replace(
    /\\(?:([0-7]{1,3})|x([0-9A-Fa-f]{1,2})|([\s\S]))/g,
    (_, octal?: string, hex?: string, other?: string) =>
      octal !== undefined
        ? String.fromCharCode(parseInt(octal, 8))
        : hex !== undefined
          ? String.fromCharCode(parseInt(hex, 16))
          : (ESCAPED[other ?? ''] ?? other ?? ''),
  )
}
