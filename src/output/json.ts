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

function streams(value: unknown): boolean {
  if (value instanceof Lazy) return true
  if (Array.isArray(value)) return value.some(streams)
  if (value === null || typeof value !== 'object') return false
  return Object.values(value).some(
    (v) => v instanceof Lazy || (Array.isArray(v) && v.some(streams)),
  )
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
      yield* pieces(item, indent, inner)
      first = false
    }
    yield first ? '[]' : `${close}]`
    return
  }
  if (streams(value)) {
    const entries = Object.entries(value as object).filter(
      ([, v]) => v !== undefined && typeof v !== 'function',
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
