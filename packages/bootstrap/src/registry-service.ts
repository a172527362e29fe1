/**
 * The /rebound/registry handler: certify operator supernodes and take their heartbeats. Every
 * certificate names the peer id the Noise handshake authenticated, so a supernode can only be
 * certified, or keep itself listed, as itself. Elected promotion is the registry's own decision
 * and is not requested over this protocol.
 */
import { createHash, timingSafeEqual, type KeyObject } from 'node:crypto'
import type { Connection } from '@libp2p/interface'
import {
  ReboundError, describeError, errorCodeOf, errorReply, issueCertificate, verifyCertificate,
  type Logger, type RegistryRequest, type RegistryResponse
} from '@rebound/protocol'
import type { LiveSupernodes } from './live-supernodes.js'
import type { BootstrapMetrics } from './metrics.js'
import type { Store } from './store.js'

export interface RegistryServiceInit {
  operatorToken: string
  certTtlMs: number
  clusterPrivateKey: KeyObject
  clusterPublicKey: KeyObject
}

export interface RegistryServiceDeps {
  store: Store
  supernodes: LiveSupernodes
  metrics: BootstrapMetrics
  clock: () => number
  log: Logger
}

type CertifyRequest = Extract<RegistryRequest, { type: 'certify' }>
type HeartbeatRequest = Extract<RegistryRequest, { type: 'heartbeat' }>

/** Compares digests so that neither the token's content nor its length leaks through timing. */
function sameSecret (a: string, b: string): boolean {
  const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest()
  return timingSafeEqual(digest(a), digest(b))
}

/** The request handler, to be wrapped by `serveRequests(RegistryRequest, ...)`. */
export function registryService (init: RegistryServiceInit, deps: RegistryServiceDeps): (req: RegistryRequest, connection: Connection) => Promise<RegistryResponse> {
  const { store, metrics, clock, log } = deps

  function certify (req: CertifyRequest, peerId: string): RegistryResponse {
    if (!sameSecret(req.operatorToken, init.operatorToken)) {
      log.warn({ peerId }, 'certify refused: wrong operator token')
      throw new ReboundError('NOT_AUTHORIZED', 'operator token refused')
    }
    if (req.class === 'elected') throw new ReboundError('NOT_AUTHORIZED', 'elected promotion is decided by the registry')
    const nowMs = clock()
    const { token, payload } = issueCertificate({ peerId, addrs: req.addrs, class: req.class, nowMs, ttlMs: init.certTtlMs }, init.clusterPrivateKey)
    store.upsertSupernode({
      peerId, addrs: req.addrs, class: req.class, certificate: token,
      clients: 0, capacity: req.capacity, lastSeenMs: nowMs, expiresAtMs: payload.expiresAtMs
    })
    // A newly certified supernode should be handed out from the next login on, not 250 ms later.
    deps.supernodes.invalidate()
    metrics.certificatesIssued.inc()
    log.info({ peerId, class: req.class, addrs: req.addrs, expiresAtMs: payload.expiresAtMs }, 'supernode certified')
    return { type: 'certified', certificate: token, expiresAtMs: payload.expiresAtMs }
  }

  function heartbeat (req: HeartbeatRequest, peerId: string): RegistryResponse {
    metrics.heartbeats.inc()
    const nowMs = clock()
    const cert = verifyCertificate(req.certificate, init.clusterPublicKey, { peerId, nowMs })
    let certificate = req.certificate
    let expiresAtMs = cert.expiresAtMs
    let renewed: string | undefined
    // Renew at half-life, so a supernode never has to re-certify (and show its token) while running.
    if (cert.expiresAtMs - nowMs < (cert.expiresAtMs - cert.issuedAtMs) / 2) {
      const next = issueCertificate({ peerId, addrs: cert.addrs, class: cert.class, nowMs, ttlMs: init.certTtlMs }, init.clusterPrivateKey)
      certificate = renewed = next.token
      expiresAtMs = next.payload.expiresAtMs
      metrics.certificatesIssued.inc()
      log.debug({ peerId, expiresAtMs }, 'supernode certificate renewed')
    }
    // Written from the certificate, not from an earlier row: the row may have been pruned, and
    // the certificate is the authority on addresses and class anyway.
    store.upsertSupernode({
      peerId, addrs: cert.addrs, class: cert.class, certificate,
      clients: req.clients, capacity: req.capacity, lastSeenMs: nowMs, expiresAtMs
    })
    const supernodes = deps.supernodes.list()
    return renewed === undefined
      ? { type: 'heartbeat-ok', supernodes }
      : { type: 'heartbeat-ok', supernodes, certificate: renewed }
  }

  return async (req, connection) => {
    const peerId = connection.remotePeer.toString()
    try {
      return req.type === 'certify' ? certify(req, peerId) : heartbeat(req, peerId)
    } catch (err) {
      if (errorCodeOf(err) === 'INTERNAL') log.error({ peerId, type: req.type, err: describeError(err) }, 'registry request failed')
      else log.debug({ peerId, type: req.type, code: errorCodeOf(err) }, 'registry request refused')
      return errorReply(err)
    }
  }
}
