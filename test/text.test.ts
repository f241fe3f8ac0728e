// Sizes in messages are spelt one way (binary units, a space, at most one decimal); a default in
// help is shown as it is typed (256M), so it can be pasted back.
import { describe, expect, it } from 'vitest'
import { sizeAsTyped } from '../src/options.js'
import { sizeText } from '../src/text.js'

describe('sizeText', () => {
  it.each([
    [0, '0 bytes'],
    [1000, '1000 bytes'],
    [1024, '1 KiB'],
    [4096, '4 KiB'],
    [65536, '64 KiB'],
    [55_784_243, '53.2 MiB'],
    [268_435_456, '256 MiB'],
    [1.5 * 1024 ** 3, '1.5 GiB'],
    [2 * 1024 ** 4, '2 TiB'],
  ])('%d bytes → %s', (bytes, text) => {
    expect(sizeText(bytes)).toBe(text)
  })
})

describe('sizeAsTyped', () => {
  it.each([
    [268_435_456, '256M'],
    [1024, '1K'],
    [1000, '1000'],
    [1536, '1536'],
  ])('%d → %s', (bytes, typed) => {
    expect(sizeAsTyped(bytes)).toBe(typed)
  })
})
