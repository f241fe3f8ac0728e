// Fault injection for the simulated Asterisk: what tests (and the benchmark) do to it to see pjctl
// cope with a server that stalls, resets, drops output or answers the wrong action. It reaches the
// sim only through SimHooks (./server.ts), and only a caller that imports this file gets it: `pjctl
// demo` runs the sim from ./server.ts and never loads this file (test/arch.test.ts, test/cli/demo-load.test.ts).

import type { Header } from './ami.js'
import { SimAsterisk, type AnswerBend, type SimHooks, type SimOptions } from './server.js'

/** An action name (case-insensitive), as in the `Action:` header. */
type ActionName = string

export interface SimFaults {
  /** Sent instead of the banner (e.g. an HTTP response), then the connection is closed. */
  garbageBanner?: string
  /** The banner, then nothing: no action is ever answered. */
  stallAfterBanner?: boolean
  /** For that action: the first `afterBytes` bytes of its answer (default 0), then silence, connection open. */
  stall?: { action: ActionName; afterBytes?: number }
  /** For that action: the first `afterBytes` bytes of its answer, then the connection is closed. */
  closeMidAnswer?: { action: ActionName; afterBytes: number }
  /** For that action: `count` listed items (output lines, list events) are left out; the answer's own count stays true. */
  dropOutputLines?: {
    action: ActionName
    count: number
    /** Only the first `times` answers to that action (counted over the whole server) lose items; default every one. */
    times?: number
    /** Then end the session, as Asterisk does after a write error (main/manager.c leaves a session whose write failed). */
    endSession?: boolean
  }
  /** That action is answered with another ActionID only. */
  wrongActionId?: ActionName
  /** That action's answer is sent twice. */
  duplicateResponse?: ActionName
  /** DBDel (and `database del`) of these keys fails without deleting. */
  dbDelFail?: string[]
  /** Runs before the sim answers each action (after it was recorded in `received`). */
  beforeAction?: (action: string, headers: Header[], sim: SimAsterisk) => void | Promise<void>
  /** A server without the Challenge action (an AMI proxy, say): it answers `Invalid/unknown command`. */
  noChallenge?: boolean
  /** Connections beyond this many are closed at once (net.Server#maxConnections). */
  maxConnections?: number
}

export interface FaultySimOptions extends Omit<SimOptions, 'hooks'> {
  faults?: SimFaults
}

function isAction(faultAction: ActionName | undefined, action: string): boolean {
  return faultAction?.toLowerCase() === action.toLowerCase()
}

/** The fault when it is set for this action. */
function faultFor<Fault extends { action: ActionName }>(
  fault: Fault | undefined,
  action: string,
): Fault | undefined {
  return isAction(fault?.action, action) ? fault : undefined
}

/** `items` without `count` of them, spread evenly: what a writetimeout drop leaves. */
function withoutSome<T>(items: T[], count: number): T[] {
  if (count <= 0) return items
  if (count >= items.length) return []
  const dropped = new Set<number>()
  for (let k = 0; k < count; k++) dropped.add(Math.floor(((k + 0.5) * items.length) / count))
  return items.filter((_, index) => !dropped.has(index))
}

/** SimFaults as SimHooks. */
class FaultHooks implements SimHooks {
  faults: SimFaults = {}
  /** Answers per action that a dropOutputLines fault may damage, over the whole server. */
  private readonly damaged = new Map<string, number>()

  greeting(): { instead: string } | { silenceAfterBanner: true } | undefined {
    if (this.faults.garbageBanner !== undefined) return { instead: this.faults.garbageBanner }
    return this.faults.stallAfterBanner ? { silenceAfterBanner: true } : undefined
  }

  beforeAction(action: string, headers: Header[], sim: SimAsterisk): void | Promise<void> {
    return this.faults.beforeAction?.(action, headers, sim)
  }

  bendAnswer(action: string, actionId: string): AnswerBend {
    const faults = this.faults
    const drop = faultFor(faults.dropOutputLines, action)
    const dropping =
      drop !== undefined && (drop.times === undefined || this.countDamaged(action) <= drop.times)
    const stall = faultFor(faults.stall, action)
    const cut = faultFor(faults.closeMidAnswer, action)
    const bend: AnswerBend = {}
    if (dropping) bend.keep = (items) => withoutSome(items, drop.count)
    if (isAction(faults.wrongActionId, action)) bend.actionId = `${actionId}-wrong`
    if (isAction(faults.duplicateResponse, action)) bend.twice = true
    if (stall) bend.maxBytes = stall.afterBytes ?? 0
    else if (cut) bend.maxBytes = cut.afterBytes
    if (cut || (dropping && drop.endSession)) bend.then = 'close'
    else if (stall) bend.then = 'silence'
    return bend
  }

  lacksAction(action: string): boolean {
    return this.faults.noChallenge === true && action.toLowerCase() === 'challenge'
  }

  dbDelFails(_family: string, key: string): boolean {
    return this.faults.dbDelFail?.includes(key) ?? false
  }

  private countDamaged(action: string): number {
    const n = (this.damaged.get(action) ?? 0) + 1
    this.damaged.set(action, n)
    return n
  }
}

/** A SimAsterisk with faults to inject, set at the start or changed while it runs. */
export class FaultySim extends SimAsterisk {
  private readonly faultHooks: FaultHooks

  constructor(opts: FaultySimOptions = {}) {
    const hooks = new FaultHooks()
    super({ ...opts, hooks })
    this.faultHooks = hooks
    this.setFaults(opts.faults ?? {})
  }

  get faults(): SimFaults {
    return this.faultHooks.faults
  }

  setFaults(faults: SimFaults): void {
    this.faultHooks.faults = faults
    this.server.maxConnections = faults.maxConnections ?? Number.POSITIVE_INFINITY
  }
}

/** startSim() with faults: constructs a FaultySim and starts it on 127.0.0.1 (port 0: any free port). */
export async function startFaultySim(opts: FaultySimOptions = {}, port = 0): Promise<FaultySim> {
  const sim = new FaultySim(opts)
  await sim.start(port)
  return sim
}
