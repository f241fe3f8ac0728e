// Streamed JSON must be the exact text JSON.stringify(value, null, 2) gives, piece by piece.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Lazy, jsonPieces, lazyMap } from '../../src/output/json.js'

const text = (value: unknown): string => [...jsonPieces(value, true)].join('')

describe('jsonPieces, indented', () => {
  it('writes a lazy array element by element, as JSON.stringify would', () => {
    const aors = [
      { aor: 'FAP003', contacts: [{ key: 'a', fields: { x: 'y: z' } }] },
      { aor: 'bob', contacts: [] },
    ]
    const doc = { server: 'pbx1', aors: lazyMap(aors, (a) => a), problems: [] }
    expect(text(doc)).toBe(JSON.stringify({ server: 'pbx1', aors, problems: [] }, null, 2))
    expect([...jsonPieces(doc, true)].length).toBeGreaterThan(3)
  })

  it('nests: a fleet of servers each with a lazy array, an empty lazy array, undefined fields', () => {
    const plain = {
      generatedAt: 't',
      servers: [
        { server: 'a', aors: [1, 2], hint: undefined },
        { server: 'b', aors: [] },
        { server: 'c', error: 'refused' },
      ],
    }
    const lazy = {
      generatedAt: 't',
      servers: [
        { server: 'a', aors: new Lazy([1, 2]), hint: undefined },
        { server: 'b', aors: new Lazy([]) },
        { server: 'c', error: 'refused' },
      ],
    }
    expect(text(lazy)).toBe(JSON.stringify(plain, null, 2))
  })

  it('property: any JSON value inside a lazy array renders exactly like JSON.stringify', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue(), { maxLength: 5 }), fc.string(), (items, name) => {
        expect(text({ name, items: new Lazy(items) })).toBe(
          JSON.stringify({ name, items }, null, 2),
        )
      }),
      { numRuns: 300 },
    )
  })
})

describe('jsonPieces: compact unless indented', () => {
  const compact = (value: unknown): string => [...jsonPieces(value, false)].join('')

  it('compact is exactly JSON.stringify(value), streamed in pieces', () => {
    const aors = [
      { aor: 'FAP003', contacts: [{ key: 'a;@1', fields: { x: 'y: z' } }] },
      { aor: 'bob', contacts: [] },
    ]
    const doc = { server: 'pbx1', aors: lazyMap(aors, (a) => a), problems: [], hint: undefined }
    expect(compact(doc)).toBe(JSON.stringify({ server: 'pbx1', aors, problems: [] }))
    expect(compact(doc)).not.toContain('\n')
    expect([...jsonPieces(doc, false)].length).toBeGreaterThan(3)
  })

  it('property: both modes render any JSON value inside nested lazy arrays like JSON.stringify', () => {
    fc.assert(
      fc.property(
        fc.array(fc.jsonValue(), { maxLength: 5 }),
        fc.array(fc.jsonValue(), { maxLength: 3 }),
        fc.string(),
        (items, more, name) => {
          const lazy = {
            name,
            servers: [{ items: new Lazy(items) }, { more: new Lazy(more) }],
            empty: new Lazy([]),
          }
          const plain = { name, servers: [{ items }, { more }], empty: [] }
          expect([...jsonPieces(lazy, false)].join('')).toBe(JSON.stringify(plain))
          expect([...jsonPieces(lazy, true)].join('')).toBe(JSON.stringify(plain, null, 2))
        },
      ),
      { numRuns: 300 },
    )
  })
})

describe('jsonPieces: Lazy arrays at any depth', () => {
  // A tree of JSON values whose arrays may each be Lazy (an array or a one-pass generator), at any
  // depth, inside arrays or objects; objects may hold undefined (left out) and Lazy arrays may hold
  // undefined (written null), as JSON.stringify does.
  type Spec =
    | { leaf: unknown }
    | { array: Spec[]; lazy: 'no' | 'array' | 'generator' }
    | { object: [string, Spec][] }
  const { spec } = fc.letrec<{ spec: Spec }>((tie) => ({
    spec: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(undefined)).map((leaf) => ({ leaf })),
      fc.record({
        array: fc.array(tie('spec'), { maxLength: 4 }),
        lazy: fc.constantFrom('no' as const, 'array' as const, 'generator' as const),
      }),
      fc
        .uniqueArray(fc.tuple(fc.string({ maxLength: 6 }), tie('spec')), {
          maxLength: 4,
          selector: ([key]) => key,
        })
        .map((object) => ({ object })),
    ),
  }))
  const build = (s: Spec, lazy: boolean): unknown => {
    if ('leaf' in s) return s.leaf
    if ('object' in s) return Object.fromEntries(s.object.map(([k, v]) => [k, build(v, lazy)]))
    const items = s.array.map((item) => build(item, lazy))
    if (!lazy || s.lazy === 'no') return items
    return s.lazy === 'array' ? new Lazy(items) : lazyMap(items, (item) => item)
  }

  it('property: compact and indented text is exactly JSON.stringify of the same tree made plain', () => {
    fc.assert(
      fc.property(spec, (s) => {
        const plain = build(s, false)
        // a document is never undefined (JSON.stringify gives no text for it)
        fc.pre(plain !== undefined)
        expect([...jsonPieces(build(s, true), false)].join('')).toBe(JSON.stringify(plain))
        expect([...jsonPieces(build(s, true), true)].join('')).toBe(JSON.stringify(plain, null, 2))
      }),
      { numRuns: 500 },
    )
  })

  it('a Lazy array two objects deep is still written element by element', () => {
    const doc = { a: { b: new Lazy([{ c: 1 }, undefined, 'x']) }, d: undefined }
    const plain = { a: { b: [{ c: 1 }, undefined, 'x'] } }
    expect([...jsonPieces(doc, false)].join('')).toBe(JSON.stringify(plain))
    expect([...jsonPieces(doc, true)].join('')).toBe(JSON.stringify(plain, null, 2))
  })
})
