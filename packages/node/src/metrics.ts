/**
 * Prometheus metrics of a node (own registry, Prometheus naming conventions) and the plain
 * counters that /status reports.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client'
import type { NodeCounters } from '@rebound/protocol'

export class NodeMetrics {
  readonly registry = new Registry()
  readonly counters: NodeCounters = {
    logins: 0, loginFailures: 0, registrations: 0, resumes: 0, renewals: 0, sendRetries: 0, attaches: 0, attachFailures: 0,
    messagesSent: 0, messagesDelivered: 0, messagesFailed: 0, messagesReceived: 0
  }

  readonly attached = new Gauge({ name: 'rebound_node_attached', help: '1 while a session to a supernode is up', registers: [this.registry] })
  readonly logins = new Counter({ name: 'rebound_node_logins_total', help: 'login attempts by result', labelNames: ['result'], registers: [this.registry] })
  readonly attaches = new Counter({ name: 'rebound_node_attaches_total', help: 'attach attempts by result', labelNames: ['result'], registers: [this.registry] })
  readonly messages = new Counter({ name: 'rebound_node_messages_total', help: 'messages sent by result', labelNames: ['result'], registers: [this.registry] })
  readonly received = new Counter({ name: 'rebound_node_messages_received_total', help: 'messages stored in the inbox', registers: [this.registry] })
  readonly sessions = new Gauge({ name: 'rebound_supernode_sessions', help: 'client sessions held (supernode role)', registers: [this.registry] })
  readonly routed = new Counter({ name: 'rebound_supernode_routed_total', help: 'messages routed by result', labelNames: ['result'], registers: [this.registry] })
  readonly gossipNotices = new Counter({ name: 'rebound_supernode_gossip_notices_total', help: 'membership notices received over gossip, by type and verdict', labelNames: ['type', 'result'], registers: [this.registry] })
  readonly meshRequests = new Counter({ name: 'rebound_supernode_mesh_requests_total', help: 'mesh requests served by type', labelNames: ['type'], registers: [this.registry] })

  /**
   * Process metrics (CPU, heap, event-loop lag) only for a process of its own: a swarm hosts
   * hundreds of peers in one process, and a default-metrics collector each is pure overhead.
   */
  constructor (options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry })
  }
}
