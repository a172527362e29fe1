/**
 * Connection-level admission: refuse before the expensive part (overload.md section 3). A Noise
 * handshake costs the server ~7 ms of CPU, ~14% of a login (libp2p note, section 4), so a flood of
 * new connections would burn the CPU the hashes need before a single login is even read. libp2p
 * asks the gater's `denyInboundConnection` right after accepting the socket and before any
 * handshake; a refusal there costs a TCP accept and a close.
 *
 * Two limits: a global token bucket of new connections per second (sized to the handshake
 * capacity), and a cap on connections between accept and the end of their upgrade (a slow or
 * silent handshake holds a place until libp2p's inbound upgrade timeout). The pending count is
 * kept here rather than left to libp2p's maxIncomingPendingConnections, because libp2p refuses
 * silently and these refusals must be counted; libp2p's own cap stays above ours as a backstop.
 */
import type { ConnectionGater, MultiaddrConnection } from '@libp2p/interface'
import { TokenBucket } from '@rebound/protocol'

/**
 * Saved-up connection tokens, in seconds of the rate: a cohort of two seconds' worth passes at
 * once. A refused connection carries no slot, only a blind backoff; at 0.5 s a 250-client storm
 * had 100 refused for rate. The sustained rate still bounds a flood.
 */
export const CONNECTION_BURST_S = 2

export type ConnectionRefusal = 'rate' | 'pending'

export interface ConnectionGateInit {
  maxNewConnectionsPerS: number
  maxPendingConnections: number
  burst?: number
}

export interface ConnectionGateDeps {
  clock: () => number
  onRefused?: (reason: ConnectionRefusal) => void
  onAdmitted?: () => void
}

export class ConnectionGate {
  private readonly bucket: TokenBucket
  private readonly maxPending: number
  private readonly deps: ConnectionGateDeps
  /** Connections let through and not yet upgraded nor closed. */
  private readonly pending = new Set<MultiaddrConnection>()

  constructor (init: ConnectionGateInit, deps: ConnectionGateDeps) {
    const burst = init.burst ?? Math.max(1, Math.ceil(init.maxNewConnectionsPerS * CONNECTION_BURST_S))
    this.bucket = new TokenBucket(init.maxNewConnectionsPerS, burst, deps.clock)
    this.maxPending = init.maxPendingConnections
    this.deps = deps
  }

  get pendingCount (): number {
    return this.pending.size
  }

  /** The libp2p connection gater: only inbound connections are limited; the server never dials. */
  gater (): ConnectionGater {
    return {
      denyInboundConnection: (maConn) => this.denyInbound(maConn),
      denyInboundUpgradedConnection: (_peer, maConn) => {
        this.pending.delete(maConn)
        return false
      }
    }
  }

  /** True to refuse. The pending cap is checked first, so a refusal for it spends no token. */
  denyInbound (maConn: MultiaddrConnection): boolean {
    if (this.pending.size >= this.maxPending) return this.refuse('pending')
    if (!this.bucket.tryTake()) return this.refuse('rate')
    // A handshake that fails or times out closes the connection; either way it is no longer pending.
    if (maConn.status === 'open') {
      this.pending.add(maConn)
      maConn.addEventListener('close', () => { this.pending.delete(maConn) }, { once: true })
    }
    this.deps.onAdmitted?.()
    return false
  }

  private refuse (reason: ConnectionRefusal): boolean {
    this.deps.onRefused?.(reason)
    return true
  }
}
