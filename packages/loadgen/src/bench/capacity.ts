/**
 * Part 1, capacity: a single login server's capacity mu (admitted logins per second of a closed
 * loop), then goodput against open-loop offered load at 0.5..10 x mu: admitted latency, the
 * server's CPU, and the CPU it spent rejecting (when it exports that). A falling goodput curve is
 * congestion collapse (overload.md section 5).
 */
import { sleep, type PhaseResult } from '@rebound/protocol'
import { ms } from './bench-tables.js'
import { runLoad } from './load-client.js'
import { measureMu, startReadyLoad, withCluster, type PartContext } from './part-context.js'
import { rejectionCostRatio } from './bench-stats.js'
import { delta, scrapeServer } from './server-metrics.js'

export const LOAD_MULTIPLES = [0.5, 1, 2, 5, 10] as const
/** Between levels, wait (bounded) for the server's login queue to empty when it reports one. */
export const QUEUE_DRAIN_TIMEOUT_MS = 15_000
const QUEUE_POLL_MS = 500

export interface LevelResult {
  multiple: number
  offeredPerS: number
  phase: PhaseResult
  /** CPU seconds of the login server while the level ran and drained. */
  serverCpuS: number | null
  /** Of which spent rejecting (rebound_login_rejection_cpu_seconds_total), if the server has it. */
  rejectionCpuS: number | null
  /** The server's own estimate of its capacity after the level, if it has one. */
  serverCapacityPerS: number | null
  loadCpuS: number
  /** Whole-process cost of a rejection over a login's (bench-stats rejectionCostRatio). */
  rejectionCostRatio: number | null
}

export interface CapacityResult {
  muPerS: number
  /** Server CPU seconds per login at the lowest load that refused nothing (0.5 x mu). */
  loginCpuS: number | null
  closed: PhaseResult
  closedServerCpuS: number | null
  closedLoadCpuS: number
  levels: LevelResult[]
  connections: number
}

async function waitQueueDrained (url: string, signal: AbortSignal): Promise<void> {
  const deadlineMs = Date.now() + QUEUE_DRAIN_TIMEOUT_MS
  // Bounded by the deadline; a server without the metric is not waited for.
  while (Date.now() < deadlineMs && !signal.aborted) {
    const sample = await scrapeServer(url)
    if (sample?.queueLength === undefined || sample.queueLength === 0) return
    await sleep(QUEUE_POLL_MS, signal)
  }
}

export async function runCapacity (ctx: PartContext): Promise<CapacityResult> {
  return await withCluster(ctx, async (cluster) => {
    await cluster.startLoginServers(1, ctx.signal)
    const url = await startReadyLoad(cluster, ctx)
    const server = cluster.loginServerUrl(0)
    const before = await scrapeServer(server)
    const { muPerS, closed, loadCpuS: closedLoadCpuS } = await measureMu(url, ctx)
    const afterClosed = await scrapeServer(server)
    ctx.print(`  ${ctx.profile}: mu = ${muPerS.toFixed(1)} logins/s (closed loop, ${ctx.options.capacityConcurrency} outstanding, p99 ${ms(closed.p99Ms)} ms)`)
    const levels: LevelResult[] = []
    for (const multiple of LOAD_MULTIPLES) {
      if (ctx.signal.aborted) break
      await waitQueueDrained(server, ctx.signal)
      const offeredPerS = multiple * muPerS
      const b = await scrapeServer(server)
      const result = await runLoad(url, { mode: 'open', phases: [{ ratePerS: offeredPerS, durationMs: ctx.options.levelMs }] }, ctx.signal)
      const a = await scrapeServer(server)
      const phase = result.phases[0]
      if (phase === undefined) continue
      levels.push({
        multiple, offeredPerS, phase, serverCpuS: delta(b, a, 'cpuS'), rejectionCpuS: delta(b, a, 'rejectionCpuS'),
        serverCapacityPerS: a?.capacityPerS ?? null, loadCpuS: result.loadCpuS, rejectionCostRatio: null
      })
      ctx.print(`  ${ctx.profile}: ${multiple} x mu: goodput ${phase.goodputPerS.toFixed(1)}/s, p99 ${ms(phase.p99Ms)} ms, rejected ${phase.rejected}, timeouts ${phase.timeouts}, dropped ${phase.dropped}`)
    }
    const closedServerCpuS = delta(before, afterClosed, 'cpuS')
    // Not the closed loop: a defended server refuses some of its 32 outstanding requests too.
    const base = levels.find((l) => l.phase.rejected === 0 && l.phase.ok > 0 && l.serverCpuS !== null)
    const loginCpuS = base?.serverCpuS == null ? null : base.serverCpuS / base.phase.ok
    for (const l of levels) l.rejectionCostRatio = rejectionCostRatio(l.serverCpuS, l.phase.ok, l.phase.rejected, loginCpuS)
    return { muPerS, loginCpuS, closed, closedServerCpuS, closedLoadCpuS, levels, connections: ctx.options.loadConnections }
  })
}
