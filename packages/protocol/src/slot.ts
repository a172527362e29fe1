/**
 * Waiting-room slots. A login server that refuses a login under overload hands out a slot: a
 * signed promise of admission at `dueAtMs`, scheduled at ~0.9 of its measured capacity (like
 * Cloudflare's waiting room). A client returning with a due slot is admitted before fresh logins.
 *
 * Slots are HMAC-SHA256, not Ed25519: issuing one must cost well under 1% of a login. The key is
 * derived from the cluster key, so every login server can check them; a slot is bound to the
 * user, the peer and the issuing server, and each slot id is accepted once by that server.
 */
import { createHmac, hkdfSync, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto'
import { z } from 'zod'
import { ReboundError } from './errors.js'
import { MAX_TOKEN_LENGTH } from './limits.js'
import { PeerIdString, UserName } from './messages.js'
import { peekToken } from './signed-token.js'

export const SlotPayload = z.strictObject({
  kind: z.literal('slot'),
  v: z.literal(1),
  user: UserName,
  peerId: PeerIdString,
  server: PeerIdString,
  dueAtMs: z.number().int(),
  expiresAtMs: z.number().int(),
  slotId: z.string().max(32)
})
export type SlotPayload = z.infer<typeof SlotPayload>

/** Derive the slot HMAC key from the cluster private key (same on every login server). */
export function deriveSlotKey (clusterPrivateKey: KeyObject): Buffer {
  const secret = clusterPrivateKey.export({ format: 'der', type: 'pkcs8' })
  return Buffer.from(hkdfSync('sha256', secret, 'rebound-slot-v1', 'waiting-room', 32))
}

export interface IssueSlotInit {
  user: string
  peerId: string
  server: string
  dueAtMs: number
  /** How long after its due time a slot is still honoured. */
  graceMs: number
}

export function issueSlot (init: IssueSlotInit, key: Buffer): { token: string, payload: SlotPayload } {
  // Whole milliseconds: a schedule computed as 1/(0.9 mu) is fractional, and the schema says int.
  const dueAtMs = Math.ceil(init.dueAtMs)
  const payload: SlotPayload = {
    kind: 'slot', v: 1, user: init.user, peerId: init.peerId, server: init.server,
    dueAtMs, expiresAtMs: dueAtMs + Math.ceil(init.graceMs), slotId: randomBytes(9).toString('base64url')
  }
  const body = Buffer.from(JSON.stringify(payload), 'utf8')
  const mac = createHmac('sha256', key).update(body).digest()
  return { token: `${body.toString('base64url')}.${mac.toString('base64url')}`, payload }
}

export interface SlotBinding {
  user: string
  peerId: string
  server: string
}

export interface VerifySlotOptions extends SlotBinding {
  nowMs: number
}

/** Check a slot's MAC, binding and expiry (not its due time, nor replay: the caller does). */
export function verifySlot (token: string, key: Buffer, options: VerifySlotOptions): SlotPayload {
  const slot = authenticateSlot(token, key, options)
  if (slot.expiresAtMs <= options.nowMs) throw new ReboundError('SLOT_INVALID', 'slot expired')
  return slot
}

/**
 * Check a slot's MAC and binding only: it was issued by a login server of this cluster, by this
 * server, to this user and peer. Its times are the caller's to judge.
 */
export function authenticateSlot (token: string, key: Buffer, options: SlotBinding): SlotPayload {
  const dot = token.indexOf('.')
  if (token.length > MAX_TOKEN_LENGTH || dot <= 0) throw new ReboundError('SLOT_INVALID', 'malformed slot')
  const body = Buffer.from(token.slice(0, dot), 'base64url')
  const mac = Buffer.from(token.slice(dot + 1), 'base64url')
  const expected = createHmac('sha256', key).update(body).digest()
  if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) throw new ReboundError('SLOT_INVALID', 'slot signature does not verify')
  let parsed
  try {
    parsed = SlotPayload.safeParse(JSON.parse(body.toString('utf8')))
  } catch {
    parsed = undefined
  }
  if (parsed?.success !== true) throw new ReboundError('SLOT_INVALID', 'slot payload does not match its schema')
  const slot = parsed.data
  if (slot.user !== options.user || slot.peerId !== options.peerId) throw new ReboundError('SLOT_INVALID', 'slot was issued to another user or peer')
  if (slot.server !== options.server) throw new ReboundError('SLOT_INVALID', 'slot was issued by another login server')
  return slot
}

/** Read a slot's payload without checking it: the client uses it to know when to come back. */
export function peekSlot (token: string): SlotPayload | undefined {
  return peekToken(token, SlotPayload)
}
