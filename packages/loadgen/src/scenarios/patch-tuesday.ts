/**
 * patch-tuesday: the Skype outage of 16 Aug 2007. A Windows Update reboot wave restarted a large
 * share of clients within a short window; their log-in flood, on top of lost supernode capacity,
 * kept the network down for two days. Here: SIGKILL a seeded share of the peers' processes at once
 * (a peer each, or with --peers-per-process K a swarm of K peers each: the process is what a kill
 * takes down), restart each after U(0, reboot window), and measure how fast the killed peers are
 * back in session.
 * Source: Skype's account of the outage (Villu Arak, "What happened on August 16", 20 Aug 2007).
 */
import type { RunOptions } from '../options.js'
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

/**
 * The limits a scenario file may set (docs/scenarios.md), by objective name; one left out keeps its
 * default. The other objectives' limits are counts of the run itself (every killed peer, no exit).
 */
export interface PatchTuesdayLimits {
  /** Absolute, in ms; by default the reboot window + T100_GRACE_MS. */
  't100-ms'?: number
  'message-delivery-ratio'?: number
}

export function patchTuesdayLimits (options: Pick<RunOptions, 'rebootWindowMs'>, limits: PatchTuesdayLimits = {}): Required<PatchTuesdayLimits> {
  return {
    't100-ms': limits['t100-ms'] ?? options.rebootWindowMs + T100_GRACE_MS,
    'message-delivery-ratio': limits['message-delivery-ratio'] ?? MIN_DELIVERY_RATIO
  }
}

export function patchTuesdayObjectives (facts: RunFacts, limits: PatchTuesdayLimits = {}): Objective[] {
  const { recovery } = facts.outcome
  const limit = patchTuesdayLimits(facts.options, limits)
  const t100LimitMs = limit['t100-ms']
  const minRatio = limit['message-delivery-ratio']
  const ratio = facts.messages.counted > 0 ? facts.messages.delivered / facts.messages.counted : null
  return [
    { name: 'all-killed-reattached', ok: recovery.reattached === recovery.killed, value: recovery.reattached, limit: recovery.killed },
    { name: 't100-ms', ok: recovery.t100Ms !== null && recovery.t100Ms <= t100LimitMs, value: recovery.t100Ms, limit: t100LimitMs },
    { name: 'no-unexpected-exits', ok: facts.unexpectedExits === 0, value: facts.unexpectedExits, limit: 0 },
    {
      name: 'message-delivery-ratio',
      ok: ratio === null || ratio >= minRatio,
      value: ratio === null ? null : Math.round(ratio * 10_000) / 10_000,
      limit: minRatio
    }
  ]
}
