/**
 * The `rebound` command line: `list`, `run <scenario>`, `compare <scenario>` and `report <dir>`.
 * Bad usage throws ReboundError('BAD_CONFIG'), which `runMain` turns into a message and exit code 2.
 */
import { parseArgs } from 'node:util'
import { ReboundError, parseConfig, usage } from '@rebound/protocol'
import { runCompare } from './compare.js'
import { COMPARE_OPTIONS, CompareOptionsSchema, RUN_OPTIONS, RunOptionsSchema } from './options.js'
import { rerenderDir } from './report/rerender.js'
import { runScenario } from './run.js'
import { SCENARIOS, findScenario } from './scenarios/index.js'
import type { Scenario } from './scenarios/scenario.js'

export const PROGRAM = 'rebound'

export interface CliIo {
  out: (text: string) => void
  err: (text: string) => void
}

const TOP_USAGE = `Usage: ${PROGRAM} <command> [options]

Reproduce the August 2007 Skype reboot storm on a real libp2p overlay (login servers, supernodes,
peers as separate processes) and check that the defences hold.

Commands:
  list                            the named scenarios
  run <scenario> [options]        run a scenario against a fresh local cluster
  compare <scenario> [options]    run it with the naive then the defended profile, side by side
  report <dir>                    write report.html and junit.xml again from a run's (or a compare's) JSON

'${PROGRAM} <command> --help' shows a command's options.`

function scenarioList (): string {
  return SCENARIOS.map((s) => `  ${s.name.padEnd(30)}  ${s.description}`).join('\n')
}

function runUsage (): string {
  return usage(`${PROGRAM} run <scenario>`, `Run a scenario. Exit code 0 when its objectives hold, 1 when one fails.\nWrites report.json, report.html (charts, opens offline) and junit.xml (one test case per objective) to --out.\n\nScenarios:\n${scenarioList()}`, RUN_OPTIONS)
}

function compareUsage (): string {
  return usage(`${PROGRAM} compare <scenario>`, `Run a scenario with every process in the naive profile, then defended (same seed), and print both side by side.\nWrites compare.json and report.html (both runs on the same charts) to --out, each run's own report under <out>/<profile>/.\nExit code 0 when the defended run's objectives hold.\n\nScenarios:\n${scenarioList()}`, COMPARE_OPTIONS)
}

const REPORT_USAGE = `Usage: ${PROGRAM} report <dir>

Write report.html and junit.xml again from <dir>/report.json (a run's output directory), or, when
<dir> holds a compare.json, each run's and the comparison's report.html. Exit code 0 when the run
(or the comparison) passed, 1 when it failed, 2 when <dir> holds no readable report.`

/** Flags only (no positionals) with --help; true when help was asked for. */
function helpOnly (args: string[]): boolean {
  try {
    return parseArgs({ args, options: { help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false }).values.help === true
  } catch (err) {
    throw new ReboundError('BAD_CONFIG', (err as Error).message)
  }
}

export async function cli (argv: readonly string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  const [command, ...rest] = argv
  if (command === '--help' || command === '-h' || command === 'help') {
    io.out(TOP_USAGE)
    return 0
  }
  if (command === 'list') {
    if (helpOnly(rest)) {
      io.out(`Usage: ${PROGRAM} list\n\nList the named scenarios with a one-line description.`)
      return 0
    }
    io.out(scenarioList())
    return 0
  }
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

/** The scenario named first in `args`, or undefined when only --help was asked for. */
function scenarioArg (args: string[], verb: string): { scenario: Scenario, flags: string[] } | undefined {
  const [name, ...flags] = args
  if (name === undefined || name.startsWith('-')) {
    if (args.includes('--help') || args.includes('-h')) return undefined
    throw new ReboundError('BAD_CONFIG', `missing scenario: ${PROGRAM} ${verb} <scenario> (${SCENARIOS.map((s) => s.name).join(' | ')})`)
  }
  const scenario = findScenario(name)
  if (scenario === undefined) {
    throw new ReboundError('BAD_CONFIG', `unknown scenario '${name}' (known: ${SCENARIOS.map((s) => s.name).join(', ')}; see '${PROGRAM} list')`)
  }
  return { scenario, flags }
}

async function compareCommand (args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  const named = scenarioArg(args, 'compare')
  const options = named === undefined ? undefined : parseConfig(named.flags, env, COMPARE_OPTIONS, CompareOptionsSchema)
  if (named === undefined || options === undefined) {
    io.out(compareUsage())
    return 0
  }
  const result = await runCompare({ scenario: named.scenario, options, argv: named.flags, env, print: io.out })
  return result.exitCode
}

async function runCommand (args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  const named = scenarioArg(args, 'run')
  const options = named === undefined ? undefined : parseConfig(named.flags, env, RUN_OPTIONS, RunOptionsSchema)
  if (named === undefined || options === undefined) {
    io.out(runUsage())
    return 0
  }
  const result = await runScenario({ scenario: named.scenario, options, argv: named.flags, env, print: io.out })
  return result.exitCode
}
