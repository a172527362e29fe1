/**
 * The waiting room's front desk: it checks the slots logins bring and hands out slots with
 * refusals (overload.md "Rejections"; protocol slot.ts). Everything here is on the rejection
 * path, which must cost under 1% of a login: an HMAC, a JSON encode and a few comparisons; no
 * scrypt, no Ed25519, no SQLite.
 */
import { ReboundError, authenticateSlot, errorCodeOf, issueSlot, type ErrorReply, type SlotPayload } from '@rebound/protocol'
import { refusalReasonOf } from './admission/controller.js'
import type { UsedSlots } from './admission/used-slots.js'
import type { WaitingRoom } from './admission/waiting-room.js'

/** How long after its due time a slot is honoured: 5 s, plus the client's U(0, 1 s) return jitter. */
export const SLOT_GRACE_MS = 6000
/** A slot shown this much before its due time still counts as due (scheduling and RTT slack). */
export const SLOT_EARLY_TOLERANCE_MS = 250

export type SlotCheck =
  | { kind: 'none' }
  /** Due: the login gets the slot class; the slot is now used up. */
  | { kind: 'due', payload: SlotPayload }
  /** Valid but early: a plain login, and a refusal hands the same place back. */
  | { kind: 'early', token: string, payload: SlotPayload }

export interface SlotDeskInit {
  /** HMAC key, deriveSlotKey(cluster private key): every login server derives the same. */
  key: Buffer
  /** This server's peer id; a slot names the server that issued it. */
  serverPeerId: () => string
  graceMs?: number
  earlyToleranceMs?: number
}

export interface SlotDeskDeps {
  room: WaitingRoom
  used: UsedSlots
  /** Measured capacity mu, logins per second. */
  capacityPerS: () => number
  /** A slot was handed out (metrics). */
  onIssued?: () => void
}

export interface Requester {
  user: string
  /** The peer the connection authenticated. */
  peerId: string
}

export class SlotDesk {
  private readonly init: SlotDeskInit
  private readonly deps: SlotDeskDeps
  private readonly graceMs: number
  private readonly earlyToleranceMs: number

  constructor (init: SlotDeskInit, deps: SlotDeskDeps) {
    this.init = init
    this.deps = deps
    this.graceMs = init.graceMs ?? SLOT_GRACE_MS
    this.earlyToleranceMs = init.earlyToleranceMs ?? SLOT_EARLY_TOLERANCE_MS
  }

  /**
   * Classify the slot a login brings. Throws SLOT_INVALID when forged, foreign or replayed. An
   * authentic slot shown after its grace is a plain login: the client came back late (a busy
   * machine, a long backoff), and refusing it would only cost it one more attempt; a late slot
   * gains no priority, so accepting it gives a replay nothing either.
   */
  check (token: string | undefined, who: Requester, nowMs: number): SlotCheck {
    if (token === undefined) return { kind: 'none' }
    const payload = authenticateSlot(token, this.init.key, { user: who.user, peerId: who.peerId, server: this.init.serverPeerId() })
    if (payload.expiresAtMs <= nowMs) return { kind: 'none' }
    if (this.deps.used.has(payload.slotId)) throw new ReboundError('SLOT_INVALID', 'slot already used: a slot admits one login')
    if (nowMs < payload.dueAtMs - this.earlyToleranceMs) return { kind: 'early', token, payload }
    // Memory full of live slots: no priority rather than priority twice (used-slots.ts).
    if (!this.deps.used.remember(payload.slotId, payload.expiresAtMs, nowMs)) return { kind: 'none' }
    return { kind: 'due', payload }
  }

  /**
   * The reply to a login refused by admission: a place in the waiting room and when to come back.
   * A refused login that already held an early slot keeps its place instead of taking a new one,
   * so retrying early neither loses the place nor piles up places. A refusal for DEADLINE carries
   * nothing: the client gave up already, and a place for it would be wasted capacity.
   */
  refuseLogin (err: unknown, who: Requester, held: SlotCheck, nowMs: number): ErrorReply {
    const reply = bareReply(err)
    if (refusalReasonOf(err) === 'DEADLINE') return reply
    if (held.kind === 'early') {
      return { ...reply, retryAfterMs: retryAfter(held.payload.dueAtMs - nowMs), slot: held.token }
    }
    const dueAtMs = this.deps.room.schedule(nowMs, this.deps.capacityPerS())
    if (dueAtMs === undefined) {
      return {
        type: 'error',
        code: 'OVERLOADED',
        message: 'login server is overloaded and its waiting room is full: retry after the hint, without a slot',
        retryAfterMs: retryAfter(this.deps.room.backlogMs(nowMs))
      }
    }
    const { token } = issueSlot({ user: who.user, peerId: who.peerId, server: this.init.serverPeerId(), dueAtMs, graceMs: this.graceMs }, this.init.key)
    this.deps.onIssued?.()
    return { ...reply, retryAfterMs: retryAfter(dueAtMs - nowMs), slot: token }
  }

  /** Registrations get no slot (they are shed first), only a hint to come back after the queue. */
  refuseRegistration (err: unknown, nowMs: number): ErrorReply {
    const reply = bareReply(err)
    if (refusalReasonOf(err) === 'DEADLINE') return reply
    const spacingMs = 1000 / this.deps.capacityPerS()
    return { ...reply, retryAfterMs: retryAfter(this.deps.room.backlogMs(nowMs) + spacingMs) }
  }
}

/** The refusal as the naive server sends it: a code and a message, no hint. */
export function bareReply (err: unknown): ErrorReply {
  const code = errorCodeOf(err)
  return { type: 'error', code, message: code === 'INTERNAL' ? 'internal error' : (err as Error).message.slice(0, 500) }
}

function retryAfter (ms: number): number {
  return Math.max(0, Math.ceil(ms))
}
