// Builds dist/ from src/ with esbuild; type-checking stays with tsc (npm run typecheck).
//
// What pjctl loads at start-up is dist/cli.js (src/entry.ts): `pjctl --version` is answered there
// with nothing more loaded. Every other run then loads src/cli.ts's chunk: the option table, commander, and a catalog of the
// commands (each spec's name, arguments, help, options and formats, read from src/commands/ at build
// time, so the help, the man page and completions still come from the specs). A command's own code,
// and what it needs (the AMI session, the renderers, prom-client for the exporter, the simulator for
// `pjctl demo`, csv-parse for `gen --from-csv`), sits in dist/chunks/ and is imported when that
// command runs. Dependencies are bundled: what ships is what runs, with nothing to resolve in
// node_modules at start-up.
import { build } from 'esbuild'
import { mkdtempSync, rmSync } from 'node:fs'
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

rmSync(join(root, 'dist'), { recursive: true, force: true })
await build({
  ...common,
  // dist/cli.js is src/entry.ts (--version, then cli.ts's main, a chunk of its own)
  entryPoints: [{ in: 'src/entry.ts', out: 'cli' }],
  outdir: 'dist',
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  plugins: [catalogPlugin, deferChildProcess],
  legalComments: 'eof',
})
