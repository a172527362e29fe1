import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  ReboundError, generateClusterKey, issueCertificate, issueTicket, peekTicket, privateKeyFromPem, privateKeyToPem,
  publicKeyFromBase64, publicKeyToBase64, verifyCertificate, verifyTicket
} from '../src/index.js'

const key = generateClusterKey()
const now = 1_700_000_000_000
const PEER = '12D3KooWGzh3Ae1Kq7d3bB8m6a1tHkq2Ww1uS9dE1Hj7Yk3Jq8Ps'
const OTHER = '12D3KooWQXzv5wVwGeJtbt9VY6Yx9uGmPvgv2s4DnC2C6Efh4Wzd'

function codeOf (fn: () => unknown): string | undefined {
  try { fn(); return undefined } catch (err) { return (err as ReboundError).code }
}

test('a ticket verifies for its own peer, not for another, not after expiry', () => {
  const { token, payload } = issueTicket({ user: 'alice', peerId: PEER, nowMs: now, ttlMs: 60_000 }, key.privateKey)
  assert.equal(verifyTicket(token, key.publicKey, { peerId: PEER, nowMs: now + 1 }).user, 'alice')
  assert.equal(payload.expiresAtMs, now + 60_000)
  assert.equal(codeOf(() => verifyTicket(token, key.publicKey, { peerId: OTHER, nowMs: now })), 'TICKET_PEER_MISMATCH')
  assert.equal(codeOf(() => verifyTicket(token, key.publicKey, { peerId: PEER, nowMs: now + 60_000 })), 'TICKET_EXPIRED')
  assert.equal(peekTicket(token)?.ticketId, payload.ticketId)
})

test('a ticket signed by another cluster key, or tampered with, is refused', () => {
  const foreign = generateClusterKey()
  const { token } = issueTicket({ user: 'alice', peerId: PEER, nowMs: now, ttlMs: 60_000 }, foreign.privateKey)
  assert.equal(codeOf(() => verifyTicket(token, key.publicKey, { peerId: PEER, nowMs: now })), 'TICKET_INVALID')
  const good = issueTicket({ user: 'alice', peerId: PEER, nowMs: now, ttlMs: 60_000 }, key.privateKey).token
  const [body, sig] = good.split('.') as [string, string]
  const forged = Buffer.from(Buffer.from(body, 'base64url').toString().replace('alice', 'mallo')).toString('base64url')
  assert.equal(codeOf(() => verifyTicket(`${forged}.${sig}`, key.publicKey, { peerId: PEER, nowMs: now })), 'TICKET_INVALID')
  assert.equal(codeOf(() => verifyTicket('garbage', key.publicKey, { peerId: PEER, nowMs: now })), 'TICKET_INVALID')
})

test('a certificate cannot pass as a ticket, and names its peer', () => {
  const { token } = issueCertificate({ peerId: PEER, addrs: ['/ip4/127.0.2.1/tcp/7401'], class: 'operator', nowMs: now, ttlMs: 60_000 }, key.privateKey)
  assert.equal(verifyCertificate(token, key.publicKey, { peerId: PEER, nowMs: now }).class, 'operator')
  assert.equal(codeOf(() => verifyCertificate(token, key.publicKey, { peerId: OTHER, nowMs: now })), 'CERT_INVALID')
  assert.equal(codeOf(() => verifyCertificate(token, key.publicKey, { nowMs: now + 60_000 })), 'CERT_EXPIRED')
  assert.equal(codeOf(() => verifyTicket(token, key.publicKey, { peerId: PEER, nowMs: now })), 'TICKET_INVALID')
})

