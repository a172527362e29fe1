/**
 * What decapitate and freeze share: pick a seeded share of the operator supernodes, note who is
 * attached to them (the orphans, from the observer's last statuses), hit them all in one turn of
 * the event loop (SIGKILL, or SIGSTOP then SIGCONT after --freeze-ms), optionally add supernodes
 * (the mega-supernode lever) or restart the killed ones, and watch until the layer has settled:
 * every orphan attached again, every scheduled change made, revived and added supernodes listed.
 * Then a fixed window of the workload's messages between attached users says whether the overlay
 * works again, a lookup of every online user through the live supernodes whether the presence
 * directory is whole, and the live supernodes' load at its end (elected ones included) whether the
 * orphans were spread evenly.
 */
import { SESSION_SILENCE_MS, sleep } from '@rebound/protocol'
import { SUPERNODE_READY_TIMEOUT_MS } from '../cluster.js'
import { firstAttachAfter, recoveryFigures } from '../recovery.js'
import { findOrphans, loadStats, roundRatio, victimCount, type LoadStats } from '../supernode-stats.js'
import { SEND_TIMEOUT_MS, allSettled, countedOf } from '../workload.js'
import { SupernodeLever } from './added-supernodes.js'
import type { RunOptions } from '../options.js'
import type { Objective, RunFacts, Scenario, ScenarioContext, ScenarioOutcome } from './scenario.js'
import type { AffectedSupernode, AfterRecoveryMessages, OrphanRecord, SupernodeFailureReport } from './supernode-failure-report.js'
import { SupernodeWatch } from './supernode-watch.js'
import { lookupSweep } from './lookup-sweep.js'

/** How often the observer's view is checked (it polls every 500 ms). */
export const CHECK_MS = 250
/** Messages (one-hop lookups and delivery) are judged over this window after the last change (issue 4: 10 s). */
export const AFTER_RECOVERY_WINDOW_MS = 10_000
/** The after-recovery window restarts on a membership change only this long after settling. */
export const AFTER_RECOVERY_MAX_MS = 60_000
/** How often a window's last sends are checked for their outcome. */
const SETTLE_CHECK_MS = 100

export interface SupernodeFailurePlan {
  signal: 'SIGKILL' | 'SIGSTOP'
  fraction: number
  /** SIGSTOP: SIGCONT this long after the trigger. */
  freezeMs: number | null
  /** SIGKILL: restart each victim after U(0, this); null = never. */
  restartWindowMs: number | null
}

/** A scenario that hits supernodes as `planOf` the run's options says. */
export function supernodeFailureScenario (
  name: string, description: string, planOf: (options: RunOptions) => SupernodeFailurePlan, objectives: (facts: RunFacts) => Objective[]
): Scenario {
  return { name, description, objectives, run: async (ctx) => await runSupernodeFailure(ctx, planOf(ctx.options)) }
}

