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
    // Pings every second; a peer silent for 3-6 s is dropped (libp2p's default needs ~12 s to
    // notice a frozen peer). A shorter timeout misfired here: on a saturated 2-core machine a
    // healthy supernode's event loop can stall for over 500 ms while a batch of peers starts, and
    // the monitor then aborted every session it held at once.
    connectionMonitor: { protocolPrefix: PROTOCOL_PREFIX, pingInterval: 1000, pingTimeout: { minTimeout: 3000, maxTimeout: 6000 } },
    services: { ping: ping({ protocolPrefix: PROTOCOL_PREFIX }) },
    logger: libp2pLogger(init.log.child({ component: 'libp2p' }), init.debugFilter)
  })
}
