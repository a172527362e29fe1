/**
 * The /rebound/registry handler: certify operator supernodes, take heartbeats, and run the
 * election: candidates (logged-in peers offering to serve) are promoted or told when to ask again,
 * and an idle elected supernode is told to demote in its heartbeat reply (election/policy.ts).
 * Every certificate names the peer id the Noise handshake authenticated, so a supernode can only
 * be certified, elected, or keep itself listed, as itself; `certify` is for operators only.
 */
import type { KeyObject } from 'node:crypto'
import type { Connection } from '@libp2p/interface'
import {
  ReboundError, describeError, errorCodeOf, errorReply, issueCertificate, verifyCertificate, verifyTicket,
  type CertificatePayload, type Logger, type RegistryRequest, type RegistryResponse
} from '@rebound/protocol'
import { DEMOTE_ORPHAN_WINDOW_MS, type ElectionPolicy } from './election/policy.js'
import type { LiveSupernodes } from './live-supernodes.js'
import type { BootstrapMetrics } from './metrics.js'
import { sameSecret } from './operator-auth.js'
import type { Store } from './store.js'

export interface RegistryServiceInit {
  operatorToken: string
  certTtlMs: number
  /** Elected certificates live shorter than operators' (config.ts DEFAULT_ELECTED_CERT_TTL_MS). */
  electedCertTtlMs: number
  /** A supernode heard from within this is live: it cannot also be a candidate. */
  heartbeatTimeoutMs: number
  clusterPrivateKey: KeyObject
  clusterPublicKey: KeyObject
}

export interface RegistryServiceDeps {
  store: Store
  supernodes: LiveSupernodes
  metrics: BootstrapMetrics
  election: ElectionPolicy
  /** Wall-clock ms: certificates carry it, and demotions in the shared store are compared with it. */
  clock: () => number
  log: Logger
}

type CertifyRequest = Extract<RegistryRequest, { type: 'certify' }>
type HeartbeatRequest = Extract<RegistryRequest, { type: 'heartbeat' }>
type CandidateRequest = Extract<RegistryRequest, { type: 'candidate' }>

/** The request handler, to be wrapped by `serveRequests(RegistryRequest, ...)`. */
export function registryService (init: RegistryServiceInit, deps: RegistryServiceDeps): (req: RegistryRequest, connection: Connection) => Promise<RegistryResponse> {
  const { store, metrics, election, clock, log } = deps
  const ttlOf = (cls: CertificatePayload['class']): number => cls === 'elected' ? init.electedCertTtlMs : init.certTtlMs

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
    const drain = { type: 'heartbeat-ok', demote: { orphanWindowMs: DEMOTE_ORPHAN_WINDOW_MS } } as const
    // A demoted supernode stays off the list and is not renewed, whichever server it asks.
    if (cert.class === 'elected' && store.demotedAtMs(peerId, nowMs) !== undefined) return { ...drain, supernodes: deps.supernodes.list() }
    let certificate = req.certificate
    let expiresAtMs = cert.expiresAtMs
    let renewed: string | undefined
    // Renew at half-life, so a supernode never has to re-certify (and show its token) while running.
    if (cert.expiresAtMs - nowMs < (cert.expiresAtMs - cert.issuedAtMs) / 2) {
      const next = issueCertificate({ peerId, addrs: cert.addrs, class: cert.class, nowMs, ttlMs: ttlOf(cert.class) }, init.clusterPrivateKey)
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
    // Judged after the row is written; a renewal just made is then thrown away, and the
    // demotion stands until the certificate the peer holds expires.
    if (cert.class === 'elected' && shouldDemote(peerId)) {
      demote(peerId, cert.expiresAtMs, nowMs)
      return { ...drain, supernodes: deps.supernodes.list() }
    }
    if (cert.class === 'operator') election.observe(deps.supernodes.totals())
    const supernodes = deps.supernodes.list()
    return renewed === undefined
      ? { type: 'heartbeat-ok', supernodes }
      : { type: 'heartbeat-ok', supernodes, certificate: renewed }
  }

  function shouldDemote (peerId: string): boolean {
    return election.shouldDemote({
      peerId,
      load: deps.supernodes.totals(),
      leastLoadedElected: deps.supernodes.leastLoadedElected(),
      lastDemotionMs: () => store.lastDemotionMs()
    })
  }

  /** Off the list at once, in the shared store, so no login server hands it out any more. */
  function demote (peerId: string, certificateExpiresAtMs: number, nowMs: number): void {
    store.demoteSupernode(peerId, nowMs, certificateExpiresAtMs)
    deps.supernodes.invalidate()
    metrics.demotions.inc()
    log.info({ peerId, utilisation: deps.supernodes.utilisation(), orphanWindowMs: DEMOTE_ORPHAN_WINDOW_MS }, 'elected supernode demoted')
  }

  function candidate (req: CandidateRequest, peerId: string): RegistryResponse {
    const nowMs = clock()
    try {
      verifyTicket(req.ticket, init.clusterPublicKey, { peerId, nowMs })
    } catch (err) {
      metrics.candidates.inc({ result: 'refused' })
      throw err
    }
    const row = store.getSupernode(peerId)
    if (row !== undefined && row.expiresAtMs > nowMs && row.lastSeenMs >= nowMs - init.heartbeatTimeoutMs) {
      metrics.candidates.inc({ result: 'refused' })
      throw new ReboundError('BAD_REQUEST', 'already a live supernode: it renews through heartbeats')
    }
    const verdict = election.decide({ peerId, capacity: req.capacity, uptimeMs: req.uptimeMs }, deps.supernodes.totals())
    if (verdict.kind === 'not-now') {
      metrics.candidates.inc({ result: verdict.reason })
      log.debug({ peerId, reason: verdict.reason, deficit: verdict.deficit, retryAfterMs: verdict.retryAfterMs }, 'candidate not promoted')
      return { type: 'not-now', retryAfterMs: verdict.retryAfterMs }
    }
    const { token, payload } = issueCertificate({ peerId, addrs: req.addrs, class: 'elected', nowMs, ttlMs: init.electedCertTtlMs }, init.clusterPrivateKey)
    store.clearDemotion(peerId)
    store.upsertSupernode({
      peerId, addrs: req.addrs, class: 'elected', certificate: token,
      clients: 0, capacity: req.capacity, lastSeenMs: nowMs, expiresAtMs: payload.expiresAtMs
    })
    // The next candidate must see this one in the count, or one need would elect several.
    deps.supernodes.invalidate()
    metrics.candidates.inc({ result: 'promoted' })
    metrics.promotions.inc()
    metrics.certificatesIssued.inc()
    log.info({ peerId, addrs: req.addrs, capacity: req.capacity, uptimeMs: req.uptimeMs, deficit: verdict.deficit }, 'candidate promoted')
    return { type: 'promoted', certificate: token, expiresAtMs: payload.expiresAtMs }
  }

  return async (req, connection) => {
    const peerId = connection.remotePeer.toString()
    try {
      switch (req.type) {
        case 'certify': return certify(req, peerId)
        case 'heartbeat': return heartbeat(req, peerId)
        case 'candidate': return candidate(req, peerId)
      }
    } catch (err) {
      if (errorCodeOf(err) === 'INTERNAL') log.error({ peerId, type: req.type, err: describeError(err) }, 'registry request failed')
      else log.debug({ peerId, type: req.type, code: errorCodeOf(err) }, 'registry request refused')
      return errorReply(err)
    }
  }
}
