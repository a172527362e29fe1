/**
 * The named scenarios: the JSON files in packages/loadgen/scenarios/, read at start-up. They are
 * not compiled, so the folder is found from this module's place in dist/ (dist/src/scenario-file/
 * -> packages/loadgen/scenarios/), which holds in a fresh clone after `npx tsc -b`.
 */
import { readdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ReboundError } from '@rebound/protocol'
import { loadScenarioFile, type LoadedScenario } from './load.js'

export const SHIPPED_DIR = fileURLToPath(new URL('../../../scenarios/', import.meta.url))
/** More shipped files than this means the folder is not the one we ship. */
export const MAX_SHIPPED_SCENARIOS = 100

/** Every shipped scenario, in order of name; a bad file is a BAD_CONFIG error naming it. */
export async function loadShipped (dir: string = SHIPPED_DIR): Promise<LoadedScenario[]> {
  const names = (await readdir(dir).catch((err: Error) => {
    throw new ReboundError('BAD_CONFIG', `cannot read the scenario folder ${dir}: ${err.message}`)
  })).filter((name) => name.endsWith('.json')).map((name) => name.slice(0, -'.json'.length)).sort()
  if (names.length > MAX_SHIPPED_SCENARIOS) throw new ReboundError('BAD_CONFIG', `${dir} holds ${names.length} scenario files, over ${MAX_SHIPPED_SCENARIOS}`)
  const loaded: LoadedScenario[] = []
  // One at a time: a handful of small files, and the first bad one is reported alone.
  for (const name of names) loaded.push(await loadScenarioFile(join(dir, `${name}.json`), true))
  return loaded
}

/** A path (it has a `/` or ends in .json) rather than the name of a shipped scenario. */
export function isScenarioPath (arg: string): boolean {
  return arg.includes('/') || arg.endsWith('.json')
}

/** `rebound run <arg>`: a user's file by path, or a shipped scenario by name. */
export async function findScenario (arg: string, shipped: readonly LoadedScenario[]): Promise<LoadedScenario> {
  if (isScenarioPath(arg)) return await loadScenarioFile(resolve(arg), false)
  const found = shipped.find((s) => s.ref.name === arg)
  if (found !== undefined) return found
  const known = shipped.map((s) => s.ref.name).join(', ')
  throw new ReboundError('BAD_CONFIG', `unknown scenario '${arg}' (known: ${known}; see 'rebound list'; a file of your own: a path with a '/' or ending in .json)`)
}
