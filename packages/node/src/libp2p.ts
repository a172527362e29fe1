/**
 * All libp2p wiring of rebound-node in one place (libp2p's API moves between majors).
 */
import { ping } from '@libp2p/ping'
import { createLibp2p, type Libp2p } from 'libp2p'
import type { PrivateKey } from '@libp2p/interface'
import { PROTOCOL_PREFIX, libp2pLogger, type Logger } from '@rebound/protocol'
import { wireStack } from '@rebound/protocol/wire-stack'

export type PeerNode = Libp2p

export interface PeerNodeInit {
  listen: string
  port: number
  privateKey: PrivateKey
  log: Logger
  /** Components of libp2p's own debug log to show (REBOUND_LIBP2P_DEBUG); none by default. */
  debugFilter?: RegExp
}

export async function createPeerNode (init: PeerNodeInit): Promise<PeerNode> {
  return await createLibp2p({
    privateKey: init.privateKey,
    addresses: { listen: [`/ip4/${init.listen}/tcp/${init.port}`] },
    ...wireStack(init.listen),
    connectionManager: {
      maxConnections: 1000,
      maxIncomingPendingConnections: 256,
      // The default (5 per second per address) refuses a local cluster's start-up burst.
      inboundConnectionThreshold: 1000,
      dialTimeout: 5000
    },
    // No connection monitor: it opens a new ping stream (yamux open + multistream-select) on every
    // connection every interval, which at 1 s was most of an idle client's CPU and a supernode's
    // with hundreds of clients. Liveness is checked where it matters, with frames on streams that
    // exist anyway: the session keepalive (client <-> supernode), registry heartbeats, request
    // deadlines. The ping service stays, for tools and for the login server's monitor.
    connectionMonitor: { enabled: false },
    services: { ping: ping({ protocolPrefix: PROTOCOL_PREFIX }) },
    logger: libp2pLogger(init.log.child({ component: 'libp2p' }), init.debugFilter)
  })
}
