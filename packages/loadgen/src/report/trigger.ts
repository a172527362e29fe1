/**
 * When a run's trigger hit, in seconds since the run started (the timeline's clock): the moment
 * the scenario names, else the supernodes' kill or freeze (decapitate, freeze), else the first
 * kill (patch-tuesday). Null when the run never reached its trigger.
 */

export interface TriggerFacts {
  startedAt: string
  /** Written into reports since the field exists: then nothing needs working out. */
  triggerAtS?: number | null | undefined
  /** The scenario's own trigger time (ScenarioOutcome.triggerAtMs), epoch ms. */
  triggerAtMs?: number | undefined
  supernodeFailure?: { triggerAtMs: number } | undefined
  recovery: { kills: ReadonlyArray<{ killTimeMs: number }> }
}

export function triggerAtS (facts: TriggerFacts): number | null {
  if (facts.triggerAtS !== undefined) return facts.triggerAtS
  const startMs = Date.parse(facts.startedAt)
  const kills = facts.recovery.kills.map((k) => k.killTimeMs)
  const atMs = facts.triggerAtMs ?? facts.supernodeFailure?.triggerAtMs ?? (kills.length === 0 ? undefined : kills.reduce((a, b) => Math.min(a, b)))
  if (atMs === undefined || Number.isNaN(startMs)) return null
  // Tenths of a second, as the timeline's `t`.
  return Math.round((atMs - startMs) / 100) / 10
}
