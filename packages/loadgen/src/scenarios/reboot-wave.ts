/**
 * A reboot wave: SIGKILL a seeded share of the peer processes at once (a peer each, or a swarm of
 * K), restart each after U(0, reboot window), and follow the killed peers until they are back.
 * patch-tuesday is this wave; `wipe --target device` is this wave with the victims' disks erased
 * between the kill and the restart. Just before the kill every victim starts a message and a
 * contact change, so that the kill catches writes in flight (issue 5: nothing acknowledged lost,
 * even by a process killed in the middle of its fsyncs).
 */
import { sleep } from '@rebound/protocol'
import { firstAttachAfter } from '../recovery.js'
import type { KillRecord, ScenarioContext } from './scenario.js'

/** How often recovery is checked against the observer's view. */
export const RECOVERY_CHECK_MS = 250
/**
 * From the writes' start to the kill: long enough for the requests to reach the nodes (loopback,
 * a few ms) and short of their fsyncs and replies (tens of ms under the wave's own load).
 */
export const WRITES_LEAD_MS = 15

/** A killed process and the peers it hosts. */
export interface Victim {
  process: string
  peers: string[]
  restartDelayMs: number
  restartedAtMs: number | null
}

export interface RebootWaveInit {
  /** Share of the peer processes killed, 0..1. */
  fraction: number
  /** After the kill, before any restart (all victims are down): e.g. erase their data directories. */
  afterKill?: (victims: readonly Victim[]) => Promise<void>
  /** Besides re-attaching, what a killed peer must reach before the wave is over: when it did, or null. */
  doneAt?: (peer: string, killTimeMs: number) => number | null
}

export interface RebootWave {
  killTimeMs: number
  victims: Victim[]
  kills: KillRecord[]
  /** Writes started from the victims just before the kill. */
  writesAtKill: { sends: number, contacts: number }
}

export async function runRebootWave (ctx: ScenarioContext, init: RebootWaveInit): Promise<RebootWave> {
  const { options, driver, chaos } = ctx
  const processes = ctx.cluster.peerProcesses()
  const peersOf = new Map(processes.map((p) => [p.name, p.peers.map((m) => m.name)]))
  const names = processes.map((p) => p.name)
  const count = Math.min(names.length, Math.ceil(init.fraction * names.length))
  // Separate streams: drawing delays never changes who is killed, and vice versa.
  const chosen = ctx.prng.fork('kills').sample(names, count)
  const delays = ctx.prng.fork('delays')
  const victims: Victim[] = chosen.map((name) => ({
    process: name, peers: peersOf.get(name) ?? [], restartDelayMs: delays.int(0, options.rebootWindowMs), restartedAtMs: null
  }))
  const killedPeers = victims.flatMap((v) => v.peers)

  ctx.setPhase('kill')
  const writesAtKill = ctx.burstWrites(killedPeers)
  await sleep(WRITES_LEAD_MS, ctx.signal)
  const killTimeMs = Date.now()
  // All signals are sent in this one turn of the event loop; the awaits only collect the exits.
  await Promise.all(victims.map(async (victim) => {
    await driver.kill(victim.process, 'SIGKILL')
    chaos.killed += victim.peers.length
  }))
  ctx.log.info({ killed: victims.map((v) => v.process), peers: killedPeers.length, killTimeMs, writesAtKill }, 'reboot wave: peer processes killed')
  if (init.afterKill !== undefined) await init.afterKill(victims)

  ctx.setPhase('recover')
  const restarts = new AbortController()
  const restartsDone = restartOnSchedule(ctx, victims, killTimeMs, restarts.signal)
  const deadlineMs = killTimeMs + options.observeMs
  const back = (name: string): boolean => reattachedAt(ctx, name, killTimeMs) !== null && (init.doneAt === undefined || init.doneAt(name, killTimeMs) !== null)
  // Bounded by the observation deadline (and the run's abort signal).
  while (!killedPeers.every(back) && Date.now() < deadlineMs && !ctx.signal.aborted) {
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
  return { killTimeMs, victims, kills, writesAtKill }
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
