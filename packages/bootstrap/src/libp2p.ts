/**
 * All libp2p wiring of rebound-bootstrap in one place (libp2p's API moves between majors; see
 * /work/shared/notes/libp2p-v3.md). The login server only listens: it never dials anyone.
 */
import { ping } from '@libp2p/ping'
import { createLibp2p, type Libp2p } from 'libp2p'
import type { PrivateKey, StreamHandler } from '@libp2p/interface'
import { PROTOCOL_PREFIX, libp2pLogger, type Logger } from '@rebound/protocol'
import { wireStack } from '@rebound/protocol/wire-stack'

export type ServerNode = Libp2p

export interface ProtocolHandler {
  protocol: string
  handler: StreamHandler
  /** Concurrent streams per connection; a client needs one at a time, a little slack for retries. */
  maxInboundStreams: number
}

export interface ServerNodeInit {
  listen: string
  port: number
  privateKey: PrivateKey
  handlers: ProtocolHandler[]
  log: Logger
  /** Components of libp2p's own debug log to show (REBOUND_LIBP2P_DEBUG); none by default. */
  debugFilter?: RegExp | undefined
}

/** Create the node, register the handlers, then start listening (so no stream meets "unsupported protocol"). */
export async function startServerNode (init: ServerNodeInit): Promise<ServerNode> {
  const node = await createLibp2p({
    start: false,
    privateKey: init.privateKey,
    addresses: { listen: [`/ip4/${init.listen}/tcp/${init.port}`] },
    ...wireStack(init.listen),
    connectionManager: {
      // Every client of the cluster connects here to log in; the defaults (300) prune them.
      maxConnections: 2000,
      maxIncomingPendingConnections: 256,
      // The default, 5 connections per second per address, refuses a local cluster's start-up.
      inboundConnectionThreshold: 1000
    },
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
