/** The named scenarios `rebound run` knows. */
import { decapitate } from './decapitate.js'
import { freeze } from './freeze.js'
import { patchTuesday } from './patch-tuesday.js'
import type { Scenario } from './scenario.js'
import { wipe } from './wipe.js'

export const SCENARIOS: readonly Scenario[] = [patchTuesday, decapitate, freeze, wipe]

export function findScenario (name: string): Scenario | undefined {
  return SCENARIOS.find((scenario) => scenario.name === name)
}
