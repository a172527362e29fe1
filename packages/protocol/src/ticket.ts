/**
 * Session tickets: signed {user, peerId, issuedAt, expiresAt, ticketId}. A supernode checks one
 * locally; it is bound to the peer id that the Noise handshake authenticated, so a ticket shown
 * over another peer's connection is refused.
 */
import { randomBytes, type KeyObject } from 'node:crypto'
import { z } from 'zod'
import { ReboundError } from './errors.js'
import { PeerIdString, UserName } from './messages.js'
import { peekToken, signToken, verifyToken } from './signed-token.js'

export const TicketPayload = z.strictObject({
  kind: z.literal('ticket'),
  v: z.literal(1),
  user: UserName,
  peerId: PeerIdString,
  issuedAtMs: z.number().int(),
  expiresAtMs: z.number().int(),
  ticketId: z.string().max(64)
})
export type TicketPayload = z.infer<typeof TicketPayload>

export interface IssueTicketInit {
  user: string
  peerId: string
  nowMs: number
  ttlMs: number
}

export function issueTicket (init: IssueTicketInit, privateKey: KeyObject): { token: string, payload: TicketPayload } {
  const payload: TicketPayload = {
    kind: 'ticket',
    v: 1,
    user: init.user,
    peerId: init.peerId,
    issuedAtMs: init.nowMs,
    expiresAtMs: init.nowMs + init.ttlMs,
    ticketId: randomBytes(12).toString('base64url')
  }
  return { token: signToken(payload, privateKey), payload }
}

export interface VerifyTicketOptions {
  /** The peer id authenticated by the connection the ticket arrived on. */
  peerId: string
  nowMs: number
}

export function verifyTicket (token: string, publicKey: KeyObject, options: VerifyTicketOptions): TicketPayload {
  const payload = verifyToken(token, TicketPayload, publicKey, 'TICKET_INVALID')
  if (payload.expiresAtMs <= options.nowMs) {
    throw new ReboundError('TICKET_EXPIRED', 'ticket expired', { user: payload.user, expiresAtMs: payload.expiresAtMs })
  }
  if (payload.peerId !== options.peerId) {
    throw new ReboundError('TICKET_PEER_MISMATCH', 'ticket was issued to another peer', { user: payload.user })
  }
  return payload
}

export function peekTicket (token: string): TicketPayload | undefined {
  return peekToken(token, TicketPayload)
}
