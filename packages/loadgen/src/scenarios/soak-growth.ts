/**
 * The soak's verdict on resources: is anything of any role growing without bound? A leak grows
 * with time, a warm-up does not, so the first part of the soak is left out (JIT, caches, the
 * first connections), and the mean per process over an early window is compared with the same
 * over the last window: a ratio well above 1 in memory or in descriptors is a leak at this rate.
 * Pure (no I/O): the soak feeds it samples.
 */
import type { UsageByRole, UsageRole } from '../proc-usage.js'

/** Share of the soak left out before the early window starts (the warm-up of the processes). */
export const SETTLE_SHARE = 0.2
/** Length of each window, as a share of the soak. */
export const WINDOW_SHARE = 0.2
/**
 * Descriptors a process may gain beyond the ratio without being called a leak: a few sockets
 * more or less at the moment of a sample is churn, not growth.
 */
export const FD_SLACK_PER_PROCESS = 16

export interface UsagePoint {
  /** Milliseconds since the soak started. */
  atMs: number
  usage: UsageByRole
}

export interface RoleGrowth {
  role: UsageRole
  /** Mean RSS per process (MiB) in the early and the last window. */
  rssEarlyMiB: number
  rssLateMiB: number
  rssRatio: number
  /** Mean open descriptors per process in the early and the last window. */
  fdsEarly: number
  fdsLate: number
  /** (late - slack) / early, at least 0: 1 or less is flat. */
  fdRatio: number
}

/** Per role with samples in both windows; empty when the soak was too short to have two windows. */
export function growthByRole (points: readonly UsagePoint[], durationMs: number): RoleGrowth[] {
  const early = window(points, durationMs * SETTLE_SHARE, durationMs * (SETTLE_SHARE + WINDOW_SHARE))
  const late = window(points, durationMs * (1 - WINDOW_SHARE), Number.POSITIVE_INFINITY)
  const roles = new Set<UsageRole>([...early, ...late].flatMap((p) => Object.keys(p.usage) as UsageRole[]))
  const growth: RoleGrowth[] = []
  for (const role of roles) {
    const a = perProcess(early, role)
    const b = perProcess(late, role)
    if (a === null || b === null) continue
    growth.push({
      role,
      rssEarlyMiB: round2(a.rss),
      rssLateMiB: round2(b.rss),
      rssRatio: ratio(b.rss, a.rss),
      fdsEarly: round2(a.fds),
      fdsLate: round2(b.fds),
      fdRatio: ratio(Math.max(0, b.fds - FD_SLACK_PER_PROCESS), a.fds)
    })
  }
  return growth.sort((x, y) => x.role.localeCompare(y.role))
}

function window (points: readonly UsagePoint[], fromMs: number, toMs: number): UsagePoint[] {
  return points.filter((p) => p.atMs >= fromMs && p.atMs < toMs)
}

/** Mean per process over the points (total over processes seen), or null when none was seen. */
function perProcess (points: readonly UsagePoint[], role: UsageRole): { rss: number, fds: number } | null {
  let processes = 0
  let rss = 0
  let fds = 0
  for (const point of points) {
    const u = point.usage[role]
    if (u === undefined || u.processes === 0) continue
    processes += u.processes
    rss += u.rssMiB
    fds += u.fds ?? 0
  }
  return processes === 0 ? null : { rss: rss / processes, fds: fds / processes }
}

function ratio (late: number, early: number): number {
  if (early <= 0) return late <= 0 ? 1 : Number.POSITIVE_INFINITY
  return round2(late / early)
}

function round2 (value: number): number {
  return Math.round(value * 100) / 100
}
