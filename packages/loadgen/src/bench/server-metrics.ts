/**
 * What the benchmark reads from a login server's /metrics: its CPU and memory (prom-client's
 * process metrics) and its login counters; the admission-control metrics when the server has
 * them (an older or naive build may not: they are then absent, never 0), and a sampler that
 * keeps the peak memory over a window.
 */
import { sleep } from '@rebound/protocol'
import { getText } from '../http.js'
import { findMetrics } from '../prom-text.js'

const SCRAPE_TIMEOUT_MS = 3000
export const SAMPLE_PERIOD_MS = 1000

export const SERVER_METRICS = {
  cpuS: 'process_cpu_seconds_total',
  rssBytes: 'process_resident_memory_bytes',
  offered: 'rebound_login_offered_total',
  accepted: 'rebound_login_accepted_total',
  rejected: 'rebound_login_rejected_total',
  rejectionCpuS: 'rebound_login_rejection_cpu_seconds_total',
  queueLength: 'rebound_login_queue_length',
  capacityPerS: 'rebound_login_capacity_per_second',
  slotsIssued: 'rebound_login_slots_issued_total'
} as const
export type ServerMetricName = keyof typeof SERVER_METRICS
export type ServerSample = Partial<Record<ServerMetricName, number>> & { atMs: number }

export async function scrapeServer (url: string): Promise<ServerSample | undefined> {
  const page = await getText(`${url}/metrics`, SCRAPE_TIMEOUT_MS)
  if (!page.ok) return undefined
  const found: Partial<Record<string, number>> = findMetrics(page.value, Object.values(SERVER_METRICS))
  const sample: ServerSample = { atMs: Date.now() }
  for (const [key, name] of Object.entries(SERVER_METRICS) as Array<[ServerMetricName, string]>) {
    const value = found[name]
    if (value !== undefined) sample[key] = value
  }
  return sample
}

/** after - before of a counter, or null when either scrape lacks it. */
export function delta (before: ServerSample | undefined, after: ServerSample | undefined, key: ServerMetricName): number | null {
  const a = before?.[key]
  const b = after?.[key]
  return a === undefined || b === undefined ? null : b - a
}

/** Samples kept per server: an hour at one a second. */
export const MAX_SAMPLES = 3600

/** Samples servers every second until stopped; keeps every sample (bounded) and the overall peak RSS. */
export class ServerSampler {
  peakRssBytes: number | null = null
  readonly samples = new Map<string, ServerSample[]>()
  private readonly controller = new AbortController()
  private loop: Promise<void> = Promise.resolve()

  constructor (private readonly urls: readonly string[]) {}

  start (): void {
    this.loop = this.run()
  }

  /** Peak RSS of one server over samples taken in [fromMs, toMs], or null when none. */
  peakRss (url: string, fromMs: number, toMs: number): number | null {
    let peak: number | null = null
    for (const s of this.samples.get(url) ?? []) {
      if (s.atMs >= fromMs && s.atMs <= toMs && s.rssBytes !== undefined) peak = Math.max(peak ?? 0, s.rssBytes)
    }
    return peak
  }

  async stop (): Promise<void> {
    this.controller.abort()
    await this.loop
  }

  private async run (): Promise<void> {
    const signal = this.controller.signal
    // Bounded by the abort signal: stop() ends it.
    while (!signal.aborted) {
      const startedMs = Date.now()
      await Promise.all(this.urls.map(async (url) => {
        const sample = await scrapeServer(url)
        if (sample === undefined) return
        const list = this.samples.get(url) ?? []
        if (list.length < MAX_SAMPLES) list.push(sample)
        this.samples.set(url, list)
        if (sample.rssBytes !== undefined) this.peakRssBytes = Math.max(this.peakRssBytes ?? 0, sample.rssBytes)
      }))
      await sleep(Math.max(0, SAMPLE_PERIOD_MS - (Date.now() - startedMs)), signal)
    }
  }
}
