/**
 * The `rebound` command line: `list` and `run <scenario>`. Bad usage throws
 * ReboundError('BAD_CONFIG'), which `runMain` turns into a message and exit code 2.
 */
import { parseArgs } from 'node:util'
import { ReboundError, parseConfig, usage } from '@rebound/protocol'
import { RUN_OPTIONS, RunOptionsSchema } from './options.js'
import { runScenario } from './run.js'
import { SCENARIOS, findScenario } from './scenarios/index.js'

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

'${PROGRAM} <command> --help' shows a command's options.`

function scenarioList (): string {
  return SCENARIOS.map((s) => `  ${s.name.padEnd(30)}  ${s.description}`).join('\n')
}

function runUsage (): string {
  return usage(`${PROGRAM} run <scenario>`, `Run a scenario. Exit code 0 when its objectives hold, 1 when one fails.\n\nScenarios:\n${scenarioList()}`, RUN_OPTIONS)
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
  if (command === undefined) throw new ReboundError('BAD_CONFIG', 'missing command (list | run)')
  throw new ReboundError('BAD_CONFIG', `unknown command '${command}' (list | run)`)
}

async function runCommand (args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  const [name, ...flags] = args
  if (name === undefined || name.startsWith('-')) {
    if (args.includes('--help') || args.includes('-h')) {
      io.out(runUsage())
      return 0
    }
    throw new ReboundError('BAD_CONFIG', `missing scenario: ${PROGRAM} run <scenario> (${SCENARIOS.map((s) => s.name).join(' | ')})`)
  }
  const scenario = findScenario(name)
  if (scenario === undefined) {
    throw new ReboundError('BAD_CONFIG', `unknown scenario '${name}' (known: ${SCENARIOS.map((s) => s.name).join(', ')}; see '${PROGRAM} list')`)
  }
  const options = parseConfig(flags, env, RUN_OPTIONS, RunOptionsSchema)
  if (options === undefined) {
    io.out(runUsage())
    return 0
  }
  const result = await runScenario({ scenario, options, argv: flags, env, print: io.out })
  return result.exitCode
}
