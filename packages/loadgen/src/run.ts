/**
 * One run of a scenario from start to report: lay out and start the cluster, start the workloads
 * (messages and contact changes, both recorded in one history), warm up, apply the scenario, stop
 * the workloads, let the devices settle and check the history against both failure domains, then
 * stop everything we started and judge the objectives. Whatever happens (a cluster that does not
 * come up, Ctrl-C), the processes are stopped and a report is written.
 */
import { randomInt } from 'node:crypto'
import { mkdir, readdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { pino } from 'pino'
import { ReboundError, describeError, sleep, type Logger } from '@rebound/protocol'
import { Cluster } from './cluster.js'
import { ContactWorkload } from './contact-workload.js'
import { missingCapabilities, type ClusterDriver, type Program } from './driver/driver.js'
import { attachCompose, sizeOfMembers } from './driver/docker-members.js'
import { DEFAULT_BINS, checkBins, createProcessDriver } from './driver/process-driver.js'
import { History } from './history/history.js'
import { checkRunHistory, historyObjectiveOf, type HistoryReport } from './history-run.js'
import { httpUrl, layoutCluster, peerProcesses, type ClusterSize, type Member } from './layout.js'
import { Observer } from './observer.js'
import type { RunOptions } from './options.js'
import { MAX_SEED, createPrng } from './prng.js'
import { usageProcesses } from './proc-usage.js'
import { loginsOfferedSince, meanAttempts, processKills } from './recovery.js'
import { reproduceCommand, writeReport, type Report } from './report.js'
import { triggerAtS } from './report/trigger.js'
import { hostReport } from './host-cpu.js'
import { writeRunArtifacts } from './report/write.js'
import type { Objective, Scenario, ScenarioContext, ScenarioOutcome } from './scenarios/scenario.js'
import { PROGRESS_RATE_WINDOW_S, ProgressDisplay, RemainingTime, loginRates, type ProgressFacts } from './progress.js'
import { fileScenarioOf, scenarioArgOf } from './scenario-file/bind.js'
import { SETTLE_TIMEOUT_MS } from './settle.js'
import { formatSummary } from './summary.js'
import { Timeline, type ChaosCounters } from './timeline.js'
import { buildContactGraph } from './users.js'
import { Workload } from './workload.js'

export const EXIT_OK = 0
export const EXIT_FAILED = 1
export const EXIT_INTERRUPTED = 130

export interface RunInit {
  scenario: Scenario
  options: RunOptions
  /** The flags as given, for the replay command in the report. */
  argv: readonly string[]
  /** Environment the started processes inherit. */
  env: NodeJS.ProcessEnv
  print: (line: string) => void
  /** print goes to a terminal: progress is redrawn in place (default: plain lines). */
  tty?: boolean
}

export interface RunResult {
  report: Report
  reportPath: string
  exitCode: number
}

function timestamp (date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')
}

async function prepareOutDir (dir: string): Promise<void> {
  const entries = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return []
    throw err
  })
  // A reused directory would hand the login servers an old account store and old identities.
  if (entries.length > 0) throw new ReboundError('BAD_CONFIG', `output directory ${dir} is not empty; give a new --out`)
  await mkdir(join(dir, 'logs'), { recursive: true })
}

function binsOf (options: RunOptions): Record<Program, string> {
  return { node: options.nodeBin ?? DEFAULT_BINS.node, bootstrap: options.bootstrapBin ?? DEFAULT_BINS.bootstrap, swarm: DEFAULT_BINS.swarm }
}

/** The driver, and the cluster it drives: laid out here (process), or found running (docker). */
interface DriverSetup {
  driver: ClusterDriver
  members: Member[]
  size: ClusterSize
  /** docker: the running cluster's operator token, when given; process: the cluster makes its own. */
  operatorToken?: string
  /** docker: follow a member's new address after its container restarted. */
  onAddressChange?: (listener: (name: string, ip: string) => void) => void
}

async function createDriver (options: RunOptions, logsDir: string, env: NodeJS.ProcessEnv, log: Logger, signal: AbortSignal): Promise<DriverSetup> {
  if (options.driver === 'docker') {
    const compose = await attachCompose({ project: options.composeProject, socketPath: options.engineSocket, logsDir, profile: options.profile, env, signal }, log)
    return {
      driver: compose.driver,
      members: compose.members,
      size: sizeOfMembers(compose.members),
      ...(compose.operatorToken === undefined ? {} : { operatorToken: compose.operatorToken }),
      onAddressChange: (listener) => { compose.driver.onAddressChange(listener) }
    }
  }
  checkBins(binsOf(options))
  const size: ClusterSize = { loginServers: options.loginServers, supernodes: options.supernodes, peers: options.peers }
  return { driver: createProcessDriver({ logsDir, bins: binsOf(options), baseEnv: env }, log), members: layoutCluster(size, options.net, options.peersPerProcess), size }
}

