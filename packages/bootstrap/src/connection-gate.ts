/**
 * Connection-level admission: refuse before the expensive part (overload.md section 3). A Noise
 * handshake costs the server ~7 ms of CPU, ~14% of a login (libp2p note, section 4), so a flood of
 * new connections would burn the CPU the hashes need before a single login is even read. libp2p
 * asks the gater's `denyInboundConnection` right after accepting the socket and before any
 * handshake, and waits for its answer (within the inbound upgrade timeout).
 *
 * Two limits: a global token bucket of new connections per second (sized to the handshake
 * capacity), and a cap on connections between accept and the end of their upgrade (a slow or
 * silent handshake holds a place until libp2p's inbound upgrade timeout). The pending count is
 * kept here rather than left to libp2p's maxIncomingPendingConnections, because libp2p refuses
 * silently and these refusals must be counted; libp2p's own cap stays above ours as a backstop.
 *
 * A connection over either limit is first held, not refused: a bounded FIFO of accepted sockets
 * waiting, at most MAX_HOLD_MS, for a token and a pending place. Holding costs a file descriptor
 * and no CPU; a refusal costs the client a blind backoff (it carries no slot) and an attempt. In a
 * 1000-client storm on 2 busy cores, refusing outright turned ~1000 connections away and left the
 * clients scattered over growing backoffs while the server idled. Only a full hold queue or a
 * hold that outlasts MAX_HOLD_MS is refused.
 */
import type { ConnectionGater, MultiaddrConnection } from '@libp2p/interface'
import { TokenBucket } from '@rebound/protocol'

/**
 * Saved-up connection tokens, in seconds of the rate: a cohort of two seconds' worth passes at
 * once. A refused connection carries no slot, only a blind backoff; at 0.5 s a 250-client storm
 * had 100 refused for rate. The sustained rate still bounds a flood.
 */
export const CONNECTION_BURST_S = 2

/** Connections held at once, waiting for a token and a pending place. */
export const MAX_HELD_CONNECTIONS = 512
/**
 * Longest hold: 3 s of the 5 s inbound upgrade timeout, leaving 2 s for the handshake itself. At
 * the default 100 connections/s a hold lets ~300 queued connections through.
 */
export const MAX_HOLD_MS = 3000
/** With a shorter upgrade timeout (tests, tuning), the hold is this share of it. */
export const HOLD_SHARE_OF_UPGRADE = 0.6

/** What kept the connection out: the rate, or the pending cap (when held, what blocked it last). */
export type ConnectionRefusal = 'rate' | 'pending'

export interface ConnectionGateInit {
  maxNewConnectionsPerS: number
  maxPendingConnections: number
  burst?: number
  maxHeld?: number
  maxHoldMs?: number
}

export interface ConnectionGateDeps {
  clock: () => number
  onRefused?: (reason: ConnectionRefusal) => void
  onAdmitted?: () => void
  /** Timers (injected for tests); returns a cancel function. */
  schedule?: (fn: () => void, ms: number) => () => void
}

interface Held {
  maConn: MultiaddrConnection
  decide: (deny: boolean) => void
  cancelTimeout: () => void
}

function realTimer (fn: () => void, ms: number): () => void {
  const timer = setTimeout(fn, ms)
  // A hold must not keep a stopping server alive; libp2p's sockets keep a running one alive.
  timer.unref()
  return () => { clearTimeout(timer) }
}

export class ConnectionGate {
  private readonly bucket: TokenBucket
  private readonly maxPending: number
  private readonly deps: ConnectionGateDeps
  /** Connections let through and not yet upgraded nor closed. */
  private readonly pending = new Set<MultiaddrConnection>()
  private readonly held: Held[] = []
  private readonly maxHeld: number
  private readonly maxHoldMs: number
  private readonly schedule: (fn: () => void, ms: number) => () => void
  private cancelRefill: (() => void) | undefined

  constructor (init: ConnectionGateInit, deps: ConnectionGateDeps) {
    const burst = init.burst ?? Math.max(1, Math.ceil(init.maxNewConnectionsPerS * CONNECTION_BURST_S))
    this.bucket = new TokenBucket(init.maxNewConnectionsPerS, burst, deps.clock)
    this.maxPending = init.maxPendingConnections
    this.maxHeld = init.maxHeld ?? MAX_HELD_CONNECTIONS
    this.maxHoldMs = init.maxHoldMs ?? MAX_HOLD_MS
    this.deps = deps
    this.schedule = deps.schedule ?? realTimer
  }

  get heldCount (): number {
    return this.held.length
  }

  get pendingCount (): number {
    return this.pending.size
  }

  /** The libp2p connection gater: only inbound connections are limited; the server never dials. */
  gater (): ConnectionGater {
    return {
      denyInboundConnection: (maConn) => this.denyInbound(maConn),
      denyInboundUpgradedConnection: (_peer, maConn) => {
        this.release(maConn)
        return false
      }
    }
  }

  /** True (or a promise of true) to refuse; held connections wait their turn in arrival order. */
  denyInbound (maConn: MultiaddrConnection): boolean | Promise<boolean> {
    if (this.held.length === 0 && this.tryAdmit(maConn)) return false
    if (this.held.length >= this.maxHeld) return this.refuse(this.blocker())
    return new Promise<boolean>((resolve) => {
      const entry: Held = {
        maConn,
        decide: resolve,
        cancelTimeout: this.schedule(() => { this.drop(entry, this.blocker()) }, this.maxHoldMs)
      }
      this.held.push(entry)
      // A client that gives up while held frees its place at once.
      maConn.addEventListener?.('close', () => { this.drop(entry, undefined) }, { once: true })
      this.pump()
    })
  }

  /** The pending cap is checked first, so a connection it blocks spends no token. */
  private tryAdmit (maConn: MultiaddrConnection): boolean {
    if (this.pending.size >= this.maxPending || !this.bucket.tryTake()) return false
    // A handshake that fails or times out closes the connection; either way it is no longer pending.
    if (maConn.status === 'open') {
      this.pending.add(maConn)
      maConn.addEventListener('close', () => { this.release(maConn) }, { once: true })
    }
    this.deps.onAdmitted?.()
    return true
  }

  private blocker (): ConnectionRefusal {
    return this.pending.size >= this.maxPending ? 'pending' : 'rate'
  }

  private release (maConn: MultiaddrConnection): void {
    if (this.pending.delete(maConn)) this.pump()
  }

  /** Let held connections in, oldest first, while there are places and tokens. */
  private pump (): void {
    while (this.held.length > 0) {
      const next = this.held[0]
      if (next === undefined || !this.tryAdmit(next.maConn)) break
      this.held.shift()
      next.cancelTimeout()
      next.decide(false)
    }
    this.cancelRefill?.()
    this.cancelRefill = undefined
    // Blocked by the rate: look again when the next token is due. Blocked by pending: a release pumps.
    if (this.held.length > 0 && this.blocker() === 'rate') {
      this.cancelRefill = this.schedule(() => { this.cancelRefill = undefined; this.pump() }, Math.max(1, this.bucket.msUntilNext()))
    }
  }

  /** Take a held connection out: refused for `reason`, or (undefined) closed by its client. */
  private drop (entry: Held, reason: ConnectionRefusal | undefined): void {
    const index = this.held.indexOf(entry)
    if (index < 0) return
    this.held.splice(index, 1)
    entry.cancelTimeout()
    if (reason === undefined) entry.decide(true)
    else entry.decide(this.refuse(reason))
  }

  private refuse (reason: ConnectionRefusal): boolean {
    this.deps.onRefused?.(reason)
    return true
  }
}
