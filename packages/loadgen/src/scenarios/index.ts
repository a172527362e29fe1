/**
 * The built-in triggers a scenario file can name (docs/scenarios.md), each with the scenario that
 * applies it; the named scenarios themselves are files in packages/loadgen/scenarios/.
 */
import type { TriggerType } from '../scenario-file/schema.js'
import { decapitate } from './decapitate.js'
import { freeze } from './freeze.js'
import { patchTuesday } from './patch-tuesday.js'
import type { Scenario } from './scenario.js'
import { soak } from './soak.js'
import { wipe } from './wipe.js'

export const BUILT_IN_TRIGGERS: Readonly<Record<TriggerType, Scenario>> = { 'kill-peers': patchTuesday, decapitate, freeze, wipe, soak }
