/**
 * The `rebound` command line: `list`, `run <scenario>`, `compare <scenario>` and `report <dir>`.
 * Bad usage throws ReboundError('BAD_CONFIG'), which `runMain` turns into a message and exit code 2.
 */
import { parseArgs } from 'node:util'
import { ReboundError, parseConfig, usage } from '@rebound/protocol'
import { runCompare } from './compare.js'
import { COMPARE_OPTIONS, CompareFlagsSchema, RUN_OPTIONS, RunFlagsSchema } from './options.js'
import { rerenderDir } from './report/rerender.js'
import { runScenario } from './run.js'
import { resolveRun } from './scenario-file/bind.js'
import { describeScenario, formatScenarioList } from './scenario-file/describe.js'
import type { LoadedScenario } from './scenario-file/load.js'
import { findScenario, loadShipped } from './scenario-file/shipped.js'

export const PROGRAM = 'rebound'

export interface CliIo {
  out: (text: string) => void
  err: (text: string) => void
  /** stdout is a terminal: a run redraws its progress in place instead of printing lines. */
  isTty: boolean
}

const TOP_USAGE = `Usage: ${PROGRAM} <command> [options]

Reproduce the August 2007 Skype reboot storm on a real libp2p overlay (login servers, supernodes,
peers as separate processes) and check that the defences hold.

Commands:
  list [--json]                   the named scenarios: trigger, phases, objectives and limits, source
  run <scenario> [options]        run a scenario against a fresh local cluster; <scenario> is a
                                  name from 'list' or a scenario file's path (docs/scenarios.md)
  compare <scenario> [options]    run it with the naive then the defended profile, side by side
  report <dir>                    write report.html and junit.xml again from a run's (or a compare's) JSON

'${PROGRAM} <command> --help' shows a command's options.`

/** One line per shipped scenario, for the usage texts. */
function scenarioList (shipped: readonly LoadedScenario[]): string {
  return shipped.map((s) => `  ${s.ref.name.padEnd(30)}  ${s.file.description}`).join('\n')
}

const SCENARIO_ARG = `<scenario> is a name below or the path of a scenario file (with a '/' or ending in .json; docs/scenarios.md).
Flags win over the scenario file, which wins over the defaults shown below.`

function runUsage (shipped: readonly LoadedScenario[]): string {
  return usage(`${PROGRAM} run <scenario>`, `Run a scenario. Exit code 0 when its objectives hold, 1 when one fails.\nWrites report.json, report.html (charts, opens offline) and junit.xml (one test case per objective) to --out.\n${SCENARIO_ARG}\n\nScenarios:\n${scenarioList(shipped)}`, RUN_OPTIONS)
}

function compareUsage (shipped: readonly LoadedScenario[]): string {
  return usage(`${PROGRAM} compare <scenario>`, `Run a scenario with every process in the naive profile, then defended (same seed), and print both side by side.\nWrites compare.json and report.html (both runs on the same charts) to --out, each run's own report under <out>/<profile>/.\nExit code 0 when the defended run's objectives hold.\n${SCENARIO_ARG}\n\nScenarios:\n${scenarioList(shipped)}`, COMPARE_OPTIONS)
}

const LIST_USAGE = `Usage: ${PROGRAM} list [--json]

Describe every shipped scenario (packages/loadgen/scenarios/*.json): its trigger and parameters,
phases, cluster and workload, the objectives with their limits, and the outage it reproduces.
  --json    the same as a JSON array, for machines`

const REPORT_USAGE = `Usage: ${PROGRAM} report <dir>

Write report.html and junit.xml again from <dir>/report.json (a run's output directory), or, when
<dir> holds a compare.json, each run's and the comparison's report.html. Exit code 0 when the run
(or the comparison) passed, 1 when it failed, 2 when <dir> holds no readable report.`

/** `list`'s flags: --help and --json, no positionals. */
function listArgs (args: string[]): { help: boolean, json: boolean } {
  try {
    const { values } = parseArgs({ args, options: { help: { type: 'boolean', short: 'h' }, json: { type: 'boolean' } }, strict: true, allowPositionals: false })
    return { help: values.help === true, json: values.json === true }
  } catch (err) {
    throw new ReboundError('BAD_CONFIG', (err as Error).message)
  }
}

