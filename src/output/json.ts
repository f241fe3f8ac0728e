// JSON written in pieces, so a 100,000-contact document is never one huge string: arrays
// wrapped in Lazy are produced and written element by element. The text is exactly what
// JSON.stringify(value) gives (compact, the default when stdout is not a terminal), or
// JSON.stringify(value, null, 2) with `indent` (on a terminal, as gh does).

export class Lazy<T> {
  constructor(readonly items: Iterable<T>) {}
}

export function lazyMap<T, U>(items: readonly T[], map: (item: T) => U): Lazy<U> {
  return new Lazy(
    (function* () {
      for (const item of items) yield map(item)
    })(),
  )
}

/** A Lazy array anywhere inside `value`, at any depth: it is then written piece by piece. */
function streams(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false
  if (value instanceof Lazy) return true
  const items = Array.isArray(value) ? (value as unknown[]) : Object.values(value)
  for (const item of items)
    if (item !== null && typeof item === 'object' && streams(item)) return true
  return false
}

/** The pieces of `value` as JSON: compact, or indented by two spaces per level with `indent`. */
export function* jsonPieces(value: unknown, indent: boolean): Generator<string> {
  yield* pieces(value, indent, '')
}

function* pieces(value: unknown, indent: boolean, margin: string): Generator<string> {
  const inner = indent ? margin + '  ' : ''
  const open = indent ? `\n${inner}` : ''
  const close = indent ? `\n${margin}` : ''
  if (value instanceof Lazy || (Array.isArray(value) && streams(value))) {
    let first = true
    for (const item of value instanceof Lazy ? value.items : value) {
      yield `${first ? '[' : ','}${open}`
      first = false
      // what JSON.stringify writes for an array element it has no text for
      if (item === undefined || typeof item === 'function' || typeof item === 'symbol') yield 'null'
      else yield* pieces(item, indent, inner)
    }
    yield first ? '[]' : `${close}]`
    return
  }
  if (streams(value)) {
    const entries = Object.entries(value as object).filter(
      ([, v]) => v !== undefined && typeof v !== 'function' && typeof v !== 'symbol',
    )
    let first = true
    for (const [key, v] of entries) {
      yield `${first ? '{' : ','}${open}${JSON.stringify(key)}:${indent ? ' ' : ''}`
      yield* pieces(v, indent, inner)
      first = false
    }
    yield first ? '{}' : `${close}}`
    return
  }
  if (!indent) {
    yield JSON.stringify(value)
    return
  }
  const text = JSON.stringify(value, null, 2)
  yield margin && text.includes('\n') ? text.replace(/\n/g, `\n${margin}`) : text
}
