/**
 * patch-tuesday: the Skype outage of 16 Aug 2007. A Windows Update reboot wave restarted a large
 * share of clients within a short window; their log-in flood, on top of lost supernode capacity,
 * kept the network down for two days. Here: SIGKILL a seeded share of the peers' processes at once
 * (a peer each, or with --peers-per-process K a swarm of K peers each: the process is what a kill
 * takes down), restart each after U(0, reboot window), and measure how fast the killed peers are
 * back in session.
 * Source: Skype's account of the outage (Villu Arak, "What happened on August 16", 20 Aug 2007).
 */
import { recoveryFigures } from '../recovery.js'
import { runRebootWave } from './reboot-wave.js'
import type { Objective, RunFacts, Scenario, ScenarioContext, ScenarioOutcome } from './scenario.js'

/** Grace over the reboot window for the slowest peer to be back (the t100 objective). */
export const T100_GRACE_MS = 30_000
export const MIN_DELIVERY_RATIO = 0.9

export const patchTuesday: Scenario = {
  name: 'patch-tuesday',
  description: 'SIGKILL a share of peer processes at once (writes in flight), restart each within a reboot window, measure re-attach times',
  run: runPatchTuesday,
  objectives: patchTuesdayObjectives
}

async function runPatchTuesday (ctx: ScenarioContext): Promise<ScenarioOutcome> {
  const wave = await runRebootWave(ctx, { fraction: ctx.options.killFraction })
  return { triggerAtMs: wave.killTimeMs, recovery: recoveryFigures(wave.kills.map((k) => k.recoveryMs)), kills: wave.kills }
}

export function patchTuesdayObjectives (facts: RunFacts): Objective[] {
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
