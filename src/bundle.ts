// Loads dist/pjctl.cjs, the one bundle of the command line and every command (scripts/build.mjs),
// with V8's code cache of it, dist/pjctl.cjs.cache.
//
// Why not Node's own loader: Node 20 keeps no compiled code between runs, and its ES module loader
// resolves, reads and links each module of a split build one by one. A CommonJS bundle compiled
// from its code cache skips both: the functions a run of `pjctl demo` compiled when the cache was
// written (the read, the judgement, the renderers) start as bytecode. The cache is written by the
// build with the Node that builds it (npm install); V8 rejects a cache from another V8 version or
// other flags, and then the bundle is compiled from its source as any script is. Nothing is written
// at run time.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Script } from 'node:vm'

export const BUNDLE_FILE = 'pjctl.cjs'
export const CODE_CACHE_FILE = 'pjctl.cjs.cache'

export interface LoadedBundle {
  /** What the bundle exports (src/cli.ts's exports). */
  exports: unknown
  /** The compiled script: the build asks it for the code cache after its warm-up run. */
  script: Script
  /** The code cache was there and V8 took it. */
  cached: boolean
}

let loaded: LoadedBundle | null = null

/** The bundle next to this module (dist/), loaded once per process. */
export function loadBundle(): LoadedBundle {
  return (loaded ??= compileBundle(fileURLToPath(new URL('.', import.meta.url))))
}

/** Compiles and runs the bundle in `dir` (with its code cache when there is one V8 takes). */
export function compileBundle(dir: string): LoadedBundle {
  const file = join(dir, BUNDLE_FILE)
  // The build writes the bundle in ASCII (test/bundle.test.ts holds it to that), which latin1 reads
  // exactly as UTF-8 would, without UTF-8's validation of the whole bundle (~5 ms of every run at 1.2 MB)
  const source = readFileSync(file, 'latin1')
  let cachedData: Buffer | undefined
  try {
    cachedData = readFileSync(join(dir, CODE_CACHE_FILE))
  } catch {
    // no cache (a build that could not write one): compiled from the source
  }
  // CommonJS's own wrapper, on the first line, so the bundle's line numbers stay as they are
  const script = new Script(
    `(function (exports, require, module, __filename, __dirname) {${source}\n})`,
    { filename: file, cachedData },
  )
  const wrapper = script.runInThisContext() as (
    exports: unknown,
    require: NodeJS.Require,
    module: { exports: unknown },
    filename: string,
    dirname: string,
  ) => void
  const module = { exports: {} as unknown }
  wrapper.call(module.exports, module.exports, createRequire(file), module, file, dir)
  return {
    exports: module.exports,
    script,
    cached: cachedData !== undefined && script.cachedDataRejected !== true,
  }
}
