/**
 * Part 2, the mass-restart storm: N clients (swarm processes of `swarmSize` real peers each) all
 * start at once against fresh login servers and enough operator supernodes. Measured: the time
 * until each client logged in and until it attached (T50..T100 from the moment the swarms were
 * spawned, so process start-up is included), attempts per client, and the ideal N/mu. Then the
 * resumption storm: SIGKILL every swarm once all are attached and restart them at once on the same
 * data directories; with tickets (defended) almost no logins are needed, naive logs in again.
 */
import { sleep, type Logger } from '@rebound/protocol'
import { getJson } from '../http.js'
import { httpUrl } from '../layout.js'
import { SwarmStatus } from '@rebound/protocol'
import type { BenchCluster } from './bench-cluster.js'
import { StormTracker, type Percentiles } from './bench-stats.js'
import { registerUsers, waitLoadReady } from './load-client.js'
import { withCluster, type PartContext } from './part-context.js'
import { ServerSampler, delta, scrapeServer, type ServerSample } from './server-metrics.js'
import { SWARM_USER_DIGITS, SWARM_USER_PREFIX } from './storm-constants.js'

/** Clients per operator supernode: one supernode per this many clients. */
export const CLIENTS_PER_SUPERNODE = 250
/** Supernode capacity over its share: killed sessions may linger while their replacements attach. */
export const SUPERNODE_HEADROOM = 2.5
/** Connections registering the swarm's accounts beforehand (registration is not measured). */
export const REGISTER_CONNECTIONS = 8
export const REGISTER_TIMEOUT_MS = 600_000
export const STORM_POLL_MS = 1000
/** How long the attached cluster is watched doing nothing, for the idle cost. */
export const IDLE_WINDOW_MS = 10_000
const STATUS_TIMEOUT_MS = 5000

export interface StormPhase {
  /** ms from the spawn of the swarms. */
  login: Percentiles
  attach: Percentiles
  attemptsPerClient: number
  /** Members that got a ticket from a login server / that resumed with a cached one. */
  loggedIn: number
  resumed: number
  /** Login-server side, over all servers. */
  loginsOffered: number | null
  loginsAccepted: number | null
  loginsRejected: number | null
  serverCpuS: number | null
  /** CPU seconds of the supernodes and of the swarm processes over the phase: was the machine saturated? */
  supernodeCpuS: number | null
  swarmCpuS: number | null
  durationMs: number
}

export interface StormResult {
  clients: number
  swarms: number
  loginServers: number
  supernodes: number
  registered: number
  /** mu (one server, from part 1) times the number of login servers, and N over it. */
  muPerS: number | null
  idealMs: number | null
  first: StormPhase
  /** CPU the attached, idle cluster burns (keepalives, timers): what N clients cost at rest. */
  idle: IdleCost | null
  resumption: StormPhase | null
  peakServerRssBytes: number | null
}

export interface IdleCost {
  windowMs: number
  /** Cores (CPU seconds per second) of the login servers, the supernodes and the swarms. */
  loginServerCores: number | null
  supernodeCores: number | null
  swarmCores: number | null
}

function swarmSizes (clients: number, size: number): number[] {
  const sizes: number[] = []
  for (let left = clients; left > 0; left -= size) sizes.push(Math.min(size, left))
  return sizes
}

async function scrapeAll (urls: readonly string[]): Promise<Array<ServerSample | undefined>> {
  return await Promise.all(urls.map(async (url) => await scrapeServer(url)))
}

function sumDelta (before: Array<ServerSample | undefined>, after: Array<ServerSample | undefined>, key: 'offered' | 'accepted' | 'rejected' | 'cpuS'): number | null {
  let sum = 0
  for (let i = 0; i < before.length; i++) {
    const d = delta(before[i], after[i], key)
    if (d === null) return null
    sum += d
  }
  return sum
}

/** Poll every swarm until all N members are attached after t0, or the storm timeout. */
async function follow (urls: readonly string[], tracker: StormTracker, ctx: PartContext): Promise<void> {
  const deadlineMs = tracker.t0Ms + ctx.options.stormTimeoutMs
  let lastPrintMs = Date.now()
  // Bounded by the storm timeout.
  while (tracker.attached < tracker.n && Date.now() < deadlineMs && !ctx.signal.aborted) {
    await sleep(STORM_POLL_MS, ctx.signal)
    await Promise.all(urls.map(async (url) => {
      const status = await getJson(`${url}/status`, SwarmStatus, STATUS_TIMEOUT_MS)
      if (status.ok) tracker.observe(status.value.members)
    }))
    if (Date.now() - lastPrintMs >= 10_000) {
      lastPrintMs = Date.now()
      ctx.print(`  ${ctx.profile}: ${Math.round((Date.now() - tracker.t0Ms) / 1000)} s: ${tracker.loggedIn()} logged in, ${tracker.attached}/${tracker.n} attached`)
    }
  }
}

/** Sum of process_cpu_seconds_total over processes that answer (null when none does). */
async function cpuOf (urls: readonly string[]): Promise<number | null> {
  const samples = await scrapeAll(urls)
  const known = samples.map((s) => s?.cpuS).filter((v): v is number => v !== undefined)
  return known.length === 0 ? null : known.reduce((sum, v) => sum + v, 0)
}

