#!/usr/bin/env node
/**
 * `npm run bench:storm`: survive the login storm, measured (overload.md section 5). For each part
 * (capacity and goodput vs offered load, the mass-restart and resumption storms, hysteresis) and
 * each profile (naive, defended), a fresh set of processes on loopback; one table per part, a
 * targets table, and bench.json. Seeded (the seed is printed). It reports and exits 0 whether or
 * not the targets are met; only a crash (or Ctrl-C: 130) gives another exit code.
 */
import { randomInt } from 'node:crypto'
import { mkdir, readdir } from 'node:fs/promises'
import { availableParallelism, totalmem } from 'node:os'
import { join, resolve } from 'node:path'
import { pino } from 'pino'
import { ReboundError, describeError, parseConfig, runMain, usage, writeFileDurable, type Profile } from '@rebound/protocol'
import { DEFAULT_BINS, checkBins } from '../driver/process-driver.js'
import { MAX_SEED } from '../prng.js'
import type { BenchCluster } from './bench-cluster.js'
import { BENCH_OPTIONS, BenchOptionsSchema, resolveSizes, type BenchOptions, type Part } from './bench-options.js'
import { capacityTable, hysteresisTable, stormTable, targetsTable } from './bench-tables.js'
import { evaluateTargets, type BenchResults } from './bench-targets.js'
import { runCapacity } from './capacity.js'
import { runHysteresis } from './hysteresis.js'
import type { PartContext } from './part-context.js'
import { runStorm } from './storm.js'

const PROGRAM = 'storm-bench'
const SUMMARY = 'Login-storm benchmark: capacity and goodput vs offered load, the mass-restart and resumption storms, hysteresis; naive vs defended.'
export const BENCH_FILE = 'bench.json'
const EXIT_INTERRUPTED = 130
/** After the run, lingering sockets may not hold the process open longer than this. */
const EXIT_GRACE_MS = 2000

function timestamp (date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')
}

async function prepareOut (dir: string): Promise<void> {
  const entries = await readdir(dir).catch(() => [])
  if (entries.length > 0) throw new ReboundError('BAD_CONFIG', `output folder ${dir} is not empty; give a new --out`)
  await mkdir(dir, { recursive: true })
}

interface BenchRun {
  options: BenchOptions
  outDir: string
  results: BenchResults
  errors: Array<{ part: Part, profile: Profile, error: string }>
  startedAt: Date
  interrupted: boolean
}

async function writeBench (run: BenchRun, done: boolean): Promise<string> {
  const path = join(run.outDir, BENCH_FILE)
  const body = {
    bench: 'storm',
    done,
    startedAt: run.startedAt.toISOString(),
    durationMs: Date.now() - run.startedAt.getTime(),
    seed: run.options.seed,
    reproduce: `npm run bench:storm --${run.options.quick ? ' --quick' : ''} --seed ${run.options.seed}`,
    options: run.options,
    machine: { cpus: availableParallelism(), memoryBytes: totalmem(), node: process.version },
    results: run.results,
    targets: done ? evaluateTargets(run.results) : [],
    errors: run.errors,
    interrupted: run.interrupted
  }
  await writeFileDurable(path, JSON.stringify(body, null, 2) + '\n', 0o644)
  return path
}

async function runPart (part: Part, ctx: PartContext, results: BenchResults): Promise<void> {
  const mu = results.capacity[ctx.profile]?.muPerS ?? ctx.options.mu ?? null
  if (part === 'capacity') results.capacity[ctx.profile] = await runCapacity(ctx)
  else if (part === 'storm') results.storm[ctx.profile] = await runStorm(ctx, mu)
  else results.hysteresis[ctx.profile] = await runHysteresis(ctx, mu)
}

const TABLES: Record<Part, (r: BenchResults) => string> = {
  capacity: (r) => capacityTable(r.capacity),
  storm: (r) => stormTable(r.storm),
  hysteresis: (r) => hysteresisTable(r.hysteresis)
}

async function main (): Promise<void> {
  const input = parseConfig(process.argv.slice(2), process.env, BENCH_OPTIONS, BenchOptionsSchema)
  if (input === undefined) {
    process.stdout.write(usage('npm run bench:storm --', SUMMARY, BENCH_OPTIONS) + '\n')
    return
  }
  const options = resolveSizes(input, input.seed ?? randomInt(0, MAX_SEED + 1))
  checkBins(DEFAULT_BINS)
  const startedAt = new Date()
  const outDir = resolve(options.out ?? join('runs', `bench-storm-${timestamp(startedAt)}`))
  await prepareOut(outDir)
  const print = (line: string): void => { process.stdout.write(line + '\n') }
  const log = pino({ level: 'debug', base: { service: PROGRAM }, timestamp: pino.stdTimeFunctions.epochTime }, pino.destination({ dest: join(outDir, 'bench.log'), sync: true }))
  const run: BenchRun = { options, outDir, results: { capacity: {}, storm: {}, hysteresis: {} }, errors: [], startedAt, interrupted: false }
  print(`${PROGRAM}: seed ${options.seed} (replay with --seed ${options.seed})${options.quick ? ', quick' : ''}, out ${outDir}`)
  print(`  parts ${options.parts.join(', ')}; profiles ${options.profiles.join(', ')}; ${availableParallelism()} cores; storm N ${options.clients} in swarms of ${options.swarmSize}`)

  const controller = new AbortController()
  let current: BenchCluster | undefined
  const onSignal = (): void => {
    if (controller.signal.aborted) {
      current?.driver.killAllNow()
      process.exit(EXIT_INTERRUPTED)
    }
    print('interrupted: stopping (again to kill everything at once)')
    run.interrupted = true
    controller.abort()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  process.on('exit', () => { current?.driver.killAllNow() })

  for (const part of options.parts) {
    for (const profile of options.profiles) {
      if (controller.signal.aborted) break
      print(`${part}, ${profile}:`)
      const ctx: PartContext = {
        options, profile, dir: join(outDir, part, profile), signal: controller.signal, log: log.child({ part, profile }), print,
        onCluster: (cluster) => { current = cluster }
      }
      try {
        await runPart(part, ctx, run.results)
      } catch (err) {
        const error = describeError(err)
        run.errors.push({ part, profile, error })
        log.error({ part, profile, err: error }, 'part failed')
        print(`  ${profile}: ${part} could not complete: ${error}`)
      }
      await writeBench(run, false)
    }
    print(TABLES[part](run.results))
  }
  print(targetsTable(evaluateTargets(run.results)))
  const path = await writeBench(run, true)
  if (run.errors.length > 0) print(`parts that could not complete: ${run.errors.map((e) => `${e.part}/${e.profile}`).join(', ')} (see bench.json, bench.log)`)
  print(`bench.json: ${path}`)
  log.flush()
  process.exitCode = run.interrupted ? EXIT_INTERRUPTED : 0
  setTimeout(() => process.exit(process.exitCode), EXIT_GRACE_MS).unref()
}

runMain(PROGRAM, main)
