/**
 * Reading a scenario file: JSON, the strict schema, then the checks the schema cannot make alone
 * (each objective listed is one the trigger produces, a limit is set only where the limit is a
 * number of its own). Every problem is a BAD_CONFIG error (exit 2) naming the file and the field.
 */
import { readFile, stat } from 'node:fs/promises'
import { basename } from 'node:path'
import { ReboundError } from '@rebound/protocol'
import type { z } from 'zod'
import { layerOptions, type RunOptions } from '../options.js'
import { MAX_SCENARIO_FILE_BYTES, ScenarioFileSchema, fileOptions, type ScenarioFile } from './schema.js'
import { NO_LOST_WRITES_SPEC, TRIGGERS, type Limits } from './triggers.js'

export interface ScenarioFileRef {
  /** The file's name without `.json`: the scenario's name. */
  name: string
  /** The file as it was read (absolute for shipped files). */
  path: string
  /** From packages/loadgen/scenarios/ (run by name) rather than a user's file (run by path). */
  shipped: boolean
}

export interface LoadedScenario {
  ref: ScenarioFileRef
  file: ScenarioFile
  /** The run options the file sets: the layer between the defaults and the flags. */
  options: Partial<RunOptions>
}

/** `phases.objectives[2].limit`: the way a user finds the field in the file. */
function fieldName (path: readonly PropertyKey[]): string {
  return path.reduce<string>((name, key) => typeof key === 'number' ? `${name}[${key}]` : name === '' ? String(key) : `${name}.${String(key)}`, '')
}

function issueLines (issue: z.core.$ZodIssue): string[] {
  // One line per misspelt field, named where it stands, rather than zod's list on its parent.
  if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => `${fieldName([...issue.path, key])}: unknown field`)
  return [`${fieldName(issue.path) || '(top level)'}: ${issue.message}`]
}

export function fileError (path: string, problems: readonly string[]): ReboundError {
  return new ReboundError('BAD_CONFIG', `scenario file ${path}:\n${problems.map((p) => `  ${p}`).join('\n')}`)
}

/** The name a file's scenario goes by: its base name without `.json`. */
export function scenarioName (path: string): string {
  return basename(path).replace(/\.json$/, '')
}

/** Parse a file's text; throws BAD_CONFIG naming `path` and each bad field. */
export function parseScenarioFile (text: string, path: string, shipped: boolean): LoadedScenario {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    throw fileError(path, [`not valid JSON: ${(err as Error).message}`])
  }
  const parsed = ScenarioFileSchema.safeParse(json)
  if (!parsed.success) throw fileError(path, parsed.error.issues.flatMap(issueLines))
  const loaded: LoadedScenario = { ref: { name: scenarioName(path), path, shipped }, file: parsed.data, options: fileOptions(parsed.data) }
  // Judged on the file alone (flags may still change wipe's target: checked again then).
  objectiveLimits(loaded, layerOptions(loaded.options, {}))
  return loaded
}

export async function loadScenarioFile (path: string, shipped: boolean): Promise<LoadedScenario> {
  const size = await stat(path).then((s) => s.size, (err: NodeJS.ErrnoException) => {
    throw fileError(path, [err.code === 'ENOENT' ? 'no such file' : `cannot read: ${err.message}`])
  })
  if (size > MAX_SCENARIO_FILE_BYTES) throw fileError(path, [`${size} bytes, over the ${MAX_SCENARIO_FILE_BYTES} a scenario file may have`])
  return parseScenarioFile(await readFile(path, 'utf8'), path, shipped)
}

/**
 * The objectives the file lists, each with the limit it sets (undefined: the default), under the
 * run's effective options; undefined when it lists none (all of the trigger's are judged).
 * Throws BAD_CONFIG for a name the trigger does not produce, a name listed twice, or a limit set
 * where the limit is not a number of the objective's own.
 */
export function objectiveLimits (loaded: LoadedScenario, options: RunOptions): { judged: ReadonlySet<string> | undefined, limits: Limits } {
  const { trigger, objectives } = loaded.file.phases
  if (objectives === undefined) return { judged: undefined, limits: {} }
  const spec = TRIGGERS[trigger.type]
  const produced = spec.objectives(options).map((o) => o.name)
  const settable = new Set(Object.keys(spec.limits(options, {})))
  const where = trigger.type === 'wipe' ? `trigger wipe (target ${options.target})` : `trigger ${trigger.type}`
  const problems: string[] = []
  const judged = new Set<string>()
  const limits: Record<string, number> = {}
  objectives.forEach((entry, i) => {
    const field = `phases.objectives[${i}]`
    const known = produced.includes(entry.name) || entry.name === NO_LOST_WRITES_SPEC.name
    if (!known) problems.push(`${field}: ${JSON.stringify(entry.name)} is not an objective of ${where} (its objectives: ${produced.join(', ')}; ${NO_LOST_WRITES_SPEC.name} is always judged)`)
    else if (judged.has(entry.name)) problems.push(`${field}: ${JSON.stringify(entry.name)} is listed twice`)
    else if (entry.limit !== undefined && !settable.has(entry.name)) problems.push(`${field}.limit: ${JSON.stringify(entry.name)} has no limit of its own to set (settable: ${[...settable].join(', ')})`)
    judged.add(entry.name)
    if (entry.limit !== undefined) limits[entry.name] = entry.limit
  })
  if (problems.length > 0) throw fileError(loaded.ref.path, problems)
  return { judged, limits }
}
