// A table that fits the terminal (prune's plan, sources): no boxes, two spaces between columns,
// the flexible columns shortened with … until every row fits `width`; under a row, an optional
// note (prune's WHY) wrapped to the width. Off a terminal (style.plain), one tab-separated row
// per line with every value whole, as contacts prints them.

import Table from 'cli-table3'
import { ellipsis, textWidth, wrap, type Style } from './style.js'

/** Two spaces before the first column and between columns. */
const GAP = 2
/** Columns that give way first when the terminal is narrow: URI and USER AGENT. */
export const FLEXIBLE = [1, 3]
const MIN_FLEXIBLE = 8

/**
 * Column widths that fit `width` terminal columns: each column's natural width, then the
 * widest of URI and USER AGENT shortened one column at a time (down to 8), then, on a very
 * narrow terminal, the widest of any. A row is never wider than the terminal.
 */
export function fitColumns(
  natural: number[],
  width: number | undefined,
  flexible: readonly number[] = FLEXIBLE,
): number[] {
  const widths = [...natural]
  if (width === undefined) return widths
  const limit = width - GAP * widths.length
  const total = (): number => widths.reduce((a, b) => a + b, 0)
  const at = (i: number): number => widths[i] ?? 0
  const widest = (candidates: number[], min: number): number =>
    candidates.filter((i) => at(i) > min).sort((a, b) => at(b) - at(a) || a - b)[0] ?? -1
  while (total() > limit) {
    const i = widest([...flexible], MIN_FLEXIBLE)
    if (i < 0) break
    widths[i] = at(i) - 1
  }
  while (total() > limit) {
    const i = widest(
      widths.map((_, k) => k),
      3,
    )
    if (i < 0) break
    widths[i] = at(i) - 1
  }
  return widths
}

/** No box drawing: two spaces before and between columns. */
export const BORDERLESS = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: ' '.repeat(GAP),
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: ' '.repeat(GAP),
}

export interface FittedRow {
  /** The cells as shown (may carry colour). */
  cells: string[]
  /** The same cells without colour, for widths and plain output. */
  raw: string[]
  /** Printed under the row on a terminal (wrapped), or as the last field off one. */
  note?: string
}

export function fittedTable(
  head: string[],
  rows: readonly FittedRow[],
  style: Style,
  flexible: readonly number[],
): string {
  if (style.plain)
    return rows
      .map((r) => [...r.raw, ...(r.note !== undefined ? [r.note] : [])].join('\t'))
      .join('\n')
  const natural = head.map((h, i) =>
    Math.max(textWidth(h), ...rows.map((r) => textWidth(r.raw[i] ?? ''))),
  )
  const widths = fitColumns(natural, style.width, flexible)
  const line = (cells: string[], raw: string[]): string => {
    const table = new Table({
      chars: BORDERLESS,
      colWidths: widths,
      wordWrap: false,
      style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
    })
    // a cell cut short gets … (cli-table3 would cut it silently or wrap it)
    table.push(
      cells.map((cell, i) => {
        const text = raw[i] ?? ''
        const width = widths[i] ?? 0
        return textWidth(text) > width ? ellipsis(text, width) : cell
      }),
    )
    return table.toString().trimEnd()
  }
  const out = [line(style.color ? head.map((h) => `\u001b[36m${h}\u001b[39m`) : head, head)]
  for (const row of rows) {
    out.push(line(row.cells, row.raw))
    if (row.note) out.push(...wrap(`      ${row.note}`, style.width, '      '))
  }
  return out.join('\n')
}
