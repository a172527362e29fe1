/**
 * CPU time of the main thread, in microseconds. The rejection path is measured with it: it runs
 * synchronously on the event loop, while scrypt runs on libuv's pool. process.cpuUsage() would
 * add the pool threads' hashing during the measured microseconds and overstate a rejection
 * several-fold; process.threadCpuUsage() (Node >= 22.19) counts this thread only, for ~0.5 us.
 */
export type CpuClock = () => number

export const threadCpuMicros: CpuClock = () => {
  const usage = process.threadCpuUsage()
  return usage.user + usage.system
}

/**
 * One request in REJECTION_CPU_SAMPLE_EVERY has its rejection path timed, and the reading counts
 * that many times: four readings of ~0.5-2 us each would otherwise be a tenth of a refusal's cost.
 * An unbiased estimate of the total, as long as refusals cost about the same.
 */
export const REJECTION_CPU_SAMPLE_EVERY = 8

export class CpuSampler {
  readonly every: number
  private count = 0

  constructor (every = REJECTION_CPU_SAMPLE_EVERY) {
    this.every = every
  }

  /** Whether to time this request. */
  take (): boolean {
    this.count = (this.count + 1) % this.every
    return this.count === 0
  }
}
