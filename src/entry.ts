// What bin/pjctl.js runs (built as dist/cli.js). `pjctl --version` is answered here, before the
// command line is built: it needs the version and nothing else, so it loads no option table, no
// command catalog and no commander. Everything else is cli.ts's main, in the bundle of its own that
// bundle.ts loads (dist/pjctl.cjs), with the same arguments; cli.ts still owns every other output,
// error and exit code.
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
  loaded.keepYoungGenerationSmall()
  return loaded.main(argv)
}

/** For scripts/man.mjs: the man page from the built CLI's own option table and command catalog. */
export function manPageText(version: string): string {
  return cli().manPageText(version)
}

/** For scripts/build.mjs: V8's code cache of the bundle, with every function compiled so far (its
 *  warm-up run's). */
export function bundleCodeCache(): Buffer {
  // the warm-up ran main, which changed a V8 flag: the cache is written under V8's own flags, as a run
  // compiles the bundle
  cli().youngGenerationAsV8Grows()
  return loadBundle().script.createCachedData()
}