export async function runSupernodeFailure (ctx: ScenarioContext, plan: SupernodeFailurePlan): Promise<ScenarioOutcome> {
  const { observer, driver, options } = ctx
  const originals = ctx.cluster.byRole('supernode').map((m) => m.name)
  const watch = new SupernodeWatch(observer, originals)
  // A fresh look at who is attached where: the orphans are read off these statuses.
  await observer.pollNodes()
  watch.sample(Date.now())
  const victims = ctx.prng.fork('supernode-victims').sample(originals, victimCount(plan.fraction, originals.length))
  const affected: AffectedSupernode[] = victims.map((name) => {
    const status = observer.node(name)?.status
    return { name, peerId: status?.peerId ?? '', clientsBefore: status?.clients ?? 0, restartedAtMs: null, thawedAtMs: null, backAtMs: null }
  })
  const lost = new Set(affected.map((a) => a.peerId).filter((id) => id !== ''))
  const orphans = findOrphans(ctx.cluster.byRole('peer').map((m) => ({
    name: m.name, supernode: observer.node(m.name)?.status?.supernode ?? null, attached: observer.isAttached(m.name)
  })), lost)
  const survivors = originals.filter((name) => !victims.includes(name))
  const clientsBefore = new Map(originals.map((name) => [name, observer.node(name)?.status?.clients ?? 0]))

  ctx.setPhase(plan.signal === 'SIGKILL' ? 'decapitate' : 'freeze')
  const triggerAtMs = Date.now()
  // All signals are sent in this one turn of the event loop; the awaits only collect SIGKILL's exits.
  await Promise.all(victims.map(async (name) => { await driver.kill(name, plan.signal) }))
  ctx.log.info({ signal: plan.signal, victims, orphans: orphans.length, triggerAtMs }, 'supernodes hit')

  ctx.setPhase('recover')
  const lever = new SupernodeLever(ctx, watch)
  const events = new AbortController()
  let eventsDone = false
  const scheduled = Promise.all([
    plan.freezeMs === null ? undefined : thawAt(ctx, affected, triggerAtMs + plan.freezeMs, events.signal),
    plan.restartWindowMs === null ? undefined : restartWithin(ctx, affected, triggerAtMs, plan.restartWindowMs, events.signal),
    lever.startAt(triggerAtMs + options.addAfterMs, events.signal)
  ]).then(() => { eventsDone = true })

  const rehomedAt = (name: string): number | null => firstAttachAfter(observer.node(name)?.attachHistory ?? [], triggerAtMs)
  const check = (nowMs: number): void => {
    watch.sample(nowMs)
    markBack(affected, watch, observer.liveSupernodes(), nowMs)
  }
  // eventsDone first: a supernode's revival is judged only once its thaw or restart was made.
  const settled = (nowMs: number): boolean => eventsDone &&
    orphans.every((o) => rehomedAt(o.name) !== null) &&
    affected.every((a) => isBackOrGivenUp(a, nowMs)) &&
    lever.settled(nowMs)
  const deadlineMs = triggerAtMs + options.observeMs
  // Bounded by the observation deadline (and the run's abort signal).
  while (!settled(Date.now()) && Date.now() < deadlineMs && !ctx.signal.aborted) {
    await sleep(CHECK_MS, ctx.signal)
    check(Date.now())
  }
  events.abort()
  await scheduled
  const settledAtMs = Date.now()

  ctx.setPhase('after-recovery')
  // The window is the 10 s after the last membership change: while supernodes are still being
  // elected (or thawed ones listed) it starts again, up to AFTER_RECOVERY_MAX_MS after settling.
  let window = ctx.workload.openWindow()
  let windowFromMs = settledAtMs
  let membership = watch.liveNames().sort().join(',')
  let membershipChanges = 0
  const lastStartMs = settledAtMs + AFTER_RECOVERY_MAX_MS
  // Bounded: the window ends 10 s after its (re)start, and it restarts only until lastStartMs.
  while (Date.now() < windowFromMs + AFTER_RECOVERY_WINDOW_MS && !ctx.signal.aborted) {
    await sleep(Math.min(CHECK_MS, Math.max(0, windowFromMs + AFTER_RECOVERY_WINDOW_MS - Date.now())), ctx.signal)
    check(Date.now())
    const now = watch.liveNames().sort().join(',')
    if (now !== membership && Date.now() < lastStartMs) {
      membership = now
      membershipChanges++
      ctx.workload.closeWindow(window)
      window = ctx.workload.openWindow()
      windowFromMs = Date.now()
    }
  }
  ctx.workload.closeWindow(window)
  const windowClosedMs = Date.now()
  const loads = loadStats(watch.liveLoads())
  const survivorLoads = loadStats(watch.liveLoads(survivors))
  // While the window's last sends settle: they and the sweep read the same settled directory.
  const lookups = lookupSweep(observer, ctx.cluster.byRole('peer').map((m) => m.name), watch.liveNames())
  // The window's last sends wait up to their own timeout for the ack.
  const sendsDueMs = windowClosedMs + SEND_TIMEOUT_MS
  while (!allSettled(window) && Date.now() < sendsDueMs && !ctx.signal.aborted) await sleep(SETTLE_CHECK_MS, ctx.signal)

  const lookupReport = await lookups
  const orphanRecords: OrphanRecord[] = orphans.map((o) => {
    const at = rehomedAt(o.name)
    const status = observer.node(o.name)?.status
    return {
      name: o.name,
      from: watch.nameOf(o.supernode) ?? o.supernode,
      rehomedAtMs: at,
      rehomeMs: at === null ? null : at - triggerAtMs,
      to: observer.isAttached(o.name) ? (watch.nameOf(status?.supernode ?? null) ?? status?.supernode ?? null) : null
    }
  })
  const counted = countedOf(window)
  const afterRecovery: AfterRecoveryMessages = {
    fromMs: windowFromMs,
    membershipChanges,
    toMs: windowClosedMs,
    sent: window.sent,
    delivered: window.delivered,
    failed: window.failed,
    failedByCode: { ...window.failedByCode },
    counted,
    deliveryRatio: counted > 0 ? roundRatio(window.delivered / counted) : null
  }
  const report: SupernodeFailureReport = {
    // A network freeze goes through the same SIGSTOP plan (network-freeze.ts turns it into a cut).
    trigger: plan.signal === 'SIGSTOP' && ctx.options.freezeMode === 'network' ? 'network cut' : plan.signal,
    fraction: plan.fraction,
    triggerAtMs,
    orphanWindowMs: ctx.cluster.orphanWindowMs,
    freezeRehomeBoundMs: plan.signal === 'SIGSTOP' ? SESSION_SILENCE_MS + ctx.cluster.orphanWindowMs : null,
    freezeMs: plan.freezeMs,
    supernodesBefore: originals.length,
    affected,
    survivors: survivors.map((name) => ({
      name, capacity: watch.capacity(name), clientsBefore: clientsBefore.get(name) ?? 0, maxClients: watch.maxClients(name), clientsAfter: watch.clientsNow(name)
    })),
    orphans: orphanRecords,
    rehoming: recoveryFigures(orphanRecords.map((o) => o.rehomeMs)),
    settledAtMs,
    loadAfter: reportedLoad(loads, windowClosedMs),
    survivorLoadAfter: reportedLoad(survivorLoads, windowClosedMs),
    afterRecovery,
    lookups: lookupReport,
    added: lever.records(),
    elected: watch.elected().map((name) => ({ name, servingAtMs: watch.certifiedAtMs(name), maxClients: watch.maxClients(name), clientsAfter: watch.clientsNow(name) })),
    registryLiveAtEnd: observer.liveSupernodes()
  }
  return { triggerAtMs, recovery: report.rehoming, kills: [], supernodeFailure: report }
}

