/**
 * What a scenario file can ask of each built-in trigger: the objectives it produces (to check a
 * file's list at load time and to describe it in `rebound list`), which of their limits are numbers
 * a file may set, how to judge a run with those limits, and how long a run may go on after the
 * observation bound (for the progress display's remaining time).
 */
import { NO_LOST_WRITES } from '../history/checker.js'
import type { RunOptions } from '../options.js'
import { BUILT_IN_TRIGGERS } from '../scenarios/index.js'
import { patchTuesdayLimits, patchTuesdayObjectives } from '../scenarios/patch-tuesday.js'
import type { Objective, RunFacts, Scenario } from '../scenarios/scenario.js'
import { AFTER_RECOVERY_MAX_MS, AFTER_RECOVERY_WINDOW_MS } from '../scenarios/supernode-failure.js'
import {
  ALL_LOST_ATTACHED_PERCENT, ALL_LOST_OBJECTIVE, decapitateLimits, decapitateObjectives, freezeLimits, freezeObjectives
} from '../scenarios/supernode-objectives.js'
import { soakLimits, soakObjectives } from '../scenarios/soak.js'
import { wipeLimits, wipeObjectives } from '../scenarios/wipe.js'
import { SEND_TIMEOUT_MS } from '../workload.js'
import type { TriggerType } from './schema.js'

/** One objective a trigger can produce, and how it is judged; `{limit}` stands for its number. */
export interface ObjectiveSpec {
  name: string
  rule: string
}

/** Limits set by a scenario file, by objective name. */
export type Limits = Readonly<Record<string, number>>

export interface TriggerSpec {
  /** The built-in scenario whose run applies the trigger. */
  scenario: Scenario
  /** Every objective the trigger can produce under these options (wipe's depend on its target). */
  objectives: (options: RunOptions) => readonly ObjectiveSpec[]
  /** The limits a file may set, with their values under these options and overrides. */
  limits: (options: RunOptions, set: Limits) => Readonly<Record<string, number>>
  judge: (facts: RunFacts, set: Limits) => Objective[]
  /** Longest the scenario may go on besides its observation bound (decapitate's after-recovery window, a soak's duration). */
  tailMs: (options: RunOptions) => number
}

/** Every scenario's, whatever its file lists (issue 5). */
export const NO_LOST_WRITES_SPEC: ObjectiveSpec = {
  name: NO_LOST_WRITES, rule: 'no acknowledged write lost, doubled or unexpected on any device or in the store'
}
const NO_EXITS: ObjectiveSpec = { name: 'no-unexpected-exits', rule: 'no process exited that the scenario did not stop' }
const LOOKUPS: ObjectiveSpec = { name: 'lookups-after-recovery', rule: 'right lookups / online users >= {limit}' }

const KILL_PEERS_OBJECTIVES: readonly ObjectiveSpec[] = [
  { name: 'all-killed-reattached', rule: 'every killed peer attached again' },
  { name: 't100-ms', rule: 'the last killed peer attached again within {limit} ms of the kill' },
  NO_EXITS,
  { name: 'message-delivery-ratio', rule: 'delivered / counted sends >= {limit}' }
]

const DECAPITATE_OBJECTIVES: readonly ObjectiveSpec[] = [
  { name: 'orphans-rehomed-ms', rule: 'with supernodes left: every orphan attached again within {limit} ms' },
  { name: ALL_LOST_OBJECTIVE, rule: `with none left: ${ALL_LOST_ATTACHED_PERCENT}% of the orphans attached again within {limit} ms` },
  { name: 'survivors-over-cap', rule: 'no surviving supernode over its capacity' },
  NO_EXITS,
  LOOKUPS,
  { name: 'load-max-over-mean', rule: 'with supernodes left: busiest survivor load / survivors\' mean <= {limit}' },
  { name: 'delivery-after-recovery', rule: 'delivered / counted sends in the window after recovery >= {limit}' }
]

const FREEZE_OBJECTIVES: readonly ObjectiveSpec[] = [
  { name: 'frozen-clients-rehomed-ms', rule: 'the frozen supernodes\' clients attached again within {limit} ms' },
  { name: 'thawed-listed-again', rule: 'every thawed supernode certified and listed again' },
  LOOKUPS,
  NO_EXITS
]

const RESTORE_T100: ObjectiveSpec = { name: 'restore-t100-ms', rule: 'the last device restored within {limit} ms of the wipe' }

const WIPE_STORE_OBJECTIVES: readonly ObjectiveSpec[] = [
  { name: 'login-servers-back-ms', rule: 'every login server healthy again on a new store' },
  { name: 'new-store-id', rule: 'the login servers name a new storeId' },
  { name: 'all-devices-restored', rule: 'every device pushed its data into the new store' },
  RESTORE_T100,
  NO_EXITS
]

const WIPE_DEVICE_OBJECTIVES: readonly ObjectiveSpec[] = [
  { name: 'all-wiped-reattached', rule: 'every wiped peer attached again' },
  { name: 'all-devices-restored', rule: 'every wiped device got its contacts and inbox back' },
  RESTORE_T100,
  NO_EXITS
]

const SOAK_OBJECTIVES: readonly ObjectiveSpec[] = [
  { name: 'all-churned-reattached', rule: 'every churned peer attached again' },
  { name: 'rss-growth-ratio', rule: 'per role, mean RSS per process in the last fifth of the soak / in its second fifth <= {limit}' },
  { name: 'fd-growth-ratio', rule: 'per role, open descriptors per process (less 16) in the last fifth / in the second fifth <= {limit}' },
  NO_EXITS
]

/** After the observation: the after-recovery window restarts up to its bound, then its last sends settle. */
const SUPERNODE_TAIL_MS = AFTER_RECOVERY_MAX_MS + AFTER_RECOVERY_WINDOW_MS + SEND_TIMEOUT_MS

export const TRIGGERS: Readonly<Record<TriggerType, TriggerSpec>> = {
  'kill-peers': {
    scenario: BUILT_IN_TRIGGERS['kill-peers'],
    objectives: () => KILL_PEERS_OBJECTIVES,
    limits: (options, set) => patchTuesdayLimits(options, set),
    judge: (facts, set) => patchTuesdayObjectives(facts, set),
    tailMs: () => 0
  },
  decapitate: {
    scenario: BUILT_IN_TRIGGERS.decapitate,
    objectives: () => DECAPITATE_OBJECTIVES,
    limits: (options, set) => decapitateLimits(options.orphanWindowMs, set),
    judge: (facts, set) => decapitateObjectives(facts, set),
    tailMs: () => SUPERNODE_TAIL_MS
  },
  freeze: {
    scenario: BUILT_IN_TRIGGERS.freeze,
    objectives: () => FREEZE_OBJECTIVES,
    limits: (_options, set) => freezeLimits(set),
    judge: (facts, set) => freezeObjectives(facts, set),
    tailMs: () => SUPERNODE_TAIL_MS
  },
  wipe: {
    scenario: BUILT_IN_TRIGGERS.wipe,
    objectives: (options) => options.target === 'store' ? WIPE_STORE_OBJECTIVES : WIPE_DEVICE_OBJECTIVES,
    limits: (options, set) => wipeLimits(options, set),
    judge: (facts, set) => wipeObjectives(facts, set),
    tailMs: () => 0
  },
  soak: {
    scenario: BUILT_IN_TRIGGERS.soak,
    objectives: () => SOAK_OBJECTIVES,
    limits: (_options, set) => soakLimits(set),
    judge: (facts, set) => soakObjectives(facts, set),
    tailMs: (options) => options.duration
  }
}
