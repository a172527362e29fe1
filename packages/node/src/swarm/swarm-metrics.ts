/**
 * /metrics of a swarm: the process's own metrics once (CPU, memory, event loop: one process, so
 * they are not summed), per-state member gauges, and the members' rebound_* metrics summed over
 * all members with prom-client's aggregator (counters and gauges add up: rebound_node_attached
 * becomes the number of attached members).
 */
import { AggregatorRegistry, Gauge, Registry, collectDefaultMetrics } from 'prom-client'
import type { Swarm } from './swarm.js'

type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>

export class SwarmMetrics {
  readonly registry = new Registry()

  constructor (private readonly swarm: Swarm) {
    collectDefaultMetrics({ register: this.registry })
    const counts = (): ReturnType<Swarm['stateCounts']> => swarm.stateCounts()
    new Gauge({ // eslint-disable-line no-new
      name: 'rebound_swarm_members',
      help: 'members of this swarm by state (scheduled, starting, started, failed, stopped)',
      labelNames: ['state'],
      registers: [this.registry],
      collect () {
        for (const [state, n] of Object.entries(counts())) this.set({ state }, n)
      }
    })
  }

  async text (): Promise<string> {
    const perMember: MetricsJson[] = []
    for (const peer of this.swarm.peers()) {
      // Members carry no process metrics (NodeMetrics processMetrics: false): only rebound_*.
      perMember.push(await peer.metrics.registry.getMetricsAsJSON())
    }
    const own = await this.registry.metrics()
    if (perMember.length === 0) return own
    const summed = AggregatorRegistry.aggregate(perMember)
    return own + '\n' + await summed.metrics()
  }

  get contentType (): string {
    return this.registry.contentType
  }
}
