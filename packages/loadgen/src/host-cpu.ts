/**
 * The whole machine's CPU, from /proc/stat. On a laptop or a CI runner every process of the
 * cluster and the load generator share a few cores, and when all of them are busy a result
 * measures the machine as much as the system under test: 500 peers on 2 cores, a swarm process
 * hosting 250 clients got about a sixth of a core during a freeze, its /status went unanswered for
 * 70 s and its orphans looked slow to re-home. Each timeline sample records the share of the
 * machine that was busy; the report sums it up from the trigger on, and the summary says when the
 * machine was saturated, so that nobody tunes a protocol against a starved harness. Linux only;
 * elsewhere nothing is recorded.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { TimelineSample } from './timeline.js'

/** A sample this busy (of all cores) counts as saturated. */
export const SATURATED_BUSY_SHARE = 0.95
/** The summary warns when at least this share of the samples after the trigger were saturated. */
export const WARN_SATURATED_SHARE = 0.25

export interface CpuTimes {
  busy: number
  total: number
}

/**
 * The aggregate `cpu` line of /proc/stat (proc(5)): user nice system idle iowait irq softirq steal,
 * in ticks; guest time is already counted in user. Idle and iowait are not busy.
 */
export function parseCpuTimes (text: string): CpuTimes | undefined {
  const line = text.split('\n').find((l) => l.startsWith('cpu '))
  if (line === undefined) return undefined
  const fields = line.trim().split(/\s+/).slice(1, 9).map(Number)
  if (fields.length < 5 || fields.some((f) => !Number.isFinite(f))) return undefined
  const total = fields.reduce((a, b) => a + b, 0)
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0)
  return { busy: total - idle, total }
}

/** The number of `cpuN` lines of /proc/stat: the cores the kernel schedules on. */
export function countCores (text: string): number {
  return text.split('\n').filter((l) => /^cpu\d+\s/.test(l)).length
}

export class HostCpu {
  private last: CpuTimes | undefined
  readonly cores: number | undefined

  constructor (private readonly procRoot = '/proc') {
    const text = this.read()
    this.cores = text === undefined ? undefined : countCores(text)
    this.last = text === undefined ? undefined : parseCpuTimes(text)
  }

  /** Busy share of the machine (0..1) since the previous call, or undefined when /proc/stat cannot be read. */
  sample (): number | undefined {
    const text = this.read()
    const now = text === undefined ? undefined : parseCpuTimes(text)
    const before = this.last
    this.last = now
    if (now === undefined || before === undefined || now.total <= before.total) return undefined
    return Math.round(100 * (now.busy - before.busy) / (now.total - before.total)) / 100
  }

  private read (): string | undefined {
    try {
      return readFileSync(join(this.procRoot, 'stat'), 'utf8')
    } catch {
      return undefined
    }
  }
}

export interface HostReport {
  /** Cores of the machine (from /proc/stat). */
  cores: number
  /** Samples from the trigger on that recorded the machine's load (the whole run when there was no trigger). */
  samples: number
  /** Mean busy share of all cores over those samples, null when there were none. */
  meanBusyShare: number | null
  /** Of those, the samples at least SATURATED_BUSY_SHARE busy. */
  saturatedSamples: number
}

/** The machine's load from the trigger on (from the start when there was none). */
export function hostReport (samples: readonly TimelineSample[], triggerAtS: number | null, cores: number): HostReport {
  const from = triggerAtS ?? 0
  const busy = samples.filter((s) => s.t >= from && s.hostBusy !== undefined).map((s) => s.hostBusy as number)
  const mean = busy.length === 0 ? null : Math.round(100 * busy.reduce((a, b) => a + b, 0) / busy.length) / 100
  return { cores, samples: busy.length, meanBusyShare: mean, saturatedSamples: busy.filter((b) => b >= SATURATED_BUSY_SHARE).length }
}

/** The summary's line, with a warning when the machine was saturated for a good part of the run. */
export function hostLine (host: HostReport, triggered: boolean): string {
  const when = triggered ? 'from the trigger on' : 'during the run'
  if (host.meanBusyShare === null) return `  host        ${host.cores} cores; load not sampled`
  const line = `  host        ${host.cores} cores, ${Math.round(100 * host.meanBusyShare)}% busy ${when}; saturated (>= ${Math.round(100 * SATURATED_BUSY_SHARE)}%) ${host.saturatedSamples} of ${host.samples} s`
  const saturated = host.samples > 0 && host.saturatedSamples / host.samples >= WARN_SATURATED_SHARE
  return saturated ? `${line}\n              warning: the machine was saturated; timings measure it as much as the system (fewer peers, or more cores)` : line
}