async function listCommand (args: string[], io: CliIo): Promise<number> {
  const { help, json } = listArgs(args)
  if (help) {
    io.out(LIST_USAGE)
    return 0
  }
  const descriptions = (await loadShipped()).map(describeScenario)
  io.out(json ? JSON.stringify(descriptions, null, 2) : formatScenarioList(descriptions))
  return 0
}

export async function cli (argv: readonly string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  const [command, ...rest] = argv
  if (command === '--help' || command === '-h' || command === 'help') {
    io.out(TOP_USAGE)
    return 0
  }
  if (command === 'list') return await listCommand(rest, io)
  if (command === 'run') return await runCommand(rest, env, io)
  if (command === 'compare') return await compareCommand(rest, env, io)
  if (command === 'report') return await reportCommand(rest, io)
  if (command === undefined) throw new ReboundError('BAD_CONFIG', 'missing command (list | run | compare | report)')
  throw new ReboundError('BAD_CONFIG', `unknown command '${command}' (list | run | compare | report)`)
}

/** --help and the positionals of `report`. */
function reportArgs (args: string[]): { help: boolean, dirs: string[] } {
  try {
    const { values, positionals } = parseArgs({ args, options: { help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: true })
    return { help: values.help === true, dirs: positionals }
  } catch (err) {
    throw new ReboundError('BAD_CONFIG', (err as Error).message)
  }
}

async function reportCommand (args: string[], io: CliIo): Promise<number> {
  const { help, dirs } = reportArgs(args)
  if (help) {
    io.out(REPORT_USAGE)
    return 0
  }
  const [dir, ...extra] = dirs
  if (dir === undefined) throw new ReboundError('BAD_CONFIG', `missing directory: ${PROGRAM} report <dir>`)
  if (extra.length > 0) throw new ReboundError('BAD_CONFIG', `one directory only, got also: ${extra.join(' ')}`)
  const result = await rerenderDir(dir)
  for (const path of result.written) io.out(`wrote ${path}`)
  io.out(`${result.kind === 'compare' ? 'compare' : 'run'}: ${result.ok ? 'PASS' : 'FAIL'}`)
  return result.ok ? 0 : 1
}

/** The scenario named first in `args` and the flags after it, or undefined when only --help was asked for. */
async function scenarioArg (args: string[], verb: string, shipped: readonly LoadedScenario[]): Promise<{ loaded: LoadedScenario, flags: string[] } | undefined> {
  const [name, ...flags] = args
  if (name === undefined || name.startsWith('-')) {
    if (args.includes('--help') || args.includes('-h')) return undefined
    throw new ReboundError('BAD_CONFIG', `missing scenario: ${PROGRAM} ${verb} <scenario> (${shipped.map((s) => s.ref.name).join(' | ')}, or a scenario file's path)`)
  }
  return { loaded: await findScenario(name, shipped), flags }
}

async function compareCommand (args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  const shipped = await loadShipped()
  const named = await scenarioArg(args, 'compare', shipped)
  const flags = named === undefined ? undefined : parseConfig(named.flags, env, COMPARE_OPTIONS, CompareFlagsSchema)
  if (named === undefined || flags === undefined) {
    io.out(compareUsage(shipped))
    return 0
  }
  // compare runs both profiles: the resolved default profile is dropped, never used.
  const { scenario, options: { profile: _profile, ...options } } = resolveRun(named.loaded, flags)
  const result = await runCompare({ scenario, options, argv: named.flags, env, print: io.out, tty: io.isTty })
  return result.exitCode
}

async function runCommand (args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  const shipped = await loadShipped()
  const named = await scenarioArg(args, 'run', shipped)
  const flags = named === undefined ? undefined : parseConfig(named.flags, env, RUN_OPTIONS, RunFlagsSchema)
  if (named === undefined || flags === undefined) {
    io.out(runUsage(shipped))
    return 0
  }
  const { scenario, options } = resolveRun(named.loaded, flags)
  const result = await runScenario({ scenario, options, argv: named.flags, env, print: io.out, tty: io.isTty })
  return result.exitCode
}
