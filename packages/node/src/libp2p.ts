/**
 * All libp2p wiring of rebound-node in one place (libp2p's API moves between majors).
 */
import { gossipsub, type GossipSub } from '@libp2p/gossipsub'
import { identify, type Identify } from '@libp2p/identify'
import { ping, type Ping } from '@libp2p/ping'
import { createLibp2p, type Libp2p, type ServiceFactoryMap } from 'libp2p'
import type { PrivateKey } from '@libp2p/interface'
import { GOSSIP_PROTOCOL, PROTOCOL_PREFIX, libp2pLogger, type Logger } from '@rebound/protocol'
import { wireStack } from '@rebound/protocol/wire-stack'

/** A gossip message (one RPC frame) above this ends the stream it came on (membership-gossip.ts). */
export const MAX_GOSSIP_RPC_BYTES = 64 * 1024

/** `gossip` and `identify` exist only on nodes built to serve as supernodes (createPeerNode's `gossip`). */
// A type, not an interface: libp2p's ServiceMap constraint needs an implicit index signature.
export type PeerServices = {
  ping: Ping
  identify?: Identify
  gossip?: GossipSub
}

export type PeerNode = Libp2p<PeerServices>

export interface PeerNodeInit {
  listen: string
  port: number
  privateKey: PrivateKey
  log: Logger
  /**
   * Able to serve as a supernode (operator, or an eligible client): adds gossipsub for the
   * supernodes' membership topic and identify, which libp2p needs to tell gossipsub that a peer
   * speaks it. Identify runs only when a supernode asks for it on a connection to another
   * supernode, never on every connection: clients neither speak gossip nor pay for it.
   */
  gossip?: boolean
  /** Components of libp2p's own debug log to show (REBOUND_LIBP2P_DEBUG); none by default. */
  debugFilter?: RegExp
}

export async function createPeerNode (init: PeerNodeInit): Promise<PeerNode> {
  return await createLibp2p<PeerServices>({
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
    services: services(init.gossip === true),
    logger: libp2pLogger(init.log.child({ component: 'libp2p' }), init.debugFilter)
  })
}

function services (withGossip: boolean): ServiceFactoryMap<PeerServices> {
  const base = { ping: ping({ protocolPrefix: PROTOCOL_PREFIX }) }
  if (!withGossip) return base
  return {
    ...base,
    identify: identify({ protocolPrefix: PROTOCOL_PREFIX, runOnConnectionOpen: false }),
    gossip: gossipsub({
      protocols: [GOSSIP_PROTOCOL],
      fallbackToFloodsub: false,
      // A supernode's own notices go straight to every supernode it knows (one hop, as the direct
      // mesh did), and on from there; a lone supernode publishing to nobody is not an error.
      floodPublish: true,
      allowPublishToZeroTopicPeers: true,
      // No peer exchange: supernodes connect to the members they know, nothing else dials.
      doPX: false,
      emitSelf: false,
      maxInboundDataLength: MAX_GOSSIP_RPC_BYTES,
      // Each announcement reaches a supernode from several mesh peers. Without a fast id, gossipsub
      // checks every copy's signature before it sees the copy is a duplicate: in a 500-peer freeze
      // that was 15% of a busy swarm process's CPU. Publisher and sequence number identify a
      // message; a forged copy still fails the signature check and is not remembered.
      fastMsgIdFn: (msg) => `${Buffer.from(msg.from ?? []).toString('base64')}:${Buffer.from(msg.seqno ?? []).toString('base64')}`,
      // IDONTWANT saves bandwidth on large messages; for ~1 KiB announcements it is only chatter.
      idontwantMinDataSize: MAX_GOSSIP_RPC_BYTES
    })
  }
}