/** Figures of a run that never reached its trigger: nothing was measured. */
const NOT_MEASURED = { killed: 0, reattached: 0, t50Ms: null, t90Ms: null, t99Ms: null, t100Ms: null }

export async function runScenario (init: RunInit): Promise<RunResult> {
  const { scenario, options, print } = init
  const startedAt = new Date()
  const startMs = startedAt.getTime()
  const seed = options.seed ?? randomInt(0, MAX_SEED + 1)
  const outDir = resolve(options.out ?? join('runs', `${scenario.name}-${timestamp(startedAt)}-${seed}`))
  const logsDir = join(outDir, 'logs')
  await prepareOutDir(outDir)
  const log = pino({ level: 'debug', base: { service: 'loadgen', pid: process.pid }, timestamp: pino.stdTimeFunctions.epochTime },
    pino.destination({ dest: join(outDir, 'loadgen.log'), sync: true }))
  const controller = new AbortController()
  const { driver, members, size, operatorToken, onAddressChange } = await createDriver(options, logsDir, init.env, log, controller.signal)
  // Before anything is started or touched: a driver that cannot do what the scenario needs is bad usage (exit 2).
  const missing = missingCapabilities(driver, scenario.driverNeeds?.(options) ?? [])
  if (missing !== undefined) {
    await driver.stopAll()
    throw new ReboundError('BAD_CONFIG', `${scenario.name}: ${missing} (--driver ${options.driver})`)
  }
  print(`rebound run ${scenario.name}: profile ${options.profile}, seed ${seed} (replay with --seed ${seed}), out ${outDir}`)
  log.info({ scenario: scenario.name, seed, options }, 'run starting')
  if (options.driver === 'docker') {
    // The compose project is the cluster: the layout flags cannot change it, so they are not used.
    print(`--driver docker: compose project ${options.composeProject}, ${size.loginServers} login servers, ${size.supernodes} supernodes, ${size.peers} peers (--peers, --supernodes, --login-servers, --peers-per-process, --net are not used)`)
    if (operatorToken === undefined) print('--driver docker: REBOUND_OPERATOR_TOKEN not set: the history check cannot read the store')
    log.info({ project: options.composeProject, size, users: members.filter((m) => m.role === 'peer').map((m) => `${m.name}=${m.user ?? '?'}`) }, 'compose cluster found')
  }
  const peers = members.filter((m) => m.role === 'peer')
  // A swarm's peers are reached through its one control port, on its first peer's address.
  const workloadPeers = peerProcesses(members).flatMap((proc) => proc.peers.map((m) => ({
    name: m.name, user: m.user ?? m.name, url: httpUrl(proc.ip), ...(proc.swarm ? { swarm: proc.name } : {})
  })))
  const prng = createPrng(seed)
  const chaos: ChaosCounters = { killed: 0, restarted: 0 }
  let phase = 'starting'
  const observer = new Observer({ log: log.child({ component: 'observer' }), isRunning: (name) => driver.isRunning(name) })
  const history = new History()
  onAddressChange?.((name, ip) => {
    observer.moveNode(name, httpUrl(ip))
    // The workloads and the history check hold these same objects: they send to the new address too.
    for (const peer of workloadPeers) if (peer.name === name) peer.url = httpUrl(ip)
    log.info({ name, ip }, 'member moved')
  })
  const workload = new Workload({
    ratePerS: options.messageRate,
    peers: workloadPeers,
    contacts: buildContactGraph(peers.map((m) => m.user ?? m.name), prng.fork('contacts')),
    idPrefix: `lg${seed}`
  }, {
    prng: prng.fork('workload'),
    log: log.child({ component: 'workload' }),
    isAttached: (name) => observer.isAttached(name),
    isRunning: (name) => driver.isRunning(name),
    interventions: (name) => driver.interventions(name),
    history
  })
  const contactWorkload = new ContactWorkload({
    ratePerS: options.contactRate,
    peers: workloadPeers,
    users: peers.map((m) => m.user ?? m.name)
  }, {
    prng: prng.fork('contact-workload'),
    log: log.child({ component: 'contact-workload' }),
    history,
    isAttached: (name) => observer.isAttached(name),
    isRunning: (name) => driver.isRunning(name),
    interventions: (name) => driver.interventions(name)
  })
  const timeline = new Timeline({
    observer,
    peerNames: peers.map((m) => m.name),
    messages: () => workload.counters,
    chaos,
    processesRunning: () => driver.runningCount(),
    // `cluster` is constructed below, before the timeline starts sampling.
    usage: { processes: () => usageProcesses(members, cluster.addedMembers()), pid: (name) => driver.pid(name) }
  }, startMs)
  const remaining = new RemainingTime({
    warmupMs: options.warmupMs, observeMs: options.observeMs, tailMs: fileScenarioOf(scenario)?.tailMs ?? 0, settleMs: SETTLE_TIMEOUT_MS
  }, startMs)
  const progressFacts = (): ProgressFacts => ({
    scenario: scenario.name,
    phase,
    elapsedMs: Date.now() - startMs,
    ...remaining.at(Date.now()),
    peers: size.peers,
    supernodes: size.supernodes,
    peersOnline: peers.filter((m) => observer.isAttached(m.name)).length,
    supernodesOnline: observer.nodes().filter((v) => v.status?.role === 'supernode' && observer.isAttached(v.name)).length,
    logins: loginRates(timeline.samples, PROGRESS_RATE_WINDOW_S),
    messagesDelivered: workload.counters.delivered,
    messagesFailed: workload.counters.failed
  })
  const progress = new ProgressDisplay({ tty: init.tty === true }, { facts: progressFacts, print, columns: () => process.stdout.columns })
  // While the display is live, the run's own lines go above its block.
  const say = (line: string): void => { progress.print(line) }
  const setPhase = (next: string): void => {
    phase = next
    remaining.phase(next, Date.now())
    log.info({ phase }, 'phase')
    progress.phaseChanged()
  }
  const cluster = new Cluster({ size, members, seed, outDir, profile: options.profile, orphanWindowMs: options.orphanWindowMs, eligibleFraction: options.eligibleFraction, ...(operatorToken === undefined ? {} : { operatorToken }) }, { driver, observer, log: log.child({ component: 'cluster' }), signal: controller.signal, setPhase })

  // Ctrl-C: stop gracefully and still write the report; a second one kills everything at once.
  let signals = 0
  const onSignal = (): void => {
    signals++
    if (signals === 1) {
      say('interrupted: stopping the cluster (again to kill it at once)')
      controller.abort()
      return
    }
    driver.killAllNow()
    process.exit(EXIT_INTERRUPTED)
  }
  const onExit = (): void => { driver.killAllNow() }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  process.on('exit', onExit)
  progress.start()

  let outcome: ScenarioOutcome | undefined
  let historyReport: HistoryReport | undefined
  let error: string | null = null
  let clusterReady = false
  // After the scenario (or its failure), before the cluster stops: the devices must still answer.
  const endWorkloads = async (): Promise<void> => {
    await Promise.all([workload.stop(), contactWorkload.stop()])
    if (!clusterReady || controller.signal.aborted) return
    try {
      historyReport = await checkRunHistory(
        { peers: workloadPeers, loginServers: cluster.byRole('login-server').map((m) => httpUrl(m.ip)), operatorToken: cluster.operatorToken, triggerAtMs: outcome?.triggerAtMs },
        { history, isRunning: (name) => driver.isRunning(name), deviceData: (name) => observer.node(name)?.status?.data, signal: controller.signal, log: log.child({ component: 'history' }), setPhase }
      )
    } catch (err) {
      log.error({ err: describeError(err) }, 'history check failed')
    }
  }
  try {
    observer.start()
    timeline.start()
    if (options.driver === 'docker') await cluster.adopt()
    else await cluster.start()
    clusterReady = true
    workload.start()
    contactWorkload.start()
    setPhase('warmup')
    await sleep(options.warmupMs, controller.signal)
    if (!controller.signal.aborted) {
      const byName = new Map(workloadPeers.map((peer) => [peer.name, peer]))
      const burstWrites = (names: readonly string[]): { sends: number, contacts: number } => {
        const attached = names.filter((name) => observer.isAttached(name)).flatMap((name) => byName.get(name) ?? [])
        return { sends: workload.burst(attached), contacts: contactWorkload.burst(attached) }
      }
      const ctx: ScenarioContext = {
        options, cluster, driver, observer, workload, burstWrites, prng, chaos, signal: controller.signal, setPhase, log: log.child({ component: scenario.name })
      }
      outcome = await scenario.run(ctx)
    }
  } catch (err) {
    error = err instanceof ReboundError ? err.message : describeError(err)
    log.error({ err: describeError(err) }, 'run failed')
  } finally {
    await endWorkloads()
    setPhase('stopping')
    // The last block stays on screen (the summary goes below it), whatever the stopping does.
    progress.stop()
    await timeline.stop()
    await observer.stop()
    await driver.stopAll()
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    process.off('exit', onExit)
  }
  const interrupted = controller.signal.aborted
  if (interrupted && error === null) error = 'interrupted'

  const report = assembleReport({
    init, seed, startedAt, size, outcome, error, interrupted, driver, observer, workload, timeline, logsDir, history: historyReport,
    clusterObjective: { name: 'cluster-ready', ok: clusterReady, value: peers.filter((m) => (observer.node(m.name)?.attachHistory.length ?? 0) > 0).length, limit: peers.length }
  })
  const reportPath = await writeReport(outDir, report)
  // report.json is the record; a renderer bug must not cost the run its verdict or exit code.
  const artifacts = await writeRunArtifacts(outDir, report).catch((err: unknown) => {
    log.error({ err: describeError(err) }, 'report.html or junit.xml not written')
    print(`report.html / junit.xml not written: ${describeError(err)}`)
    return undefined
  })
  log.info({ ok: report.ok, reportPath, ...artifacts }, 'run finished')
  log.flush()
  print(formatSummary(report, reportPath, artifacts))
  return { report, reportPath, exitCode: interrupted ? EXIT_INTERRUPTED : report.ok ? EXIT_OK : EXIT_FAILED }
}

