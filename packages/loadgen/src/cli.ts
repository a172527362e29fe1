/**
 * The `rebound` command line: `list`, `run <scenario>` and `compare <scenario>`. Bad usage throws
 * ReboundError('BAD_CONFIG'), which `runMain` turns into a message and exit code 2.
 */
import { parseArgs } from 'node:util'
import { ReboundError, parseConfig, usage } from '@rebound/protocol'
import { runCompare } from './compare.js'
import { COMPARE_OPTIONS, CompareOptionsSchema, RUN_OPTIONS, RunOptionsSchema } from './options.js'
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

'${PROGRAM} <command> --help' shows a command's options.`

function scenarioList (): string {
  return SCENARIOS.map((s) => `  ${s.name.padEnd(30)}  ${s.description}`).join('\n')
}

function runUsage (): string {
  return usage(`${PROGRAM} run <scenario>`, `Run a scenario. Exit code 0 when its objectives hold, 1 when one fails.\n\nScenarios:\n${scenarioList()}`, RUN_OPTIONS)
}

function compareUsage (): string {
  return usage(`${PROGRAM} compare <scenario>`, `Run a scenario with every process in the naive profile, then defended (same seed), and print both side by side.\nExit code 0 when the defended run's objectives hold.\n\nScenarios:\n${scenarioList()}`, COMPARE_OPTIONS)
}

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
  if (command === undefined) throw new ReboundError('BAD_CONFIG', 'missing command (list | run | compare)')
  throw new ReboundError('BAD_CONFIG', `unknown command '${command}' (list | run | compare)`)
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
