/**
 * soak: hours of ordinary weather instead of one storm. A steady churn (every `churnIntervalMs` a
 * seeded peer process is SIGKILLed and restarted after U(0, reboot window)) under the steady
 * workload, for `durationMs`; meanwhile the memory and open descriptors of every role are sampled,
 * and at the end the soak judges whether any of them grew (soak-growth.ts): the slow leaks that a
 * two-minute storm never shows, and that bring a system down on its third day.
 */
import { sleep } from '@rebound/protocol'
import { ProcUsage, usageProcesses } from '../proc-usage.js'
import { firstAttachAfter, recoveryFigures } from '../recovery.js'
import { RECOVERY_CHECK_MS } from './reboot-wave.js'
import type { KillRecord, Objective, RunFacts, Scenario, ScenarioContext, ScenarioOutcome } from './scenario.js'
import { growthByRole, type RoleGrowth, type UsagePoint } from './soak-growth.js'

/** How often the soak samples usage: 720 points an hour, a day's soak stays under 20 000. */
export const SOAK_SAMPLE_MS = 5000
/** Points kept: a day of samples; a longer soak keeps sampling into the last window by thinning. */
export const MAX_SOAK_POINTS = 24 * 3600_000 / SOAK_SAMPLE_MS
/** Largest mean growth per process, early window to last, of RSS and of descriptors. */
export const MAX_GROWTH_RATIO = 1.5

export const soak: Scenario = {
  name: 'soak',
  description: 'a steady churn of peer processes for --duration; every role\'s memory and descriptors must stay flat',
  run: async (ctx) => await runSoak(ctx, { durationMs: ctx.options.duration, churnIntervalMs: ctx.options.churnIntervalMs }),
  objectives: (facts) => soakObjectives(facts)
}

export interface SoakPlan {
  durationMs: number
  churnIntervalMs: number
}

export interface SoakReport {
  durationMs: number
  churnIntervalMs: number
  /** Peer processes killed and restarted, and how many of their peers were attached again after. */
  churned: number
  growth: RoleGrowth[]
  samples: number
}

export async function runSoak (ctx: ScenarioContext, plan: SoakPlan): Promise<ScenarioOutcome & { soak: SoakReport }> {
  const { driver, options, cluster } = ctx
  const startMs = Date.now()
  const endMs = startMs + plan.durationMs
  const usage = new ProcUsage({ startMs }, { processes: () => usageProcesses(cluster.members, cluster.addedMembers()), pid: (name) => driver.pid(name) })
  const points: UsagePoint[] = []
  const pick = ctx.prng.fork('soak-churn')
  const delays = ctx.prng.fork('soak-delays')
  const processes = cluster.peerProcesses()
  const kills: KillRecord[] = []
  const restarts: Array<Promise<void>> = []
  ctx.setPhase('soak')
  let nextChurnMs = startMs + plan.churnIntervalMs
  let nextSampleMs = startMs
  // Bounded by the soak's end (and the run's abort signal); each turn does one thing due.
  while (Date.now() < endMs && !ctx.signal.aborted) {
    const nowMs = Date.now()
    if (nowMs >= nextSampleMs) {
      if (points.length >= MAX_SOAK_POINTS) points.splice(0, points.length, ...points.filter((_, i) => i % 2 === 0))
      points.push({ atMs: nowMs - startMs, usage: usage.sample(nowMs) })
      nextSampleMs = nowMs + SOAK_SAMPLE_MS
    }
    if (nowMs >= nextChurnMs && processes.length > 0) {
      const victim = pick.pick(processes)
      const delayMs = delays.int(0, options.rebootWindowMs)
      // Only a process that is up is churned: one still restarting would be killed twice.
      if (driver.isRunning(victim.name)) {
        await driver.kill(victim.name, 'SIGKILL')
        const killTimeMs = Date.now()
        ctx.chaos.killed += victim.peers.length
        const record = victim.peers.map((m): KillRecord => ({
          name: m.name, process: victim.name, killTimeMs, restartDelayMs: delayMs, restartedAtMs: null, reattachedAtMs: null, recoveryMs: null, loginAttempts: null
        }))
        kills.push(...record)
        restarts.push(restartLater(ctx, victim.name, victim.peers.length, delayMs, record))
      }
      nextChurnMs = nowMs + plan.churnIntervalMs
    }
    await sleep(Math.max(0, Math.min(nextSampleMs, nextChurnMs, endMs) - Date.now()), ctx.signal)
  }
  await Promise.all(restarts)
  ctx.setPhase('recover')
  // The last churned peers get the observation bound to come back.
  const deadlineMs = Date.now() + options.observeMs
  const back = (k: KillRecord): boolean => firstAttachAfter(ctx.observer.node(k.name)?.attachHistory ?? [], k.killTimeMs) !== null
  while (!kills.every(back) && Date.now() < deadlineMs && !ctx.signal.aborted) await sleep(RECOVERY_CHECK_MS, ctx.signal)
  for (const k of kills) {
    k.reattachedAtMs = firstAttachAfter(ctx.observer.node(k.name)?.attachHistory ?? [], k.killTimeMs)
    k.recoveryMs = k.reattachedAtMs === null ? null : k.reattachedAtMs - k.killTimeMs
  }
  const soak: SoakReport = { durationMs: plan.durationMs, churnIntervalMs: plan.churnIntervalMs, churned: new Set(kills.map((k) => k.process)).size, growth: growthByRole(points, plan.durationMs), samples: points.length }
  ctx.log.info({ soak }, 'soak finished')
  return { triggerAtMs: startMs, recovery: recoveryFigures(kills.map((k) => k.recoveryMs)), kills, soak }
}

