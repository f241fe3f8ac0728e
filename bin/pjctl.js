#!/usr/bin/env node
// Thin launcher: runs the built CLI in this same process (no child process), so a
// signal sent to pjctl reaches pjctl itself. `npm install` builds dist/.
import module from 'node:module'

// Node 22.1+ keeps V8's compiled code on disk between runs; on Node 20 there is no such cache.
module.enableCompileCache?.()
const { main } = await import('../dist/cli.js')
// Everything is written by the time main resolves (every output waits for its write): exit now,
// not after Node has torn down a heap that may hold 100,000 contacts (10-15 ms at 15,000).
process.exit(await main(process.argv))