function reportedLoad (loads: LoadStats | null, atMs: number): (LoadStats & { atMs: number }) | null {
  if (loads === null) return null
  return { ...loads, meanLoad: roundRatio(loads.meanLoad), maxLoad: roundRatio(loads.maxLoad), maxOverMean: loads.maxOverMean === null ? null : roundRatio(loads.maxOverMean), atMs }
}

/** A revived supernode counts as back once it answers certified while the registry lists every certified supernode. */
function markBack (affected: AffectedSupernode[], watch: SupernodeWatch, registryLive: number | null, nowMs: number): void {
  for (const a of affected) {
    if (a.backAtMs !== null || (a.thawedAtMs ?? a.restartedAtMs) === null) continue
    if (watch.isLive(a.name) && registryLive !== null && registryLive >= watch.liveCount()) a.backAtMs = nowMs
  }
}

/**
 * Back, or past the cluster's start-up deadline since it was revived, or never revived (nothing to
 * wait for). Asked only once every scheduled thaw and restart has been made (or failed).
 */
function isBackOrGivenUp (a: AffectedSupernode, nowMs: number): boolean {
  const revivedAtMs = a.thawedAtMs ?? a.restartedAtMs
  if (revivedAtMs === null) return true
  return a.backAtMs !== null || nowMs - revivedAtMs > SUPERNODE_READY_TIMEOUT_MS
}

/** SIGCONT every frozen supernode at `atMs` (or at once when `signal` ends the wait), all in one turn. */
async function thawAt (ctx: ScenarioContext, affected: AffectedSupernode[], atMs: number, signal: AbortSignal): Promise<void> {
  await sleep(Math.max(0, atMs - Date.now()), signal)
  // Thawed even when the wait was cut short (Ctrl-C, the observation deadline): a stopped process
  // would ignore the SIGTERM that ends the run.
  const thawedAtMs = Date.now()
  await Promise.all(affected.map(async (a) => {
    try {
      await ctx.driver.kill(a.name, 'SIGCONT')
      a.thawedAtMs = thawedAtMs
    } catch (err) {
      ctx.log.error({ name: a.name, err: String(err) }, 'SIGCONT failed')
    }
  }))
  ctx.log.info({ thawed: affected.map((a) => a.name) }, 'supernodes thawed')
}

/** Restart each killed supernode after U(0, windowMs) from the kill (seeded), in delay order. */
async function restartWithin (ctx: ScenarioContext, affected: AffectedSupernode[], killAtMs: number, windowMs: number, signal: AbortSignal): Promise<void> {
  const delays = ctx.prng.fork('supernode-restarts')
  const order = affected.map((a) => ({ a, delayMs: delays.int(0, windowMs) })).sort((x, y) => x.delayMs - y.delayMs)
  for (const { a, delayMs } of order) {
    await sleep(Math.max(0, killAtMs + delayMs - Date.now()), signal)
    if (signal.aborted) return
    try {
      await ctx.driver.restart(a.name)
      a.restartedAtMs = Date.now()
    } catch (err) {
      ctx.log.error({ name: a.name, err: String(err) }, 'supernode restart failed')
    }
  }
}
