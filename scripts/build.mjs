// Builds dist/ from src/ with esbuild; type-checking stays with tsc (npm run typecheck).
//
// - dist/cli.js (src/entry.ts, an ES module of a few lines) is what bin/pjctl.js imports: `pjctl
//   --version` is answered there with nothing more loaded.
// - dist/pjctl.cjs is everything else in one CommonJS bundle: src/cli.ts (the option table,
//   commander, a catalog of the commands) and every command with what it needs. The catalog holds
//   each spec's name, arguments, help, options and formats, read from src/commands/ at build time,
//   so the help, the man page and completions still come from the specs; a command's own modules
//   are initialised only when it runs. Dependencies are bundled: what ships is what runs, with
//   nothing to resolve in node_modules.
// - dist/pjctl.cjs.cache is V8's code cache of that bundle, written after a warm-up run of `pjctl
//   demo` (src/bundle.ts loads the bundle with it; see there why).
// - dist/vendor/ holds the dependencies only some commands use (the SQL clients, prom-client, yaml,
//   bcryptjs, csv-parse), each a bundle of its own, required when that command uses it; dist/sim.cjs
//   is the simulated Asterisk of `pjctl demo`.
import { build } from 'esbuild'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const INDEX = join(root, 'src/commands/index.ts')
const common = {
  absWorkingDir: root,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
  // the bundled CommonJS dependencies (commander, prom-client, cli-table3, asterisk-manager) call require()
  banner: {
    js: "import { createRequire as __pjctlRequire } from 'node:module'; const require = __pjctlRequire(import.meta.url);",
  },
}

/** The command specs as data: everything but their functions (run, failure). */
async function readCatalog() {
  const scratch = mkdtempSync(join(tmpdir(), 'pjctl-build-'))
  try {
    const out = join(scratch, 'commands.mjs')
    await build({ ...common, entryPoints: [INDEX], outfile: out })
    const { COMMANDS } = await import(pathToFileURL(out).href)
    return COMMANDS.map((spec) => {
      const data = {}
      for (const [key, value] of Object.entries(spec))
        if (typeof value !== 'function') data[key] = value
      return { data, hasFailure: typeof spec.failure === 'function' }
    })
  } finally {
    rmSync(scratch, { recursive: true, force: true })
  }
}

/** index.ts's own imports: `import { check } from './check.js'` → check: './check.js'. */
async function modulesOf() {
  const { readFile } = await import('node:fs/promises')
  const text = await readFile(INDEX, 'utf8')
  const found = new Map()
  for (const m of text.matchAll(/^import \{ (\w+) \} from '(\.\/[\w-]+\.js)'/gm))
    found.set(m[1], m[2])
  return found
}

const catalog = await readCatalog()
const modules = await modulesOf()
// each spec is exported by index.ts under its command's name
const names = [...modules.keys()]
const entries = []
for (const { data, hasFailure } of catalog) {
  const exported = names.find((name) => name === data.name)
  if (!exported)
    throw new Error(
      `build: command ${data.name} is not exported as "${data.name}" by src/commands/index.ts`,
    )
  entries.push({ data, hasFailure, exported, module: modules.get(exported) })
}

const catalogModule = `
const loaders = {
${entries.map((e) => `  ${JSON.stringify(e.data.name)}: () => import(${JSON.stringify(e.module)}).then((m) => m[${JSON.stringify(e.exported)}]),`).join('\n')}
}
function lazy(data, hasFailure) {
  let loaded = null
  const load = () => (loaded ??= loaders[data.name]())
  const spec = { ...data, run: async (ctx) => (await load()).run(ctx) }
  if (hasFailure) spec.failure = async (error, settings, now) => (await load()).failure(error, settings, now)
  return spec
}
export const COMMANDS = [
${entries.map((e) => `  lazy(${JSON.stringify(e.data)}, ${e.hasFailure}),`).join('\n')}
]
`

/** src/commands/index.ts, as imported by cli.ts and usage.ts, becomes the catalog. */
const catalogPlugin = {
  name: 'pjctl-command-catalog',
  setup(b) {
    b.onLoad({ filter: /src[\\/]commands[\\/]index\.ts$/ }, () => ({
      contents: catalogModule,
      loader: 'js',
      resolveDir: dirname(INDEX),
    }))
  },
}

/**
 * commander requires node:child_process (and so node:net and node:stream) at load, for executable
 * subcommands, which pjctl does not have: it gets it on first use instead.
 */
const deferChildProcess = {
  name: 'pjctl-defer-child-process',
  setup(b) {
    b.onResolve({ filter: /^node:child_process$/ }, (args) =>
      /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer)
        ? { path: 'deferred-child-process', namespace: 'pjctl' }
        : undefined,
    )
    b.onLoad({ filter: /^deferred-child-process$/, namespace: 'pjctl' }, () => ({
      contents:
        "let cp\nmodule.exports = { spawn: (...args) => (cp ??= require('node:child_process')).spawn(...args) }\n",
      loader: 'js',
    }))
  },
}

