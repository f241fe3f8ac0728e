// When the exporter renders /metrics, and what a scrape gets: the last complete body (plain and
// gzipped), with the process's own metrics appended. A scrape never renders and never sends an AMI
// action; a render is scheduled by the followers when their picture changed.

import { deflateOpen, deflateTail, gzipMember, type OpenDeflate } from '../http/gzip.js'
import { processRegistry, type ExporterMetrics } from './metrics.js'

/**
 * Renders at most once a second while changes keep coming, and never more often than four times its own
 * cost: on a big PBX some contact expires nearly every second. A render builds the per-AOR text in
 * slices that yield to the event loop (metrics.ts), so scrapes are served the last complete body
 * meanwhile.
 */
const MIN_RENDER_MS = 1000
const RENDER_COST_FACTOR = 4
/** The process metrics of a scrape are at most this old. */
const PROCESS_MAX_AGE_MS = 1000
/** A render's slices: 5 ms, 1 ms while a /metrics answer is being written (the socket is fed between slices). */
const SLICE_MS = 5
const SLICE_WHILE_SENDING_MS = 1

interface Rendered {
  plain: Buffer
  deflated: Buffer
  at: number
}

export class RenderScheduler {
  /** /metrics answers being written (none until the listener is up). */
  sending: () => number = () => 0
  private dirty = false
  private rendering = false
  private timer: NodeJS.Timeout | null = null
  private lastRenderMs = 0
  private lastRenderAt = 0
  private renderedVersion: number
  private tail: Rendered | null = null
  private tailing: Promise<Rendered> | null = null
  private readonly own = processRegistry()

  private constructor(
    private readonly metrics: ExporterMetrics,
    /** Each follower publishes its dirty AORs into the metrics before a render. */
    private readonly publishers: readonly { publish(): Promise<void> }[],
    private readonly log: { debug(message: string): void },
    private body: Buffer[],
    private gzipped: OpenDeflate,
  ) {
    this.renderedVersion = metrics.version
  }

  /** The first body (no server read yet), rendered before the listener answers. */
  static async start(
    metrics: ExporterMetrics,
    publishers: readonly { publish(): Promise<void> }[],
    log: { debug(message: string): void },
  ): Promise<RenderScheduler> {
    const body = await metrics.renderChunks(() => SLICE_MS)
    return new RenderScheduler(metrics, publishers, log, body, await deflateOpen(body))
  }

  /** What changed is rendered when convenient (see MIN_RENDER_MS). */
  schedule(): void {
    this.dirty = true
    if (this.timer || this.rendering) return
    const wait = Math.max(
      0,
      Math.max(MIN_RENDER_MS, RENDER_COST_FACTOR * this.lastRenderMs) -
        (Date.now() - this.lastRenderAt),
    )
    this.timer = setTimeout(() => void this.render(), wait)
  }

  /** The answer to a scrape: the last complete body, and the process's metrics at most PROCESS_MAX_AGE_MS old. */
  async scrape(): Promise<{ body: Buffer[]; gzipped: Buffer[]; contentType: string }> {
    const [plain, zipped] = [this.body, this.gzipped]
    const registry = await this.processPart()
    return {
      body: [...plain, registry.plain],
      gzipped: gzipMember(zipped, registry),
      contentType: this.metrics.contentType,
    }
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
  }

  private sliceMs(): number {
    return this.sending() > 0 ? SLICE_WHILE_SENDING_MS : SLICE_MS
  }

  private async render(): Promise<void> {
    this.timer = null
    if (this.rendering) return
    this.rendering = true
    this.dirty = false
    const started = Date.now()
    let rendered = false
    try {
      for (const publisher of this.publishers) await publisher.publish()
      // a render only when what it shows has changed (not when a contact reached expiration_time without moving its AOR's counts)
      const version = this.metrics.version
      if (version !== this.renderedVersion) {
        // compressed in libuv's thread pool (not on the event loop); body and gzipped change together
        const text = await this.metrics.renderChunks(() => this.sliceMs())
        const compressed = await deflateOpen(text)
        this.body = text
        this.gzipped = compressed
        this.renderedVersion = version
        rendered = true
      }
    } finally {
      this.lastRenderMs = Date.now() - started
      this.lastRenderAt = Date.now()
      this.rendering = false
    }
    this.log.debug(
      rendered
        ? `exporter: rendered ${byteLength(this.body)} bytes (${this.gzipped.deflated.length} gzip) in ${this.lastRenderMs} ms`
        : `exporter: nothing shown changed (${this.lastRenderMs} ms)`,
    )
    // set again by a schedule() during the render
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    if (this.dirty) this.schedule()
  }

  private async processPart(): Promise<Rendered> {
    if (this.tail && Date.now() - this.tail.at < PROCESS_MAX_AGE_MS) return this.tail
    this.tailing ??= (async () => {
      const plain = Buffer.from(await this.own.metrics())
      const tail = { plain, deflated: deflateTail(plain), at: Date.now() }
      this.tail = tail
      return tail
    })().finally(() => (this.tailing = null))
    return this.tailing
  }
}

function byteLength(chunks: readonly Buffer[]): number {
  let n = 0
  for (const chunk of chunks) n += chunk.length
  return n
}
