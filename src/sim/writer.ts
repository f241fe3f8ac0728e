// Writes an answer the way main/manager.c does: each segment is one send_string(), written with
// the manager user's writetimeout; a segment whose write waits longer than that loses its rest,
// silently, and the next segment is tried all the same.

import type { Socket } from 'node:net'

export interface WriteLimits {
  /** Bytes per socket.write(). */
  chunkSize: number
  /** manager.conf `writetimeout` in ms; undefined waits for 'drain' as long as it takes. */
  writeTimeoutMs?: number
  /** Write only the first `maxBytes` bytes of the answer (a hook cutting an answer short). */
  maxBytes?: number
  /** Spread the write over this many ms (the modelled per-event cost of src/sim/cost.ts). */
  paceMs?: number
}

type DrainOutcome = 'drained' | 'timeout' | 'closed'

function waitForDrain(socket: Socket, timeoutMs: number | undefined): Promise<DrainOutcome> {
  return new Promise((resolve) => {
    const finish = (outcome: DrainOutcome) => {
      clearTimeout(timer)
      socket.off('drain', onDrain)
      socket.off('close', onClose)
      resolve(outcome)
    }
    const onDrain = () => finish('drained')
    const onClose = () => finish('closed')
    const timer =
      timeoutMs === undefined ? undefined : setTimeout(() => finish('timeout'), timeoutMs)
    socket.on('drain', onDrain)
    socket.on('close', onClose)
  })
}

/** Byte offset where each segment ends, in the UTF-8 encoding of their concatenation. */
function segmentEnds(segments: string[]): number[] {
  const ends: number[] = []
  let offset = 0
  for (const segment of segments) {
    offset += Buffer.byteLength(segment)
    ends.push(offset)
  }
  return ends
}

/** Writes the segments in chunks, honouring backpressure. False when the socket closed first. */
export async function writeSegments(
  socket: Socket,
  segments: string[],
  limits: WriteLimits,
): Promise<boolean> {
  const data = Buffer.from(segments.join(''))
  const ends = segmentEnds(segments)
  const end = Math.min(data.length, limits.maxBytes ?? Infinity)
  let position = 0
  let segment = 0
  const started = performance.now()
  while (position < end) {
    if (socket.destroyed) return false
    if (limits.paceMs) {
      const wait = started + (limits.paceMs * position) / end - performance.now()
      if (wait >= 1) await new Promise((resolve) => setTimeout(resolve, wait))
      // the client may have left while this waited
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
      if (socket.destroyed) return false
    }
    while ((ends[segment] ?? Infinity) <= position) segment++
    if (socket.writableNeedDrain) {
      const outcome = await waitForDrain(socket, limits.writeTimeoutMs)
      if (outcome === 'closed') return false
      if (outcome === 'timeout') {
        position = ends[segment] ?? end
        continue
      }
    }
    const next = Math.min(position + limits.chunkSize, end)
    socket.write(data.subarray(position, next))
    position = next
  }
  return !socket.destroyed
}
