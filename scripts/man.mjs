// Writes man/pjctl.1 from the built option table and command specs (run by `npm run build`).
// package.json "man" points at it, so `npm install -g` makes `man pjctl` work.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
// the built CLI, with the command catalog it runs with
const { manPageText } = await import(pathToFileURL(join(root, 'dist/cli.js')).href)
const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version
const out = join(root, 'man/pjctl.1')
mkdirSync(dirname(out), { recursive: true })
writeFileSync(out, await manPageText(version))
