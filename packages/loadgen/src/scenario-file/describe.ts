/**
 * `rebound list`: what each shipped scenario does, as the file and the defaults make it (flags
 * aside): its trigger with every parameter, the phases, the objectives with their limits, and the
 * outage it reproduces. Text for people, `--json` for machines.
 */
import { layerOptions, type RunOptions } from '../options.js'
import { objectiveLimits, type LoadedScenario } from './load.js'
import { CLUSTER_FIELDS, WORKLOAD_FIELDS, sectionValues, triggerValues, type TriggerType } from './schema.js'
import { NO_LOST_WRITES_SPEC, TRIGGERS, type ObjectiveSpec } from './triggers.js'

export interface ObjectiveDescription {
  name: string
  /** The limit's number where it is one of its own (a file may set it), else null. */
  limit: number | null
  /** How it is judged, the limit filled in. */
  rule: string
}

export interface ScenarioDescription {
  name: string
  path: string
  description: string
  source: string | null
  trigger: { type: TriggerType } & Record<string, unknown>
  warmupMs: number
  observeMaxMs: number
  cluster: Record<string, unknown>
  workload: Record<string, unknown>
  objectives: ObjectiveDescription[]
}

function describeObjectives (loaded: LoadedScenario, options: RunOptions): ObjectiveDescription[] {
  const spec = TRIGGERS[loaded.file.phases.trigger.type]
  const { judged, limits } = objectiveLimits(loaded, options)
  const values = spec.limits(options, limits)
  const listed: ObjectiveSpec[] = spec.objectives(options).filter((o) => judged === undefined || judged.has(o.name))
  return [...listed, NO_LOST_WRITES_SPEC].map((o) => {
    const limit = values[o.name] ?? null
    return { name: o.name, limit, rule: o.rule.replace('{limit}', String(limit)) }
  })
}

export function describeScenario (loaded: LoadedScenario): ScenarioDescription {
  const options = layerOptions(loaded.options, {})
  const type = loaded.file.phases.trigger.type
  return {
    name: loaded.ref.name,
    path: loaded.ref.path,
    description: loaded.file.description,
    source: loaded.file.source ?? null,
    trigger: { type, ...triggerValues(type, options) },
    warmupMs: options.warmupMs,
    observeMaxMs: options.observeMs,
    cluster: sectionValues(CLUSTER_FIELDS, options),
    workload: sectionValues(WORKLOAD_FIELDS, options),
    objectives: describeObjectives(loaded, options)
  }
}

const LABEL_WIDTH = 12

function labelled (label: string, lines: readonly string[]): string[] {
  return lines.map((line, i) => `  ${(i === 0 ? label : '').padEnd(LABEL_WIDTH)}${line}`)
}

function fields (values: Record<string, unknown>): string {
  return Object.entries(values).map(([field, value]) => `${field} ${String(value)}`).join(', ')
}

export function formatScenario (d: ScenarioDescription): string {
  const { type, ...params } = d.trigger
  return [
    `${d.name}: ${d.description}`,
    ...labelled('trigger', [`${type}: ${fields(params)}`]),
    ...labelled('phases', [`warmup ${d.warmupMs} ms, trigger, observe up to ${d.observeMaxMs} ms (ends when recovered)`]),
    ...labelled('cluster', [fields(d.cluster)]),
    ...labelled('workload', [fields(d.workload)]),
    ...labelled('objectives', d.objectives.map((o) => `${o.name}: ${o.rule}`)),
    ...labelled('source', [d.source ?? '-'])
  ].join('\n')
}

export function formatScenarioList (descriptions: readonly ScenarioDescription[]): string {
  return descriptions.map(formatScenario).join('\n\n')
}