/** CPU per second of each process group while the attached cluster sits idle for IDLE_WINDOW_MS. */
async function idleCost (cluster: BenchCluster, swarmUrls: readonly string[], ctx: PartContext): Promise<IdleCost> {
  const groups = [cluster.loginServerAddrs.map((_, i) => cluster.loginServerUrl(i)), cluster.supernodeUrls(), swarmUrls]
  const before = await Promise.all(groups.map(async (urls) => await cpuOf(urls)))
  const t0 = Date.now()
  await sleep(IDLE_WINDOW_MS, ctx.signal)
  const after = await Promise.all(groups.map(async (urls) => await cpuOf(urls)))
  const windowMs = Date.now() - t0
  const cores = (i: number): number | null => {
    const b = before[i]
    const a = after[i]
    return b == null || a == null ? null : (a - b) / (windowMs / 1000)
  }
  return { windowMs, loginServerCores: cores(0), supernodeCores: cores(1), swarmCores: cores(2) }
}

async function stormPhase (cluster: BenchCluster, swarmUrls: readonly string[], start: () => Promise<void>, ctx: PartContext, log: Logger): Promise<StormPhase> {
  const servers = cluster.loginServerAddrs.map((_, i) => cluster.loginServerUrl(i))
  const supernodes = cluster.supernodeUrls()
  const before = await scrapeAll(servers)
  const supernodeCpuBefore = await cpuOf(supernodes)
  const t0Ms = Date.now()
  await start()
  const tracker = new StormTracker(t0Ms, ctx.options.clients)
  await follow(swarmUrls, tracker, ctx)
  const after = await scrapeAll(servers)
  const supernodeCpuAfter = await cpuOf(supernodes)
  // The swarm processes were started at t0: their whole CPU time is this phase's.
  const swarmCpuS = await cpuOf(swarmUrls)
  const phase: StormPhase = {
    login: tracker.login(),
    attach: tracker.attach(),
    attemptsPerClient: tracker.attemptsPerClient(),
    loggedIn: tracker.loggedIn(),
    resumed: tracker.resumed(),
    loginsOffered: sumDelta(before, after, 'offered'),
    loginsAccepted: sumDelta(before, after, 'accepted'),
    loginsRejected: sumDelta(before, after, 'rejected'),
    serverCpuS: sumDelta(before, after, 'cpuS'),
    supernodeCpuS: supernodeCpuBefore === null || supernodeCpuAfter === null ? null : supernodeCpuAfter - supernodeCpuBefore,
    swarmCpuS,
    durationMs: Date.now() - t0Ms
  }
  log.info({ profile: ctx.profile, phase }, 'storm phase done')
  return phase
}

export async function runStorm (ctx: PartContext, muOneServerPerS: number | null): Promise<StormResult> {
  const { clients, swarmSize, loginServers } = ctx.options
  const supernodes = Math.max(1, Math.ceil(clients / CLIENTS_PER_SUPERNODE))
  return await withCluster(ctx, async (cluster) => {
    await cluster.startLoginServers(loginServers, ctx.signal)
    await cluster.startSupernodes(supernodes, Math.ceil((SUPERNODE_HEADROOM * clients) / supernodes), ctx.signal)
    // The accounts exist before the storm, as they would for a real reboot wave.
    const loadUrl = await cluster.startLoad(REGISTER_CONNECTIONS, false)
    await waitLoadReady(loadUrl, ctx.signal, () => cluster.driver.isRunning('load'))
    const registered = await registerUsers(loadUrl, { prefix: SWARM_USER_PREFIX, first: 1, count: clients, digits: SWARM_USER_DIGITS }, REGISTER_TIMEOUT_MS, ctx.signal)
    await cluster.driver.kill('load', 'SIGKILL')
    ctx.print(`  ${ctx.profile}: ${registered} accounts registered; ${clients} clients start at once (${Math.ceil(clients / swarmSize)} swarms)`)

    const sizes = swarmSizes(clients, swarmSize)
    const specs = sizes.map((count, j) => cluster.swarmSpec(j, count, 1 + j * swarmSize))
    const names = specs.map((s) => s.name)
    const urls = specs.map((s) => httpUrl(s.ip))
    const sampler = new ServerSampler(cluster.loginServerAddrs.map((_, i) => cluster.loginServerUrl(i)))
    sampler.start()
    try {
      const first = await stormPhase(cluster, urls, async () => {
        for (const spec of specs) await cluster.driver.start(spec)
      }, ctx, ctx.log)
      let resumption: StormPhase | null = null
      let idle: IdleCost | null = null
      if (first.attach.reached === clients && !ctx.signal.aborted) {
        idle = await idleCost(cluster, urls, ctx)
        ctx.log.info({ profile: ctx.profile, idle }, 'idle cost')
        ctx.print(`  ${ctx.profile}: all attached; SIGKILL every swarm and restart them at once`)
        resumption = await stormPhase(cluster, urls, async () => {
          await Promise.all(names.map(async (name) => { await cluster.driver.kill(name, 'SIGKILL') }))
          for (const name of names) await cluster.driver.restart(name)
        }, ctx, ctx.log)
      } else {
        ctx.print(`  ${ctx.profile}: not every client attached within ${ctx.options.stormTimeoutMs} ms; resumption storm skipped`)
      }
      const muPerS = muOneServerPerS === null ? null : muOneServerPerS * loginServers
      return {
        clients, swarms: sizes.length, loginServers, supernodes, registered, muPerS,
        idealMs: muPerS === null ? null : (clients / muPerS) * 1000,
        first, idle, resumption, peakServerRssBytes: sampler.peakRssBytes
      }
    } finally {
      await sampler.stop()
    }
  })
}
