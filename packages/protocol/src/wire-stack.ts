/**
 * The transport stack every rebound process speaks: TCP, Noise, yamux. It is part of the wire
 * contract (two processes with different stacks cannot talk), so it lives here, behind its own
 * export ('@rebound/protocol/wire-stack') so that importing the protocol messages alone does not
 * load libp2p.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { tcp, type TCPSocketOptions } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import type { Libp2pOptions } from 'libp2p'

export type WireStack = Required<Pick<Libp2pOptions, 'transports' | 'connectionEncrypters' | 'streamMuxers'>>

/** yamux's per-stream window; 1 MiB keeps it within libp2p's 4 MiB read buffer (see the libp2p note). */
export const STREAM_WINDOW_BYTES = 1 << 20

export function wireStack (listenIp: string): WireStack {
  // Outgoing sockets are bound to the process's own loopback address, so that per-address limits
  // see every process as a distinct host (by default all local dials come from 127.0.0.1).
  const dialOpts = { localAddress: listenIp } as TCPSocketOptions
  return {
    transports: [tcp({ dialOpts })],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux({ streamOptions: { maxStreamWindowSize: STREAM_WINDOW_BYTES } })]
  }
}
