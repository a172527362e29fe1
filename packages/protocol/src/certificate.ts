/**
 * Supernode certificates: signed {peerId, addrs, class, expiresAt}, issued by the registry. A client
 * attaches only to a peer whose certificate verifies and names the peer it is connected to.
 */
import type { KeyObject } from 'node:crypto'
import { z } from 'zod'
import { ReboundError } from './errors.js'
import { Addrs, PeerIdString, SupernodeClass } from './messages.js'
import { peekToken, signToken, verifyToken } from './signed-token.js'

export const CertificatePayload = z.strictObject({
  kind: z.literal('supernode-cert'),
  v: z.literal(1),
  peerId: PeerIdString,
  addrs: Addrs,
  class: SupernodeClass,
  issuedAtMs: z.number().int(),
  expiresAtMs: z.number().int()
})
export type CertificatePayload = z.infer<typeof CertificatePayload>

export interface IssueCertificateInit {
  peerId: string
  addrs: string[]
  class: SupernodeClass
  nowMs: number
  ttlMs: number
}

export function issueCertificate (init: IssueCertificateInit, privateKey: KeyObject): { token: string, payload: CertificatePayload } {
  const payload: CertificatePayload = {
    kind: 'supernode-cert',
    v: 1,
    peerId: init.peerId,
    addrs: init.addrs,
    class: init.class,
    issuedAtMs: init.nowMs,
    expiresAtMs: init.nowMs + init.ttlMs
  }
  return { token: signToken(payload, privateKey), payload }
}

export interface VerifyCertificateOptions {
  /** When given, the certificate must name this peer (the one we are connected to). */
  peerId?: string
  nowMs: number
}

export function verifyCertificate (token: string, publicKey: KeyObject, options: VerifyCertificateOptions): CertificatePayload {
  const payload = verifyToken(token, CertificatePayload, publicKey, 'CERT_INVALID')
  if (payload.expiresAtMs <= options.nowMs) {
    throw new ReboundError('CERT_EXPIRED', 'supernode certificate expired', { peerId: payload.peerId })
  }
  if (options.peerId !== undefined && payload.peerId !== options.peerId) {
    throw new ReboundError('CERT_INVALID', 'certificate names another peer', { peerId: payload.peerId })
  }
  return payload
}

export function peekCertificate (token: string): CertificatePayload | undefined {
  return peekToken(token, CertificatePayload)
}
