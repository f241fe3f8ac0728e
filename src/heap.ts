// The size of V8's young generation for a run (set through a V8 flag, for the whole process).
//
// V8 starts with 1 MB semi-spaces and doubles them, up to 16 MB, while much of what it collects
// survives, as a read's contacts do. A run of pjctl reads, judges, writes and exits; the doubling only
// cost it fresh pages of memory (each page's first touch is a page fault, ~12 µs on the lab's VM: 190
// V8 pages mapped in a check of 15,000 contacts, 79 without it) and kept more of the read's garbage.
// Kept at its first size (a growth factor of 1), measured on the lab by interleaved runs: check at
// 5k/15k 532 → 486 ms, prune --dry-run 602 → 561 ms, contacts --json at 33k/100k 1.87 → 1.85 s with
// its peak RSS 209 → 166 MB (medians), with ~350 scavenges instead of 25, each the smaller. A command
// that runs until it is stopped (the exporter, watch) leaves V8 to size it as it does by default.
//
// Only on V8 11 (Node 20), where it was measured. Later V8s hold the factor at 2 or more
// (`DEFINE_MIN_VALUE_IMPLICATION(semi_space_growth_factor, 2)` in flag-definitions.h), so there it
// would do nothing; and should a V8 drop the flag, setting it would print V8's own error on stderr.
import { setFlagsFromString } from 'node:v8'

/** The V8 whose young generation this sizes (process.versions.v8 is `11.3.244.8-node.…` on Node 20). */
export const YOUNG_GENERATION_SIZED = process.versions.v8.startsWith('11.')

/** V8's own semi_space_growth_factor. Set back to it, the flags are V8's defaults again: a code cache
 *  written then is one a run takes (V8 takes a cache only under the flags it was written with). */
const V8_GROWTH_FACTOR = 2

/** @public The young generation stays at the size it has (its first, at start-up). Only once the bundle
 *  is compiled (src/entry.ts, through cli.ts's exports): its code cache was written under V8's defaults. */
export function keepYoungGenerationSmall(): void {
  if (YOUNG_GENERATION_SIZED) setFlagsFromString('--semi-space-growth-factor=1')
}

/** V8 grows the young generation as it does by default. */
export function youngGenerationAsV8Grows(): void {
  if (YOUNG_GENERATION_SIZED) setFlagsFromString(`--semi-space-growth-factor=${V8_GROWTH_FACTOR}`)
}
