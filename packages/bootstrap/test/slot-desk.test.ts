/**
 * The waiting room's desk: slots handed out with refusals, and checked when they come back.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ReboundError, deriveSlotKey, generateClusterKey, issueSlot, peekSlot, type ErrorReply } from '@rebound/protocol'
import { SlotDesk, UsedSlots, WaitingRoom } from '../src/index.js'

const SERVER = '12D3KooWServerAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
const ALICE = { user: 'alice', peerId: '12D3KooWAnnaAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }
const MU = 10 // logins/s: places 111.1 ms apart
const key = deriveSlotKey(generateClusterKey().privateKey)

function desk (over: { used?: UsedSlots, room?: WaitingRoom } = {}): SlotDesk {
  return new SlotDesk({ key, serverPeerId: () => SERVER },
    { room: over.room ?? new WaitingRoom(), used: over.used ?? new UsedSlots(), capacityPerS: () => MU })
}

const overloaded = (reason: string): ReboundError => new ReboundError('OVERLOADED', 'login server is overloaded', { reason })

function slotOf (reply: ErrorReply): string {
  assert.ok(reply.slot !== undefined, `a slot in ${JSON.stringify(reply)}`)
  return reply.slot
}

const slotCode = (fn: () => unknown): string | undefined => {
  try {
    fn()
    return undefined
  } catch (err) {
    return err instanceof ReboundError ? `${err.code}: ${err.message}` : String(err)
  }
}

test('a refusal carries a slot due at the next place, and retryAfterMs until then', () => {
  const d = desk()
  const first = d.refuseLogin(overloaded('QUEUE_FULL'), ALICE, { kind: 'none' }, 5000)
  const second = d.refuseLogin(overloaded('CODEL'), ALICE, { kind: 'none' }, 5000)
  assert.equal(first.code, 'OVERLOADED')
  const a = peekSlot(slotOf(first))
  const b = peekSlot(slotOf(second))
  assert.ok(a !== undefined && b !== undefined)
  assert.deepEqual([a.user, a.peerId, a.server], [ALICE.user, ALICE.peerId, SERVER])
  assert.equal(a.dueAtMs, Math.ceil(5000 + 1000 / (0.9 * MU)))
  assert.equal(b.dueAtMs, Math.ceil(5000 + 2000 / (0.9 * MU)), 'places are 1/(0.9 mu) apart')
  assert.equal(first.retryAfterMs, Math.ceil(a.dueAtMs - 5000))
  assert.equal(a.expiresAtMs - a.dueAtMs, 6000, 'honoured for 5 s plus the client jitter')
})

test('a slot is early, then due once, then refused as a replay', () => {
  const d = desk()
  const token = slotOf(d.refuseLogin(overloaded('QUEUE_FULL'), ALICE, { kind: 'none' }, 0))
  const dueAtMs = peekSlot(token)?.dueAtMs ?? NaN
  assert.equal(d.check(token, ALICE, dueAtMs - 1000).kind, 'early', 'not yet due: a plain login')
  assert.equal(d.check(token, ALICE, dueAtMs - 1000).kind, 'early', 'an early showing does not use the slot up')
  assert.equal(d.check(token, ALICE, dueAtMs - 100).kind, 'due', 'within the early tolerance')
  assert.match(slotCode(() => d.check(token, ALICE, dueAtMs + 10)) ?? '', /^SLOT_INVALID: slot already used/)
})

test('forged and foreign slots are SLOT_INVALID with a message saying which; a late one is a plain login', () => {
  const d = desk()
  const token = slotOf(d.refuseLogin(overloaded('QUEUE_FULL'), ALICE, { kind: 'none' }, 0))
  const due = peekSlot(token)?.dueAtMs ?? NaN
  const forged = issueSlot({ ...ALICE, server: SERVER, dueAtMs: 0, graceMs: 60_000 }, deriveSlotKey(generateClusterKey().privateKey)).token
  assert.match(slotCode(() => d.check(forged, ALICE, 10)) ?? '', /^SLOT_INVALID: slot signature does not verify/)
  assert.match(slotCode(() => d.check(token, { ...ALICE, peerId: '12D3KooWMaryAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }, due)) ?? '', /^SLOT_INVALID: .*another user or peer/)
  assert.match(slotCode(() => d.check(token, { ...ALICE, user: 'bob' }, due)) ?? '', /^SLOT_INVALID: .*another user or peer/)
  const elsewhere = issueSlot({ ...ALICE, server: '12D3KooWSecondServerAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', dueAtMs: 0, graceMs: 60_000 }, key).token
  assert.match(slotCode(() => d.check(elsewhere, ALICE, 10)) ?? '', /^SLOT_INVALID: .*another login server/)
  assert.equal(d.check(token, ALICE, due + 6000).kind, 'none', 'past its grace: no priority, no refusal')
  assert.equal(d.check(undefined, ALICE, 0).kind, 'none')
})

test('a refused login holding an early slot keeps its place instead of taking a new one', () => {
  const room = new WaitingRoom()
  const d = desk({ room })
  for (let i = 0; i < 4; i++) d.refuseLogin(overloaded('QUEUE_FULL'), ALICE, { kind: 'none' }, 0)
  const token = slotOf(d.refuseLogin(overloaded('QUEUE_FULL'), ALICE, { kind: 'none' }, 0)) // due at 556
  const backlog = room.backlogMs(0)
  const held = d.check(token, ALICE, 10)
  assert.equal(held.kind, 'early')
  const again = d.refuseLogin(overloaded('CODEL'), ALICE, held, 10)
  assert.equal(again.slot, token)
  assert.equal(again.retryAfterMs, Math.ceil((peekSlot(token)?.dueAtMs ?? NaN) - 10))
  assert.equal(room.backlogMs(0), backlog, 'the schedule did not move')
})

test('no slot for a DEADLINE refusal, nor beyond the waiting-room horizon', () => {
  const d = desk({ room: new WaitingRoom({ maxAheadMs: 250 }) })
  const late = d.refuseLogin(new ReboundError('TIMEOUT', 'deadline passed', { reason: 'DEADLINE' }), ALICE, { kind: 'none' }, 0)
  assert.deepEqual([late.code, late.slot, late.retryAfterMs], ['TIMEOUT', undefined, undefined], 'the client already gave up')
  slotOf(d.refuseLogin(overloaded('QUEUE_FULL'), ALICE, { kind: 'none' }, 0)) // due at 111
  slotOf(d.refuseLogin(overloaded('QUEUE_FULL'), ALICE, { kind: 'none' }, 0)) // due at 222
  const full = d.refuseLogin(overloaded('QUEUE_FULL'), ALICE, { kind: 'none' }, 0)
  assert.equal(full.code, 'OVERLOADED')
  assert.equal(full.slot, undefined)
  assert.match(full.message, /waiting room is full/)
  assert.equal(full.retryAfterMs, 223, 'come back after the places already promised (222.2 ms)')
})

test('a registration refusal carries a retry hint but no slot', () => {
  const d = desk()
  const reply = d.refuseRegistration(overloaded('QUEUE_FULL'), 0)
  assert.equal(reply.slot, undefined)
  assert.equal(reply.retryAfterMs, 100, 'one service time at mu = 10/s')
})

test('when the replay memory is full, a due slot is honoured as a plain login (no priority twice)', () => {
  const d = desk({ used: new UsedSlots(0) })
  const token = slotOf(d.refuseLogin(overloaded('QUEUE_FULL'), ALICE, { kind: 'none' }, 0))
  const due = peekSlot(token)?.dueAtMs ?? NaN
  assert.equal(d.check(token, ALICE, due).kind, 'none')
})
