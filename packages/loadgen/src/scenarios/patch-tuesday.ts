/**
 * patch-tuesday: the Skype outage of 16 Aug 2007. A Windows Update reboot wave restarted a large
 * share of clients within a short window; their log-in flood, on top of lost supernode capacity,
 * kept the network down for two days. Here: SIGKILL a seeded share of the peers' processes at once
 * (a peer each, or with --peers-per-process K a swarm of K peers each: the process is what a kill
 * takes down), restart each after U(0, reboot window), and measure how fast the killed peers are
 * back in session.
 * Source: Skype's account of the outage (Villu Arak, "What happened on August 16", 20 Aug 2007).
 */
import { sleep } from '@rebound/protocol'
import { firstAttachAfter, recoveryFigures } from '../recovery.js'
import type { KillRecord, Objective, RunFacts, Scenario, ScenarioContext, ScenarioOutcome } from './scenario.js'

/** How often recovery is checked against the observer's view. */
export const RECOVERY_CHECK_MS = 250
/** Grace over the reboot window for the slowest peer to be back (the t100 objective). */
export const T100_GRACE_MS = 30_000
export const MIN_DELIVERY_RATIO = 0.9

/** A killed process and the peers it hosts. */
interface Victim {
  process: string
  peers: string[]
  restartDelayMs: number
  restartedAtMs: number | null
}

export const patchTuesday: Scenario = {
  name: 'patch-tuesday',
  description: 'SIGKILL a share of peer processes at once, restart each within a reboot window, measure re-attach times',
  run: runPatchTuesday,
  objectives: patchTuesdayObjectives
}

async function runPatchTuesday (ctx: ScenarioContext): Promise<ScenarioOutcome> {
  const { options, driver, chaos } = ctx
  const processes = ctx.cluster.peerProcesses()
  const peersOf = new Map(processes.map((p) => [p.name, p.peers.map((m) => m.name)]))
  const names = processes.map((p) => p.name)
  const count = Math.min(names.length, Math.ceil(options.killFraction * names.length))
  // Separate streams: drawing delays never changes who is killed, and vice versa.
  const chosen = ctx.prng.fork('kills').sample(names, count)
  const delays = ctx.prng.fork('delays')
  const victims: Victim[] = chosen.map((name) => ({
    process: name, peers: peersOf.get(name) ?? [], restartDelayMs: delays.int(0, options.rebootWindowMs), restartedAtMs: null
  }))

  ctx.setPhase('kill')
  const killTimeMs = Date.now()
  // All signals are sent in this one turn of the event loop; the awaits only collect the exits.
  await Promise.all(victims.map(async (victim) => {
    await driver.kill(victim.process, 'SIGKILL')
    chaos.killed += victim.peers.length
  }))
  const killedPeers = victims.flatMap((v) => v.peers)
  ctx.log.info({ killed: victims.map((v) => v.process), peers: killedPeers.length, killTimeMs }, 'reboot wave: peer processes killed')

  ctx.setPhase('recover')
  const restarts = new AbortController()
  const restartsDone = restartOnSchedule(ctx, victims, killTimeMs, restarts.signal)
  const deadlineMs = killTimeMs + options.observeMs
  const recovered = (): boolean => killedPeers.every((name) => reattachedAt(ctx, name, killTimeMs) !== null)
  // Bounded by the observation deadline (and the run's abort signal).
  while (!recovered() && Date.now() < deadlineMs && !ctx.signal.aborted) {
    await sleep(Math.min(RECOVERY_CHECK_MS, Math.max(0, deadlineMs - Date.now())), ctx.signal)
  }
  restarts.abort()
  await restartsDone

  const kills: KillRecord[] = victims.flatMap((victim) => victim.peers.map((name) => {
    const reattachedAtMs = reattachedAt(ctx, name, killTimeMs)
    return {
      name,
      process: victim.process,
      killTimeMs,
      restartDelayMs: victim.restartDelayMs,
      restartedAtMs: victim.restartedAtMs,
      reattachedAtMs,
      recoveryMs: reattachedAtMs === null ? null : reattachedAtMs - killTimeMs,
      loginAttempts: loginAttemptsSince(ctx, name, killTimeMs)
    }
  }))
  return { recovery: recoveryFigures(kills.map((k) => k.recoveryMs)), kills }
}

function reattachedAt (ctx: ScenarioContext, name: string, killTimeMs: number): number | null {
  return firstAttachAfter(ctx.observer.node(name)?.attachHistory ?? [], killTimeMs)
}

/** Logins the process started after the kill made (its counters start at 0), or null if not seen. */
function loginAttemptsSince (ctx: ScenarioContext, name: string, killTimeMs: number): number | null {
  const status = ctx.observer.node(name)?.status
  if (status === undefined || status.startedAtMs <= killTimeMs) return null
  return status.counters.logins + status.counters.loginFailures
}

/** Restart each victim at killTime + its delay, in delay order; bounded by the victim count. */
async function restartOnSchedule (ctx: ScenarioContext, victims: readonly Victim[], killTimeMs: number, signal: AbortSignal): Promise<void> {
  const order = [...victims].sort((a, b) => a.restartDelayMs - b.restartDelayMs)
  for (const victim of order) {
    await sleep(Math.max(0, killTimeMs + victim.restartDelayMs - Date.now()), signal)
    if (signal.aborted || ctx.signal.aborted) return
    try {
      await ctx.driver.restart(victim.process)
      victim.restartedAtMs = Date.now()
      ctx.chaos.restarted += victim.peers.length
    } catch (err) {
      ctx.log.error({ name: victim.process, err: String(err) }, 'restart failed')
    }
  }
}

function patchTuesdayObjectives (facts: RunFacts): Objective[] {
  const { recovery } = facts.outcome
  const t100LimitMs = facts.options.rebootWindowMs + T100_GRACE_MS
  const ratio = facts.messages.counted > 0 ? facts.messages.delivered / facts.messages.counted : null
  return [
    { name: 'all-killed-reattached', ok: recovery.reattached === recovery.killed, value: recovery.reattached, limit: recovery.killed },
    { name: 't100-ms', ok: recovery.t100Ms !== null && recovery.t100Ms <= t100LimitMs, value: recovery.t100Ms, limit: t100LimitMs },
    { name: 'no-unexpected-exits', ok: facts.unexpectedExits === 0, value: facts.unexpectedExits, limit: 0 },
    {
      name: 'message-delivery-ratio',
      ok: ratio === null || ratio >= MIN_DELIVERY_RATIO,
      value: ratio === null ? null : Math.round(ratio * 10_000) / 10_000,
      limit: MIN_DELIVERY_RATIO
    }
  ]
}
