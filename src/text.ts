// The one sanitiser for text that came from the network or a file (AOR names, user
// agents, URIs, config lines, error messages) on its way to a terminal or a log. A leaf
// module: core, ami, output and the CLI all use it; also the one way a size is written in a message.

const NAMED_ESCAPES: Readonly<Record<number, string>> = { 0: '\\0', 9: '\\t', 10: '\\n', 13: '\\r' }

/** A control character: C0 (ESC among them), DEL, C1, U+2028/U+2029. */
// eslint-disable-next-line no-control-regex -- matching them is its purpose
export const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/

/** C0 controls (ESC among them), DEL, C1 controls, and the Unicode line/paragraph separators. */
export function isControl(c: number): boolean {
  return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029
}

/** One control character as an escape: `\r`, `\n`, `\t`, `\0`, else `\u001b`. */
export function escapeControl(c: number): string {
  return NAMED_ESCAPES[c] ?? `\\u${c.toString(16).padStart(4, '0')}`
}

/**
 * `text` safe to print: every control character written as an escape, cut to `max`
 * characters with `…`. A terminal never sees an ESC sequence, a carriage return or a line
 * break from a phone, a server or a file. Idempotent, so a message that quotes a value
 * already made printable can be made printable again where it is written out.
 */
export function printable(text: string, max = Infinity): string {
  // values parsed from JSON and AMI answers reach here typed as strings; a number must still print
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-conversion
  const s = String(text)
  const cut = s.length > max ? s.slice(0, max) : s
  let out = ''
  for (let i = 0; i < cut.length; i++) {
    const c = cut.charCodeAt(i)
    out += isControl(c) ? escapeControl(c) : cut.charAt(i)
  }
  return cut.length < s.length ? `${out}…` : out
}

/**
 * A size in a message, in binary units: 268435456 → `256 MiB`, 1024 → `1 KiB`, 55784243 →
 * `53.2 MiB`, 1000 → `1000 bytes`. (A default in help is shown as it is typed: options.ts's sizeAsTyped.)
 */
export function sizeText(bytes: number): string {
  for (const [unit, size] of [
    ['TiB', 1024 ** 4],
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const) {
    if (bytes >= size) return `${Number((bytes / size).toFixed(1))} ${unit}`
  }
  return `${bytes} bytes`
}
