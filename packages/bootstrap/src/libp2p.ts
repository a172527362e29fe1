/**
 * All libp2p wiring of rebound-bootstrap in one place (libp2p's API moves between majors; see
 * /work/shared/notes/libp2p-v3.md). The login server only listens: it never dials anyone.
 */
import { ping } from '@libp2p/ping'
import { createLibp2p, type Libp2p } from 'libp2p'
import type { ConnectionGater, PrivateKey, StreamHandler } from '@libp2p/interface'
import { PROTOCOL_PREFIX, libp2pLogger, type Logger } from '@rebound/protocol'
import { wireStack } from '@rebound/protocol/wire-stack'

export type ServerNode = Libp2p

export interface ProtocolHandler {
  protocol: string
  handler: StreamHandler
  /** Concurrent streams per connection; a client needs one at a time, a little slack for retries. */
  maxInboundStreams: number
}

/**
 * The naive profile's connection limits (the 2007 server had none to speak of): only libp2p's
 * defaults raised so that a local cluster can start. Its pending cap is libp2p's, refusing silently.
 */
export const NAIVE_MAX_PENDING_CONNECTIONS = 256

/**
 * Connection-level admission (connection-gate.ts). libp2p's own pending cap is set to
 * PENDING_BACKSTOP_FACTOR x (our pending cap + the gate's hold queue): it counts from accept, so
 * held connections count too, and it must not refuse, uncounted, before the gate does.
 */
export const PENDING_BACKSTOP_FACTOR = 2

export interface ConnectionLimits {
  gater: ConnectionGater
  maxPendingConnections: number
  /** Connections the gate may hold besides the pending ones. */
  maxHeldConnections: number
  /** A connection that has not finished Noise + yamux by then is dropped (libp2p default: 30 s). */
  inboundUpgradeTimeoutMs: number
}

export interface ServerNodeInit {
  listen: string
  port: number
  privateKey: PrivateKey
  handlers: ProtocolHandler[]
  log: Logger
  /** Components of libp2p's own debug log to show (REBOUND_LIBP2P_DEBUG); none by default. */
  debugFilter?: RegExp | undefined
  /** Undefined: no gater, libp2p's defaults raised as for the naive profile. */
  limits?: ConnectionLimits | undefined
}

/** Create the node, register the handlers, then start listening (so no stream meets "unsupported protocol"). */
export async function startServerNode (init: ServerNodeInit): Promise<ServerNode> {
  const limits = init.limits
  const node = await createLibp2p({
    start: false,
    privateKey: init.privateKey,
    addresses: { listen: [`/ip4/${init.listen}/tcp/${init.port}`] },
    ...wireStack(init.listen),
    connectionManager: {
      // Every client of the cluster connects here to log in; the defaults (300) prune them.
      maxConnections: 2000,
      maxIncomingPendingConnections: limits === undefined ? NAIVE_MAX_PENDING_CONNECTIONS : PENDING_BACKSTOP_FACTOR * (limits.maxPendingConnections + limits.maxHeldConnections),
      // The default, 5 connections per second per address, refuses a local cluster's start-up;
      // the gate's global bucket is the limit that matters (every local peer may share one address).
      inboundConnectionThreshold: 1000,
      ...(limits === undefined ? {} : { inboundUpgradeTimeout: limits.inboundUpgradeTimeoutMs })
    },
    ...(limits === undefined ? {} : { connectionGater: limits.gater }),
    // Same prefix as the ping service, or the monitor counts "unsupported protocol" as alive.
    connectionMonitor: { protocolPrefix: PROTOCOL_PREFIX },
    services: { ping: ping({ protocolPrefix: PROTOCOL_PREFIX }) },
    logger: libp2pLogger(init.log.child({ component: 'libp2p' }), init.debugFilter)
  })
  try {
    for (const h of init.handlers) {
      await node.handle(h.protocol, h.handler, { maxInboundStreams: h.maxInboundStreams })
    }
    await node.start()
  } catch (err) {
    try {
      await node.stop()
    } catch {
      // the start-up error below is the one worth reporting
    }
    throw err
  }
  return node
}
