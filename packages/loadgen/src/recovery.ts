/**
 * Recovery figures of a set of killed peers. A peer's recovery time is its first attachedAtMs
 * after its kill minus the kill time; Tp is the time by which p% of the killed set had re-attached
 * (nearest-rank percentile over the whole killed set, so peers that never came back count as
 * infinitely slow and Tp is null when fewer than p% came back).
 */
import type { KillRecord, ProcessKill } from './scenarios/scenario.js'

export interface RecoveryFigures {
  killed: number
  reattached: number
  t50Ms: number | null
  t90Ms: number | null
  t99Ms: number | null
  t100Ms: number | null
}

/**
 * Nearest-rank percentile (p in percent, 0 < p <= 100) of per-item times where null means "never".
 * An empty set has nothing left to wait for: 0.
 */
export function nearestRankPercentile (values: ReadonlyArray<number | null>, p: number): number | null {
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], got ${p}`)
  if (values.length === 0) return 0
  const reached = values.filter((v): v is number => v !== null).sort((a, b) => a - b)
  // p * n is exact for integer p and n, so the division below has no rounding surprise (90 * 10 / 100 = 9).
  const rank = Math.max(1, Math.ceil((p * values.length) / 100))
  return rank <= reached.length ? (reached[rank - 1] ?? null) : null
}

/** The first attach seen after the kill (history is oldest first), or null when none yet. */
export function firstAttachAfter (attachHistory: readonly number[], killTimeMs: number): number | null {
  for (const attachedAtMs of attachHistory) if (attachedAtMs > killTimeMs) return attachedAtMs
  return null
}

export function recoveryFigures (recoveryMs: ReadonlyArray<number | null>): RecoveryFigures {
  return {
    killed: recoveryMs.length,
    reattached: recoveryMs.filter((v) => v !== null).length,
    t50Ms: nearestRankPercentile(recoveryMs, 50),
    t90Ms: nearestRankPercentile(recoveryMs, 90),
    t99Ms: nearestRankPercentile(recoveryMs, 99),
    t100Ms: nearestRankPercentile(recoveryMs, 100)
  }
}

/** Mean of the known per-client login attempts (null entries are clients never seen again), or null. */
export function meanAttempts (attempts: ReadonlyArray<number | null>): number | null {
  const known = attempts.filter((a): a is number => a !== null)
  if (known.length === 0) return null
  return known.reduce((sum, a) => sum + a, 0) / known.length
}

/**
 * Login requests the login servers received from `fromMs` on, from per-second timeline deltas
 * (`t` seconds after `runStartMs`, each covering the second before it): exact to one second.
 */
export function loginsOfferedSince (samples: ReadonlyArray<{ t: number, loginsOffered: number }>, runStartMs: number, fromMs: number): number {
  let sum = 0
  for (const sample of samples) if (runStartMs + sample.t * 1000 > fromMs) sum += sample.loginsOffered
  return sum
}

/** The per-peer kill records grouped by the process that was killed, in order of first appearance. */
export function processKills (kills: readonly KillRecord[]): ProcessKill[] {
  const byProcess = new Map<string, ProcessKill>()
  for (const kill of kills) {
    let entry = byProcess.get(kill.process)
    if (entry === undefined) {
      entry = { process: kill.process, peers: [], killTimeMs: kill.killTimeMs, restartDelayMs: kill.restartDelayMs, restartedAtMs: kill.restartedAtMs, reattached: 0 }
      byProcess.set(kill.process, entry)
    }
    entry.peers.push(kill.name)
    if (kill.reattachedAtMs !== null) entry.reattached++
  }
  return [...byProcess.values()]
}
