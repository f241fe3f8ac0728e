#!/usr/bin/env node
// Thin launcher: runs the built CLI in this same process (no child process), so a
// signal sent to pjctl reaches pjctl itself. `npm install` builds dist/.
import module from 'node:module'

// Node 22.1+ keeps V8's compiled code on disk between runs; on Node 20 there is no such cache.
module.enableCompileCache?.()
const { main } = await import('../dist/cli.js')
process.exitCode = await main(process.argv)
