import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  ClientFrame, LoginRequest, MAX_BODY_BYTES, MAX_FRAME_BYTES, ReboundError, ServerFrame, decodeFrame, encodeFrame
} from '../src/index.js'

const enc = new TextEncoder()

function codeOf (fn: () => unknown): string | undefined {
  try {
    fn()
    return undefined
  } catch (err) {
    return (err as ReboundError).code
  }
}

test('golden vector: a login request encodes to stable bytes and decodes back', () => {
  const req = { type: 'login', user: 'alice', password: 'secret1', deadlineMs: 10000 }
  const bytes = encodeFrame(req)
  assert.equal(Buffer.from(bytes).toString('utf8'), '{"type":"login","user":"alice","password":"secret1","deadlineMs":10000}')
  assert.deepEqual(decodeFrame(LoginRequest, bytes), req)
})

test('strict decoding refuses unknown types, extra fields, bad names and over-long bodies', () => {
  assert.equal(codeOf(() => decodeFrame(LoginRequest, enc.encode('{"type":"steal","user":"a"}'))), 'BAD_REQUEST')
  assert.equal(codeOf(() => decodeFrame(LoginRequest, enc.encode('{"type":"login","user":"alice","password":"secret1","deadlineMs":10,"admin":true}'))), 'BAD_REQUEST')
  assert.equal(codeOf(() => decodeFrame(LoginRequest, enc.encode('{"type":"login","user":"Al ice","password":"secret1","deadlineMs":10}'))), 'BAD_REQUEST')
  assert.equal(codeOf(() => decodeFrame(LoginRequest, enc.encode('{"type":"login","user":"alice","password":"secret1","deadlineMs":999999999}'))), 'BAD_REQUEST')
  const message = { id: 'm1', from: 'a', to: 'b', body: 'x'.repeat(MAX_BODY_BYTES + 1), sentAtMs: 1 }
  assert.equal(codeOf(() => decodeFrame(ClientFrame, enc.encode(JSON.stringify({ type: 'send', message, deadlineMs: 1000 })))), 'BAD_REQUEST')
  assert.equal(codeOf(() => decodeFrame(ClientFrame, enc.encode('not json'))), 'BAD_REQUEST')
  assert.equal(codeOf(() => decodeFrame(ClientFrame, new Uint8Array([0xff, 0xfe, 0x7b]))), 'BAD_REQUEST')
})

test('frames above the limit are refused on both sides', () => {
  assert.equal(codeOf(() => encodeFrame({ pad: 'x'.repeat(MAX_FRAME_BYTES) })), 'FRAME_TOO_LARGE')
  assert.equal(codeOf(() => decodeFrame(ServerFrame, new Uint8Array(MAX_FRAME_BYTES + 1))), 'FRAME_TOO_LARGE')
})

test('fuzz: random and mutated frames either decode to a valid value or raise BAD_REQUEST', () => {
  const seed = Number(process.env.FUZZ_SEED ?? 20260101)
  let state = seed >>> 0
  const rand = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const valid = [
    encodeFrame({ type: 'attach', ticket: 'abc.def' }),
    encodeFrame({ type: 'send', message: { id: 'm-1', from: 'u1', to: 'u2', body: 'hi', sentAtMs: 5 }, deadlineMs: 1000 }),
    encodeFrame({ type: 'deliver-ack', id: 'm-1' })
  ]
  for (let i = 0; i < 3000; i++) {
    const base = valid[i % valid.length] as Uint8Array
    const bytes = i % 3 === 0 ? new Uint8Array(Math.floor(rand() * 200)).map(() => Math.floor(rand() * 256)) : Uint8Array.from(base)
    const flips = 1 + Math.floor(rand() * 4)
    for (let f = 0; f < flips && bytes.length > 0; f++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256)
    try {
      const value = decodeFrame(ClientFrame, bytes)
      assert.ok(ClientFrame.safeParse(value).success, `seed ${seed} case ${i}: decoded value must be valid`)
    } catch (err) {
      assert.ok(err instanceof ReboundError, `seed ${seed} case ${i}: threw a non-ReboundError ${String(err)}`)
      assert.equal(err.code, 'BAD_REQUEST', `seed ${seed} case ${i}`)
    }
  }
})