function recoveryOf (p: ReportParts): Report['recovery'] {
  const kills = p.outcome?.kills ?? []
  const killTimeMs = kills[0]?.killTimeMs
  return {
    ...(p.outcome?.recovery ?? NOT_MEASURED),
    kills,
    processKills: processKills(kills),
    loginsOffered: killTimeMs === undefined ? 0 : loginsOfferedSince(p.timeline.samples, p.startedAt.getTime(), killTimeMs),
    attemptsPerClient: meanAttempts(kills.map((k) => k.loginAttempts))
  }
}

interface ReportParts {
  init: RunInit
  seed: number
  startedAt: Date
  size: ClusterSize
  outcome: ScenarioOutcome | undefined
  error: string | null
  interrupted: boolean
  driver: ClusterDriver
  observer: Observer
  workload: Workload
  timeline: Timeline
  logsDir: string
  /** The history check; undefined when the run ended before it (never up, interrupted). */
  history: HistoryReport | undefined
  /** Judged instead of the scenario's objectives when the run never reached its trigger. */
  clusterObjective: Objective
}

/** report.json `scenarioFile`: which file the run's scenario came from. */
function scenarioFileOf (scenario: Scenario): Pick<Report, 'scenarioFile'> {
  const file = fileScenarioOf(scenario)?.file
  return file === undefined ? {} : { scenarioFile: { name: file.name, path: file.path, shipped: file.shipped } }
}

