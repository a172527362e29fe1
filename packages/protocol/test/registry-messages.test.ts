/**
 * The election's registry messages: a candidate's offer, "promoted", "not now", and the demote
 * order in a heartbeat reply. Golden vectors, and strict, bounded decoding.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MAX_ADDRS, MAX_CANDIDATE_UPTIME_MS, RegistryRequest, RegistryResponse, decodeFrame, encodeFrame } from '../src/index.js'

const enc = new TextEncoder()
const TOKEN = 'eyJhIjoxfQ.c2ln'
const CANDIDATE = { type: 'candidate', ticket: TOKEN, addrs: ['/ip4/127.0.2.1/tcp/7401'], capacity: 50, uptimeMs: 60_000 }

function refused (schema: typeof RegistryRequest | typeof RegistryResponse, value: unknown): boolean {
  try {
    decodeFrame(schema, enc.encode(JSON.stringify(value)))
    return false
  } catch (err) {
    return (err as { code?: string }).code === 'BAD_REQUEST'
  }
}

test('golden vectors: candidate, promoted, not-now and a heartbeat reply with demote', () => {
  assert.equal(Buffer.from(encodeFrame(CANDIDATE)).toString('utf8'),
    '{"type":"candidate","ticket":"eyJhIjoxfQ.c2ln","addrs":["/ip4/127.0.2.1/tcp/7401"],"capacity":50,"uptimeMs":60000}')
  assert.deepEqual(decodeFrame(RegistryRequest, encodeFrame(CANDIDATE)), CANDIDATE)
  const replies = [
    { type: 'promoted', certificate: TOKEN, expiresAtMs: 1_700_000_600_000 },
    { type: 'not-now', retryAfterMs: 42_000 },
    { type: 'heartbeat-ok', supernodes: [], demote: { orphanWindowMs: 10_000 } },
    { type: 'heartbeat-ok', supernodes: [] }
  ]
  for (const reply of replies) assert.deepEqual(decodeFrame(RegistryResponse, encodeFrame(reply)), reply)
  assert.equal(Buffer.from(encodeFrame(replies[1])).toString('utf8'), '{"type":"not-now","retryAfterMs":42000}')
})

test('a candidate offer is strict and bounded', () => {
  const { ticket: _ticket, ...noTicket } = CANDIDATE
  assert.ok(refused(RegistryRequest, noTicket), 'a ticket is required')
  assert.ok(refused(RegistryRequest, { ...CANDIDATE, class: 'elected' }), 'no extra fields (a candidate does not choose its class)')
  assert.ok(refused(RegistryRequest, { ...CANDIDATE, ticket: 'not a token' }))
  assert.ok(refused(RegistryRequest, { ...CANDIDATE, addrs: [] }), 'an address to be reached at')
  assert.ok(refused(RegistryRequest, { ...CANDIDATE, addrs: Array.from({ length: MAX_ADDRS + 1 }, () => '/ip4/127.0.2.1/tcp/1') }))
  assert.ok(refused(RegistryRequest, { ...CANDIDATE, capacity: 0 }))
  assert.ok(refused(RegistryRequest, { ...CANDIDATE, capacity: 100_001 }))
  assert.ok(refused(RegistryRequest, { ...CANDIDATE, uptimeMs: -1 }))
  assert.ok(refused(RegistryRequest, { ...CANDIDATE, uptimeMs: MAX_CANDIDATE_UPTIME_MS + 1 }))
  assert.ok(refused(RegistryRequest, { ...CANDIDATE, uptimeMs: 1.5 }))
})

test('promoted, not-now and demote are strict and bounded', () => {
  assert.ok(refused(RegistryResponse, { type: 'not-now' }), 'not-now always says when')
  assert.ok(refused(RegistryResponse, { type: 'not-now', retryAfterMs: 3600_001 }))
  assert.ok(refused(RegistryResponse, { type: 'not-now', retryAfterMs: -5 }))
  assert.ok(refused(RegistryResponse, { type: 'promoted', certificate: TOKEN }))
  assert.ok(refused(RegistryResponse, { type: 'promoted', certificate: TOKEN, expiresAtMs: 1, class: 'operator' }))
  assert.ok(refused(RegistryResponse, { type: 'heartbeat-ok', supernodes: [], demote: {} }))
  assert.ok(refused(RegistryResponse, { type: 'heartbeat-ok', supernodes: [], demote: { orphanWindowMs: 600_001 } }))
  assert.ok(refused(RegistryResponse, { type: 'heartbeat-ok', supernodes: [], demote: { orphanWindowMs: 1000, now: true } }))
})
