// Pretty JSON (the same text as JSON.stringify(value, null, 2)) written in pieces, so a
// 100,000-contact document is never one 150 MB string: arrays wrapped in Lazy are
// produced and written element by element.

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
  return Object.values(value).some((v) => v instanceof Lazy || (Array.isArray(v) && v.some(streams)))
}

export function* prettyJson(value: unknown, indent = ''): Generator<string> {
  const inner = indent + '  '
  if (value instanceof Lazy || (Array.isArray(value) && streams(value))) {
    let first = true
    for (const item of value instanceof Lazy ? value.items : value) {
      yield `${first ? '[' : ','}\n${inner}`
      yield* prettyJson(item, inner)
      first = false
    }
    yield first ? '[]' : `\n${indent}]`
    return
  }
  if (streams(value)) {
    const entries = Object.entries(value as object).filter(([, v]) => v !== undefined && typeof v !== 'function')
    let first = true
    for (const [key, v] of entries) {
      yield `${first ? '{' : ','}\n${inner}${JSON.stringify(key)}: `
      yield* prettyJson(v, inner)
      first = false
    }
    yield first ? '{}' : `\n${indent}}`
    return
  }
  const text = JSON.stringify(value, null, 2)
  yield indent && text.includes('\n') ? text.replace(/\n/g, `\n${indent}`) : text
}
