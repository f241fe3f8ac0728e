// Harness for `npm run test:asterisk`: pjctl against the real Asterisk 22 lab (lab/ of this repository).
// Reuse it from any test/asterisk/*.test.ts:
//
//   import { LAB, pjctl, register, cli, ami, astdbContacts, contactsOf, deleteKeys, putRows, labEtc, waitIdle } from './lab.js'
//   const r = await pjctl(['check', 'FAP003'])          // the built CLI, pointed at the lab (LAB.env)
//   expect((await register('FAP003', 'FAP003-pass', 5171)).code).toBe(0)   // a real REGISTER: 0 = 200, 3 = 403
//   const text = await cli('pjsip show aor FAP003')     // asterisk -rx through the lab's cli.sh
//   await ami('DBPut', { Family: 'registrar/contact', Key: k, Val: v })   // one raw AMI action
//
// The whole run holds the lab lock (/tmp/pjctl-lab.lock, see setup.ts; a parent's `flock` is reused);
// every test leaves the lab as it found it: it removes the contacts and config it adds, and puts back
// what it removed. The helpers live in bench/lab.ts (shared with npm run bench -- --asterisk); the
// environment variables are described there.

import { run, type RunResult } from '../helpers/run.js'
import { LAB } from '../../bench/lab.js'

export * from '../../bench/lab.js'
export type { RunResult }

/** Runs the built pjctl against the lab (extra env wins). */
export function pjctl(
  args: string[],
  env: Record<string, string | undefined> = {},
  killAfterMs = 120_000,
): Promise<RunResult> {
  return run(args, { env: { ...LAB.env, ...env }, killAfterMs })
}
