/**
 * A loaded scenario file made runnable: the effective options (defaults < file < flags) and the
 * built-in trigger's scenario, judged on the objectives the file lists with the limits it sets.
 */
import { layerOptions, type RunFlags, type RunOptions } from '../options.js'
import type { Scenario } from '../scenarios/scenario.js'
import { objectiveLimits, type LoadedScenario, type ScenarioFileRef } from './load.js'
import type { TriggerType } from './schema.js'
import { TRIGGERS } from './triggers.js'

export interface FileScenario extends Scenario {
  file: ScenarioFileRef
  trigger: TriggerType
  /** How long the run may go on after the observation bound (TriggerSpec.tailMs). */
  tailMs: number
}

export function bindScenario (loaded: LoadedScenario, options: RunOptions): FileScenario {
  const type = loaded.file.phases.trigger.type
  const spec = TRIGGERS[type]
  // Checked again on the effective options: a flag may have changed what the trigger produces.
  const { judged, limits } = objectiveLimits(loaded, options)
  const catalogue = new Set(spec.objectives(options).map((o) => o.name))
  return {
    name: loaded.ref.name,
    description: loaded.file.description,
    run: spec.scenario.run,
    ...(spec.scenario.driverNeeds === undefined ? {} : { driverNeeds: spec.scenario.driverNeeds }),
    // An objective outside the catalogue says the trigger could not measure at all: always judged.
    objectives: (facts) => spec.judge(facts, limits).filter((o) => judged === undefined || judged.has(o.name) || !catalogue.has(o.name)),
    file: loaded.ref,
    trigger: type,
    tailMs: spec.tailMs(options)
  }
}

/** The scenario and the effective options of a run: defaults, then the file, then the flags. */
export function resolveRun (loaded: LoadedScenario, flags: RunFlags): { scenario: FileScenario, options: RunOptions } {
  const options = layerOptions(loaded.options, flags)
  return { scenario: bindScenario(loaded, options), options }
}

/** The file behind a scenario, when it came from one (every scenario the CLI runs does). */
export function fileScenarioOf (scenario: Scenario): FileScenario | undefined {
  return 'file' in scenario && 'tailMs' in scenario ? scenario as FileScenario : undefined
}

/** A path as one shell word: quoted unless it is plain. */
function shellWord (text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`
}

/** What `rebound run` is given to replay this scenario: a shipped one's name, a user file's absolute path. */
export function scenarioArgOf (scenario: Scenario): string {
  const file = fileScenarioOf(scenario)?.file
  return file === undefined || file.shipped ? scenario.name : shellWord(file.path)
}
