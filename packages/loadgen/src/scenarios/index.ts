/** The named scenarios `rebound run` knows. */
import { patchTuesday } from './patch-tuesday.js'
import type { Scenario } from './scenario.js'

export const SCENARIOS: readonly Scenario[] = [patchTuesday]

export function findScenario (name: string): Scenario | undefined {
  return SCENARIOS.find((scenario) => scenario.name === name)
}
