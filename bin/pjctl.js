#!/usr/bin/env node
// Thin launcher: runs the built CLI in this same process (no child process), so a
// signal sent to pjctl reaches pjctl itself. `npm install` builds dist/.
import { main } from '../dist/cli.js'

process.exitCode = await main(process.argv)
