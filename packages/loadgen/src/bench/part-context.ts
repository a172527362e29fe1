/**
 * What every part of the benchmark gets, and the fresh cluster each part-and-profile runs in.
 */
import { mkdir } from 'node:fs/promises'
import type { Logger, Profile } from '@rebound/protocol'
import { ReboundError } from '@rebound/protocol'
import { BenchCluster } from './bench-cluster.js'
import type { BenchOptions } from './bench-options.js'
import type { PhaseResult } from '@rebound/protocol'
import { runLoad, waitLoadReady } from './load-client.js'

export interface PartContext {
  options: BenchOptions
  profile: Profile
  /** This part's folder for this profile (data, logs). */
  dir: string
  signal: AbortSignal
  log: Logger
  print: (line: string) => void
  /** Told of the cluster that is running, so that an exit handler can kill it. */
  onCluster: (cluster: BenchCluster | undefined) => void
}

/** Run `fn` in a fresh cluster that is stopped afterwards, whatever happens. */
export async function withCluster<T> (ctx: PartContext, fn: (cluster: BenchCluster) => Promise<T>): Promise<T> {
  await mkdir(ctx.dir, { recursive: true })
  const cluster = new BenchCluster({
    dir: ctx.dir, net: ctx.options.net, profile: ctx.profile, scryptN: ctx.options.scryptN, logLevel: ctx.options.logLevel, passwordSeed: String(ctx.options.seed)
  }, ctx.log)
  ctx.onCluster(cluster)
  try {
    return await fn(cluster)
  } finally {
    await cluster.stop()
    ctx.onCluster(undefined)
  }
}

/** A login load generator connected (with its own accounts registered) to login server 0. */
export async function startReadyLoad (cluster: BenchCluster, ctx: PartContext): Promise<string> {
  const url = await cluster.startLoad(ctx.options.loadConnections, true)
  await waitLoadReady(url, ctx.signal, () => cluster.driver.isRunning('load'))
  return url
}

export interface Capacity {
  muPerS: number
  closed: PhaseResult
  /** CPU seconds of the load generator itself (it shares the machine with the server). */
  loadCpuS: number
}

/** mu: admitted logins per second of a closed loop keeping C logins outstanding. */
export async function measureMu (url: string, ctx: PartContext): Promise<Capacity> {
  const result = await runLoad(url, { mode: 'closed', concurrency: ctx.options.capacityConcurrency, durationMs: ctx.options.capacityMs }, ctx.signal)
  const closed = result.phases[0]
  if (closed === undefined || closed.goodputPerS <= 0) {
    throw new ReboundError('UNAVAILABLE', `no login succeeded while measuring capacity (${JSON.stringify(closed?.byCode ?? {})})`)
  }
  return { muPerS: closed.goodputPerS, closed, loadCpuS: result.loadCpuS }
}
