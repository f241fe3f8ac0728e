// Every command pjctl has, listed statically (one module per command over the shared read path).
import { check } from './check.js'
import { completion } from './completion.js'
import { contacts } from './contacts.js'
import { demo } from './demo.js'
import { doctor } from './doctor.js'
import { exporter } from './exporter.js'
import { gen } from './gen.js'
import { prune } from './prune.js'
import { restore } from './restore.js'
import { sources } from './sources.js'
import { watch } from './watch.js'
import type { AnyCommand } from './types.js'

export const COMMANDS: readonly AnyCommand[] = [
  contacts,
  check,
  sources,
  doctor,
  prune,
  restore,
  gen,
  exporter,
  watch,
  demo,
  completion,
]