function assembleReport (p: ReportParts): Report {
  const { scenario, options } = p.init
  const counters = p.workload.counters
  const messages = {
    sent: counters.sent,
    delivered: counters.delivered,
    failed: counters.failed,
    failedByCode: { ...counters.failedByCode },
    counted: p.workload.countedSends(),
    skipped: counters.skipped
  }
  const unexpectedExits = [...p.driver.unexpectedExits()]
  // no-lost-writes is every scenario's: judged whenever the scenario ran, or its history was checked.
  const history = p.outcome !== undefined || p.history !== undefined ? [historyObjectiveOf(p.history)] : []
  const objectives: Objective[] = p.outcome === undefined
    ? [p.clusterObjective, ...history]
    : [...scenario.objectives({ options, outcome: p.outcome, messages, unexpectedExits: unexpectedExits.length }), ...history]
  const { nodeBin: _nodeBin, bootstrapBin: _bootstrapBin, ...reportedOptions } = options
  const trigger = triggerAtS({
    startedAt: p.startedAt.toISOString(), triggerAtMs: p.outcome?.triggerAtMs, supernodeFailure: p.outcome?.supernodeFailure, recovery: { kills: p.outcome?.kills ?? [] }
  })
  const cores = p.timeline.host?.cores
  return {
    scenario: scenario.name,
    ...scenarioFileOf(scenario),
    seed: p.seed,
    driver: p.driver.kind,
    profile: options.profile,
    startedAt: p.startedAt.toISOString(),
    durationMs: Date.now() - p.startedAt.getTime(),
    reproduce: reproduceCommand(scenarioArgOf(scenario), p.init.argv, p.seed),
    options: { ...reportedOptions, seed: p.seed },
    cluster: p.size,
    peersPerProcess: options.peersPerProcess,
    recovery: recoveryOf(p),
    ...(p.outcome?.supernodeFailure === undefined ? {} : { supernodeFailure: p.outcome.supernodeFailure }),
    ...(p.outcome?.wipe === undefined ? {} : { wipe: p.outcome.wipe }),
    ...(p.outcome?.soak === undefined ? {} : { soak: p.outcome.soak }),
    logins: p.observer.loginTotals(),
    messages,
    ...(p.history === undefined ? {} : { history: p.history }),
    objectives,
    ok: p.error === null && objectives.every((o) => o.ok),
    error: p.error,
    interrupted: p.interrupted,
    triggerAtS: trigger,
    timeline: p.timeline.samples,
    timelineTruncated: p.timeline.truncated,
    ...(cores === undefined ? {} : { host: hostReport(p.timeline.samples, trigger, cores) }),
    unexpectedExits,
    logsDir: p.logsDir
  }
}
