/**
 * Part 3, hysteresis: 0.5 x mu (the unloaded p99), then 10 x mu, then 0.8 x mu, with no restart
 * in between: how long after the overload ends goodput is back to >= 0.9 x offered and the admitted
 * p99 under 2 x the unloaded p99, and the login server's peak memory while overloaded (overload.md
 * section 5: a metastable server stays down after the trigger is gone).
 */
import type { PhaseResult, SecondRow } from '@rebound/protocol'
import { LOGIN_DEADLINE_MS_OF_CLIENTS } from './storm-constants.js'
import { runLoad } from './load-client.js'
import { measureMu, startReadyLoad, withCluster, type PartContext } from './part-context.js'
import { recoverySeconds } from './bench-stats.js'
import { ServerSampler, scrapeServer } from './server-metrics.js'

export const BASE_MULTIPLE = 0.5
export const HIGH_MULTIPLE = 10
export const LOW_MULTIPLE = 0.8
export const P99_RECOVERY_FACTOR = 2

export interface HysteresisResult {
  muPerS: number
  muMeasuredHere: boolean
  unloadedP99Ms: number | null
  phases: PhaseResult[]
  /** Seconds after the 10x phase until recovered; null if not within the 0.8x phase. */
  recoveryS: number | null
  rssBeforeBytes: number | null
  /** Peak RSS from the start of the 10x phase until its requests' deadlines passed. */
  peakRssBytes: number | null
  seconds: SecondRow[]
}

export async function runHysteresis (ctx: PartContext, knownMuPerS: number | null): Promise<HysteresisResult> {
  return await withCluster(ctx, async (cluster) => {
    await cluster.startLoginServers(1, ctx.signal)
    const url = await startReadyLoad(cluster, ctx)
    const server = cluster.loginServerUrl(0)
    const muPerS = knownMuPerS ?? (await measureMu(url, ctx)).muPerS
    const { hysteresisBaseMs: baseMs, hysteresisHighMs: highMs, hysteresisLowMs: lowMs } = ctx.options
    const rssBeforeBytes = (await scrapeServer(server))?.rssBytes ?? null
    const sampler = new ServerSampler([server])
    sampler.start()
    let result
    try {
      result = await runLoad(url, {
        mode: 'open',
        phases: [
          { ratePerS: BASE_MULTIPLE * muPerS, durationMs: baseMs },
          { ratePerS: HIGH_MULTIPLE * muPerS, durationMs: highMs },
          { ratePerS: LOW_MULTIPLE * muPerS, durationMs: lowMs }
        ]
      }, ctx.signal)
    } finally {
      await sampler.stop()
    }
    const unloadedP99Ms = result.phases[0]?.p99Ms ?? null
    const fromS = Math.floor((baseMs + highMs) / 1000)
    const recoveryS = unloadedP99Ms === null ? null : recoverySeconds(result.seconds, fromS, LOW_MULTIPLE * muPerS, P99_RECOVERY_FACTOR * unloadedP99Ms)
    const highStartMs = result.startedAtMs + baseMs
    const peakRssBytes = sampler.peakRss(server, highStartMs, highStartMs + highMs + LOGIN_DEADLINE_MS_OF_CLIENTS)
    const recovery = recoveryS === null ? 'not recovered' : `recovered after ${recoveryS} s`
    ctx.print(`  ${ctx.profile}: 10 x mu goodput ${(result.phases[1]?.goodputPerS ?? 0).toFixed(1)}/s, then 0.8 x mu: ${recovery}`)
    return { muPerS, muMeasuredHere: knownMuPerS === null, unloadedP99Ms, phases: result.phases, recoveryS, rssBeforeBytes, peakRssBytes, seconds: result.seconds }
  })
}