test('a token verified once is remembered per key only: another key, the wrong kind, expiry and binding are still refused', () => {
  const { token } = issueCertificate({ peerId: PEER, addrs: ['/ip4/127.0.2.1/tcp/7401'], class: 'operator', nowMs: now, ttlMs: 60_000 }, key.privateKey)
  for (let i = 0; i < 2; i++) assert.equal(verifyCertificate(token, key.publicKey, { peerId: PEER, nowMs: now }).peerId, PEER)
  const other = generateClusterKey()
  assert.equal(codeOf(() => verifyCertificate(token, other.publicKey, { peerId: PEER, nowMs: now })), 'CERT_INVALID')
  assert.equal(codeOf(() => verifyTicket(token, key.publicKey, { peerId: PEER, nowMs: now })), 'TICKET_INVALID')
  assert.equal(codeOf(() => verifyCertificate(token, key.publicKey, { peerId: OTHER, nowMs: now })), 'CERT_INVALID')
  assert.equal(codeOf(() => verifyCertificate(token, key.publicKey, { nowMs: now + 60_000 })), 'CERT_EXPIRED')
  // A signature with one byte changed is another string: checked, and refused.
  const [body, sig] = token.split('.') as [string, string]
  const bytes = Buffer.from(sig, 'base64url')
  bytes[10] = (bytes[10] ?? 0) ^ 0xff
  assert.equal(codeOf(() => verifyCertificate(`${body}.${bytes.toString('base64url')}`, key.publicKey, { peerId: PEER, nowMs: now })), 'CERT_INVALID')
})

test('cluster keys round-trip through PEM and base64, and bad ones are BAD_CONFIG', () => {
  const priv = privateKeyFromPem(privateKeyToPem(key.privateKey))
  const pub = publicKeyFromBase64(publicKeyToBase64(key.publicKey))
  const { token } = issueTicket({ user: 'bob', peerId: PEER, nowMs: now, ttlMs: 1000 }, priv)
  assert.equal(verifyTicket(token, pub, { peerId: PEER, nowMs: now }).user, 'bob')
  assert.equal(codeOf(() => publicKeyFromBase64('bm90IGEga2V5')), 'BAD_CONFIG')
  assert.equal(codeOf(() => privateKeyFromPem('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----')), 'BAD_CONFIG')
})

test('slots: bound to user, peer and server; forged, foreign or expired ones are SLOT_INVALID', async () => {
  const { deriveSlotKey, issueSlot, verifySlot, peekSlot } = await import('../src/index.js')
  const slotKey = deriveSlotKey(key.privateKey)
  assert.deepEqual(deriveSlotKey(privateKeyFromPem(privateKeyToPem(key.privateKey))), slotKey, 'every login server derives the same key')
  const SERVER = '12D3KooWServer1111111111111111111111111111111111111'
  const { token, payload } = issueSlot({ user: 'alice', peerId: PEER, server: SERVER, dueAtMs: now + 5000, graceMs: 10_000 }, slotKey)
  const opts = { user: 'alice', peerId: PEER, server: SERVER, nowMs: now }
  assert.equal(verifySlot(token, slotKey, opts).slotId, payload.slotId)
  assert.equal(peekSlot(token)?.dueAtMs, now + 5000)
  const codeOfSlot = (t: string, o = opts, k = slotKey): string | undefined => codeOf(() => verifySlot(t, k, o))
  assert.equal(codeOfSlot(token, { ...opts, user: 'bob' }), 'SLOT_INVALID')
  assert.equal(codeOfSlot(token, { ...opts, peerId: OTHER }), 'SLOT_INVALID')
  assert.equal(codeOfSlot(token, { ...opts, server: OTHER }), 'SLOT_INVALID')
  assert.equal(codeOfSlot(token, { ...opts, nowMs: now + 15_000 }), 'SLOT_INVALID')
  assert.equal(codeOfSlot(token, opts, deriveSlotKey(generateClusterKey().privateKey)), 'SLOT_INVALID')
  const [body, mac] = token.split('.') as [string, string]
  const later = Buffer.from(Buffer.from(body, 'base64url').toString().replace(String(now + 5000), String(now + 1))).toString('base64url')
  assert.equal(codeOfSlot(`${later}.${mac}`), 'SLOT_INVALID')
})
