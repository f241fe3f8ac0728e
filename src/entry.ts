// What bin/pjctl.js runs (built as dist/cli.js). `pjctl --version` is answered here, before the
// command line is built: it needs the version and nothing else, so it loads no option table, no
// command catalog and no commander. Everything else is cli.ts's main, in a chunk of its own, with
// the same arguments; cli.ts still owns every other output, error and exit code.
import { VERSION } from './version.js'

export async function main(argv: string[] = process.argv): Promise<number> {
  // exactly `pjctl --version` (or -V): what commander would print, on stdout, exit 0
  if (argv.length === 3 && (argv[2] === '--version' || argv[2] === '-V')) {
    process.stdout.on('error', () => {})
    process.stdout.write(`${VERSION}\n`)
    return 0
  }
  const cli = await import('./cli.js')
  return cli.main(argv)
}

/** For scripts/man.mjs: the man page from the built CLI's own option table and command catalog. */
export async function manPageText(version: string): Promise<string> {
  const cli = await import('./cli.js')
  return cli.manPageText(version)
}
