/**
 * The per-second timeline of a run: gauges as seen at the sample, counters as the change since the
 * previous sample (so a chart shows rates, e.g. the login storm after a reboot wave).
 */
import { sleep } from '@rebound/protocol'
import type { LoginCounters, Observer } from './observer.js'
import { HostCpu } from './host-cpu.js'
import { ProcUsage, type ProcUsageDeps, type UsageByRole } from './proc-usage.js'
import type { MessageCounters } from './workload.js'

export const SAMPLE_PERIOD_MS = 1000
/**
 * One hour of samples; a longer run keeps its first hour (the report says so via `truncated`).
 * A sample is bounded too: a fixed set of fields plus at most one usage entry per role.
 */
export const MAX_TIMELINE_SAMPLES = 3600

export interface TimelineSample {
  /** Seconds since the run started. */
  t: number
  peersOnline: number
  supernodes: number
  loginsOffered: number
  loginsAccepted: number
  loginsRejected: number
  loginsFailed: number
  messagesSent: number
  messagesDelivered: number
  messagesFailed: number
  /** Cumulative. */
  killed: number
  /** Cumulative. */
  restarted: number
  processesRunning: number
  /**
   * CPU (cores) and resident memory (MiB) of the running processes by role, over the second before
   * the sample. Absent where /proc cannot be read, and in reports older than it.
   */
  usage?: UsageByRole
  /** Running processes left out of `usage` by MAX_USAGE_PROCESSES; absent when none were. */
  usageSkipped?: number
  /** Busy share of the whole machine (all cores, 0..1) over the second before (host-cpu.ts); absent where unknown. */
  hostBusy?: number
}

/** Peers the scenario took down and brought back (a killed swarm counts every peer it hosts). */
export interface ChaosCounters {
  killed: number
  restarted: number
}

export interface TimelineSources {
  observer: Observer
  peerNames: readonly string[]
  messages: () => MessageCounters | undefined
  chaos: ChaosCounters
  processesRunning: () => number
  /** The processes to measure CPU and memory of, with their pids; without it no usage is sampled. */
  usage?: ProcUsageDeps
}

export class Timeline {
  readonly samples: TimelineSample[] = []
  truncated = false
  private readonly sources: TimelineSources
  private readonly startMs: number
  private lastLogins: LoginCounters = { offered: 0, accepted: 0, rejected: 0, failed: 0 }
  private lastMessages = { sent: 0, delivered: 0, failed: 0 }
  private readonly controller = new AbortController()
  private loopDone: Promise<void> = Promise.resolve()
  private readonly usage: ProcUsage | undefined
  /** The machine's CPU, sampled with the processes' usage. */
  readonly host: HostCpu | undefined

  constructor (sources: TimelineSources, startMs: number) {
    this.sources = sources
    this.startMs = startMs
    this.usage = sources.usage === undefined ? undefined : new ProcUsage({ startMs }, sources.usage)
    this.host = sources.usage === undefined ? undefined : new HostCpu()
  }

  start (): void {
    this.loopDone = this.loop()
  }

  /** Stop sampling, taking one last sample so the tail of the run is not lost. */
  async stop (): Promise<void> {
    this.controller.abort()
    await this.loopDone
    this.sample(Date.now())
  }

  latest (): TimelineSample | undefined {
    return this.samples.at(-1)
  }

  sample (nowMs: number): TimelineSample {
    const { observer, peerNames, chaos } = this.sources
    const logins = observer.loginTotals()
    const messages = this.sources.messages() ?? { sent: 0, delivered: 0, failed: 0 }
    const sample: TimelineSample = {
      t: Math.round((nowMs - this.startMs) / 100) / 10,
      peersOnline: peerNames.filter((name) => observer.isAttached(name)).length,
      supernodes: observer.nodes().filter((view) => view.status?.role === 'supernode' && observer.isAttached(view.name)).length,
      loginsOffered: logins.offered - this.lastLogins.offered,
      loginsAccepted: logins.accepted - this.lastLogins.accepted,
      loginsRejected: logins.rejected - this.lastLogins.rejected,
      loginsFailed: logins.failed - this.lastLogins.failed,
      messagesSent: messages.sent - this.lastMessages.sent,
      messagesDelivered: messages.delivered - this.lastMessages.delivered,
      messagesFailed: messages.failed - this.lastMessages.failed,
      killed: chaos.killed,
      restarted: chaos.restarted,
      processesRunning: this.sources.processesRunning()
    }
    if (this.usage !== undefined) {
      const usage = this.usage.sample(nowMs)
      if (Object.keys(usage).length > 0) sample.usage = usage
      if (this.usage.skipped > 0) sample.usageSkipped = this.usage.skipped
    }
    const hostBusy = this.host?.sample()
    if (hostBusy !== undefined) sample.hostBusy = hostBusy
    this.lastLogins = { ...logins }
    this.lastMessages = { sent: messages.sent, delivered: messages.delivered, failed: messages.failed }
    if (this.samples.length < MAX_TIMELINE_SAMPLES) this.samples.push(sample)
    else this.truncated = true
    return sample
  }

  private async loop (): Promise<void> {
    const signal = this.controller.signal
    let tick = 1
    // Bounded by the abort signal: stop() ends it.
    while (!signal.aborted) {
      await sleep(Math.max(0, this.startMs + tick * SAMPLE_PERIOD_MS - Date.now()), signal)
      if (signal.aborted) break
      this.sample(Date.now())
      tick = Math.max(tick + 1, Math.floor((Date.now() - this.startMs) / SAMPLE_PERIOD_MS) + 1)
    }
  }
}
