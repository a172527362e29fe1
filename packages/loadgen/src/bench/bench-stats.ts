/**
 * The benchmark's arithmetic, free of I/O so it is unit-tested: storm percentiles from what the
 * swarms report, attempts per client, when a run has recovered after overload, and the targets of
 * overload.md ("Targets for an excellent implementation").
 */
import type { NodeStatus, SecondRow } from '@rebound/protocol'
import { nearestRankPercentile } from '../recovery.js'

export interface Percentiles {
  n: number
  reached: number
  /** The first client: what start-up (process, libp2p) cost before the storm reached the server. */
  firstMs: number | null
  t50Ms: number | null
  t90Ms: number | null
  t99Ms: number | null
  t100Ms: number | null
}

/** Times since `t0Ms` over all `n` clients; clients never reached count as never (null). */
export function timePercentiles (times: ReadonlyArray<number | null>, n: number): Percentiles {
  const all = [...times, ...Array.from({ length: Math.max(0, n - times.length) }, () => null)]
  return {
    n,
    reached: all.filter((t) => t !== null).length,
    firstMs: all.reduce<number | null>((min, t) => (t === null ? min : min === null ? t : Math.min(min, t)), null),
    t50Ms: nearestRankPercentile(all, 50),
    t90Ms: nearestRankPercentile(all, 90),
    t99Ms: nearestRankPercentile(all, 99),
    t100Ms: nearestRankPercentile(all, 100)
  }
}

interface Seen {
  loggedInMs: number | null
  attachedMs: number | null
  attempts: number
  resumes: number
}

/**
 * Follows the members of a storm through repeated /status polls: the first login and the first
 * attach each member reports after `t0Ms` (as times since t0), and its latest counters.
 */
export class StormTracker {
  private readonly seen = new Map<string, Seen>()

  constructor (readonly t0Ms: number, readonly n: number) {}

  observe (members: readonly NodeStatus[]): void {
    for (const m of members) {
      const key = m.user ?? m.peerId
      const entry = this.seen.get(key) ?? { loggedInMs: null, attachedMs: null, attempts: 0, resumes: 0 }
      if (entry.loggedInMs === null && m.loggedInAtMs !== null && m.loggedInAtMs >= this.t0Ms) entry.loggedInMs = m.loggedInAtMs - this.t0Ms
      if (entry.attachedMs === null && m.state === 'attached' && m.attachedAtMs !== null && m.attachedAtMs >= this.t0Ms) {
        entry.attachedMs = m.attachedAtMs - this.t0Ms
      }
      // Counters only grow within a process; a member of a new process starts again from 0.
      if (m.startedAtMs >= this.t0Ms) {
        entry.attempts = m.counters.logins + m.counters.loginFailures
        entry.resumes = m.counters.resumes
      }
      this.seen.set(key, entry)
    }
  }

  get attached (): number {
    let count = 0
    for (const entry of this.seen.values()) if (entry.attachedMs !== null) count++
    return count
  }

  login (): Percentiles {
    return timePercentiles([...this.seen.values()].map((e) => e.loggedInMs), this.n)
  }

  attach (): Percentiles {
    return timePercentiles([...this.seen.values()].map((e) => e.attachedMs), this.n)
  }

  /** (logins + failed logins) / N over every member seen. */
  attemptsPerClient (): number {
    let sum = 0
    for (const entry of this.seen.values()) sum += entry.attempts
    return this.n === 0 ? 0 : sum / this.n
  }

  /** Members that logged in (got a ticket from a login server) since t0, and members that resumed. */
  loggedIn (): number {
    return [...this.seen.values()].filter((e) => e.loggedInMs !== null).length
  }

  resumed (): number {
    return [...this.seen.values()].filter((e) => e.resumes > 0).length
  }
}

/** Seconds a row must stay good for the run to count as recovered (one good second can be luck). */
export const RECOVERY_STABLE_S = 3
export const RECOVERY_GOODPUT_SHARE = 0.9

/**
 * Seconds after `fromS` until goodput is back to >= 0.9 x offered and the admitted p99 under
 * `p99LimitMs`, holding for RECOVERY_STABLE_S seconds in a row; null when it never is.
 */
export function recoverySeconds (rows: readonly SecondRow[], fromS: number, offeredPerS: number, p99LimitMs: number): number | null {
  const good = (row: SecondRow | undefined): boolean =>
    row !== undefined && row.ok >= RECOVERY_GOODPUT_SHARE * offeredPerS && row.p99Ms !== null && row.p99Ms <= p99LimitMs
  for (let s = fromS; s + RECOVERY_STABLE_S <= rows.length; s++) {
    let stable = true
    for (let k = 0; k < RECOVERY_STABLE_S && stable; k++) stable = good(rows[s + k])
    if (stable) return s - fromS
  }
  return null
}

export interface Target {
  name: string
  value: number | null
  limit: number
  /** How value compares to limit. */
  rule: '<=' | '>=' | '<'
  unit: string
  /** null when the part that measures it did not run. */
  met: boolean | null
  note: string
}

/**
 * The rejection cost ratio R of overload.md's steady-overload rule, from the whole server process:
 * what a level's CPU exceeds its accepted logins' cost by, per rejection, over the cost of a login
 * (CPU per login at a load that refused nothing). Everything a
 * refusal costs counts here, the libp2p stream, framing and reply included, not only the refusal
 * path that rebound_login_rejection_cpu_seconds_total times. Null without the numbers.
 */
export function rejectionCostRatio (levelCpuS: number | null, accepted: number, rejected: number, loginCpuS: number | null): number | null {
  if (levelCpuS === null || loginCpuS === null || loginCpuS <= 0 || rejected <= 0) return null
  return Math.max(0, levelCpuS - accepted * loginCpuS) / (rejected * loginCpuS)
}

export function target (name: string, value: number | null, rule: Target['rule'], limit: number, unit: string, note = ''): Target {
  let met: boolean | null = null
  if (value !== null && Number.isFinite(limit)) {
    met = rule === '<=' ? value <= limit : rule === '>=' ? value >= limit : value < limit
  }
  return { name, value, limit, rule, unit, met, note }
}
