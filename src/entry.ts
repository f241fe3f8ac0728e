// What bin/pjctl.js runs (built as dist/cli.js). `pjctl --version` is answered here, before the
// command line is built: it needs the version and nothing else, so it loads no option table, no
// command catalog and no commander. Everything else is cli.ts's main, in the bundle of its own that
// bundle.ts loads (dist/pjctl.cjs), with the same arguments; cli.ts still owns every other output,
// error and exit code.
import { setFlagsFromString } from 'node:v8'
import { loadBundle } from './bundle.js'
import { VERSION } from './version.js'

type Cli = typeof import('./cli.js')

const cli = (): Cli => loadBundle().exports as Cli

export async function main(argv: string[] = process.argv): Promise<number> {
  // exactly `pjctl --version` (or -V): what commander would print, on stdout, exit 0
  if (argv.length === 3 && (argv[2] === '--version' || argv[2] === '-V')) {
    process.stdout.on('error', () => {})
    process.stdout.write(`${VERSION}\n`)
    return 0
  }
  let loaded: Cli
  try {
    loaded = cli()
  } catch (error) {
    // a build that lost its bundle (or cannot read it) is a broken installation: one line, no stack
    const why = error instanceof Error ? error.message : String(error)
    process.stderr.write(`pjctl: cannot load the command line (${why}); reinstall pjctl\n`)
    return 1
  }
  // after the bundle is compiled: V8 takes a code cache only under the flags it was written with
  setFlagsFromString(`--semi-space-growth-factor=${SMALL_YOUNG_GENERATION}`)
  return loaded.main(argv)
}

/**
 * V8's young generation starts with 1 MB semi-spaces and doubles them, up to 16 MB, while much of
 * what it collects survives, as a read's contacts do. A run of pjctl reads, judges, writes and
 * exits; the doubling only cost it fresh pages of memory (each page's first touch is a page fault,
 * ~12 µs on the lab's VM: 190 V8 pages mapped in a check of 15,000 contacts, 79 without it) and kept
 * more of the read's garbage. Kept at its first size (a growth factor of 1), measured on the lab by
 * interleaved runs: check at 5k/15k 554 → 536 ms, contacts --json at 33k/100k 1.91 → 1.81 s and its
 * peak RSS 190 → 169 MB (medians), with 358 scavenges instead of 25, each the smaller.
 */
const SMALL_YOUNG_GENERATION = 1
/** V8's own semi_space_growth_factor, put back before the build writes the code cache. */
const V8_GROWTH_FACTOR = 2

/** For scripts/man.mjs: the man page from the built CLI's own option table and command catalog. */
export function manPageText(version: string): string {
  return cli().manPageText(version)
}

/** For scripts/build.mjs: V8's code cache of the bundle, with every function compiled so far (its
 *  warm-up run's). */
export function bundleCodeCache(): Buffer {
  // the warm-up ran main, which changed a V8 flag: the cache is written under V8's own flags, as a run
  // compiles the bundle
  setFlagsFromString(`--semi-space-growth-factor=${V8_GROWTH_FACTOR}`)
  return loadBundle().script.createCachedData()
}
