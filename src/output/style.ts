// Colour and text hygiene for the human formats. Colour is decided once in src/cli.ts.

import { Chalk, type ChalkInstance } from 'chalk'
import type { AorState, ContactStatus } from '../core/types.js'

export interface Style {
  color: boolean
  /** JSON indented (on a terminal) instead of compact (piped, the default). */
  indent?: boolean
  /** JSON: every raw stored field of each contact (`fields`), with --raw. */
  raw?: boolean
  /** Terminal columns to fit tables into (process.stdout.columns, else COLUMNS, else 80); undefined: no limit. */
  width?: number
  /** Output is not a terminal: plain rows for grep/awk instead of tables. */
  plain?: boolean
}

export function paint(style: Style): ChalkInstance {
  return new Chalk({ level: style.color ? 1 : 0 })
}

/** Longer ago than any registration lasts: an expiration_time written into the past, not one that ran out. */
const LONG_AGO_SECONDS = 365 * 86400

/** `41m 12s`, `1h 02m`, `3d 4h`; negative: `3m 10s ago`; over a year ago: `set expired`. */
export function duration(seconds: number | null): string {
  if (seconds === null) return '?'
  // expiration_time set to the distant past (prune --via expire writes "1"): say so, not "20792d ago"
  if (seconds < -LONG_AGO_SECONDS) return 'set expired'
  const ago = seconds < 0
  let s = Math.abs(Math.round(seconds))
  const d = Math.floor(s / 86400)
  s -= d * 86400
  const h = Math.floor(s / 3600)
  s -= h * 3600
  const m = Math.floor(s / 60)
  s -= m * 60
  const text = d
    ? `${d}d ${h}h`
    : h
      ? `${h}h ${String(m).padStart(2, '0')}m`
      : m
        ? `${m}m ${String(s).padStart(2, '0')}s`
        : `${s}s`
  return ago ? `${text} ago` : text
}

export function stateColor(
  c: ChalkInstance,
  state: AorState | ContactStatus,
  text: string,
): string {
  switch (state) {
    case 'full':
    case 'over':
      return c.red.bold(text)
    case 'near':
    case 'orphaned':
    case 'superseded':
      return c.yellow(text)
    case 'expired':
      return c.gray(text)
    case 'ok':
    case 'active':
      return c.green(text)
    default:
      return text
  }
}

export function isoTime(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString()
}

/** Display columns of plain text (one per code point; wide characters are cut by the table itself). */
export function textWidth(text: string): number {
  let n = 0
  for (const _ of text) n++
  return n
}

/** Cuts plain text to `width` columns with an ellipsis. */
export function ellipsis(text: string, width: number): string {
  if (textWidth(text) <= width) return text
  if (width <= 0) return ''
  return `${Array.from(text)
    .slice(0, width - 1)
    .join('')}…`
}

/**
 * Words wrapped to `width` columns (undefined: one line), each line after the first indented by
 * `indent`. A word longer than a line (a command's --key) stays whole on a line of its own.
 */
export function wrap(text: string, width: number | undefined, indent = ''): string[] {
  if (width === undefined) return [text]
  const lines: string[] = []
  const lead = /^ */.exec(text)?.[0] ?? ''
  let line = ''
  for (const word of text.slice(lead.length).split(' ')) {
    const next = line ? `${line} ${word}` : `${lines.length ? indent : lead}${word}`
    if (line && textWidth(next) > width) {
      lines.push(line)
      line = `${indent}${word}`
    } else line = next
  }
  if (line) lines.push(line)
  return lines
}