/** The dependencies only some commands use, a third of the bundle's size and more (the SQL clients and
 *  prom-client, yaml and bcryptjs for the exporter, csv-parse for gen --from-csv): each is
 *  dist/vendor/<name>.cjs, required when used. Every run reads and compiles the bundle; these only
 *  the runs that use them. */
const VENDORED = [
  'pg',
  'pg-copy-streams',
  'mysql2/promise',
  'prom-client',
  'yaml',
  'bcryptjs',
  'csv-parse/sync',
]
const vendorFile = (name) => `./vendor/${name.replace(/\//g, '-')}.cjs`

/** The simulated Asterisk of `pjctl demo` (src/sim/server.ts and seed.ts): dist/sim.cjs, required when
 *  the demo runs. It shares only data with the rest (core/types.ts's constants), and the code cache
 *  of the bundle then holds what the demo's commands compiled, not the simulator. */
const SIM_MODULES = /^\.\.\/sim\/(server|seed)\.js$/

const vendorPlugin = {
  name: 'pjctl-vendor',
  setup(b) {
    b.onResolve({ filter: SIM_MODULES }, (args) =>
      /[\\/]src[\\/]commands[\\/]demo\.ts$/.test(args.importer)
        ? { path: './sim.cjs', external: true }
        : undefined,
    )
    b.onResolve({ filter: /^[\w@]/ }, (args) =>
      VENDORED.includes(args.path) && !/[\\/]node_modules[\\/]/.test(args.importer)
        ? { path: vendorFile(args.path), external: true }
        : undefined,
    )
  },
}

rmSync(join(root, 'dist'), { recursive: true, force: true })
// import() of node: modules and dist/vendor/ as require(): the bundle runs as a vm.Script, which has no module loader
const cjs = {
  ...common,
  format: 'cjs',
  banner: {},
  legalComments: 'eof',
  supported: { 'dynamic-import': false },
}
await Promise.all([
  build({
    ...common,
    entryPoints: [{ in: 'src/entry.ts', out: 'cli' }],
    outdir: 'dist',
    legalComments: 'eof',
  }),
  build({
    ...cjs,
    entryPoints: ['src/cli.ts'],
    outfile: 'dist/pjctl.cjs',
    // no comments and no layout (names are kept, as in the source): every run reads the bundle, and V8
    // scans the source of each function it compiles lazily; 0.8 MB became 0.55 MB, ~3-9 ms a run on the
    // lab (reading, then deserialising the code cache)
    minifyWhitespace: true,
    minifySyntax: true,
    plugins: [catalogPlugin, deferChildProcess, vendorPlugin],
  }),
  build({
    ...cjs,
    stdin: {
      contents: "export * from './src/sim/server.ts'\nexport * from './src/sim/seed.ts'\n",
      resolveDir: root,
      loader: 'ts',
    },
    outfile: 'dist/sim.cjs',
  }),
  ...VENDORED.map((name) =>
    build({
      ...cjs,
      stdin: { contents: `module.exports = require(${JSON.stringify(name)})`, resolveDir: root },
      outfile: join('dist', vendorFile(name)),
    }),
  ),
])

// esbuild writes strings, regular expressions and names as ASCII (its default charset), but the
// comments it keeps (licences, at the end) as they are: a single character beyond ASCII there makes
// Node read the whole bundle as a two-byte string, through the slow UTF-8 path (~15 ms of every run).
// In a comment, an escape reads as well.
const bundlePath = join(root, 'dist/pjctl.cjs')
const bundleText = readFileSync(bundlePath, 'utf8')
writeFileSync(
  bundlePath,
  bundleText.replace(/[^\p{ASCII}]/gu, (c) => `\\u{${c.codePointAt(0).toString(16)}}`),
)

// The warm-up: `pjctl demo` (contacts, check, prune and gen against the simulated Asterisk) compiles
// what an everyday run uses, and the code cache then holds it. Its output is not wanted here.
const entry = await import(pathToFileURL(join(root, 'dist/cli.js')).href)
const write = process.stdout.write
process.stdout.write = (chunk, encoding, done) => {
  const callback = typeof encoding === 'function' ? encoding : done
  if (callback) process.nextTick(callback)
  return true
}
let code
try {
  code = await entry.main([process.execPath, 'pjctl', 'demo', '--no-color'])
} catch (error) {
  code = error
} finally {
  process.stdout.write = write
}
if (code !== 0) {
  process.exitCode = 0
  console.warn(`build: the warm-up run of pjctl demo failed (${code}); the code cache holds less`)
}
writeFileSync(join(root, 'dist/pjctl.cjs.cache'), entry.bundleCodeCache())
