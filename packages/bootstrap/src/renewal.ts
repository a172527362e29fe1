/**
 * `renew`: a client with a still-valid ticket gets a fresh one (same user, new lifetime) and the
 * live supernode list, without a password. It costs one Ed25519 verify and one sign (~0.1 ms), no
 * scrypt and no queue: keeping sessions that already exist alive comes first in a storm
 * (overload.md: AWS favours end() over start(), Discord's RESUME). The ticket must name the peer
 * that the Noise handshake authenticated on this connection, so a stolen ticket renews nothing.
 */
import type { KeyObject } from 'node:crypto'
import type { Connection } from '@libp2p/interface'
import { describeError, errorCodeOf, errorReply, issueTicket, verifyTicket, type LoginRequest, type LoginResponse, type Logger } from '@rebound/protocol'
import type { LiveSupernodes } from './live-supernodes.js'
import type { BootstrapMetrics } from './metrics.js'

export type RenewRequest = Extract<LoginRequest, { type: 'renew' }>

export interface RenewalInit {
  ticketTtlMs: number
  clusterPrivateKey: KeyObject
  clusterPublicKey: KeyObject
}

export interface RenewalDeps {
  supernodes: LiveSupernodes
  metrics: BootstrapMetrics
  clock: () => number
  log: Logger
}

export function renewal (init: RenewalInit, deps: RenewalDeps): (req: RenewRequest, connection: Connection) => LoginResponse {
  const { metrics, clock, log } = deps
  return (req, connection) => {
    const peerId = connection.remotePeer.toString()
    try {
      const nowMs = clock()
      const held = verifyTicket(req.ticket, init.clusterPublicKey, { peerId, nowMs })
      const { token, payload } = issueTicket({ user: held.user, peerId, nowMs, ttlMs: init.ticketTtlMs }, init.clusterPrivateKey)
      const supernodes = deps.supernodes.list()
      metrics.renewals.inc({ result: 'accepted' })
      log.debug({ user: held.user, peerId }, 'ticket renewed')
      return { type: 'logged-in', ticket: token, expiresAtMs: payload.expiresAtMs, supernodes }
    } catch (err) {
      const code = errorCodeOf(err)
      metrics.renewals.inc({ result: code === 'INTERNAL' ? 'failed' : code })
      if (code === 'INTERNAL') log.error({ peerId, err: describeError(err) }, 'renewal failed')
      else log.debug({ peerId, code }, 'renewal refused')
      return errorReply(err)
    }
  }
}