/** Restart `name` after `delayMs` (skipped when the run is stopping); records when. */
async function restartLater (ctx: ScenarioContext, name: string, peers: number, delayMs: number, records: KillRecord[]): Promise<void> {
  await sleep(delayMs, ctx.signal)
  if (ctx.signal.aborted) return
  try {
    await ctx.driver.restart(name)
    const atMs = Date.now()
    for (const r of records) r.restartedAtMs = atMs
    ctx.chaos.restarted += peers
  } catch (err) {
    ctx.log.error({ name, err: String(err) }, 'restart failed')
  }
}

/** The limits a scenario file may set (docs/scenarios.md). */
export type SoakLimits = Partial<Record<'rss-growth-ratio' | 'fd-growth-ratio', number>>

export function soakLimits (limits: SoakLimits = {}): Required<SoakLimits> {
  return { 'rss-growth-ratio': limits['rss-growth-ratio'] ?? MAX_GROWTH_RATIO, 'fd-growth-ratio': limits['fd-growth-ratio'] ?? MAX_GROWTH_RATIO }
}

export function soakObjectives (facts: RunFacts, set: SoakLimits = {}): Objective[] {
  const { recovery } = facts.outcome
  const limits = soakLimits(set)
  const growth = facts.outcome.soak?.growth ?? []
  // The worst role decides; no growth figure at all (a soak too short for two windows) fails.
  const worst = (key: 'rssRatio' | 'fdRatio'): number | null => growth.length === 0 ? null : Math.max(...growth.map((g) => g[key]))
  const rss = worst('rssRatio')
  const fds = worst('fdRatio')
  const rssLimit = limits['rss-growth-ratio']
  const fdLimit = limits['fd-growth-ratio']
  return [
    { name: 'all-churned-reattached', ok: recovery.reattached === recovery.killed, value: recovery.reattached, limit: recovery.killed },
    { name: 'rss-growth-ratio', ok: rss !== null && rss <= rssLimit, value: rss, limit: rssLimit },
    { name: 'fd-growth-ratio', ok: fds !== null && fds <= fdLimit, value: fds, limit: fdLimit },
    { name: 'no-unexpected-exits', ok: facts.unexpectedExits === 0, value: facts.unexpectedExits, limit: 0 }
  ]
}

/** The soak's lines in the terminal summary: the churn, then a line per role. */
export function soakLines (soak: SoakReport, formatMs: (ms: number | null) => string): string[] {
  return [
    `  soak        ${formatMs(soak.durationMs)}, a peer process churned every ${formatMs(soak.churnIntervalMs)} (${soak.churned} distinct), ${soak.samples} samples`,
    ...soak.growth.map((g) => `              ${g.role.padEnd(13)} RSS ${g.rssEarlyMiB} -> ${g.rssLateMiB} MiB/process (x${g.rssRatio}), fds ${g.fdsEarly} -> ${g.fdsLate} (ratio ${g.fdRatio})`)
  ]
}
